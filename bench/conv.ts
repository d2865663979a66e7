/**
 * `npm run bench:conv`: GFLOP/s of the convolution kernels (tiled, direct, subgroup; pick some with
 * `--kernels=direct,subgroup`) on every distinct convolution of the shipped Hangul model
 * (weights/hangul64-f16.safetensors, widened to f32), as the model's own graph builds them: the
 * content encoder and decoder at batch 8 (a demo row) and the class encoder at K = 5. Each
 * variant's layers come from src/model.ts's generatorGraph under src/policy.ts's chooseKernels for
 * that kernel (the engine's tile limits, phase filters on the CPU kernels), so the bench runs what
 * the engine runs. Each dispatch is checked against the plain TypeScript reference on its first
 * image before it is timed, so a fast wrong kernel cannot pass. Medians of interleaved repeats
 * (`--repeats=N`, default 7); `--json` prints one JSON object.
 */
import { readFileSync } from "node:fs";
import { generatorGraph } from "../src/model";
import { getNodeDevice } from "../src/node/gpu";
import { chooseKernels, type ConvKernel, type KernelChoice } from "../src/policy";
import { compile, Graph, type OpDesc, type Plan, type TensorDesc } from "../src/runtime/graph";
import { encodePlan, runPlanOnce } from "../src/runtime/run";
import { maxRelError } from "../src/tensor";
import { uploadGenerator, type GpuGenerator } from "../src/upload";
import { readGeneratorWeights } from "../src/weights";
import { conv2dRef, randomArray, rng } from "../test/helpers/reference";

const WEIGHTS = "weights/hangul64-f16.safetensors";
const CONTENT_BATCH = 8;
const CLASS_IMAGES = 5;
const ACTS = ["none", "relu", "tanh"] as const;

const json = process.argv.includes("--json");
const repeats = Number(process.argv.find((a) => a.startsWith("--repeats="))?.split("=")[1] ?? 7);
const kernelArg = process.argv.find((a) => a.startsWith("--kernels="))?.split("=")[1];
const device = await getNodeDevice();
const weights = readGeneratorWeights(new Uint8Array(readFileSync(WEIGHTS)));
const size = Number(JSON.parse(readFileSync("weights/hangul64.model.json", "utf8")).image_size);

// "subgroup-plain": conv2d_subgroup on the upsampling 5×5 layers without their phase filters, i.e.
// all 25 taps everywhere: the kernel's own speed on these shapes, without the 9-of-25 shortcut.
const allVariants = ["tiled", "direct", "subgroup", "subgroup-plain"] as const;
type Variant = (typeof allVariants)[number];
const variants = kernelArg
  ? allVariants.filter((v) => kernelArg.split(",").includes(v))
  : allVariants;
if (!variants.length) throw new Error(`--kernels: expected some of ${allVariants.join(",")}`);

/** The engine's choice for a variant, in f32 (the f16 path has only the tiled kernel). */
function kernelsFor(variant: Variant): KernelChoice {
  const conv: ConvKernel = variant === "subgroup-plain" ? "subgroup" : variant;
  const kernels = chooseKernels(device, { conv, precision: "f32" });
  return variant === "subgroup-plain" ? { ...kernels, phaseWeights: false } : kernels;
}

/** The layer an op convolves with: the one whose (phase or plain) weight buffer it binds. */
function layerOf(gen: GpuGenerator, op: OpDesc): string {
  for (const [name, l] of gen.layers)
    if (op.bindings.weight === l.weight || op.bindings.weight === l.up2Weight) return name;
  throw new Error(`${op.label}: binds no layer's weights`);
}

/** The model's distinct convolution dispatches (the residual blocks repeat theirs). */
function modelConvs(gen: GpuGenerator, kernels: KernelChoice): OpDesc[] {
  const batch = (n: number) => ({ n, h: size, w: size, format: "f32" as const });
  const { graph } = generatorGraph(gen, kernels, {
    content: batch(CONTENT_BATCH),
    classImages: batch(CLASS_IMAGES),
    outputFormat: "f32",
    readback: [],
  });
  const seen = new Set<string>();
  return graph.ops.filter((op) => {
    if (!op.kernel.startsWith("conv2d")) return false;
    const key = JSON.stringify([op.kernel, op.overrides, op.params]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

interface Prepared {
  name: string;
  variant: Variant;
  batch: number;
  plan: Plan;
  flops: number;
  err: number;
  times: number[];
}

/** One dispatch of the model's graph in a graph of its own, checked on its first image. */
async function prepare(variant: Variant, gen: GpuGenerator, op: OpDesc): Promise<Prepared> {
  const input = op.bindings.input as TensorDesc;
  const output = op.bindings.output as TensorDesc;
  const g = new Graph();
  const x = g.tensor("x", input.shape);
  const y = g.tensor("y", output.shape);
  g.op({ ...op, bindings: { ...op.bindings, input: x, output: y } });
  const p = op.params as Record<string, number>;
  const o = op.overrides as Record<string, number>;
  const c = {
    n: p.batch!,
    cin: p.cin!,
    h: p.in_h!,
    w: p.in_w!,
    cout: p.cout!,
    k: o.KSIZE!,
    stride: o.STRIDE!,
    pad: p.pad!,
    upsample: o.UPSAMPLE as 1 | 2,
    act: ACTS[o.ACT!]!,
  };
  const layer = layerOf(gen, op);
  const xs = randomArray(c.n * c.cin * c.h * c.w, rng(c.cin * 7 + c.cout));
  const plan = await compile(
    device,
    g,
    { inputs: new Set([x.id]), outputs: new Set([y.id]) },
    `bench:${variant}:${op.label}`,
  );
  const [bytes] = await runPlanOnce(device, plan, [[x, xs]], [y]);
  const want = conv2dRef(
    { ...c, n: 1 },
    xs.subarray(0, c.cin * c.h * c.w),
    weights.tensors.get(`${layer}.weight`)!,
    weights.tensors.get(`${layer}.bias`)!,
  ).out;
  const got = new Float32Array(bytes!);
  return {
    name: `${op.label} ${c.cin}->${c.cout} ${c.h}x${c.w}`,
    variant,
    batch: c.n,
    plan,
    flops: 2 * c.n * p.out_h! * p.out_w! * c.cout * c.cin * c.k * c.k,
    err: maxRelError(got.subarray(0, want.length), want),
    times: [],
  };
}

const prepared: Prepared[] = [];
for (const variant of variants) {
  const kernels = kernelsFor(variant);
  const gen = uploadGenerator(device, weights.hyper, weights.tensors, `bench:${variant}`, kernels);
  for (const op of modelConvs(gen, kernels)) {
    if (variant === "subgroup-plain" && op.overrides.UPSAMPLE !== 2) continue;
    prepared.push(await prepare(variant, gen, op));
  }
}
for (let r = 0; r < repeats; r++) {
  for (const p of prepared) {
    const enc = device.createCommandEncoder({ label: "bench:run" });
    encodePlan(enc, p.plan);
    const t = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    p.times.push(performance.now() - t);
  }
}
const rows = prepared.map((p) => {
  const ms = [...p.times].sort((a, b) => a - b)[Math.floor(repeats / 2)]!;
  return {
    name: p.name,
    kernel: p.variant,
    batch: p.batch,
    ms,
    gflops: p.flops / ms / 1e6,
    gflop: p.flops / 1e9,
    relErr: p.err,
    ok: p.err <= 1e-4,
  };
});
if (json) console.log(JSON.stringify({ cases: rows }));
else
  for (const r of rows)
    console.log(
      `${r.kernel.padEnd(14)} ${r.name.padEnd(52)} n=${r.batch} ${r.ms.toFixed(1).padStart(8)} ms ` +
        `${r.gflops.toFixed(2).padStart(6)} GFLOP/s  err ${r.relErr.toExponential(1)} ` +
        `${r.ok ? "ok" : "WRONG"}`,
    );
device.destroy();
process.exit(rows.every((r) => r.ok) ? 0 : 1);
