/**
 * `npm run bench`: the engine against its peers, onnxruntime-web's WebGPU EP (`bench/peers/ort.ts`)
 * and tfjs-backend-webgpu (`bench/peers/tfjs.ts`), on the same adapter, same weights and same
 * inputs, in one process. Each case (model, K class images, N content images) loads the engine on a
 * fresh device (so model load → first translation includes creating every pipeline), then runs
 * paired iterations: the engine and each peer back to back, in an order that rotates, each call
 * end to end (upload, run, readback). It reports medians and the median of the per-iteration ratios
 * best-peer time / engine time; the engine's per-dispatch GPU times (timestamp queries) summed per
 * stage, GFLOP/s of each convolution, and the GPU memory it holds. Every output of every run, the
 * peers' included, is checked against PyTorch's; the exit status is 1 if the engine's is off by
 * more than the tolerance, so a fast wrong kernel cannot pass. `--json` prints one JSON object.
 *
 *   node dist/bench/bench.js [--json] [--repeats N] [--case hangul64-k5-n8 …] [--no-peers] [--wall-stages]
 *                            [--precision auto|f32|f16]   (the engine's; auto = its own choice per adapter)
 *   node dist/gpu/bench.mjs … [--ort-dist DIR]   (everything but `webgpu` bundled, for a GPU machine;
 *     DIR holds onnxruntime-web's dist/ort-wasm-simd-threaded.asyncify.{mjs,wasm})
 *   bash bench/make-animals.sh    (once: the animals-config case's ONNX and references)
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { isCpuAdapter, type Precision } from "../src/device";
import { Funit, type ProfiledDispatch } from "../src/engine";
import { getNodeDevice } from "../src/node/gpu";
import { parseSafetensors, serializeSafetensors } from "../src/safetensors";
import { floatTensors, maxAbsError, type Tensor } from "../src/tensor";
import { readGeneratorWeights, type GeneratorWeights } from "../src/weights";
import { ANIMALS_DIR, animalsInputs, animalsWeights } from "./models/animals";
import { createOrtPeer } from "./peers/ort";
import { summariseAdapter, type AdapterSummary, type Peer } from "./peers/peer";
import { createTfjsPeer } from "./peers/tfjs";

/**
 * Max |engine − PyTorch| allowed, by the engine's precision: f32 as the engine's tests (and `funit
 * verify`) hold it; f16 activations and weights as test/precision-f16.test.ts does. Peers run f32
 * and are checked at the f32 tolerance.
 */
const TOLERANCES: Record<Precision, number> = { f32: 1e-4, f16: 5e-2 };
const PEER_TOLERANCE = TOLERANCES.f32;

const { values: opts } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    repeats: { type: "string" },
    case: { type: "string", multiple: true },
    "no-peers": { type: "boolean", default: false },
    "wall-stages": { type: "boolean", default: false },
    "ort-dist": { type: "string" },
    precision: { type: "string", default: "auto" },
    "write-animals": { type: "boolean", default: false },
  },
});

if (!["auto", "f32", "f16"].includes(opts.precision!))
  throw new Error(`--precision ${opts.precision}: use auto, f32 or f16`);

// ------------------------------------------------------------------ models and cases

interface Reference {
  content: Tensor;
  class_images: Tensor;
  output: Tensor;
}

interface CaseSpec {
  id: string;
  model: string;
  k: number;
  n: number;
  repeats: number;
  reference: () => Reference;
  /** Why the case does not run (missing files, too slow here unless asked for). */
  skipped?: string;
}

interface ModelSpec {
  name: string;
  weights: () => Uint8Array;
  onnx?: string;
  cases: CaseSpec[];
}

const tensors = (path: string) =>
  floatTensors(parseSafetensors(new Uint8Array(readFileSync(path))));

function readReference(path: string, n?: number): Reference {
  const t = tensors(path);
  const get = (name: string) => {
    const v = t.get(name);
    if (!v) throw new Error(`${path} has no tensor '${name}'`);
    return v;
  };
  const first = (x: Tensor): Tensor =>
    n === undefined
      ? x
      : {
          shape: [n, ...x.shape.slice(1)],
          data: x.data.slice(0, (x.data.length / x.shape[0]!) * n),
        };
  return {
    content: first(get("content")),
    class_images: get("class_images"),
    output: first(get("output")),
  };
}

function models(cpuAdapter: boolean): ModelSpec[] {
  const repeats = (d: number) => Number(opts.repeats ?? d);
  const hangul: ModelSpec = {
    name: "hangul64",
    weights: () => new Uint8Array(readFileSync("test/fixtures/hangul64/gen_test.safetensors")),
    onnx: "bench/models/hangul64.onnx",
    cases: [
      {
        id: "hangul64-k5-n8",
        model: "hangul64",
        k: 5,
        n: 8,
        repeats: repeats(cpuAdapter ? 5 : 30),
        reference: () => readReference("test/fixtures/hangul64/NanumBrush.safetensors"),
      },
      {
        id: "hangul64-k1-n1",
        model: "hangul64",
        k: 1,
        n: 1,
        repeats: repeats(cpuAdapter ? 7 : 30),
        reference: () => readReference("bench/models/hangul64-k1n1.safetensors"),
      },
    ],
  };
  const made =
    existsSync(join(ANIMALS_DIR, "k1n1.safetensors")) &&
    existsSync(join(ANIMALS_DIR, "k5n16.safetensors"));
  const missing = made
    ? undefined
    : "skipped: run bench/make-animals.sh (PyTorch references for the animals config)";
  const animals: ModelSpec = {
    name: "animals128",
    weights: () => animalsWeights(),
    onnx: join(ANIMALS_DIR, "model.onnx"),
    cases: [
      {
        id: "animals128-k1-n1",
        model: "animals128",
        k: 1,
        n: 1,
        repeats: repeats(cpuAdapter ? 2 : 20),
        reference: () => readReference(join(ANIMALS_DIR, "k1n1.safetensors")),
        skipped: missing,
      },
      {
        id: "animals128-k5-n16",
        model: "animals128",
        k: 5,
        n: 16,
        repeats: repeats(cpuAdapter ? 1 : 20),
        reference: () => readReference(join(ANIMALS_DIR, "k5n16.safetensors")),
        skipped:
          missing ??
          (cpuAdapter && !opts.case?.includes("animals128-k5-n16")
            ? "skipped: minutes a run on a CPU adapter; ask for it with --case animals128-k5-n16"
            : undefined),
      },
    ],
  };
  const all = [hangul, animals];
  if (opts.case?.length) {
    const known = all.flatMap((m) => m.cases.map((c) => c.id));
    const unknown = opts.case.filter((c) => !known.includes(c));
    if (unknown.length)
      throw new Error(`unknown --case ${unknown.join(", ")}; cases: ${known.join(", ")}`);
    for (const m of all) m.cases = m.cases.filter((c) => opts.case!.includes(c.id));
  }
  return all.filter((m) => m.cases.length > 0);
}

// ------------------------------------------------------------------ what a dispatch is

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface ConvShape {
  batch: number;
  cin: number;
  cout: number;
  k: number;
  stride: number;
  upsample: number;
  outH: number;
  outW: number;
  phases: boolean;
}

/**
 * A convolution dispatch's shape, from the params and override constants it ran with (every conv
 * kernel takes the same params struct): enough to turn its GPU time into GFLOP/s.
 */
function convShapeOf(d: ProfiledDispatch): ConvShape | undefined {
  if (!d.kernel.startsWith("conv2d")) return undefined;
  const p = d.params;
  return {
    batch: p.batch!,
    cin: p.cin!,
    cout: p.cout!,
    k: Number(d.overrides.KSIZE),
    stride: Number(d.overrides.STRIDE),
    upsample: Number(d.overrides.UPSAMPLE),
    outH: p.out_h!,
    outW: p.out_w!,
    phases: d.overrides.PHASES === true,
  };
}

const convFlops = (s: ConvShape) => 2 * s.batch * s.cout * s.outH * s.outW * s.cin * s.k * s.k;
/**
 * The arithmetic a dispatch really does. GFLOP/s are quoted for the convolution as defined (the
 * usual count), but the decoder's ×2-upsampling 5×5 convolutions on CPU adapters run "by phases":
 * interior pixels take 9 multiply-adds a channel pair instead of 25 (src/model.ts, up2PhaseWeights),
 * the 2-pixel reflect frame all 25. This count keeps that speed-up from passing for kernel speed.
 */
const executedFlops = (s: ConvShape) => {
  if (!s.phases) return convFlops(s);
  const interior = 4 * (s.outH / 2 - 2) * (s.outW / 2 - 2);
  return 2 * s.batch * s.cout * s.cin * (interior * 9 + (s.outH * s.outW - interior) * 25);
};

const STAGES = ["content encoder", "class encoder", "MLP", "decoder", "io and casts"] as const;

/** Stage of a dispatch, from its label (the layer names of model.ts). */
function stageOf(label: string): string {
  if (label.startsWith("enc_content")) return "content encoder";
  if (label.startsWith("enc_class_model")) return "class encoder";
  if (label.startsWith("mlp")) return "MLP";
  if (label.startsWith("dec")) return "decoder";
  return "io and casts";
}

// ------------------------------------------------------------------ running a case

interface PeerResult {
  ms: number | null;
  first_run_ms?: number;
  maxAbsErr?: number;
  ok?: boolean;
  speedup?: number;
  skipped?: string;
}

interface KernelTime {
  label: string;
  stage: string;
  ms: number;
  gflops?: number;
  executed_gflops?: number;
  shape?: ConvShape;
}

const keepAlive = setInterval(() => {}, 20); // see main(): Dawn promises must not wait on an idle loop
const errors: string[] = [];

interface Loaded {
  spec: CaseSpec;
  ref: Reference;
  device: GPUDevice;
  engine: Funit;
  firstMs: number;
  firstErr: number;
}

/**
 * Loads the engine for a case on a fresh device, so that no pipeline is cached and load → first
 * translation is what a new page sees. Runs before any peer is loaded: onnxruntime-web compiles
 * its 27 MB of WASM in the background for a while, which would slow this down on a small machine.
 */
async function coldStart(spec: CaseSpec, weightBytes: Uint8Array): Promise<Loaded> {
  const ref = spec.reference();
  if (ref.content.shape[0] !== spec.n || ref.class_images.shape[0] !== spec.k)
    throw new Error(
      `${spec.id}: reference holds N=${ref.content.shape[0]}, K=${ref.class_images.shape[0]}`,
    );
  const device = await getNodeDevice({ onError: (m) => errors.push(`${spec.id}: ${m}`) });
  device.pushErrorScope("validation");
  const t0 = performance.now();
  const engine = await Funit.create(device, weightBytes, {
    label: spec.id,
    precision: opts.precision as Precision | "auto",
  });
  const first = await engine.translateTensor(ref.content, ref.class_images);
  const firstMs = performance.now() - t0;
  return { spec, ref, device, engine, firstMs, firstErr: maxAbsError(first.data, ref.output.data) };
}

async function runCase(
  { spec, ref, device, engine, firstMs, firstErr }: Loaded,
  peers: Peer[],
  peerSkips: Map<string, string>,
) {
  const content = ref.content,
    classImages = ref.class_images;
  const check = (out: Float32Array) => maxAbsError(out, ref.output.data);
  let engineErr = firstErr;

  const peerRuns = new Map<string, number[]>(peers.map((p) => [p.name, []]));
  const peerErr = new Map<string, number>();
  const peerFirst = new Map<string, number>();
  for (const p of peers) {
    const t = performance.now();
    const out = await p.run(content, classImages); // first run of this shape: shader compilation, allocation
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

  // Memory now, while only this case's plan exists (the wall-time fallback below adds two).
  const activationBytes = await engine.activationBytes();

  // Per-dispatch GPU time: median of a few profiled runs (timestamp queries around each dispatch).
  let kernels: KernelTime[] | null = null;
  let kernelsSkipped: string | undefined;
  let stagesWall: Record<string, number> | undefined;
  if (device.features.has("timestamp-query") && !opts["wall-stages"]) {
    const profiles: ProfiledDispatch[][] = [];
    for (let i = 0; i < 3; i++) profiles.push(await engine.profile(content, classImages));
    kernels = profiles[0]!.map((d, i) => {
      const ms = median(profiles.map((p) => p[i]!.ms));
      const shape = convShapeOf(d);
      return {
        label: d.label,
        stage: stageOf(d.label),
        ms,
        ...(shape
          ? {
              shape,
              gflops: convFlops(shape) / (ms * 1e6),
              executed_gflops: executedFlops(shape) / (ms * 1e6),
            }
          : {}),
      };
    });
  } else {
    // Without timestamps, wall time of what the API can run apart: the class encoder alone
    // (encodeClass), and the rest of a translation from a stored class code; each end to end.
    kernelsSkipped = opts["wall-stages"]
      ? "--wall-stages given"
      : "no timestamp-query on this device";
    const encode: number[] = [],
      fromCode: number[] = [];
    for (let i = 0; i < 3; i++) {
      let t = performance.now();
      const code = await engine.encodeClass(classImages);
      encode.push(performance.now() - t);
      t = performance.now();
      await engine.translateTensor(content, code);
      fromCode.push(performance.now() - t);
    }
    stagesWall = {
      "class encoder (encodeClass)": median(encode),
      "MLP, content encoder, decoder (translation from a class code)": median(fromCode),
    };
  }
  const weightGpuBytes = engine.weightBytes;
  const convKernel = engine.convKernel;
  engine.destroy();
  const scopeError = await device.popErrorScope();
  if (scopeError) errors.push(`${spec.id}: ${scopeError.message}`);
  device.destroy();

  const stages =
    kernels &&
    Object.fromEntries(
      STAGES.filter((s) => kernels!.some((k) => k.stage === s)).map((s) => [
        s,
        kernels!.filter((k) => k.stage === s).reduce((a, k) => a + k.ms, 0),
      ]),
    );
  const dec5 = kernels?.filter((k) => k.stage === "decoder" && k.shape?.k === 5) ?? [];
  const peersOut: Record<string, number | null> = {};
  const peerDetails: Record<string, PeerResult> = {};
  for (const [name, reason] of peerSkips) {
    peersOut[name] = null;
    peerDetails[name] = { ms: null, skipped: reason };
  }
  for (const p of peers) {
    const err = peerErr.get(p.name)!;
    peersOut[p.name] = median(peerRuns.get(p.name)!);
    peerDetails[p.name] = {
      ms: peersOut[p.name]!,
      first_run_ms: peerFirst.get(p.name)!,
      maxAbsErr: err,
      ok: err <= PEER_TOLERANCE,
      speedup: median(ratios.get(p.name)!),
    };
  }
  return {
    id: spec.id,
    model: spec.model,
    k: spec.k,
    n: spec.n,
    size: [content.shape[2], content.shape[3]],
    repeats: spec.repeats,
    engine_ms: median(engineRuns),
    engine_ms_per_image: median(engineRuns) / spec.n,
    translations_per_s: (1000 * spec.n) / median(engineRuns),
    first_translation_ms: firstMs,
    precision: engine.precision,
    maxAbsErr: engineErr,
    tolerance: TOLERANCES[engine.precision],
    ok: engineErr <= TOLERANCES[engine.precision],
    peers: peersOut,
    peer_details: peerDetails,
    speedup_vs_best_peer: peers.length ? median(ratios.get("best")!) : null,
    conv_kernel: convKernel,
    gpu_ms: kernels && kernels.reduce((a, k) => a + k.ms, 0),
    stages_ms: stages,
    decoder_5x5_gflops: dec5.length
      ? dec5.reduce((a, k) => a + convFlops(k.shape!), 0) /
        (dec5.reduce((a, k) => a + k.ms, 0) * 1e6)
      : null,
    decoder_5x5_executed_gflops: dec5.length
      ? dec5.reduce((a, k) => a + executedFlops(k.shape!), 0) /
        (dec5.reduce((a, k) => a + k.ms, 0) * 1e6)
      : null,
    kernels,
    ...(kernelsSkipped ? { kernels_skipped: kernelsSkipped, stages_wall_ms: stagesWall } : {}),
    gpu_memory_bytes: {
      weights: weightGpuBytes,
      activations: activationBytes,
      total: weightGpuBytes + activationBytes,
    },
  };
}

type CaseResult = Awaited<ReturnType<typeof runCase>>;

async function makePeers(
  model: ModelSpec,
  weights: () => GeneratorWeights,
): Promise<{ peers: Peer[]; skips: Map<string, string>; load_ms: Record<string, number> }> {
  const peers: Peer[] = [];
  const skips = new Map<string, string>();
  const loadMs: Record<string, number> = {};
  if (opts["no-peers"]) {
    for (const name of ["ort-web-webgpu", "tfjs-webgpu"]) skips.set(name, "skipped: --no-peers");
    return { peers, skips, load_ms: loadMs };
  }
  const attempt = async (name: string, make: () => Promise<Peer>) => {
    const t = performance.now();
    try {
      peers.push(await make());
      loadMs[name] = performance.now() - t;
    } catch (e) {
      const message = (e as Error).message.split("\n")[0]!;
      const hint = /asyncify/.test(message)
        ? " (a bundled bench needs --ort-dist: onnxruntime-web's dist/ folder)"
        : "";
      skips.set(name, `skipped: ${message}${hint}`);
    }
  };
  if (model.onnx && existsSync(model.onnx)) {
    await attempt("ort-web-webgpu", () =>
      createOrtPeer(new Uint8Array(readFileSync(model.onnx!)), { wasmDir: opts["ort-dist"] }),
    );
  } else {
    skips.set(
      "ort-web-webgpu",
      `skipped: no ${model.onnx ?? "ONNX model"}${model.name === "animals128" ? " (run bench/make-animals.sh)" : ""}`,
    );
  }
  await attempt("tfjs-webgpu", () => createTfjsPeer(weights()));
  return { peers, skips, load_ms: loadMs };
}

// ------------------------------------------------------------------ report

const fmt = (x: number | null | undefined, digits = 1) =>
  x === null || x === undefined ? "—" : x.toFixed(digits);
const exp = (x: number | undefined) =>
  x === undefined ? "—" : Number.isNaN(x) ? "NaN" : x.toExponential(1);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "),
    )
    .join("\n");
}

function printText(result: {
  adapter: AdapterSummary | undefined;
  machine: Record<string, unknown>;
  cases: CaseResult[];
  skipped: { id: string; reason: string }[];
  peers_load_ms: Record<string, Record<string, number>>;
}) {
  const a = result.adapter;
  console.log(
    `adapter: ${a?.description || a?.device} (${a?.vendor}, ${a?.architecture}); ${result.machine.cpu}, ${result.machine.cores} cores; node ${result.machine.node}`,
  );
  const peerNames = [...new Set(result.cases.flatMap((c) => Object.keys(c.peers)))];
  console.log(
    `\nEnd to end (upload, run, readback), median ms of paired runs; errors are max |x − PyTorch| (tolerance ${TOLERANCES.f32} for f32, ${TOLERANCES.f16} for the engine in f16):\n`,
  );
  const rows = [
    [
      "case",
      "engine ms",
      "load→first ms",
      "max err",
      ...peerNames.flatMap((p) => [`${p} ms`, "max err"]),
      "× vs best peer",
    ],
  ];
  for (const c of result.cases) {
    rows.push([
      `${c.model} K=${c.k} N=${c.n}`,
      fmt(c.engine_ms),
      fmt(c.first_translation_ms, 0),
      `${exp(c.maxAbsErr)} ${c.precision} ${c.ok ? "ok" : "FAIL"}`,
      ...peerNames.flatMap((p) => {
        const d = c.peer_details[p];
        return d?.ms === null || !d
          ? ["skipped", ""]
          : [fmt(d.ms), `${exp(d.maxAbsErr)} ${d.ok ? "ok" : "off"}`];
      }),
      c.speedup_vs_best_peer === null ? "—" : `${c.speedup_vs_best_peer.toFixed(2)}×`,
    ]);
  }
  console.log(table(rows));
  for (const c of result.cases)
    for (const [p, d] of Object.entries(c.peer_details))
      if (d.skipped) console.log(`  ${c.id} ${p}: ${d.skipped}`);
  for (const s of result.skipped) console.log(`  ${s.id}: ${s.reason}`);
  for (const [model, ms] of Object.entries(result.peers_load_ms)) {
    if (Object.keys(ms).length)
      console.log(
        `  ${model} peer load: ${Object.entries(ms)
          .map(([p, v]) => `${p} ${v.toFixed(0)} ms`)
          .join(", ")}`,
      );
  }
  for (const c of result.cases) {
    console.log(
      `\n${c.id}: engine time per stage (${c.kernels ? "GPU, timestamp queries" : "wall"}, median of 3), conv kernel '${c.conv_kernel}'; GPU memory ${(c.gpu_memory_bytes.total / 2 ** 20).toFixed(1)} MiB (weights ${(c.gpu_memory_bytes.weights / 2 ** 20).toFixed(1)}, activations ${(c.gpu_memory_bytes.activations / 2 ** 20).toFixed(1)})`,
    );
    if (!c.kernels || !c.stages_ms) {
      console.log(
        `  per-kernel GPU times: none (${c.kernels_skipped}); wall time, end to end: ${Object.entries(
          c.stages_wall_ms ?? {},
        )
          .map(([s, ms]) => `${s} ${ms.toFixed(1)} ms`)
          .join(", ")}`,
      );
      continue;
    }
    console.log(
      `  ${Object.entries(c.stages_ms)
        .map(([s, ms]) => `${s} ${ms.toFixed(1)} ms`)
        .join(
          ", ",
        )}; all dispatches ${fmt(c.gpu_ms)} ms; decoder 5×5 convs ${fmt(c.decoder_5x5_gflops)} GFLOP/s (${fmt(c.decoder_5x5_executed_gflops)} of arithmetic executed)`,
    );
    const krows = [["dispatch", "ms", "GFLOP/s", "executed"]];
    for (const k of c.kernels)
      krows.push([
        `  ${k.label}`,
        k.ms.toFixed(2),
        k.gflops === undefined ? "" : k.gflops.toFixed(1),
        k.executed_gflops === undefined ? "" : k.executed_gflops.toFixed(1),
      ]);
    console.log(table(krows));
  }
}

// ------------------------------------------------------------------ main

async function writeAnimals(): Promise<void> {
  // For bench/make-animals.sh: the weights and inputs PyTorch turns into an ONNX model and references.
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

async function main(): Promise<number> {
  if (opts["write-animals"]) {
    await writeAnimals();
    return 0;
  }
  // An `await` on a Dawn promise while nothing else keeps Node's event loop busy can stall behind
  // onnxruntime-web's background WASM compilation; the interval above keeps the loop turning.
  const probe = await getNodeDevice();
  const adapter = summariseAdapter(
    (probe as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo,
  );
  const features = [...probe.features].sort();
  const cpuAdapter = isCpuAdapter(
    (probe as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo,
  );
  probe.destroy();

  const cases: CaseResult[] = [];
  const skipped: { id: string; reason: string }[] = [];
  const peersLoad: Record<string, Record<string, number>> = {};
  const peerAdapters: Record<string, AdapterSummary | undefined> = {};
  for (const model of models(cpuAdapter)) {
    const runnable = model.cases.filter((c) => !c.skipped);
    for (const c of model.cases) if (c.skipped) skipped.push({ id: c.id, reason: c.skipped });
    if (!runnable.length) continue;
    const bytes = model.weights();
    const loaded: Loaded[] = [];
    for (const spec of runnable) loaded.push(await coldStart(spec, bytes));
    const { peers, skips, load_ms } = await makePeers(model, () => readGeneratorWeights(bytes));
    peersLoad[model.name] = load_ms;
    for (const p of peers) peerAdapters[p.name] = p.adapter();
    for (const l of loaded) {
      if (!opts.json) console.error(`bench: ${l.spec.id} (${l.spec.repeats} paired runs)…`);
      cases.push(await runCase(l, peers, skips));
    }
    for (const p of peers) await p.destroy();
  }

  const result = {
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
  if (opts.json) console.log(JSON.stringify(result));
  else {
    printText(result);
    for (const e of errors) console.log(`WebGPU error: ${e}`);
    console.log(
      `\noutput check: ${result.ok ? "ok" : "FAILED"} (every engine output within its precision's tolerance of PyTorch${errors.length ? ", and no WebGPU error" : ""})`,
    );
  }
  return result.ok ? 0 : 1;
}

const status = await main().catch((e: unknown) => {
  console.error(`bench: ${(e as Error).stack ?? e}`);
  return 1;
});
clearInterval(keepAlive);
process.exit(status);
