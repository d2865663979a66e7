// Few-shot translation in Node with the npm package (`npm install funit-webgpu webgpu`: `webgpu`,
// Dawn, is the optional peer dependency that gives Node its WebGPU). The shipped model and glyph
// atlases are read from the installed package (shippedAssetPath, loadSourceAtlas,
// loadUnseenAtlas). The style is the mean class code of the last five cells of the held-out Bandal
// atlas (never seen in training); the content is the first two syllables of the source atlas
// (가, 각); the two results are written side by side as a PNG.
//   node translate.mjs [OUT.png]
import { readFile, writeFile } from "node:fs/promises";
import {
  Funit,
  getNodeDevice,
  encodePng,
  loadSourceAtlas,
  loadUnseenAtlas,
  shippedAssetPath,
  cutCell,
  glyphOf,
  composeGrid,
  SHIPPED_MODEL,
} from "funit-webgpu/node";

const [weights, source, bandal] = await Promise.all([
  readFile(shippedAssetPath(SHIPPED_MODEL)),
  loadSourceAtlas(),
  loadUnseenAtlas("Bandal"),
]);

const device = await getNodeDevice();
const funit = await Funit.create(device, weights);
const style = await funit.encodeClass([595, 596, 597, 598, 599].map((i) => cutCell(bandal, i)));
const results = await funit.translate([glyphOf(source, "가"), glyphOf(source, "각")], style);

const path = process.argv[2] ?? "funit-example.png";
await writeFile(path, encodePng(composeGrid([results], 64, 64)));
console.log(`style: ${style.length} numbers; wrote ${path}`);
funit.dispose();
device.destroy();
