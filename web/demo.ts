/**
 * The few-shot Hangul font page: loads the shipped model (weights/hangul64-f16.safetensors) and the
 * glyph atlases over http, lets the user pick a style (K = 1…10 reference glyphs of one of the 8
 * held-out fonts, uploaded glyph images, glyphs drawn on a pad, or an imported class code), blends it
 * with a second font's code, and writes the typed text syllable by syllable, drawing each glyph as
 * it arrives. The style's class code is encoded once per style; each syllable is then one
 * translation from that code. Images are decoded with the browser's own createImageBitmap and
 * canvas. `window.funitDemo` is a small hook for the browser test: it drives a generation and hands
 * back the exact pixels that went in and came out, so Node can recompute them.
 */
import {
  classCodeFromJSON,
  classCodeToJSON,
  Funit,
  interpolateClassCodes,
  requestFunitDevice,
  type ImageRGBA,
} from "../src/index";
import {
  cutCell,
  demoReferences,
  describeChar,
  GIVEN_PAPER,
  GLYPH_CELL as CELL,
  glyphOf,
  makeAtlas,
  parseCharList,
  SOURCE_ATLAS,
  tintPaper,
  UNSEEN_FONTS,
  unseenAtlasFiles,
  type AtlasFiles,
  type GlyphAtlas,
} from "../src/glyphs";

const WEIGHTS_URL = "../weights/hangul64-f16.safetensors";
const GLYPHS = "../assets/glyphs/";
const MAX_REFS = 10;
const COLUMNS = 10;
const MISSING_PAPER = "#fde2e2";
/** CSS pixels per glyph pixel on the output canvases. */
const DISPLAY_SCALE = 1.5;

type SourceKind = "font" | "upload" | "draw" | "imported";

/** What one generation used and produced: everything the browser test needs to recompute it. */
interface RunResult {
  text: string;
  source: SourceKind;
  /** The reference glyphs encoded for the style (none for an imported code). */
  references: ImageRGBA[];
  blend: { font: string; t: number } | null;
  /** The class code every syllable was translated with. */
  code: Float32Array;
  /** Each distinct syllable generated, in order, with its source-font glyph and the output. */
  glyphs: { ch: string; content: ImageRGBA; output: ImageRGBA }[];
  /** Characters that could not be generated (not in the source atlas), each once. */
  missing: string[];
  msPerGlyph: number;
  cancelled: boolean;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  status: $<HTMLParagraphElement>("status"),
  adapter: $<HTMLParagraphElement>("adapter"),
  text: $<HTMLInputElement>("text"),
  generate: $<HTMLButtonElement>("generate"),
  report: $<HTMLParagraphElement>("report"),
  font: $<HTMLSelectElement>("font"),
  k: $<HTMLInputElement>("k"),
  kValue: $<HTMLOutputElement>("k-value"),
  fontRefs: $<HTMLDivElement>("font-refs"),
  upload: $<HTMLInputElement>("upload"),
  uploadRefs: $<HTMLDivElement>("upload-refs"),
  pad: $<HTMLCanvasElement>("pad"),
  drawRefs: $<HTMLDivElement>("draw-refs"),
  blendFont: $<HTMLSelectElement>("blend-font"),
  blend: $<HTMLInputElement>("blend"),
  blendValue: $<HTMLOutputElement>("blend-value"),
  code: $<HTMLTextAreaElement>("code"),
  codeMessage: $<HTMLParagraphElement>("code-message"),
  download: $<HTMLAnchorElement>("download"),
  output: $<HTMLCanvasElement>("output"),
  source: $<HTMLCanvasElement>("source"),
  timing: $<HTMLParagraphElement>("timing"),
};

// ------------------------------------------------------------------ images

/** Decodes an image file or response body to RGBA, exactly as stored (no colour management). */
async function decodeBlob(blob: Blob): Promise<ImageRGBA> {
  const bitmap = await createImageBitmap(blob, {
    colorSpaceConversion: "none",
    premultiplyAlpha: "none",
  });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return { width, height, data };
}

/**
 * A user's glyph picture as a model input: scaled to 64×64 (the canvas's smoothing), composited
 * onto white (transparent backgrounds are common for glyphs) and turned grey, like the atlases.
 */
function toGlyph(source: CanvasImageSource, width: number, height: number): ImageRGBA {
  const canvas = new OffscreenCanvas(CELL, CELL);
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, CELL, CELL);
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(source, 0, 0, width, height, 0, 0, CELL, CELL);
  const { data } = ctx.getImageData(0, 0, CELL, CELL);
  for (let p = 0; p < data.length; p += 4) {
    const grey = Math.round(0.299 * data[p]! + 0.587 * data[p + 1]! + 0.114 * data[p + 2]!);
    data[p] = data[p + 1] = data[p + 2] = grey;
    data[p + 3] = 255;
  }
  return { width: CELL, height: CELL, data };
}

function imageData(img: ImageRGBA): ImageData {
  return new ImageData(new Uint8ClampedArray(img.data), img.width, img.height);
}

/** Shows glyphs as a row of small canvases. */
function showStrip(strip: HTMLElement, glyphs: ImageRGBA[]): void {
  strip.replaceChildren(
    ...glyphs.map((g) => {
      const c = document.createElement("canvas");
      c.width = g.width;
      c.height = g.height;
      c.getContext("2d")!.putImageData(imageData(g), 0, 0);
      return c;
    }),
  );
}

// ------------------------------------------------------------------ assets

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot load ${url}: HTTP ${res.status}`);
  return res;
}

async function loadAtlas({ image, chars, perRow, label }: AtlasFiles): Promise<GlyphAtlas> {
  const [img, text] = await Promise.all([
    fetchOk(GLYPHS + image)
      .then((r) => r.blob())
      .then(decodeBlob),
    fetchOk(GLYPHS + chars).then((r) => r.text()),
  ]);
  return makeAtlas(img, parseCharList(text, chars), CELL, perRow, label);
}

const fontAtlases = new Map<string, Promise<GlyphAtlas>>();
function unseenAtlas(font: string): Promise<GlyphAtlas> {
  let p = fontAtlases.get(font);
  if (!p) {
    p = loadAtlas(unseenAtlasFiles(font));
    p.catch(() => fontAtlases.delete(font));
    fontAtlases.set(font, p);
  }
  return p;
}

async function fontReferences(font: string, k: number): Promise<ImageRGBA[]> {
  const atlas = await unseenAtlas(font);
  return demoReferences(atlas, k); // as the CLI demo: K = 5 takes the PyTorch reference files' syllables
}

// ------------------------------------------------------------------ state

let funit: Funit | undefined;
let source: GlyphAtlas | undefined;
let uploaded: ImageRGBA[] = [];
const drawn: ImageRGBA[] = [];
let imported: Float32Array | undefined;
let runId = 0;
let lastRun: RunResult | null = null;
/** Class codes by style key, so that re-generating the same style does not re-encode it. */
const codes = new Map<string, Promise<Float32Array>>();
let drawnVersion = 0;
let uploadVersion = 0;

function sourceKind(): SourceKind {
  return document.querySelector<HTMLInputElement>("input[name=source]:checked")!
    .value as SourceKind;
}

function setSource(kind: SourceKind): void {
  document.querySelector<HTMLInputElement>(`input[name=source][value=${kind}]`)!.checked = true;
  for (const el of document.querySelectorAll<HTMLElement>(".source"))
    el.hidden = el.dataset.source !== kind;
}

/** The selected style's references (and a key naming them), or an error message for the user. */
async function styleReferences(kind: SourceKind): Promise<{ key: string; refs: ImageRGBA[] }> {
  switch (kind) {
    case "font": {
      const k = Number(ui.k.value);
      return { key: `font:${ui.font.value}:${k}`, refs: await fontReferences(ui.font.value, k) };
    }
    case "upload":
      if (!uploaded.length) throw new UserError("upload 1 to 10 glyph images first");
      return { key: `upload:${uploadVersion}`, refs: uploaded };
    case "draw":
      if (!drawn.length) throw new UserError("draw a glyph on the pad and press “Add glyph” first");
      return { key: `draw:${drawnVersion}`, refs: [...drawn] };
    default:
      throw new Error(`no references for ${kind}`);
  }
}

class UserError extends Error {}

function encode(key: string, refs: ImageRGBA[]): Promise<Float32Array> {
  let p = codes.get(key);
  if (!p) {
    p = funit!.encodeClass(refs);
    p.catch(() => codes.delete(key));
    codes.set(key, p);
  }
  return p;
}

/** The class code to generate with: the selected style, blended with a second font when one is chosen. */
async function currentStyle(): Promise<{
  code: Float32Array;
  references: ImageRGBA[];
  blend: RunResult["blend"];
}> {
  const kind = sourceKind();
  let code: Float32Array;
  let references: ImageRGBA[] = [];
  if (kind === "imported") {
    if (!imported) throw new UserError("import a style's 64 numbers first");
    code = imported;
  } else {
    const { key, refs } = await styleReferences(kind);
    references = refs;
    code = await encode(key, refs);
  }
  const blendFont = ui.blendFont.value;
  if (!blendFont) return { code, references, blend: null };
  const k = Number(ui.k.value);
  const other = await encode(`font:${blendFont}:${k}`, await fontReferences(blendFont, k));
  const t = Number(ui.blend.value);
  return { code: interpolateClassCodes(code, other, t), references, blend: { font: blendFont, t } };
}

// ------------------------------------------------------------------ generation

/** Output cells: one per character, rows broken at COLUMNS and at newlines. */
function layout(text: string): { ch: string; col: number; row: number }[] {
  const cells: { ch: string; col: number; row: number }[] = [];
  let col = 0;
  let row = 0;
  for (const ch of text) {
    if (ch === "\n") {
      row++;
      col = 0;
      continue;
    }
    if (col === COLUMNS) {
      row++;
      col = 0;
    }
    cells.push({ ch, col, row });
    col++;
  }
  return cells;
}

function report(el: HTMLElement, message: string, kind: "error" | "warn" | "ok" = "error"): void {
  el.textContent = message;
  el.className = `report ${kind}`;
  el.hidden = message === "";
}

/** Sizes a canvas for the cells, paints it white, and marks the missing characters' cells in red. */
function clearCells(
  canvas: HTMLCanvasElement,
  cells: { ch: string; col: number; row: number }[],
  missing: string[],
): CanvasRenderingContext2D {
  canvas.width = Math.max(1, ...cells.map((c) => c.col + 1)) * CELL;
  canvas.height = Math.max(1, ...cells.map((c) => c.row + 1)) * CELL;
  canvas.style.width = `${canvas.width * DISPLAY_SCALE}px`; // 64-pixel glyphs are small on a modern screen
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.font = `${CELL * 0.5}px sans-serif`;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  for (const c of cells.filter((c) => missing.includes(c.ch))) {
    ctx.fillStyle = MISSING_PAPER;
    ctx.fillRect(c.col * CELL, c.row * CELL, CELL, CELL);
    ctx.fillStyle = "#b42318";
    ctx.fillText(c.ch, c.col * CELL + CELL / 2, c.row * CELL + CELL / 2);
  }
  return ctx;
}

async function generate(): Promise<RunResult> {
  const id = ++runId;
  const text = ui.text.value;
  const cells = layout(text);
  const have = new Set(source!.chars);
  const missing = [
    ...new Set(cells.map((c) => c.ch).filter((ch) => !/\s/u.test(ch) && !have.has(ch))),
  ];
  report(
    ui.report,
    missing.length
      ? `Not in the source font atlas (the 2,350 KS X 1001 syllables), left blank in red: ${missing.map(describeChar).join(", ")}`
      : "",
    "warn",
  );

  const ctx = clearCells(ui.output, cells, missing);
  const sourceCtx = clearCells(ui.source, cells, missing);
  for (const c of cells)
    if (have.has(c.ch))
      sourceCtx.putImageData(
        imageData(tintPaper(glyphOf(source!, c.ch), GIVEN_PAPER)),
        c.col * CELL,
        c.row * CELL,
      );

  ui.timing.textContent = "encoding the style…";
  const style = await currentStyle();
  const syllables = [...new Set(cells.map((c) => c.ch).filter((ch) => have.has(ch)))];
  const glyphs: RunResult["glyphs"] = [];
  let ms = 0;
  const result = (cancelled: boolean): RunResult => ({
    text,
    source: sourceKind(),
    references: style.references,
    blend: style.blend,
    code: style.code,
    glyphs,
    missing,
    msPerGlyph: glyphs.length ? ms / glyphs.length : 0,
    cancelled,
  });
  for (const ch of syllables) {
    if (id !== runId) return result(true); // a newer generation started: stop drawing over it
    const content = glyphOf(source!, ch);
    const t0 = performance.now();
    const [output] = await funit!.translate([content], style.code);
    ms += performance.now() - t0;
    glyphs.push({ ch, content, output: output! });
    if (id !== runId) return result(true);
    const picture = imageData(output!);
    for (const c of cells) if (c.ch === ch) ctx.putImageData(picture, c.col * CELL, c.row * CELL);
    ui.timing.textContent = `${glyphs.length} of ${syllables.length} glyph${syllables.length === 1 ? "" : "s"}: ${(ms / glyphs.length).toFixed(0)} ms per glyph`;
  }
  if (!syllables.length) ui.timing.textContent = "nothing to generate";
  lastRun = result(false);
  return lastRun;
}

/** Runs a generation from the UI: errors become a message on the page, not an exception. */
function generateFromUi(): Promise<RunResult | null> {
  return generate().catch((e) => {
    report(
      ui.report,
      e instanceof UserError ? e.message : `generation failed: ${(e as Error).message}`,
    );
    if (!(e instanceof UserError)) console.error(e);
    return null;
  });
}

// ------------------------------------------------------------------ style sources

async function showFontRefs(): Promise<void> {
  ui.kValue.textContent = ui.k.value;
  try {
    showStrip(ui.fontRefs, await fontReferences(ui.font.value, Number(ui.k.value)));
  } catch (e) {
    report(ui.report, `cannot load the ${ui.font.value} glyphs: ${(e as Error).message}`);
  }
}

async function readUploads(files: FileList): Promise<void> {
  const list = [...files];
  if (list.length === 0) return;
  if (list.length > MAX_REFS) {
    report(ui.report, `choose at most ${MAX_REFS} images (got ${list.length})`);
    return;
  }
  try {
    uploaded = await Promise.all(
      list.map(async (f) => {
        const bitmap = await createImageBitmap(f).catch(() => {
          throw new UserError(`${f.name} is not an image this browser can read`);
        });
        const glyph = toGlyph(bitmap, bitmap.width, bitmap.height);
        bitmap.close();
        return glyph;
      }),
    );
    uploadVersion++;
    showStrip(ui.uploadRefs, uploaded);
    report(ui.report, "");
    setSource("upload");
  } catch (e) {
    report(ui.report, (e as Error).message);
  }
}

function setupPad(): void {
  const pad = ui.pad;
  const ctx = pad.getContext("2d", { willReadFrequently: true })!;
  const clear = () => {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, pad.width, pad.height);
  };
  clear();
  let last: { x: number; y: number } | null = null;
  const at = (e: PointerEvent) => {
    const r = pad.getBoundingClientRect();
    return {
      x: ((e.clientX - r.left) * pad.width) / r.width,
      y: ((e.clientY - r.top) * pad.height) / r.height,
    };
  };
  pad.addEventListener("pointerdown", (e) => {
    last = at(e);
    pad.setPointerCapture(e.pointerId);
  });
  pad.addEventListener("pointermove", (e) => {
    if (!last) return;
    const p = at(e);
    ctx.strokeStyle = "#000";
    ctx.lineWidth = pad.width / 18; // about the stroke width of the atlas fonts at 64×64
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    last = p;
  });
  const stop = () => {
    last = null;
  };
  pad.addEventListener("pointerup", stop);
  pad.addEventListener("pointercancel", stop);
  $("pad-clear").addEventListener("click", clear);
  $("pad-add").addEventListener("click", () => {
    if (drawn.length >= MAX_REFS) {
      report(ui.report, `at most ${MAX_REFS} drawn glyphs`);
      return;
    }
    drawn.push(toGlyph(pad, pad.width, pad.height));
    drawnVersion++;
    showStrip(ui.drawRefs, drawn);
    clear();
    setSource("draw");
  });
  $("pad-reset").addEventListener("click", () => {
    drawn.length = 0;
    drawnVersion++;
    showStrip(ui.drawRefs, drawn);
    clear();
  });
}

function importCode(text: string): boolean {
  try {
    imported = classCodeFromJSON(text.trim(), funit!.hyper.latent_dim);
    report(ui.codeMessage, `imported a style of ${imported.length} numbers`, "ok");
    setSource("imported");
    return true;
  } catch (e) {
    report(ui.codeMessage, `cannot import: ${(e as Error).message}`);
    return false;
  }
}

function setupStyleControls(): void {
  for (const font of UNSEEN_FONTS) {
    ui.font.add(new Option(font, font));
    ui.blendFont.add(new Option(font, font));
  }
  for (const radio of document.querySelectorAll<HTMLInputElement>("input[name=source]")) {
    radio.addEventListener("change", () => setSource(radio.value as SourceKind));
  }
  ui.font.addEventListener("change", () => void showFontRefs());
  ui.k.addEventListener("input", () => void showFontRefs());
  ui.upload.addEventListener("change", () => void readUploads(ui.upload.files!));
  ui.blendFont.addEventListener("change", () => {
    ui.blend.disabled = !ui.blendFont.value;
  });
  ui.blend.addEventListener("input", () => {
    ui.blendValue.textContent = Number(ui.blend.value).toFixed(2);
  });
  // Each generation is a second or so per glyph on a CPU adapter: regenerate when the slider is let go.
  ui.blend.addEventListener("change", () => void generateFromUi());
  $("export").addEventListener("click", async () => {
    try {
      const { code } = await currentStyle();
      ui.code.value = classCodeToJSON(code);
      ui.download.href = URL.createObjectURL(
        new Blob([ui.code.value], { type: "application/json" }),
      );
      ui.download.hidden = false;
      report(ui.codeMessage, `exported ${code.length} numbers`, "ok");
    } catch (e) {
      report(ui.codeMessage, (e as Error).message);
    }
  });
  $("import").addEventListener("click", () => void importCode(ui.code.value));
  $<HTMLInputElement>("import-file").addEventListener("change", async (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (!file) return;
    ui.code.value = await file.text();
    importCode(ui.code.value);
  });
  setupPad();
}

// ------------------------------------------------------------------ start-up

function describeAdapter(device: GPUDevice, conv: string): string {
  const info = (
    device as GPUDevice & { adapterInfo?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }
  ).adapterInfo;
  const parts = info ? [info.vendor, info.architecture, info.description].filter((s) => s) : [];
  return `Adapter: ${parts.join(" · ") || "(no information)"}${info?.isFallbackAdapter ? " (fallback adapter)" : ""} · convolution kernel: ${conv}`;
}

async function start(): Promise<void> {
  setupStyleControls();
  if (!("gpu" in navigator) || !navigator.gpu) {
    throw new UserError(
      "WebGPU is not available in this browser, so the model cannot run here. Try a recent Chrome, Edge or Firefox with WebGPU enabled.",
    );
  }
  let device: GPUDevice;
  try {
    device = await requestFunitDevice(navigator.gpu, { onError: (m) => report(ui.report, m) });
  } catch (e) {
    throw new UserError(`WebGPU is present but unusable here: ${(e as Error).message}`);
  }
  ui.status.textContent = "Loading the model and glyphs…";
  const [weights, atlas] = await Promise.all([
    fetchOk(WEIGHTS_URL).then((r) => r.arrayBuffer()),
    loadAtlas(SOURCE_ATLAS),
    showFontRefs(),
  ]);
  source = atlas;
  funit = await Funit.create(device, new Uint8Array(weights), { label: "hangul64" });
  ui.adapter.textContent = describeAdapter(device, funit.convKernel);
  ui.status.textContent = "Ready: type Hangul text, pick a style, press Generate.";
  ui.status.className = "status ok";
  ui.generate.disabled = false;
  ui.generate.addEventListener("click", () => void generateFromUi());
  ui.text.addEventListener("keydown", (e) => {
    if (e.key === "Enter") void generateFromUi();
  });
}

const ready = start();
ready.catch((e) => {
  ui.status.textContent =
    e instanceof UserError ? e.message : `The demo could not start: ${(e as Error).message}`;
  ui.status.className = "status error";
  if (!(e instanceof UserError)) console.error(e);
});

/** Plain arrays so that results cross puppeteer's JSON boundary. */
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
window.funitDemo = {
  /** Settles once start-up is over: {ok: true, …} with the model loaded, or {ok: false, message} as shown on the page. */
  ready: ready.then(
    () => ({
      ok: true,
      conv: funit!.convKernel,
      latentDim: funit!.hyper.latent_dim,
      adapter: ui.adapter.textContent,
    }),
    () => ({ ok: false, message: ui.status.textContent }),
  ),
  /** Same as pressing Generate; resolves to the run with every pixel in and out as plain arrays. */
  async generate() {
    const run = await generate();
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
  sourceGlyph: (ch: string) => plain(glyphOf(source!, ch)),
  /** Cell i of a held-out font's atlas, as the page decoded it. */
  fontCell: async (font: string, i: number) => plain(cutCell(await unseenAtlas(font), i)),
  lastRun: () => lastRun,
};
