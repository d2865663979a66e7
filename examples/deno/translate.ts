/**
 * Few-shot translation in Deno with the npm package: Deno's own WebGPU (navigator.gpu, wgpu) runs
 * the engine; the shipped model and glyph atlases are located with import.meta.resolve and read
 * with Deno.readFile; funit-webgpu/node's PNG codec (pngjs) decodes the atlases and writes the
 * result (that entry loads Node's WebGPU, the `webgpu` package, only when asked for a device). The
 * glyphs are those of examples/npm/translate.mjs: the last five cells of the held-out Bandal atlas
 * are the style, the first two syllables of the source atlas (가, 각) the content.
 *   deno run --allow-read --allow-write translate.ts [OUT.png]
 */
import { Funit, requestFunitDevice, type ImageRGBA } from "funit-webgpu";
import { decodeImage, encodePng } from "funit-webgpu/node";

const shipped = (path: string) => new URL(import.meta.resolve(`funit-webgpu/${path}`));

/** Cell `i` (reading order) of an atlas of 64×64 cells, `perRow` a row. */
function cell(atlas: ImageRGBA, perRow: number, i: number): ImageRGBA {
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
  ].map((path) => Deno.readFile(shipped(path))),
);
// The source atlas is 3200×3008 pixels, above decodeImage's default limit for user input (2048²).
const source = decodeImage(sourcePng!, "source atlas", 3200 * 3008);
const bandal = decodeImage(bandalPng!, "Bandal atlas");

const device = await requestFunitDevice(navigator.gpu);
// Deno (wgpu) panics with "Adapter[Id(0,1)] does not exist" when the adapter information is first
// read after the adapter is gone; reading it here avoids that until requestFunitDevice does.
void device.adapterInfo;
const funit = await Funit.create(device, weights!);
const style = await funit.encodeClass([595, 596, 597, 598, 599].map((i) => cell(bandal, 25, i)));
const [first, second] = await funit.translate([cell(source, 50, 0), cell(source, 50, 1)], style);

// Side by side in one PNG.
const out: ImageRGBA = { width: 128, height: 64, data: new Uint8Array(128 * 64 * 4) };
for (let y = 0; y < 64; y++) {
  out.data.set(first!.data.subarray(y * 256, y * 256 + 256), y * 512);
  out.data.set(second!.data.subarray(y * 256, y * 256 + 256), y * 512 + 256);
}
const path = Deno.args[0] ?? "funit-example.png";
await Deno.writeFile(path, encodePng(out));
console.log(`style: ${style.length} numbers; wrote ${path}`);
funit.destroy();
device.destroy();
