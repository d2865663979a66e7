/**
 * The "Make a font" panel: writes every KS X 1001 syllable (2,350), every modern syllable (11,172)
 * or the syllables of the text above in the current style with the font library (src/font), showing progress with glyphs/s
 * and the time left; Cancel stops it between glyphs. The finished OTF and WOFF2 are offered as
 * downloads, and the WOFF2 is loaded through the FontFace API so that text typed into the preview
 * box is set in the new font. The panel builds its own controls inside its section of the page.
 */
import { ALL_HANGUL_ATLAS, type GlyphAtlas } from "../../src/glyphs";
import { InputError } from "../../src/errors";
import { fontChars, generateFont, type FontProgress, type FontResult } from "../../src/font";
import { loadAtlas } from "../assets";
import type { Demo, Panel } from "../state";
import { currentStyle } from "../style";
import { byId, report, UserError } from "../ui";

const PREVIEW_TEXT = "퓨샷 폰트 생성";

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

function minutes(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** "812 / 2350 glyphs · 4.2 glyphs/s · 6:05 left", or what the last phases are doing. */
function describeProgress(p: FontProgress, seconds: number): string {
  if (p.phase === "write") return "writing the OpenType font…";
  if (p.phase === "woff2") return "compressing to WOFF2…";
  const rate = p.done / Math.max(seconds, 1e-3);
  const left = rate > 0 ? ` · ${minutes((p.total - p.done) / rate)} left` : "";
  return `${p.done} / ${p.total} glyphs · ${rate.toFixed(1)} glyphs/s${left}`;
}

function setup(demo: Demo): void {
  const section = byId<HTMLElement>("font-panel");
  const make = el("button", { type: "button", disabled: true, id: "font-make" }, "Make font");
  const cancel = el("button", { type: "button", disabled: true, id: "font-cancel" }, "Cancel");
  const radio = (value: string, label: string, checked = false) =>
    el("label", {}, el("input", { type: "radio", name: "font-chars", value, checked }), label);
  const name = el("input", { type: "text", value: "Funit Font", id: "font-name" });
  name.setAttribute("aria-label", "font family name");
  const progress = el("progress", { max: 1, value: 0, hidden: true, id: "font-progress" });
  const status = el("p", { className: "report", hidden: true, id: "font-status" });
  const otf = el("a", { id: "font-otf", href: "#" }, "Download OTF");
  const woff2 = el("a", { id: "font-woff2", href: "#" }, "Download WOFF2");
  const downloads = el("div", { className: "row", hidden: true }, otf, woff2);
  const previewText = el("input", { type: "text", value: PREVIEW_TEXT, id: "font-preview-text" });
  previewText.setAttribute("aria-label", "preview text");
  previewText.lang = "ko";
  const preview = el("p", { id: "font-preview", lang: "ko" }, PREVIEW_TEXT);
  preview.style.fontSize = "48px";
  preview.style.margin = "8px 0 0";
  const previewBox = el("div", { hidden: true }, previewText, preview);
  section.replaceChildren(
    el("h2", {}, "Make a font"),
    el(
      "div",
      { className: "row" },
      radio("ks", "KS X 1001 (2,350 syllables)", true),
      radio("all", "all modern syllables (11,172)"),
      radio("text", "the text above's syllables"),
    ),
    el("div", { className: "row" }, name, make, cancel),
    progress,
    status,
    downloads,
    previewBox,
  );
  previewText.addEventListener("input", () => (preview.textContent = previewText.value));

  // the 11,172-cell atlas is 6400×7168 pixels: fetched only when asked for, then kept
  let allAtlas: Promise<GlyphAtlas> | undefined;
  let abort: AbortController | undefined;
  let fonts = 0;
  const urls: string[] = [];

  cancel.addEventListener("click", () => abort?.abort(new UserError("cancelled")));
  make.addEventListener("click", async () => {
    const { state } = demo;
    abort = new AbortController();
    make.disabled = true;
    cancel.disabled = false;
    downloads.hidden = true;
    progress.hidden = false;
    progress.removeAttribute("value");
    report(status, "preparing…", "ok");
    try {
      const engine = state.engine;
      if (!engine || !state.source) throw new UserError("the model is not loaded yet");
      const set = document.querySelector<HTMLInputElement>("input[name=font-chars]:checked")!;
      const chars = fontChars(
        set.value === "text" ? demo.ui.text.value : set.value,
        state.source.chars,
      );
      let source = state.source;
      const inKs = new Set(source.chars);
      if (!chars.every((ch) => inKs.has(ch))) {
        allAtlas ??= loadAtlas(ALL_HANGUL_ATLAS);
        allAtlas.catch(() => (allAtlas = undefined));
        source = await allAtlas;
      }
      const family = name.value.trim() || "Funit Font";
      const { code } = await currentStyle(demo);
      const t0 = performance.now();
      const result: FontResult = await generateFont(
        { encodeClass: (refs) => engine.encodeClass(refs), translate: engine.translateBatch },
        code,
        source,
        chars,
        {
          names: { family },
          signal: abort.signal,
          onProgress: (p) => {
            progress.max = p.total;
            progress.value = p.done;
            report(status, describeProgress(p, (performance.now() - t0) / 1000), "ok");
          },
        },
      );
      urls.splice(0).forEach((u) => URL.revokeObjectURL(u));
      const offer = (a: HTMLAnchorElement, bytes: Uint8Array, ext: string, type: string) => {
        a.href = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
        a.download = `${family}.${ext}`;
        urls.push(a.href);
      };
      offer(otf, result.otf, "otf", "font/otf");
      offer(woff2, result.woff2!, "woff2", "font/woff2");
      // each font gets its own CSS family, so the preview never shows an older one
      const face = new FontFace(`funit-made-${++fonts}`, result.woff2! as BufferSource);
      await face.load();
      (document.fonts as unknown as Set<FontFace>).add(face);
      preview.style.fontFamily = `"${face.family}"`;
      downloads.hidden = false;
      previewBox.hidden = false;
      const t = result.timings;
      report(
        status,
        `${result.glyphs} glyphs in ${(t.totalMs / 1000).toFixed(1)} s · OTF ` +
          `${(result.otf.length / 1024).toFixed(0)} KiB, WOFF2 ` +
          `${(result.woff2!.length / 1024).toFixed(0)} KiB · median ${result.medianPoints} ` +
          "points a glyph",
        "ok",
      );
    } catch (e) {
      if (e instanceof InputError) e = new UserError(e.message);
      const why = abort.signal.aborted ? "cancelled: no font was made" : (e as Error).message;
      report(status, e instanceof UserError || abort.signal.aborted ? why : `failed: ${why}`);
      if (!(e instanceof UserError) && !abort.signal.aborted) console.error(e);
    } finally {
      progress.hidden = true;
      make.disabled = false;
      cancel.disabled = true;
      abort = undefined;
    }
  });
}

export const fontPanel: Panel = {
  setup,
  ready() {
    byId<HTMLButtonElement>("font-make").disabled = false;
  },
};
