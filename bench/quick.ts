import { readFileSync } from "node:fs";
import { Funit } from "../src/engine";
import { getNodeDevice } from "../src/node/gpu";
import { readTensors } from "../test/helpers/fixtures";
const device = await getNodeDevice();
const t0 = performance.now();
const f = await Funit.create(device, new Uint8Array(readFileSync("test/fixtures/hangul64/gen_test.safetensors")));
console.log("load", (performance.now() - t0).toFixed(0), "ms");
const { tensors } = readTensors("test/fixtures/hangul64/Bandal.safetensors");
const content = tensors.get("content")!;
const one = { shape: [1, 3, 64, 64], data: content.data.slice(0, 3 * 64 * 64) };
const cls = tensors.get("class_images")!;
for (const [label, c] of [["n=1", one], ["n=8", content]] as const) {
  for (let i = 0; i < 4; i++) {
    const t = performance.now();
    await f.translateTensor(c, cls);
    console.log(label, "k=5", (performance.now() - t).toFixed(0), "ms");
  }
}
const code = await f.encodeClass(cls);
for (let i = 0; i < 3; i++) { const t = performance.now(); await f.translateTensor(one, code); console.log("n=1 code", (performance.now() - t).toFixed(0), "ms"); }
process.exit(0);
