/**
 * The font pipeline as functions for browsers, Node and Deno: glyph images in, font bytes out
 * (fontFromGlyphs), and generateFont, which drives the engine: the style is encoded once, the
 * content cells are translated in batches of one size (the last one padded, so one plan serves
 * all), and each batch is traced while the GPU already works on the next, so tracing hides behind
 * GPU time instead of adding to it. Both report progress ({done, total, phase}) and stop at an
 * AbortSignal between glyphs; the engine's current batch is awaited first so it is left idle.
 */
import { cutCell, describeChar, type GlyphAtlas } from "../glyphs";
import { type ImageRGBA } from "../tensor";
import { InputError } from "../errors";
import { createTracer, type GlyphOutline, type GlyphTracer, type TraceOptions } from "./trace";
import {
  checkFontRequest,
  encodeWoff2,
  writeOpenType,
  type CellMetrics,
  type FontNames,
  type TracedGlyph,
} from "./writer";

export type FontPhase = "generate" | "trace" | "write" | "woff2";

export interface FontProgress {
  /** Glyphs finished in this phase (write and woff2: 0, then 1 when done). */
  done: number;
  total: number;
  phase: FontPhase;
}

export interface FontOptions {
  names: FontNames;
  /** Also encode WOFF2 (default true). */
  woff2?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: FontProgress) => void;
  trace?: TraceOptions;
  metrics?: CellMetrics;
}

export interface FontTimings {
  /** Time the CPU waited for the GPU (GPU work hidden behind tracing is not counted). */
  gpuWaitMs: number;
  traceMs: number;
  writeMs: number;
  woff2Ms: number;
  totalMs: number;
}

export interface FontResult {
  otf: Uint8Array;
  woff2?: Uint8Array;
  glyphs: number;
  /** Median points per glyph outline (moves and lines one, curves three). */
  medianPoints: number;
  timings: FontTimings;
}

/**
 * The number of content cells the engine translates per submit unless told otherwise (fewer when
 * fewer characters are asked for). On lavapipe 32 ran 0–5% faster than 16 and as fast as 64
 * (`npm run bench -- --case font --batch 16,32,64`, 192–240 glyphs).
 */
export const DEFAULT_FONT_BATCH = 32;

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  return v.length === 0 ? 0 : v[v.length >> 1]!;
}

async function traceInto(
  tracer: GlyphTracer,
  chars: string[],
  images: ImageRGBA[],
  out: TracedGlyph[],
  signal: AbortSignal | undefined,
): Promise<void> {
  for (let i = 0; i < chars.length; i++) {
    signal?.throwIfAborted();
    const outline: GlyphOutline = await tracer.trace(images[i]!);
    if (outline.commands.length === 0)
      throw new InputError(`font: the glyph for ${describeChar(chars[i]!)} has no ink to trace`);
    out.push({ char: chars[i]!, outline });
  }
}

async function finish(
  traced: TracedGlyph[],
  options: FontOptions,
  timings: Omit<FontTimings, "writeMs" | "woff2Ms" | "totalMs">,
  t0: number,
): Promise<FontResult> {
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  onProgress?.({ done: 0, total: 1, phase: "write" });
  const tw = performance.now();
  const otf = writeOpenType(traced, options.names, options.metrics);
  const writeMs = performance.now() - tw;
  onProgress?.({ done: 1, total: 1, phase: "write" });
  let woff2: Uint8Array | undefined;
  let woff2Ms = 0;
  if (options.woff2 ?? true) {
    signal?.throwIfAborted();
    onProgress?.({ done: 0, total: 1, phase: "woff2" });
    const t2 = performance.now();
    woff2 = await encodeWoff2(otf);
    woff2Ms = performance.now() - t2;
    onProgress?.({ done: 1, total: 1, phase: "woff2" });
  }
  signal?.throwIfAborted();
  return {
    otf,
    woff2,
    glyphs: traced.length,
    medianPoints: median(traced.map((g) => g.outline.points)),
    timings: { ...timings, writeMs, woff2Ms, totalMs: performance.now() - t0 },
  };
}

/** Traces the given glyph images (ink dark on light) and writes them as a font. */
export async function fontFromGlyphs(
  glyphs: { char: string; image: ImageRGBA }[],
  options: FontOptions,
): Promise<FontResult> {
  const t0 = performance.now();
  const chars = glyphs.map((g) => g.char);
  checkFontRequest(options.names, chars);
  const tracer = await createTracer(options.trace);
  const traced: TracedGlyph[] = [];
  const tt = performance.now();
  for (let i = 0; i < glyphs.length; i += 64) {
    const part = glyphs.slice(i, i + 64);
    await traceInto(
      tracer,
      part.map((g) => g.char),
      part.map((g) => g.image),
      traced,
      options.signal,
    );
    options.onProgress?.({ done: traced.length, total: glyphs.length, phase: "trace" });
  }
  return finish(traced, options, { gpuWaitMs: 0, traceMs: performance.now() - tt }, t0);
}

/** What generateFont needs of the engine (a Funit has both; a page may wrap its own). */
export interface FontEngine {
  encodeClass(images: ImageRGBA[]): Promise<Float32Array>;
  translate(contents: ImageRGBA[], style: Float32Array): Promise<ImageRGBA[]>;
}

export interface GenerateFontOptions extends FontOptions {
  /** Content cells per translation (default DEFAULT_FONT_BATCH; at most the characters asked for). */
  batchSize?: number;
  /** Each batch's generated bitmaps as they arrive (previews, checks against the outlines). */
  onGlyphs?: (chars: string[], images: ImageRGBA[]) => void;
}

/**
 * Writes `chars` in the style: each character's cell is cut from `source` (the content font), the
 * engine translates it, and the result is traced. Every character must be in `source`.
 */
export async function generateFont(
  funit: FontEngine,
  style: Float32Array | ImageRGBA[],
  source: GlyphAtlas,
  chars: string[],
  options: GenerateFontOptions,
): Promise<FontResult> {
  const t0 = performance.now();
  const { signal, onProgress } = options;
  const asked = options.batchSize ?? DEFAULT_FONT_BATCH;
  if (!Number.isSafeInteger(asked) || asked < 1)
    throw new InputError(`font: batch size must be a positive integer, got ${asked}`);
  // a short text is one batch of its own size, not a full batch of padding
  const batch = Math.min(asked, Math.max(chars.length, 1));
  checkFontRequest(options.names, chars);
  const index = new Map(source.chars.map((ch, i) => [ch, i]));
  const missing = chars.filter((ch) => !index.has(ch));
  if (missing.length)
    throw new InputError(
      `font: not in the ${source.label}: ${missing.slice(0, 10).map(describeChar).join(", ")}` +
        (missing.length > 10 ? ` and ${missing.length - 10} more` : ""),
    );
  signal?.throwIfAborted();
  const tracer = await createTracer(options.trace);
  const code = style instanceof Float32Array ? style : await funit.encodeClass(style);

  const batches: string[][] = [];
  for (let i = 0; i < chars.length; i += batch) batches.push(chars.slice(i, i + batch));
  const translate = (b: number): Promise<ImageRGBA[]> => {
    const cells = batches[b]!.map((ch) => cutCell(source, index.get(ch)!));
    while (cells.length < batch) cells.push(cells[cells.length - 1]!);
    return funit.translate(cells, code);
  };

  const traced: TracedGlyph[] = [];
  let gpuWaitMs = 0;
  let traceMs = 0;
  let pending: Promise<ImageRGBA[]> | undefined = translate(0);
  try {
    for (let b = 0; b < batches.length; b++) {
      const tw = performance.now();
      const images = await pending!;
      gpuWaitMs += performance.now() - tw;
      // the GPU starts the next batch before this one is traced
      pending = b + 1 < batches.length ? translate(b + 1) : undefined;
      options.onGlyphs?.(batches[b]!, images.slice(0, batches[b]!.length));
      const tt = performance.now();
      await traceInto(tracer, batches[b]!, images, traced, signal);
      traceMs += performance.now() - tt;
      onProgress?.({ done: traced.length, total: chars.length, phase: "generate" });
    }
  } finally {
    // an abort or failure mid-way leaves no translation running on the engine
    await pending?.catch(() => undefined);
  }
  return finish(traced, options, { gpuWaitMs, traceMs }, t0);
}
