// Few-shot translation in Node with the npm package (`npm install funit-webgpu webgpu`: `webgpu`,
// Dawn, is the optional peer dependency that gives Node its WebGPU). The shipped model and glyph
// atlases are located with import.meta.resolve. The style is the mean class code of the last five
// cells of the held-out Bandal atlas (never seen in training); the content is the first two
// syllables of the source atlas (가, 각); the two results are written side by side as a PNG.
//   node translate.mjs [OUT.png]
import { readFile, writeFile } from "node:fs/promises";
import { Funit, getNodeDevice, decodeImage, encodePng } from "funit-webgpu/node";

const shipped = (path) => new URL(import.meta.resolve(`funit-webgpu/${path}`));

/** Cell `i` (reading order) of an atlas of 64×64 cells, `perRow` a row. */
function cell(atlas, perRow, i) {
  const data = new Uint8Array(64 * 64 * 4);
  const [x0, y0] = [(i % perRow) * 64, Math.floor(i / perRow) * 64];
  for (let y = 0; y < 64; y++) {
    const from = ((y0 + y) * atlas.width + x0) * 4;
    data.set(atlas.data.subarray(from, from + 64 * 4), y * 64 * 4);
  }
  return { width: 64, height: 64, data };
}

const [weights, sourcePng, bandalPng] = await Promise.all(
  [
    "weights/hangul64-f16.safetensors",
    "assets/glyphs/source-NotoSansCJKkr-Regular-2350.png",
    "assets/glyphs/unseen-Bandal-600.png",
  ].map((path) => readFile(shipped(path))),
);
// The source atlas is 3200×3008 pixels, above decodeImage's default limit for user input (2048²).
const source = decodeImage(sourcePng, "source atlas", 3200 * 3008);
const bandal = decodeImage(bandalPng, "Bandal atlas");

const device = await getNodeDevice();
const funit = await Funit.create(device, weights);
const style = await funit.encodeClass([595, 596, 597, 598, 599].map((i) => cell(bandal, 25, i)));
const [first, second] = await funit.translate([cell(source, 50, 0), cell(source, 50, 1)], style);

// Side by side in one PNG.
const out = { width: 128, height: 64, data: new Uint8Array(128 * 64 * 4) };
for (let y = 0; y < 64; y++) {
  out.data.set(first.data.subarray(y * 256, y * 256 + 256), y * 512);
  out.data.set(second.data.subarray(y * 256, y * 256 + 256), y * 512 + 256);
}
const path = process.argv[2] ?? "funit-example.png";
await writeFile(path, encodePng(out));
console.log(`style: ${style.length} numbers; wrote ${path}`);
funit.destroy();
device.destroy();
