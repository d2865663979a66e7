/**
 * The glyphs every "use it from npm" example translates (examples/npm/translate.mjs,
 * examples/deno/translate.ts, examples/worker/): the last five cells of the held-out Bandal atlas
 * (never seen in training) are the style, the first two cells of the source atlas (가, 각) the
 * content. Here they are cut with the repo's own atlas code and translated by the Node engine, so a
 * test can check an example's inputs and outputs against it, and compare images within a stated
 * number of 8-bit levels.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Funit } from "../../src/index";
import { cutCell, type GlyphAtlas } from "../../src/glyphs";
import { loadSourceAtlas, loadUnseenAtlas, packageRoot } from "../../src/node/assets";
import type { ImageRGBA } from "../../src/tensor";
import { withDevice } from "./gpu";

export const EXAMPLE_REFERENCE_CELLS = [595, 596, 597, 598, 599];
export const EXAMPLE_CONTENT_CELLS = [0, 1];

export interface ExampleRun {
  contents: ImageRGBA[];
  references: ImageRGBA[];
  code: Float32Array;
  outputs: ImageRGBA[];
}

const cells = (atlas: GlyphAtlas, indices: number[]) => indices.map((i) => cutCell(atlas, i));

/** The examples' inputs and the Node engine's class code and outputs for them. */
export async function exampleRunInNode(): Promise<ExampleRun> {
  const contents = cells(await loadSourceAtlas(), EXAMPLE_CONTENT_CELLS);
  const references = cells(await loadUnseenAtlas("Bandal"), EXAMPLE_REFERENCE_CELLS);
  const weights = readFileSync(join(packageRoot(), "weights/hangul64-f16.safetensors"));
  return withDevice(async (device) => {
    const funit = await Funit.create(device, new Uint8Array(weights));
    try {
      const code = await funit.encodeClass(references);
      return { contents, references, code, outputs: await funit.translate(contents, code) };
    } finally {
      funit.destroy();
    }
  });
}

/** The largest channel difference in 8-bit levels, and the share of pixels that differ at all. */
export function imageDifference(
  a: ImageRGBA,
  b: ImageRGBA,
): { maxLevels: number; differing: number } {
  if (a.width !== b.width || a.height !== b.height)
    throw new Error(`sizes differ: ${a.width}x${a.height} and ${b.width}x${b.height}`);
  let maxLevels = 0;
  let differing = 0;
  for (let p = 0; p < a.data.length; p += 4) {
    let d = 0;
    for (let c = 0; c < 4; c++) d = Math.max(d, Math.abs(a.data[p + c]! - b.data[p + c]!));
    maxLevels = Math.max(maxLevels, d);
    if (d > 0) differing++;
  }
  return { maxLevels, differing: differing / (a.width * a.height) };
}

/** The two 64×64 halves of a 128×64 side-by-side picture, as the examples write it. */
export function splitSideBySide(image: ImageRGBA): ImageRGBA[] {
  return [0, 1].map((half) => {
    const data = new Uint8Array(64 * 64 * 4);
    for (let y = 0; y < 64; y++) {
      const from = (y * 128 + half * 64) * 4;
      data.set(image.data.subarray(from, from + 64 * 4), y * 64 * 4);
    }
    return { width: 64, height: 64, data };
  });
}
