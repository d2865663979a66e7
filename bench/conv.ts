/**
 * `npm run bench:conv`: GFLOP/s of the convolution kernels (tiled, direct, subgroup; pick some with
 * `--kernels=direct,subgroup`) on the Hangul model's convolution shapes: the content encoder and
 * decoder at batch 8 (a demo row) and the class encoder at K = 5. Each is checked against the plain
 * TypeScript reference on its first image before it is timed, so a fast wrong kernel cannot pass.
 * Medians of interleaved repeats (`--repeats=N`, default 7); `--json` prints one JSON object.
 */
import { Graph, compile, encodePlan } from "../src/runtime/graph";
import { conv, uploadLayer } from "../src/model";
import { getNodeDevice } from "../src/node/gpu";
import { maxRelError } from "../src/tensor";
import { conv2dRef, randomArray, rng } from "../test/helpers/reference";

const json = process.argv.includes("--json");
const repeats = Number(process.argv.find((a) => a.startsWith("--repeats="))?.split("=")[1] ?? 7);
const kernelArg = process.argv.find((a) => a.startsWith("--kernels="))?.split("=")[1];
const device = await getNodeDevice();
const dummy = device.createBuffer({
  label: "bench:dummy",
  size: 16,
  usage: GPUBufferUsage.STORAGE,
});
const cases = [
  {
    name: "content 7x7 3->32 64x64",
    n: 8,
    cin: 3,
    h: 64,
    w: 64,
    cout: 32,
    k: 7,
    stride: 1,
    pad: 3,
    up: 1 as const,
  },
  {
    name: "content 4x4 s2 32->64 64x64",
    n: 8,
    cin: 32,
    h: 64,
    w: 64,
    cout: 64,
    k: 4,
    stride: 2,
    pad: 1,
    up: 1 as const,
  },
  {
    name: "res 3x3 128->128 16x16",
    n: 8,
    cin: 128,
    h: 16,
    w: 16,
    cout: 128,
    k: 3,
    stride: 1,
    pad: 1,
    up: 1 as const,
  },
  {
    name: "decoder 5x5 up2 128->64 16x16",
    n: 8,
    cin: 128,
    h: 16,
    w: 16,
    cout: 64,
    k: 5,
    stride: 1,
    pad: 2,
    up: 2 as const,
  },
  {
    name: "decoder 5x5 up2 64->32 32x32",
    n: 8,
    cin: 64,
    h: 32,
    w: 32,
    cout: 32,
    k: 5,
    stride: 1,
    pad: 2,
    up: 2 as const,
  },
  {
    name: "decoder 7x7 32->3 64x64",
    n: 8,
    cin: 32,
    h: 64,
    w: 64,
    cout: 3,
    k: 7,
    stride: 1,
    pad: 3,
    up: 1 as const,
  },
  {
    name: "class 7x7 3->32 64x64 K5",
    n: 5,
    cin: 3,
    h: 64,
    w: 64,
    cout: 32,
    k: 7,
    stride: 1,
    pad: 3,
    up: 1 as const,
  },
  {
    name: "class 4x4 s2 64->128 32x32 K5",
    n: 5,
    cin: 64,
    h: 32,
    w: 32,
    cout: 128,
    k: 4,
    stride: 2,
    pad: 1,
    up: 1 as const,
  },
  {
    name: "class 4x4 s2 128->128 16x16 K5",
    n: 5,
    cin: 128,
    h: 16,
    w: 16,
    cout: 128,
    k: 4,
    stride: 2,
    pad: 1,
    up: 1 as const,
  },
];

// "subgroup-plain": conv2d_subgroup on the upsampling 5×5 layers without their phase filters, i.e.
// all 25 taps everywhere: the kernel's own speed on these shapes, without the 9-of-25 shortcut.
const allVariants = ["tiled", "direct", "subgroup", "subgroup-plain"] as const;
const variants = kernelArg
  ? allVariants.filter((v) => kernelArg.split(",").includes(v))
  : allVariants;
if (!variants.length) throw new Error(`--kernels: expected some of ${allVariants.join(",")}`);
const prepared = [];
for (const variant of variants)
  for (const c of cases) {
    if (variant === "subgroup-plain" && c.up !== 2) continue;
    const rand = rng(c.cin * 7 + c.cout);
    const x = randomArray(c.n * c.cin * c.h * c.w, rand);
    const weight = randomArray(c.cout * c.cin * c.k * c.k, rand, 1 / Math.sqrt(c.cin * c.k * c.k));
    const bias = randomArray(c.cout, rand);
    const uploaded = uploadLayer(
      device,
      c.name,
      "conv",
      [c.cout, c.cin, c.k, c.k],
      weight,
      bias,
      "bench",
    );
    const layer = variant === "subgroup-plain" ? { ...uploaded, up2Weight: undefined } : uploaded;
    const g = new Graph({
      conv: variant === "subgroup-plain" ? "subgroup" : variant,
      normThreads: 8,
    });
    const input = g.tensor("x", [c.n, c.cin, c.h, c.w]);
    const out = conv(g, input, layer, { stride: c.stride, pad: c.pad, upsample: c.up });
    const plan = await compile(
      device,
      g,
      { inputs: new Set([input.id]), outputs: new Set([out.id]) },
      `bench:${c.name}`,
      dummy,
    );
    device.queue.writeBuffer(plan.bufferOf.get(input.id)!, 0, x.buffer, x.byteOffset, x.byteLength);
    // correctness: image 0 against the reference
    const staging = device.createBuffer({
      label: "bench:readback",
      size: out.elements * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const enc = device.createCommandEncoder({ label: "bench:check" });
    encodePlan(enc, plan, "bench:check");
    enc.copyBufferToBuffer(plan.bufferOf.get(out.id)!, 0, staging, 0, out.elements * 4);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const got = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    const plane = c.cin * c.h * c.w;
    const want = conv2dRef(
      { ...c, n: 1, upsample: c.up, act: "none" },
      x.subarray(0, plane),
      weight,
      bias,
    ).out;
    const err = maxRelError(got.subarray(0, want.length), want);
    const flops = 2 * c.n * out.shape[2]! * out.shape[3]! * c.cout * c.cin * c.k * c.k;
    prepared.push({ c, variant, plan, flops, err, times: [] as number[] });
  }
for (let r = 0; r < repeats; r++) {
  for (const p of prepared) {
    const enc = device.createCommandEncoder({ label: "bench:run" });
    encodePlan(enc, p.plan, "bench:run");
    const t = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    p.times.push(performance.now() - t);
  }
}
const rows = prepared.map((p) => {
  const ms = [...p.times].sort((a, b) => a - b)[Math.floor(repeats / 2)]!;
  return {
    name: p.c.name,
    kernel: p.variant,
    batch: p.c.n,
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
      `${r.kernel.padEnd(14)} ${r.name.padEnd(32)} n=${r.batch} ${r.ms.toFixed(1).padStart(8)} ms ${r.gflops.toFixed(2).padStart(6)} GFLOP/s  err ${r.relErr.toExponential(1)} ${r.ok ? "ok" : "WRONG"}`,
    );
device.destroy();
process.exit(rows.every((r) => r.ok) ? 0 : 1);
