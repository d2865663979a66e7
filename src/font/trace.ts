/**
 * Glyph bitmaps to outlines with potrace (esm-potrace-wasm: potrace compiled to WebAssembly, the
 * wasm inlined, so it needs no file, canvas or DOM and runs in browsers, Node and Deno). A 64×64
 * cell is upsampled bilinearly before it is thresholded, so the staircase of the small bitmap does
 * not reach potrace and curves come out smooth; potrace returns closed contours whose orientation
 * alternates between outer boundaries and holes, which is what a nonzero-filled CFF outline needs.
 * The outlines are in cell pixels, x to the right and y up from the cell's bottom edge.
 */
import { type ImageRGBA } from "../tensor";
import { InputError } from "../errors";
import { importEmscripten } from "./emscripten";

/** One path command, in the shape opentype.js's Path uses (absolute coordinates). */
export type OutlineCommand =
  | { type: "M" | "L"; x: number; y: number }
  | { type: "C"; x1: number; y1: number; x2: number; y2: number; x: number; y: number }
  | { type: "Z" };

export interface GlyphOutline {
  commands: OutlineCommand[];
  /** Points in the outline: one per move or line, three per curve (two controls and the end). */
  points: number;
}

export interface TraceOptions {
  /** Upsampling factor before thresholding (default 4: a 64-pixel cell is traced at 256). */
  upsample?: number;
  /** Ink threshold on luminance, 0–255 (default 128): darker is ink. */
  threshold?: number;
  /**
   * How far, in cell pixels, potrace may move the outline when it joins curve segments into
   * fewer (its opttolerance, scaled by the upsampling). Default 0.25: on the hangul64 glyphs that
   * is 19 % fewer points and an 18 % smaller font than potrace's own 0.2 upsampled pixels
   * (0.05 cell pixels), at the same worst ink IoU against the bitmaps (0.907 over 240 glyphs).
   */
  curveTolerance?: number;
}

export const DEFAULT_UPSAMPLE = 4;
export const DEFAULT_THRESHOLD = 128;
export const DEFAULT_CURVE_TOLERANCE = 0.25;

type PotraceFn = (
  image: { width: number; height: number; data: Uint8ClampedArray },
  options: { pathonly: true; extractcolors: false; opttolerance?: number },
) => Promise<string[]>;

let potracePromise: Promise<PotraceFn> | undefined;

/** Loads potrace once (its glue needs Node stand-ins under Node and Deno: ./emscripten). */
export function loadPotrace(): Promise<PotraceFn> {
  potracePromise ??= importEmscripten(async () => {
    const mod = await import("esm-potrace-wasm");
    await mod.init();
    return mod.potrace as unknown as PotraceFn;
  });
  return potracePromise;
}

/**
 * The cell's luminance upsampled `factor` times (bilinear, pixel centres aligned) and thresholded,
 * as an opaque black-on-white RGBA image for potrace. This runs for every glyph of a font, so it
 * works by source columns: each output row first blends its two source rows; the output pixels
 * between two neighbouring values of that row are all paper when both values are, all ink when
 * both are ink (a blend lies between its ends), and only where the two differ is each pixel's
 * blend compared with the threshold, which is most of a glyph's cell left out.
 */
export function upsampleThreshold(img: ImageRGBA, factor: number, threshold: number): ImageRGBA {
  const { width: w, height: h, data } = img;
  const lum = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) {
    lum[i] = 0.299 * data[i * 4]! + 0.587 * data[i * 4 + 1]! + 0.114 * data[i * 4 + 2]!;
  }
  const W = w * factor;
  const H = h * factor;
  // each output column's blend weight, and the first output column of each source column's
  // run (the columns whose left neighbour it is, contiguous)
  const weight = new Float32Array(W);
  const first = new Int32Array(w + 1).fill(W);
  for (let x = W - 1; x >= 0; x--) {
    const sx = Math.min(Math.max((x + 0.5) / factor - 0.5, 0), w - 1);
    const left = Math.floor(sx);
    weight[x] = sx - left;
    first[left] = x;
  }
  for (let i = w - 1; i >= 0; i--) first[i] = Math.min(first[i]!, first[i + 1]!);
  // paper everywhere (opaque white), then the ink pixels' colour channels set to black
  const out = new Uint8Array(W * H * 4).fill(255);
  const row = new Float32Array(w);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(Math.max((y + 0.5) / factor - 0.5, 0), h - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, h - 1);
    const fy = sy - y0;
    for (let x = 0; x < w; x++) row[x] = lum[y0 * w + x]! * (1 - fy) + lum[y1 * w + x]! * fy;
    const base = y * W * 4;
    for (let i = 0; i < w; i++) {
      const a = row[i]!;
      const b = row[Math.min(i + 1, w - 1)]!;
      if (a >= threshold && b >= threshold) continue;
      const both = a < threshold && b < threshold;
      for (let x = first[i]!, end = first[i + 1]!; x < end; x++) {
        if (both || a * (1 - weight[x]!) + b * weight[x]! < threshold) {
          const p = base + x * 4;
          out[p] = out[p + 1] = out[p + 2] = 0;
        }
      }
    }
  }
  return { width: W, height: H, data: out };
}

const ARITY: Record<string, number> = { m: 2, l: 2, c: 6, z: 0 };

/**
 * potrace's path data (M, m, l, c, z; a command letter may cover several segments) to absolute
 * commands scaled by `scale`. potrace writes its own SVG y-up coordinates (the page transform
 * flips them), so y needs no flip here.
 */
export function parsePotracePath(d: string, scale: number): OutlineCommand[] {
  const tokens = d.match(/[A-Za-z]|-?\d+(?:\.\d+)?/g) ?? [];
  const commands: OutlineCommand[] = [];
  let x = 0;
  let y = 0;
  let startX = 0;
  let startY = 0;
  let i = 0;
  while (i < tokens.length) {
    const letter = tokens[i++]!;
    const kind = letter.toLowerCase();
    if (!(kind in ARITY)) throw new Error(`potrace path: unexpected token '${letter}'`);
    const relative = letter !== letter.toUpperCase();
    if (kind === "z") {
      commands.push({ type: "Z" });
      x = startX;
      y = startY;
      continue;
    }
    const n = ARITY[kind]!;
    do {
      const v = tokens.slice(i, i + n).map(Number);
      if (v.length < n || v.some(Number.isNaN)) throw new Error("potrace path: truncated command");
      i += n;
      const ox = relative ? x : 0;
      const oy = relative ? y : 0;
      if (kind === "c") {
        commands.push({
          type: "C",
          x1: (ox + v[0]!) * scale,
          y1: (oy + v[1]!) * scale,
          x2: (ox + v[2]!) * scale,
          y2: (oy + v[3]!) * scale,
          x: (ox + v[4]!) * scale,
          y: (oy + v[5]!) * scale,
        });
        x = ox + v[4]!;
        y = oy + v[5]!;
      } else {
        x = ox + v[0]!;
        y = oy + v[1]!;
        if (kind === "m") {
          startX = x;
          startY = y;
        }
        commands.push({ type: kind === "m" ? "M" : "L", x: x * scale, y: y * scale });
      }
    } while (i < tokens.length && !/[A-Za-z]/.test(tokens[i]!));
  }
  return commands;
}

export function countPoints(commands: OutlineCommand[]): number {
  return commands.reduce((n, c) => n + (c.type === "C" ? 3 : c.type === "Z" ? 0 : 1), 0);
}

/** A tracer ready to use: potrace loaded, options fixed. */
export interface GlyphTracer {
  trace(img: ImageRGBA): Promise<GlyphOutline>;
}

/** Loads potrace and returns a tracer for cells of any (square or not) size. */
export async function createTracer(options: TraceOptions = {}): Promise<GlyphTracer> {
  const factor = options.upsample ?? DEFAULT_UPSAMPLE;
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  if (!Number.isInteger(factor) || factor < 1 || factor > 16)
    throw new InputError(`trace: upsample must be an integer 1..16, got ${factor}`);
  if (!(threshold > 0 && threshold <= 255))
    throw new InputError(`trace: threshold must be in (0, 255], got ${threshold}`);
  const tolerance = options.curveTolerance ?? DEFAULT_CURVE_TOLERANCE;
  if (!(tolerance >= 0 && tolerance <= 2))
    throw new InputError(`trace: curveTolerance must be in [0, 2] cell pixels, got ${tolerance}`);
  const potrace = await loadPotrace();
  // potrace writes coordinates in tenths of a pixel of the upsampled image
  const scale = 1 / (10 * factor);
  return {
    async trace(img) {
      const bw = upsampleThreshold(img, factor, threshold);
      const paths = await potrace(
        { width: bw.width, height: bw.height, data: new Uint8ClampedArray(bw.data.buffer) },
        { pathonly: true, extractcolors: false, opttolerance: tolerance * factor },
      );
      const commands = paths.flatMap((d) => parsePotracePath(d, scale));
      return { commands, points: countPoints(commands) };
    },
  };
}
