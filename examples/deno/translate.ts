/**
 * Few-shot translation in Deno with the npm package: Deno's own WebGPU (navigator.gpu, wgpu) runs
 * the engine; the shipped model and glyph atlases are located with shippedAssetUrl (file: URLs in
 * the installed package) and fetched, the model by Funit.create itself; funit-webgpu/node's PNG
 * codec (pngjs) decodes the atlases and writes the result (that entry loads Node's WebGPU, the
 * `webgpu` package, only when asked for a device). The glyphs are those of
 * examples/npm/translate.mjs: the last five cells of the held-out Bandal atlas are the style, the
 * first two syllables of the source atlas (가, 각) the content.
 *   deno run --allow-read --allow-write translate.ts [OUT.png]
 */
import {
  Funit,
  requestFunitDevice,
  fetchAtlas,
  shippedAssetUrl,
  cutCell,
  glyphOf,
  composeGrid,
  unseenAtlasFiles,
  SHIPPED_MODEL,
  SOURCE_ATLAS,
  type ImageDecoder,
} from "funit-webgpu";
import { decodeImage, encodePng } from "funit-webgpu/node";

// The source atlas is 3200×3008 pixels, above decodeImage's default limit for user input (2048²).
const decode: ImageDecoder = (bytes, name) => decodeImage(bytes, name, 3200 * 3008);
const [source, bandal] = await Promise.all([
  fetchAtlas(SOURCE_ATLAS, { decode }),
  fetchAtlas(unseenAtlasFiles("Bandal"), { decode }),
]);

const device = await requestFunitDevice(navigator.gpu);
const funit = await Funit.create(device, shippedAssetUrl(SHIPPED_MODEL));
const style = await funit.encodeClass([595, 596, 597, 598, 599].map((i) => cutCell(bandal, i)));
const results = await funit.translate([glyphOf(source, "가"), glyphOf(source, "각")], style);

const path = Deno.args[0] ?? "funit-example.png";
await Deno.writeFile(path, encodePng(composeGrid([results], 64, 64)));
console.log(`style: ${style.length} numbers; wrote ${path}`);
funit.dispose();
device.destroy();
