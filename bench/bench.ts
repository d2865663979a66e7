/**
 * `npm run bench`: end-to-end timings of the shipped Hangul model on whatever adapter WebGPU gives
 * (lavapipe on a machine without a GPU), with the output checked against the PyTorch reference in
 * the same run so that a fast wrong kernel cannot pass. Reports medians of repeated runs: model load
 * to first translation, one 64×64 translation with its K = 5 class images encoded in the same
 * submit, one translation from a stored class code, and a batch of 8 glyphs. `--json` prints one
 * JSON object on stdout instead of the table.
 */
import { readFileSync } from "node:fs";
import { Funit } from "../src/engine";
import { getNodeDevice, getNodeGPU } from "../src/node/gpu";
import { parseSafetensors } from "../src/safetensors";
import { floatTensors, maxAbsError, type Tensor } from "../src/tensor";

const json = process.argv.includes("--json");
const repeats = Number(process.argv.find((a) => a.startsWith("--repeats="))?.split("=")[1] ?? 7);

const tensors = (path: string) => floatTensors(parseSafetensors(new Uint8Array(readFileSync(path))));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const adapter = await getNodeGPU().requestAdapter();
const info = adapter?.info;
const device = await getNodeDevice();
const ref = tensors("test/fixtures/hangul64/NanumBrush.safetensors");
const content8 = ref.get("content")!;
const classImages = ref.get("class_images")!;
const content1: Tensor = { shape: [1, 3, 64, 64], data: content8.data.slice(0, 3 * 64 * 64) };

const t0 = performance.now();
const engine = await Funit.create(device, new Uint8Array(readFileSync("test/fixtures/hangul64/gen_test.safetensors")));
const loadMs = performance.now() - t0;
const first = await engine.translateTensor(content1, classImages);
const firstMs = performance.now() - t0;
const err1 = maxAbsError(first.data, ref.get("output")!.data.subarray(0, first.data.length));

const code = await engine.encodeClass(classImages);
const runs: Record<string, number[]> = { "n1_k5_images": [], "n1_code": [], "n8_k5_images": [] };
let err8 = 0;
for (let r = 0; r < repeats; r++) {
  // interleaved, so a slow spell of the machine hits every case alike
  let t = performance.now();
  await engine.translateTensor(content1, classImages);
  runs.n1_k5_images!.push(performance.now() - t);
  t = performance.now();
  await engine.translateTensor(content1, code);
  runs.n1_code!.push(performance.now() - t);
  t = performance.now();
  const out8 = await engine.translateTensor(content8, classImages);
  runs.n8_k5_images!.push(performance.now() - t);
  err8 = Math.max(err8, maxAbsError(out8.data, ref.get("output")!.data));
}
const result = {
  adapter: { vendor: info?.vendor, architecture: info?.architecture, device: info?.device, description: info?.description },
  model: "hangul64 (f32 weights)",
  load_ms: loadMs,
  first_translation_ms: firstMs,
  median_ms: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)])),
  per_glyph_ms_n8: median(runs.n8_k5_images!) / 8,
  maxAbsErr: Math.max(err1, err8),
  ok: Math.max(err1, err8) < 1e-4,
  activation_bytes: await engine.activationBytes(),
  weight_bytes: engine.weightBytes,
};
if (json) console.log(JSON.stringify(result));
else {
  console.log(`adapter: ${JSON.stringify(result.adapter)}`);
  console.log(`load ${loadMs.toFixed(0)} ms; load → first translation ${firstMs.toFixed(0)} ms`);
  for (const [k, v] of Object.entries(result.median_ms)) console.log(`${k.padEnd(14)} median ${v.toFixed(1)} ms over ${repeats}`);
  console.log(`per glyph in a batch of 8 (K = 5 encoded in the same submit): ${result.per_glyph_ms_n8.toFixed(1)} ms`);
  console.log(`output vs PyTorch: max abs err ${result.maxAbsErr.toExponential(2)} (${result.ok ? "ok" : "FAILED"})`);
}
engine.destroy();
device.destroy();
process.exit(result.ok ? 0 : 1);
