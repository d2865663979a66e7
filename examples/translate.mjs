// Few-shot translation with the public API (run `npm run build` first): encodes the style of five
// glyphs of a held-out font once, then writes two syllables of the source font in that style.
//   node examples/translate.mjs [OUT.png]
import { readFile, writeFile } from "node:fs/promises";
import { Funit, getNodeDevice, readImageFile, encodePng, classCodeToJSON } from "../dist/node.js";

const glyphs = new URL("./glyphs/", import.meta.url);
const device = await getNodeDevice();
const funit = await Funit.create(
  device,
  await readFile(new URL("../weights/hangul64-f16.safetensors", import.meta.url)),
);

// A style is the mean class code of K example images: latent_dim (64) plain numbers.
const examples = await Promise.all(
  ["ref-0", "ref-1", "ref-2", "ref-3", "ref-4"].map((n) =>
    readImageFile(new URL(`${n}.png`, glyphs)),
  ),
);
const style = await funit.encodeClass(examples);
console.log(`style: ${style.length} numbers, starting ${classCodeToJSON(style.subarray(0, 3))}`);

const contents = await Promise.all(
  ["content-0", "content-1"].map((n) => readImageFile(new URL(`${n}.png`, glyphs))),
);
const [first, second] = await funit.translate(contents, style);

// Side by side in one PNG.
const out = { width: 128, height: 64, data: new Uint8ClampedArray(128 * 64 * 4) };
for (let y = 0; y < 64; y++) {
  out.data.set(first.data.subarray(y * 256, y * 256 + 256), y * 512);
  out.data.set(second.data.subarray(y * 256, y * 256 + 256), y * 512 + 256);
}
const path = process.argv[2] ?? "out/example.png";
await writeFile(path, encodePng(out));
console.log(`wrote ${path}`);
funit.destroy();
device.destroy();
