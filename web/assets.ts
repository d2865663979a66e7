/**
 * Pictures in and out of the page: the glyph atlases fetched over http and decoded by the
 * browser (src/shipped.ts's fetchAtlas), a held-out font's reference glyphs (atlases cached in the
 * page's state), and a user's picture (an upload or the drawing pad) turned into a model input
 * the way the atlases were made.
 */
import type { ImageRGBA } from "../src/index";
import { fetchAtlas } from "../src/shipped";
import {
  demoReferences,
  GLYPH_CELL as CELL,
  unseenAtlasFiles,
  type AtlasFiles,
  type GlyphAtlas,
} from "../src/glyphs";
import type { DemoState } from "./state";

const GLYPHS = "../assets/glyphs/";

/**
 * A user's glyph picture as a model input: scaled to 64×64 (the canvas's smoothing), composited
 * onto white (transparent backgrounds are common for glyphs) and turned grey, like the atlases.
 */
export function toGlyph(source: CanvasImageSource, width: number, height: number): ImageRGBA {
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

export async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot load ${url}: HTTP ${res.status}`);
  return res;
}

/** An atlas of the page's own (the page's ../assets/glyphs/), decoded by the browser. */
export function loadAtlas(files: AtlasFiles): Promise<GlyphAtlas> {
  return fetchAtlas(files, { base: GLYPHS });
}

/** A held-out font's atlas, fetched once (a failed fetch is forgotten, so it can be retried). */
export function unseenAtlas(state: DemoState, font: string): Promise<GlyphAtlas> {
  let p = state.fontAtlases.get(font);
  if (!p) {
    p = loadAtlas(unseenAtlasFiles(font));
    p.catch(() => state.fontAtlases.delete(font));
    state.fontAtlases.set(font, p);
  }
  return p;
}

export async function fontReferences(
  state: DemoState,
  font: string,
  k: number,
): Promise<ImageRGBA[]> {
  const atlas = await unseenAtlas(state, font);
  // As the CLI demo: K = 5 takes the PyTorch reference files' syllables.
  return demoReferences(atlas, k);
}
