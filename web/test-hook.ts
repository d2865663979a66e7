/**
 * `window.funitDemo`, the page's hook for the browser test (test/browser-demo.test.ts): it says
 * when start-up is over, drives a generation as the Generate button does and hands back the exact
 * pixels that went in and came out, as plain arrays so that they cross puppeteer's JSON boundary
 * and Node can recompute them with its own engine.
 */
import type { ImageRGBA } from "../src/index";
import { cutCell, glyphOf } from "../src/glyphs";
import { unseenAtlas } from "./assets";
import { generate } from "./generate";
import type { Demo } from "./state";

const plain = (img: ImageRGBA) => ({
  width: img.width,
  height: img.height,
  data: Array.from(img.data),
});

declare global {
  interface Window {
    funitDemo: unknown;
  }
}

/** Installs `window.funitDemo` for a page whose start-up is `started`. */
export function installTestHook(demo: Demo, started: Promise<void>): void {
  const { ui, state } = demo;
  window.funitDemo = {
    /**
     * Settles once start-up is over: {ok: true, …} with the model loaded, or {ok: false, message}
     * as shown on the page.
     */
    ready: started.then(
      () => ({
        ok: true,
        conv: state.engine!.convKernel,
        latentDim: state.engine!.latentDim,
        adapter: ui.adapter.textContent,
      }),
      () => ({ ok: false, message: ui.status.textContent }),
    ),
    /** As pressing Generate; resolves to the run with every pixel in and out as plain arrays. */
    async generate() {
      const run = await generate(demo);
      return {
        ...run,
        code: Array.from(run.code),
        references: run.references.map(plain),
        glyphs: run.glyphs.map((g) => ({
          ch: g.ch,
          content: plain(g.content),
          output: plain(g.output),
        })),
      };
    },
    /** The source-atlas glyph of a syllable, as the page decoded it. */
    sourceGlyph: (ch: string) => plain(glyphOf(state.source!, ch)),
    /** Cell i of a held-out font's atlas, as the page decoded it. */
    fontCell: async (font: string, i: number) => plain(cutCell(await unseenAtlas(state, font), i)),
    lastRun: () => state.lastRun,
  };
}
