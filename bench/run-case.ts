/**
 * Running one case: `coldStart` loads the engine on a fresh device (so no pipeline is cached and
 * load → first translation is what a new page sees), then `runCase` times paired iterations, the
 * engine and each peer back to back in an order that rotates, each call end to end (upload, run,
 * readback), checks every output against PyTorch's, and measures the engine's per-dispatch GPU
 * times (timestamp queries; wall time per API call where there are none) and its GPU memory.
 */
import { Funit, type Precision, type ProfiledDispatch } from "../src/index";
import { getNodeDevice } from "../src/node/gpu";
import { maxAbsError } from "../src/tensor";
import { PEER_TOLERANCE, TOLERANCES, type CaseSpec, type Reference } from "./cases";
import { decoder5x5Rates, kernelTimes, median, stageTimes, type KernelTime } from "./dispatches";
import type { Peer } from "./peers/peer";

export interface Loaded {
  spec: CaseSpec;
  ref: Reference;
  device: GPUDevice;
  engine: Funit;
  firstMs: number;
  firstErr: number;
}

export interface PeerResult {
  ms: number | null;
  first_run_ms?: number;
  maxAbsErr?: number;
  ok?: boolean;
  speedup?: number;
  skipped?: string;
}

/**
 * Loads the engine for a case on a fresh device. Runs before any peer is loaded: onnxruntime-web
 * compiles its 27 MB of WASM in the background for a while, which would slow this down on a small
 * machine. WebGPU errors are collected in `errors`.
 */
export async function coldStart(
  spec: CaseSpec,
  weightBytes: Uint8Array,
  precision: Precision | "auto",
  errors: string[],
): Promise<Loaded> {
  const ref = spec.reference();
  if (ref.content.shape[0] !== spec.n || ref.class_images.shape[0] !== spec.k)
    throw new Error(
      `${spec.id}: reference holds N=${ref.content.shape[0]}, K=${ref.class_images.shape[0]}`,
    );
  const device = await getNodeDevice({ onError: (m) => errors.push(`${spec.id}: ${m}`) });
  device.pushErrorScope("validation");
  const t0 = performance.now();
  const engine = await Funit.create(device, weightBytes, { label: spec.id, precision });
  const first = await engine.translateTensor(ref.content, ref.class_images);
  const firstMs = performance.now() - t0;
  return { spec, ref, device, engine, firstMs, firstErr: maxAbsError(first.data, ref.output.data) };
}

/** Paired end-to-end runs of the engine and the peers, with every output's error. */
async function pairedRuns(
  { spec, ref, engine, firstErr }: Loaded,
  peers: Peer[],
): Promise<{
  engineRuns: number[];
  engineErr: number;
  peerRuns: Map<string, number[]>;
  peerErr: Map<string, number>;
  peerFirst: Map<string, number>;
  ratios: Map<string, number[]>;
}> {
  const { content, class_images: classImages } = ref;
  const check = (out: Float32Array) => maxAbsError(out, ref.output.data);
  let engineErr = firstErr;
  const peerRuns = new Map<string, number[]>(peers.map((p) => [p.name, []]));
  const peerErr = new Map<string, number>();
  const peerFirst = new Map<string, number>();
  for (const p of peers) {
    const t = performance.now();
    // The first run of this shape: shader compilation, allocation.
    const out = await p.run(content, classImages);
    peerFirst.set(p.name, performance.now() - t);
    peerErr.set(p.name, check(out));
  }

  const engineRuns: number[] = [];
  const ratios = new Map<string, number[]>([
    ["best", []],
    ...peers.map((p) => [p.name, []] as [string, number[]]),
  ]);
  for (let r = 0; r < spec.repeats; r++) {
    // Rotate who goes first, so that a slow spell of the machine or a warm cache favours no one.
    const contenders = [{ name: "engine" }, ...peers];
    const order = contenders.map((_, i) => contenders[(i + r) % contenders.length]!);
    const times = new Map<string, number>();
    for (const c of order) {
      const t = performance.now();
      const out =
        c.name === "engine"
          ? (await engine.translateTensor(content, classImages)).data
          : await (c as Peer).run(content, classImages);
      times.set(c.name, performance.now() - t);
      const err = check(out);
      if (c.name === "engine") engineErr = Math.max(engineErr, err);
      else peerErr.set(c.name, Math.max(peerErr.get(c.name)!, err));
    }
    const e = times.get("engine")!;
    engineRuns.push(e);
    for (const p of peers) {
      peerRuns.get(p.name)!.push(times.get(p.name)!);
      ratios.get(p.name)!.push(times.get(p.name)! / e);
    }
    if (peers.length)
      ratios.get("best")!.push(Math.min(...peers.map((p) => times.get(p.name)!)) / e);
  }
  return { engineRuns, engineErr, peerRuns, peerErr, peerFirst, ratios };
}

/**
 * The engine's time per dispatch: median of a few profiled runs (timestamp queries around each
 * dispatch). Without timestamps (or with --wall-stages), wall time of what the API can run apart:
 * the class encoder alone (encodeClass), and the rest of a translation from a stored class code.
 */
async function engineStages(
  { ref, device, engine }: Loaded,
  wallStages: boolean,
): Promise<{ kernels: KernelTime[] } | { skipped: string; wall: Record<string, number> }> {
  const { content, class_images: classImages } = ref;
  if (device.features.has("timestamp-query") && !wallStages) {
    const profiles: ProfiledDispatch[][] = [];
    for (let i = 0; i < 3; i++) profiles.push(await engine.profile(content, classImages));
    return { kernels: kernelTimes(profiles) };
  }
  const encode: number[] = [];
  const fromCode: number[] = [];
  for (let i = 0; i < 3; i++) {
    let t = performance.now();
    const code = await engine.encodeClass(classImages);
    encode.push(performance.now() - t);
    t = performance.now();
    await engine.translateTensor(content, code);
    fromCode.push(performance.now() - t);
  }
  return {
    skipped: wallStages ? "--wall-stages given" : "no timestamp-query on this device",
    wall: {
      "class encoder (encodeClass)": median(encode),
      "MLP, content encoder, decoder (translation from a class code)": median(fromCode),
    },
  };
}

/** Runs a loaded case against the peers and releases its device; the case's report entry. */
export async function runCase(
  loaded: Loaded,
  peers: Peer[],
  peerSkips: Map<string, string>,
  wallStages: boolean,
  errors: string[],
) {
  const { spec, ref, device, engine, firstMs } = loaded;
  const runs = await pairedRuns(loaded, peers);
  // Memory now, while only this case's plan exists (the wall-time fallback below adds two).
  const activationBytes = await engine.activationBytes();
  const stages = await engineStages(loaded, wallStages);
  const kernels = "kernels" in stages ? stages.kernels : null;
  const weightGpuBytes = engine.weightBytes;
  const convKernel = engine.convKernel;
  engine.destroy();
  const scopeError = await device.popErrorScope();
  if (scopeError) errors.push(`${spec.id}: ${scopeError.message}`);
  device.destroy();

  const peersOut: Record<string, number | null> = {};
  const peerDetails: Record<string, PeerResult> = {};
  for (const [name, reason] of peerSkips) {
    peersOut[name] = null;
    peerDetails[name] = { ms: null, skipped: reason };
  }
  for (const p of peers) {
    const err = runs.peerErr.get(p.name)!;
    peersOut[p.name] = median(runs.peerRuns.get(p.name)!);
    peerDetails[p.name] = {
      ms: peersOut[p.name]!,
      first_run_ms: runs.peerFirst.get(p.name)!,
      maxAbsErr: err,
      ok: err <= PEER_TOLERANCE,
      speedup: median(runs.ratios.get(p.name)!),
    };
  }
  const engineMs = median(runs.engineRuns);
  const dec5 = decoder5x5Rates(kernels);
  return {
    id: spec.id,
    model: spec.model,
    k: spec.k,
    n: spec.n,
    size: [ref.content.shape[2], ref.content.shape[3]],
    repeats: spec.repeats,
    engine_ms: engineMs,
    engine_ms_per_image: engineMs / spec.n,
    translations_per_s: (1000 * spec.n) / engineMs,
    first_translation_ms: firstMs,
    precision: engine.precision,
    maxAbsErr: runs.engineErr,
    tolerance: TOLERANCES[engine.precision],
    ok: runs.engineErr <= TOLERANCES[engine.precision],
    peers: peersOut,
    peer_details: peerDetails,
    speedup_vs_best_peer: peers.length ? median(runs.ratios.get("best")!) : null,
    conv_kernel: convKernel,
    gpu_ms: kernels && kernels.reduce((a, k) => a + k.ms, 0),
    stages_ms: kernels && stageTimes(kernels),
    decoder_5x5_gflops: dec5.gflops,
    decoder_5x5_executed_gflops: dec5.executed,
    kernels,
    ...("skipped" in stages
      ? { kernels_skipped: stages.skipped, stages_wall_ms: stages.wall }
      : {}),
    gpu_memory_bytes: {
      weights: weightGpuBytes,
      activations: activationBytes,
      total: weightGpuBytes + activationBytes,
    },
  };
}

export type CaseResult = Awaited<ReturnType<typeof runCase>>;
