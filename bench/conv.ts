/**
 * `npm run bench:conv`: GFLOP/s of the convolution kernels (tiled, direct, subgroup; pick some with
 * `--kernels=direct,subgroup`) on every distinct convolution of the shipped Hangul model
 * (weights/hangul64-f16.safetensors, widened to f32), as the model's own graph builds them: the
 * content encoder and decoder at batch 8 (a demo row) and the class encoder at K = 5. Each
 * variant's layers come from src/model.ts's generatorGraph under src/policy.ts's chooseKernels for
 * that kernel (the engine's tile limits, phase filters on the CPU kernels), so the bench runs what
 * the engine runs. Each dispatch is checked against the plain TypeScript reference on its first
 * image before it is timed, so a fast wrong kernel cannot pass. Medians of interleaved repeats
 * (`--repeats=N`, default 7); `--json` prints one JSON object. On the subgroup path a 3×3 layer is
 * the three Winograd dispatches (src/ops/winograd.ts) and an upsampling 5×5 layer those plus its
 * ring's (FRAME_ONLY), timed together, the GFLOP/s counted as the direct convolution's arithmetic;
 * "subgroup-no-winograd" runs those layers on conv2d_subgroup alone.
 */
import { readFileSync } from "node:fs";
import { generatorGraph } from "../src/model";
import { getNodeDevice } from "../src/node/gpu";
import { chooseKernels, type ConvKernel, type KernelChoice } from "../src/policy";
import {
  compile,
  Graph,
  isTensorDesc,
  type OpDesc,
  type Plan,
  type TensorDesc,
} from "../src/runtime/graph";
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
// "subgroup-no-winograd": the 3×3, stride-2 4×4 and upsampling 5×5 layers without Winograd weights.
const allVariants = [
  "tiled",
  "direct",
  "subgroup",
  "subgroup-plain",
  "subgroup-no-winograd",
] as const;
type Variant = (typeof allVariants)[number];
const variants = kernelArg
  ? allVariants.filter((v) => kernelArg.split(",").includes(v))
  : allVariants;
if (!variants.length) throw new Error(`--kernels: expected some of ${allVariants.join(",")}`);

/** The engine's choice for a variant, in f32 (the f16 path has only the tiled kernel). */
function kernelsFor(variant: Variant): KernelChoice {
  const conv: ConvKernel = variant.startsWith("subgroup") ? "subgroup" : (variant as ConvKernel);
  const kernels = chooseKernels(device, { conv, precision: "f32" });
  if (variant === "subgroup-plain") return { ...kernels, phaseWeights: false };
  if (variant === "subgroup-no-winograd") return { ...kernels, winogradWeights: false };
  return kernels;
}

/** The layer ops convolve with: the one whose (phase, Winograd or plain) weights one binds. */
function layerOf(gen: GpuGenerator, ops: OpDesc[]): string {
  for (const op of ops)
    for (const [name, l] of gen.layers) {
      const w = op.bindings.weight;
      if (
        w &&
        [
          l.weight,
          l.up2Weight,
          l.winogradWeight,
          l.winogradUp2Weight,
          l.winogradStride2Weight,
        ].some((lw) => lw === w)
      )
        return name;
    }
  throw new Error(`${ops[0]!.label}: binds no layer's weights`);
}

/**
 * The model's distinct convolutions (the residual blocks repeat theirs), each as its dispatches:
 * one, or the three of a Winograd convolution (and the frame's of an upsampling one).
 */
function modelConvs(gen: GpuGenerator, kernels: KernelChoice): OpDesc[][] {
  const batch = (n: number) => ({ n, h: size, w: size, format: "f32" as const });
  const { graph } = generatorGraph(gen, kernels, {
    content: batch(CONTENT_BATCH),
    classImages: batch(CLASS_IMAGES),
    outputFormat: "f32",
    readback: [],
  });
  const seen = new Set<string>();
  const convs: OpDesc[][] = [];
  graph.ops.forEach((op, i) => {
    if (op.overrides.FRAME_ONLY === true) return; // with the Winograd dispatches before it
    const ops = op.kernel === "winograd_input" ? graph.ops.slice(i, i + 3) : [op];
    if (graph.ops[i + 3]?.overrides.FRAME_ONLY === true) ops.push(graph.ops[i + 3]!);
    if (!op.kernel.startsWith("conv2d") && op.kernel !== "winograd_input") return;
    const key = JSON.stringify(ops.map((o) => [o.kernel, o.overrides, o.params]));
    if (seen.has(key)) return;
    seen.add(key);
    convs.push(ops);
  });
  return convs;
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

/** One convolution's dispatches of the model's graph in a graph of their own, checked on image 0. */
async function prepare(variant: Variant, gen: GpuGenerator, ops: OpDesc[]): Promise<Prepared> {
  const op = ops[0]!;
  const last = ops[ops.length - 1]!;
  const g = new Graph();
  const x = g.tensor("x", (op.bindings.input as TensorDesc).shape);
  const y = g.tensor("y", (last.bindings.output as TensorDesc).shape);
  // the model's tensors, renamed into this graph (x, y and a Winograd convolution's V and M)
  const own = new Map<number, TensorDesc>([
    [(op.bindings.input as TensorDesc).id, x],
    [(last.bindings.output as TensorDesc).id, y],
  ]);
  for (const o of ops) {
    const bindings = Object.fromEntries(
      Object.entries(o.bindings).map(([name, b]) => {
        if (!isTensorDesc(b)) return [name, b];
        if (!own.has(b.id)) own.set(b.id, g.tensor(b.label, b.shape));
        return [name, own.get(b.id)!];
      }),
    );
    g.op({ ...o, bindings });
  }
  const p = op.params as Record<string, number>;
  const o = op.overrides as Record<string, number>;
  const winograd = op.kernel === "winograd_input";
  const up2 = winograd && op.overrides.PAD === 0;
  // a stride-2 4×4 layer's GEMM runs over the input's 4·cin phases on its (h/2)×(w/2) grid
  const s2 = winograd && op.overrides.POLYPHASE === true;
  const c = winograd
    ? {
        n: p.batch!,
        cin: s2 ? p.cin! / 4 : p.cin!,
        h: s2 ? 2 * p.height! : p.height!,
        w: s2 ? 2 * p.width! : p.width!,
        cout: (last.bindings.output as TensorDesc).shape[1]!,
        k: up2 ? 5 : s2 ? 4 : 3,
        stride: s2 ? 2 : 1,
        pad: up2 ? 2 : 1,
        upsample: up2 ? (2 as const) : (1 as const),
        act: ACTS[ops[2]!.overrides.ACT as number]!,
      }
    : {
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
  const [oh, ow] = (last.bindings.output as TensorDesc).shape.slice(2) as [number, number];
  const layer = layerOf(gen, ops);
  const winogradLabel = `${layer} conv${c.k}x${c.k}${up2 ? " up2" : s2 ? " s2" : ""} winograd`;
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
    name: `${winograd ? winogradLabel : op.label} ${c.cin}->${c.cout} ${c.h}x${c.w}`,
    variant,
    batch: c.n,
    plan,
    flops: 2 * c.n * oh * ow * c.cout * c.cin * c.k * c.k,
    err: maxRelError(got.subarray(0, want.length), want),
    times: [],
  };
}

const prepared: Prepared[] = [];
for (const variant of variants) {
  const kernels = kernelsFor(variant);
  const gen = uploadGenerator(device, weights.hyper, weights.tensors, `bench:${variant}`, kernels);
  for (const ops of modelConvs(gen, kernels)) {
    if (variant === "subgroup-plain" && ops[0]!.overrides.UPSAMPLE !== 2) continue;
    const { KSIZE, UPSAMPLE } = ops[0]!.overrides;
    const winogradShape = KSIZE === 3 || KSIZE === 4 || UPSAMPLE === 2;
    if (variant === "subgroup-no-winograd" && !winogradShape) continue;
    prepared.push(await prepare(variant, gen, ops));
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
