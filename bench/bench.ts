/**
 * `npm run bench`: the engine against its peers, onnxruntime-web's WebGPU EP (`bench/peers/ort.ts`)
 * and tfjs-backend-webgpu (`bench/peers/tfjs.ts`), on the same adapter, same weights and same
 * inputs, in one process. Each case (model, K class images, N content images; bench/cases.ts)
 * loads the engine on a fresh device (so model load → first translation includes creating every
 * pipeline), then runs paired iterations: the engine and each peer back to back, in an order that
 * rotates, each call end to end (bench/run-case.ts). It reports medians and the median of the
 * per-iteration ratios best-peer time / engine time; the engine's per-dispatch GPU times summed per
 * stage, GFLOP/s of each convolution (bench/dispatches.ts), and the GPU memory it holds
 * (bench/report.ts). Every output of every run, the peers' included, is checked against PyTorch's;
 * the exit status is 1 if the engine's is off by more than the tolerance, so a fast wrong kernel
 * cannot pass. `--json` prints one JSON object. Options: bench/options.ts.
 *
 *   node dist/bench/bench.js [--json] [--repeats N] [--case hangul64-k5-n8 …] [--no-peers]
 *                            [--wall-stages] [--precision auto|f32|f16]
 *   node dist/gpu/bench.mjs … [--ort-dist DIR]   (everything but `webgpu` bundled, for a GPU
 *     machine; DIR holds onnxruntime-web's dist/ort-wasm-simd-threaded.asyncify.{mjs,wasm})
 *   bash bench/make-animals.sh    (once: the animals-config case's ONNX and references)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import {
  isCpuAdapter,
  readGeneratorWeights,
  serializeSafetensors,
  type Tensor,
} from "../src/index";
import { getNodeDevice } from "../src/node/gpu";
import { benchModels, TOLERANCES } from "./cases";
import { runDawnPollBench } from "./dawn-poll";
import { runFontBench } from "./font";
import { runSlicesBench } from "./slices";
import { loadPeers } from "./load-peers";
import { ANIMALS_DIR, animalsInputs, animalsWeights } from "./models/animals";
import { parseBenchArgs, type BenchOptions } from "./options";
import { summariseAdapter, type AdapterSummary } from "./peers/peer";
import { printText, type BenchResult } from "./report";
import { coldStart, runCase, type CaseResult, type Loaded } from "./run-case";

/** For bench/make-animals.sh: the weights and inputs that PyTorch turns into ONNX and references. */
function writeAnimals(): void {
  mkdirSync(ANIMALS_DIR, { recursive: true });
  writeFileSync(join(ANIMALS_DIR, "gen_test.safetensors"), animalsWeights());
  const { content, class_images } = animalsInputs();
  const f32 = (name: string, t: Tensor) => ({
    name,
    dtype: "F32" as const,
    shape: t.shape,
    bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
  });
  writeFileSync(
    join(ANIMALS_DIR, "inputs.safetensors"),
    serializeSafetensors([f32("content", content), f32("class_images", class_images)]),
  );
  console.log(`wrote ${ANIMALS_DIR}/gen_test.safetensors and inputs.safetensors`);
}

async function bench(opts: BenchOptions): Promise<BenchResult> {
  const probe = await getNodeDevice();
  const info = (probe as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const adapter = summariseAdapter(info);
  const features = [...probe.features].sort();
  const cpuAdapter = isCpuAdapter(info);
  probe.destroy();

  const errors: string[] = [];
  const cases: CaseResult[] = [];
  const skipped: { id: string; reason: string }[] = [];
  const peersLoad: Record<string, Record<string, number>> = {};
  const peerAdapters: Record<string, AdapterSummary | undefined> = {};
  for (const model of benchModels(cpuAdapter, opts)) {
    const runnable = model.cases.filter((c) => !c.skipped);
    for (const c of model.cases) if (c.skipped) skipped.push({ id: c.id, reason: c.skipped });
    if (!runnable.length) continue;
    const bytes = model.weights();
    const loaded: Loaded[] = [];
    for (const spec of runnable) loaded.push(await coldStart(spec, bytes, opts.precision, errors));
    const weights = () => readGeneratorWeights(bytes);
    const { peers, skips, load_ms } = await loadPeers(model, weights, opts);
    peersLoad[model.name] = load_ms;
    for (const p of peers) peerAdapters[p.name] = p.adapter();
    for (const l of loaded) {
      if (!opts.json) console.error(`bench: ${l.spec.id} (${l.spec.repeats} paired runs)…`);
      cases.push(await runCase(l, peers, skips, opts.wallStages, errors));
    }
    for (const p of peers) await p.destroy();
  }

  return {
    adapter: adapter && { ...adapter, features },
    peer_adapters: peerAdapters,
    machine: {
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      node: process.version,
      date: new Date().toISOString(),
    },
    tolerances: TOLERANCES,
    cases,
    skipped,
    peers_load_ms: peersLoad,
    errors,
    ok: cases.every((c) => c.ok) && errors.length === 0,
  };
}

async function main(args: string[]): Promise<number> {
  // cases with their own runner and options: --case font, --case slices, --case dawn-poll
  for (const [name, run] of [
    ["font", runFontBench],
    ["slices", runSlicesBench],
    ["dawn-poll", runDawnPollBench],
  ] as const) {
    const at = args.findIndex((a, i) => a === name && args[i - 1] === "--case");
    if (at > 0) return run(args.filter((_, i) => i !== at && i !== at - 1));
  }
  const opts = parseBenchArgs(args);
  if (opts.writeAnimals) {
    writeAnimals();
    return 0;
  }
  const result = await bench(opts);
  if (opts.json) console.log(JSON.stringify(result));
  else printText(result);
  return result.ok ? 0 : 1;
}

// An `await` on a Dawn promise while nothing else keeps Node's event loop busy can stall behind
// onnxruntime-web's background WASM compilation; this interval keeps the loop turning.
const keepAlive = setInterval(() => {}, 20);
const status = await main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`bench: ${(e as Error).stack ?? e}`);
  return 1;
});
clearInterval(keepAlive);
process.exit(status);
