/**
 * The demo page's "Make a font" panel in headless Chromium (WebGPU on SwiftShader): a font of the
 * typed text's syllables is made in a held-out font's style, both downloads hold a real font (OTF
 * and WOFF2 signatures), the preview is set in the new font through FontFace (the family is loaded
 * and draws other ink than the browser's fallback), text that is not Hangul is refused with a
 * message, and Cancel during a KS X 1001 run stops it with no downloads offered.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "puppeteer-core";
import { packageRoot } from "../src/node/assets";
import { launchChromium } from "./helpers/chromium";
// @ts-expect-error: a plain .mjs helper without type declarations
import { serveDirectory } from "../scripts/static-server.mjs";

let server: { url: string; close: () => Promise<void> };
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
const pageErrors: string[] = [];

const status = () => page.$eval("#font-status", (el) => el.textContent ?? "");

async function make(charSet: string, text?: string): Promise<void> {
  if (text !== undefined)
    await page.$eval("#text", (el, t) => ((el as HTMLInputElement).value = t), text);
  await page.click(`input[name=font-chars][value=${charSet}]`);
  await page.click("#font-make");
}

async function madeFont(): Promise<void> {
  await page.waitForFunction(
    () => !(document.getElementById("font-make") as HTMLButtonElement).disabled,
    {
      timeout: 300_000,
    },
  );
}

beforeAll(async () => {
  server = await serveDirectory(packageRoot());
  chromium = await launchChromium();
  page = await chromium.browser.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.goto(`${server.url}web/`);
  const ready = await page.evaluate(() => (window as any).funitDemo.ready);
  expect(ready.ok, ready.message).toBe(true);
}, 300_000);

afterAll(async () => {
  await chromium?.close();
  await server?.close();
});

describe("the Make a font panel", () => {
  it("makes a font of the text's syllables, offers OTF and WOFF2, previews it via FontFace", async () => {
    await make("text", "퓨샷 폰트");
    await madeFont();
    expect(await status()).toMatch(/^4 glyphs in [\d.]+ s/);
    const files = await page.evaluate(async () => {
      const head = async (id: string) => {
        const a = document.getElementById(id) as HTMLAnchorElement;
        const bytes = new Uint8Array(await (await fetch(a.href)).arrayBuffer());
        return { name: a.download, magic: String.fromCharCode(...bytes.subarray(0, 4)) };
      };
      return [await head("font-otf"), await head("font-woff2")];
    });
    expect(files).toEqual([
      { name: "Funit Font.otf", magic: "OTTO" },
      { name: "Funit Font.woff2", magic: "wOF2" },
    ]);
    await page.$eval("#font-preview-text", (el) => {
      (el as HTMLInputElement).value = "폰트 퓨샷";
      el.dispatchEvent(new Event("input"));
    });
    const preview = await page.evaluate(() => {
      const p = document.getElementById("font-preview")!;
      const family = p.style.fontFamily;
      // the same text drawn in the new family and in a family nobody has (the fallback)
      const ink = (font: string) => {
        const c = new OffscreenCanvas(256, 64);
        const ctx = c.getContext("2d")!;
        ctx.font = font;
        ctx.fillText("폰트 퓨샷", 0, 60);
        return ctx.getImageData(0, 0, 256, 64).data.filter((_, i) => i % 4 === 3 && _ > 127).length;
      };
      return {
        text: p.textContent,
        family,
        loaded: document.fonts.check(`48px ${family}`, "퓨"),
        made: ink(`64px ${family}`),
        fallback: ink(`64px "no such family"`),
      };
    });
    expect(preview.text).toBe("폰트 퓨샷");
    expect(preview.family).toMatch(/funit-made-1/);
    expect(preview.loaded).toBe(true);
    expect(preview.made).toBeGreaterThan(0);
    expect(preview.made).not.toBe(preview.fallback);
  }, 300_000);

  it("refuses text that is not Hangul, naming it", async () => {
    await make("text", "font");
    await madeFont();
    expect(await status()).toMatch(/not a modern Hangul syllable .*'f' \(U\+0066\)/);
  });

  it("Cancel stops a KS X 1001 run and offers no download", async () => {
    await make("ks");
    await page.waitForFunction(
      () => /^\d+ \/ 2350 glyphs/.test(document.getElementById("font-status")!.textContent ?? ""),
      { timeout: 300_000 },
    );
    await page.click("#font-cancel");
    await madeFont();
    expect(await status()).toBe("cancelled: no font was made");
    expect(await page.$eval("#font-otf", (a) => (a.parentElement as HTMLElement).hidden)).toBe(
      true,
    );
    expect(pageErrors).toEqual([]);
  }, 300_000);
});
