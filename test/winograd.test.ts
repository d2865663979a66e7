/**
 * The Winograd F(4×4, 3×3) convolution of the subgroup path (src/ops/winograd.ts): the weight
 * transform against G g G^T by plain matrix products; the matrices B^T, G, A^T together, as a CPU
 * Winograd convolution, against the direct reference conv2dRef; the three kernels chained (built by
 * src/ops/conv.ts from a layer uploaded with winogradWeights) against conv2dRef on seeded random
 * shapes (sizes not multiples of 4, batches 1…3, channels 4…32 → 8…24, every activation, biases);
 * and the routing: a KernelChoice asking for Winograd weights builds the three dispatches for 3×3
 * stride-1 layers, one without builds none. The stride-2 4×4 convolutions by phases: the phase
 * filters (stride2PhaseFilters) as plain CPU 2×2 convolutions over the clamped phase grid
 * against conv2dRef, BT2, G2, AT2 as a 2×2 correlation, the weight transform against G2 g G2^T by
 * matrix products, the kernels chained against conv2dRef (even sizes 2…16, batches 1…3,
 * channels 4…32 → 8…24, none/ReLU, biases), and their routing (odd sizes and unfit channels stay
 * on the direct kernel). Tolerance: |gpu − ref| ≤ 1e-4 · (1 + |ref|), as for the
 * other convolutions (F(4, 3) in f32 loses about a decimal digit to the direct sum; the largest
 * error measured is logged).
 */
import { describe, expect, it } from "vitest";
import { Graph } from "../src/runtime/graph";
import { conv } from "../src/ops/conv";
import {
  AT,
  AT2,
  BT,
  BT2,
  G,
  G2,
  stride2PhaseFilters,
  winogradStride2Weights,
  winogradWeights,
} from "../src/ops/winograd";
import { chooseKernels, subgroupConvSupported, type KernelChoice } from "../src/policy";
import { InputError } from "../src/errors";
import { checkCallFits, winogradIntermediateBytes, type FunitDeviceLimits } from "../src/limits";
import { expectedTensors, type FunitHyper } from "../src/hyper";
import { generatorGraph } from "../src/model";
import { uploadGenerator, uploadLayer, type GpuGenerator } from "../src/upload";
import { maxRelError } from "../src/tensor";
import { sharedDevice, withDevice } from "./helpers/gpu";
import { runGraph } from "./helpers/run-graph";
import { conv2dRef, randomArray, reflect, rng, type ConvCase } from "./helpers/reference";

const TOL = 1e-4;

function matmul(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number[][] {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
}
const transpose = (a: readonly (readonly number[])[]) => a[0]!.map((_, j) => a.map((r) => r[j]!));

const pick = rng(4343);
const cases: ConvCase[] = [
  { n: 1, cin: 4, h: 2, w: 2, cout: 8, k: 3, stride: 1, pad: 1, upsample: 1, act: "none" }, // smallest
  { n: 2, cin: 8, h: 16, w: 16, cout: 16, k: 3, stride: 1, pad: 1, upsample: 1, act: "relu" }, // whole tiles
];
for (let i = 0; i < 4; i++) {
  cases.push({
    n: 1 + Math.floor(pick() * 3),
    cin: 4 * (1 + Math.floor(pick() * 8)),
    cout: 8 * (1 + Math.floor(pick() * 3)),
    h: 2 + Math.floor(pick() * 14),
    w: 2 + Math.floor(pick() * 14),
    k: 3,
    stride: 1,
    pad: 1,
    upsample: 1,
    act: (["none", "relu", "tanh"] as const)[i % 3]!,
  });
}

// The decoder's ×2-upsampling 5×5 convolutions: by Winograd phase filters over the stored input
// with its edge repeated, the outer ring of pixels by the direct kernel. The smallest stored input
// (3×3), odd and non-square sizes, batches, every activation.
const up2Cases: ConvCase[] = [
  { n: 1, cin: 4, h: 3, w: 3, cout: 2, k: 5, stride: 1, pad: 2, upsample: 2, act: "none" },
  { n: 2, cin: 8, h: 7, w: 10, cout: 6, k: 5, stride: 1, pad: 2, upsample: 2, act: "relu" },
  { n: 3, cin: 12, h: 9, w: 5, cout: 8, k: 5, stride: 1, pad: 2, upsample: 2, act: "tanh" },
  { n: 1, cin: 32, h: 16, w: 13, cout: 16, k: 5, stride: 1, pad: 2, upsample: 2, act: "none" },
];

// The encoders' stride-2 4×4 reflect-pad-1 convolutions: even sizes (2: a 1×1 phase grid, whose
// padding clamps onto the same pixel from both sides), batches, channels, none/ReLU, biases.
const stride2Cases: ConvCase[] = [
  { n: 1, cin: 4, h: 2, w: 2, cout: 8, k: 4, stride: 2, pad: 1, upsample: 1, act: "none" },
  { n: 2, cin: 8, h: 16, w: 16, cout: 16, k: 4, stride: 2, pad: 1, upsample: 1, act: "relu" },
  { n: 3, cin: 12, h: 6, w: 10, cout: 24, k: 4, stride: 2, pad: 1, upsample: 1, act: "none" },
  { n: 1, cin: 32, h: 10, w: 6, cout: 8, k: 4, stride: 2, pad: 1, upsample: 1, act: "relu" },
];
for (let i = 0; i < 3; i++) {
  stride2Cases.push({
    n: 1 + Math.floor(pick() * 3),
    cin: 4 * (1 + Math.floor(pick() * 8)),
    cout: 8 * (1 + Math.floor(pick() * 3)),
    h: 2 * (1 + Math.floor(pick() * 8)),
    w: 2 * (1 + Math.floor(pick() * 8)),
    k: 4,
    stride: 2,
    pad: 1,
    upsample: 1,
    act: (["none", "relu"] as const)[i % 2]!,
  });
}

function inputs(c: ConvCase) {
  const rand = rng(c.n * 1000 + c.cin * 31 + c.cout * 7 + c.h * 3 + c.w);
  const x = randomArray(c.n * c.cin * c.h * c.w, rand);
  const weight = randomArray(c.cout * c.cin * c.k * c.k, rand, 1 / Math.sqrt(c.cin * c.k * c.k));
  const bias = randomArray(c.cout, rand, 0.5);
  return { x, weight, bias, want: conv2dRef(c, x, weight, bias) };
}

/** A CPU Winograd convolution (f64) with B^T, A^T and the uploaded U, tile by tile. */
function winogradRef(c: ConvCase, x: Float32Array, u: Float32Array, bias: Float32Array) {
  const out = new Float32Array(c.n * c.cout * c.h * c.w);
  const B = transpose(BT);
  for (let n = 0; n < c.n; n++)
    for (let ty = 0; ty < c.h; ty += 4)
      for (let tx = 0; tx < c.w; tx += 4) {
        const v = Array.from({ length: c.cin }, (_, ci) => {
          const d = Array.from({ length: 6 }, (_, r) =>
            Array.from({ length: 6 }, (_, s) => {
              const y = Math.min(reflect(ty + r - 1, c.h), c.h - 1);
              const xx = Math.min(reflect(tx + s - 1, c.w), c.w - 1);
              return x[((n * c.cin + ci) * c.h + Math.max(y, 0)) * c.w + Math.max(xx, 0)]!;
            }),
          );
          return matmul(matmul(BT, d), B);
        });
        for (let o = 0; o < c.cout; o++) {
          const m = Array.from({ length: 6 }, (_, r) =>
            Array.from({ length: 6 }, (_, s) =>
              v.reduce(
                (a, vc, ci) => a + u[((r * 6 + s) * c.cin + ci) * c.cout + o]! * vc[r]![s]!,
                0,
              ),
            ),
          );
          const y = matmul(matmul(AT, m), transpose(AT));
          for (let r = 0; r < 4 && ty + r < c.h; r++)
            for (let s = 0; s < 4 && tx + s < c.w; s++)
              out[((n * c.cout + o) * c.h + ty + r) * c.w + tx + s] = y[r]![s]! + bias[o]!;
        }
      }
  return out;
}

describe("Winograd transforms (CPU)", () => {
  it("winogradWeights is G g G^T for every filter, stored [36][cin][cout]", () => {
    const cin = 4,
      cout = 8;
    const weight = randomArray(cout * cin * 9, rng(7));
    const u = winogradWeights(weight, cout, cin);
    let worst = 0;
    for (let o = 0; o < cout; o++)
      for (let i = 0; i < cin; i++) {
        const g = [0, 1, 2].map((r) =>
          [0, 1, 2].map((s) => weight[(o * cin + i) * 9 + r * 3 + s]!),
        );
        const want = matmul(matmul(G, g), transpose(G));
        for (let p = 0; p < 36; p++)
          worst = Math.max(
            worst,
            Math.abs(u[(p * cin + i) * cout + o]! - want[Math.floor(p / 6)]![p % 6]!),
          );
      }
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  it.each(cases.slice(0, 3))(
    "B^T, G, A^T make a 3×3 convolution: n$n cin$cin $h×$w → $cout",
    (c) => {
      const { x, weight, bias, want } = inputs({ ...c, act: "none" });
      const got = winogradRef(c, x, winogradWeights(weight, c.cout, c.cin), bias);
      expect(maxRelError(got, want.out)).toBeLessThanOrEqual(1e-5);
    },
  );
});

/**
 * A stride-2 4×4 reflect-pad-1 convolution as a sum of plain 2×2 ones (f64) over the 4·cin phase
 * channels X[i][2y + py][2x + px] (channel 4·i + 2·py + px) of the (h/2)×(w/2) grid at phase
 * offsets −py, 1 − py (columns likewise), phase indices clamped into the grid, with filters
 * [cout][4·cin][2][2].
 */
function phaseConvRef(c: ConvCase, x: Float32Array, filters: Float32Array, bias: Float32Array) {
  const oh = c.h / 2,
    ow = c.w / 2,
    k = 4 * c.cin;
  const out = new Float32Array(c.n * c.cout * oh * ow);
  const clamp = (i: number, size: number) => Math.min(Math.max(i, 0), size - 1);
  for (let n = 0; n < c.n; n++)
    for (let o = 0; o < c.cout; o++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let sum = bias[o]!;
          for (let q = 0; q < k; q++) {
            const i = q >> 2,
              py = (q >> 1) & 1,
              px = q & 1;
            for (let t = 0; t < 2; t++)
              for (let u = 0; u < 2; u++) {
                const sy = 2 * clamp(y + t - py, oh) + py,
                  sx = 2 * clamp(xx + u - px, ow) + px;
                sum +=
                  filters[((o * k + q) * 2 + t) * 2 + u]! *
                  x[((n * c.cin + i) * c.h + sy) * c.w + sx]!;
              }
          }
          out[((n * c.cout + o) * oh + y) * ow + xx] = sum;
        }
  return out;
}

describe("stride-2 4×4 convolutions by phases (CPU)", () => {
  it.each(stride2Cases)(
    "phase filters over the clamped phase grid = conv2dRef: n$n cin$cin $h×$w → $cout",
    (c) => {
      const { x, weight, bias, want } = inputs({ ...c, act: "none" });
      const filters = stride2PhaseFilters(weight, c.cout, c.cin);
      // the 4 phases' 2×2 taps are the 16 taps, each once
      const sorted = (a: Float32Array) => [...a].sort((p, q) => p - q);
      expect(sorted(filters)).toEqual(sorted(weight));
      const got = phaseConvRef(c, x, filters, bias);
      expect(maxRelError(got, want.out)).toBeLessThanOrEqual(1e-5);
    },
  );

  it("BT2, G2, AT2 make a 2×2 correlation of a 5×5 patch, and the weights are G2 g G2^T", () => {
    const rand = rng(99);
    const d = Array.from({ length: 5 }, () => Array.from({ length: 5 }, () => rand() * 2 - 1));
    const g = Array.from({ length: 2 }, () => Array.from({ length: 2 }, () => rand() * 2 - 1));
    const u = matmul(matmul(G2, g), transpose(G2));
    const v = matmul(matmul(BT2, d), transpose(BT2));
    const y = matmul(
      matmul(
        AT2,
        u.map((row, r) => row.map((val, s) => val * v[r]![s]!)),
      ),
      transpose(AT2),
    );
    let worst = 0;
    for (let r = 0; r < 4; r++)
      for (let s = 0; s < 4; s++) {
        const want =
          g[0]![0]! * d[r]![s]! +
          g[0]![1]! * d[r]![s + 1]! +
          g[1]![0]! * d[r + 1]![s]! +
          g[1]![1]! * d[r + 1]![s + 1]!;
        worst = Math.max(worst, Math.abs(y[r]![s]! - want));
      }
    expect(worst).toBeLessThanOrEqual(1e-12);
    // the uploaded transform: U[p][q][o] = (G2 g G2^T)[p] of phase filter (o, q)
    const c = stride2Cases[2]!;
    const { weight } = inputs(c);
    const filters = stride2PhaseFilters(weight, c.cout, c.cin);
    const got = winogradStride2Weights(weight, c.cout, c.cin);
    const k = 4 * c.cin;
    let worstU = 0;
    for (let o = 0; o < c.cout; o++)
      for (let q = 0; q < k; q++) {
        const f = (o * k + q) * 4;
        const gq = [
          [filters[f]!, filters[f + 1]!],
          [filters[f + 2]!, filters[f + 3]!],
        ];
        const want = matmul(matmul(G2, gq), transpose(G2));
        for (let p = 0; p < 25; p++)
          worstU = Math.max(
            worstU,
            Math.abs(got[(p * k + q) * c.cout + o]! - want[Math.floor(p / 5)]![p % 5]!),
          );
      }
    expect(worstU).toBeLessThanOrEqual(1e-6);
  });
});

describe("limits", () => {
  // one halving only: the residual maps keep half the side and twice the channels, so V (2.25× an
  // activation per channel) outgrows the first layer's activation
  const hyper: FunitHyper = {
    nf: 8,
    n_res_blks: 1,
    nf_mlp: 32,
    latent_dim: 16,
    n_mlp_blks: 3,
    n_downs_content: 1,
    n_downs_class: 3,
  };
  const shape = {
    n: 1,
    k: 1,
    contentWidth: 32,
    contentHeight: 32,
    classWidth: 32,
    classHeight: 32,
    winograd: true,
  };

  it("the largest is M of the upsampling conv: [36][4·cout][tiles rounded up to 32]", () => {
    // residual: 16×16 maps of 16 channels, 16 tiles an image; upsampling 16 → 8 channels from a
    // 16×16 stored map: 16 tiles, M of 4 · 8 = 32 channels
    expect(winogradIntermediateBytes(hyper, shape)).toBe(4 * 36 * 32 * 32);
    expect(winogradIntermediateBytes(hyper, { ...shape, n: 3 })).toBe(4 * 36 * 32 * 64);
  });

  it("a call whose Winograd intermediate outgrows the binding is refused before any GPU work", () => {
    const limits: FunitDeviceLimits = {
      maxStorageBufferBindingSize: 4 * 36 * 32 * 32 - 4, // above the largest activation (32 KiB)
      maxBufferSize: 2 ** 30,
      maxComputeWorkgroupsPerDimension: 65535,
      maxTextureArrayLayers: 256,
      maxTextureDimension2D: 8192,
    };
    expect(() => checkCallFits(hyper, limits, shape)).toThrow(
      /need a 147456-byte activation buffer.*limit maxStorageBufferBindingSize/,
    );
    expect(() => checkCallFits(hyper, limits, shape)).toThrow(InputError);
    // an engine without Winograd convolutions is not held to them
    expect(() => checkCallFits(hyper, limits, { ...shape, winograd: false })).not.toThrow();
    expect(() =>
      checkCallFits(hyper, { ...limits, maxStorageBufferBindingSize: 4 * 36 * 32 * 32 }, shape),
    ).not.toThrow();
  });
});

const subgroups = await sharedDevice().then(subgroupConvSupported);

/** A generator of nf 8 with random weights, uploaded as `kernels` says. */
function smallGenerator(device: GPUDevice, downs: number, kernels: KernelChoice): GpuGenerator {
  const hyper: FunitHyper = {
    nf: 8,
    n_res_blks: 1,
    nf_mlp: 16,
    latent_dim: 8,
    n_mlp_blks: 2,
    n_downs_content: downs,
    n_downs_class: 3,
  };
  const tensors = new Map(
    [...expectedTensors(hyper)].map(([name, dims]) => [
      name,
      randomArray(
        dims.reduce((a, d) => a * d, 1),
        rng(dims.length),
      ),
    ]),
  );
  return uploadGenerator(device, hyper, tensors, "test", kernels);
}

/** Uploads a 3×3 layer as the policy for `conv` says and builds it with src/ops/conv.ts. */
async function build(device: GPUDevice, c: ConvCase, convKernel: "subgroup" | "direct") {
  const { x, weight, bias, want } = inputs(c);
  const kernels = chooseKernels(device, { conv: convKernel, precision: "f32" });
  const layer = uploadLayer(
    device,
    "test",
    "conv",
    [c.cout, c.cin, c.k, c.k],
    weight,
    bias,
    "test",
    {
      phaseWeights: kernels.phaseWeights,
      winogradWeights: kernels.winogradWeights,
    },
  );
  const g = new Graph();
  const input = g.tensor("x", [c.n, c.cin, c.h, c.w]);
  const opts = { stride: c.stride, pad: c.pad, upsample: c.upsample, act: c.act };
  const out = conv(g, input, layer, opts, kernels);
  const destroy = () => {
    layer.weight.destroy();
    layer.bias.destroy();
    layer.up2Weight?.destroy();
    layer.winogradWeight?.destroy();
    layer.winogradUp2Weight?.destroy();
    layer.winogradStride2Weight?.destroy();
  };
  return { g, input, out, x, want, layer, destroy };
}

// Dawn's lavapipe has subgroups of 8, so CI runs these; elsewhere the path is never chosen.
describe.runIf(subgroups)("Winograd kernels (subgroup path)", () => {
  const errors: number[] = [];

  /**
   * Builds case c on the subgroup path, lets `checkOps` look at the layer and its dispatches, runs
   * them and checks the output against conv2dRef (the error is kept for the summary).
   */
  async function expectChainedMatches(
    c: ConvCase,
    checkOps: (b: Awaited<ReturnType<typeof build>>) => void,
  ): Promise<void> {
    const got = await withDevice(async (device) => {
      const b = await build(device, c, "subgroup");
      checkOps(b);
      const [bytes] = await runGraph(device, b.g, [[b.input, b.x]], [b.out]);
      b.destroy();
      return new Float32Array(bytes!);
    });
    const err = maxRelError(got, inputs(c).want.out);
    errors.push(err);
    expect(err).toBeLessThanOrEqual(TOL);
  }
  it.each(cases)(
    "chained vs conv2dRef: n$n cin$cin $h×$w → cout$cout $act",
    (c) =>
      expectChainedMatches(c, (b) =>
        expect(b.g.ops.map((op) => op.kernel)).toEqual([
          "winograd_input",
          "winograd_gemm",
          "winograd_output",
        ]),
      ),
    60_000,
  );

  it("routing: only the subgroup choice uploads Winograd weights and builds its dispatches", async () => {
    await withDevice(async (device) => {
      const c = cases[1]!;
      expect(chooseKernels(device, { conv: "subgroup" }).winogradWeights).toBe(true);
      expect(chooseKernels(device, { conv: "direct" }).winogradWeights).toBe(false);
      expect(chooseKernels(device, { conv: "tiled" }).winogradWeights).toBe(false);
      const direct = await build(device, c, "direct");
      expect(direct.layer.winogradWeight).toBeUndefined();
      expect(direct.g.ops.map((op) => op.kernel)).toEqual(["conv2d_direct"]);
      direct.destroy();
      const sub = await build(device, c, "subgroup");
      expect(sub.layer.winogradWeight).toBeDefined();
      // a strided 3×3 layer, and channels the GEMM cannot block, stay on the direct kernel
      conv(sub.g, sub.input, sub.layer, { pad: 1, stride: 2 }, chooseKernels(device));
      expect(sub.g.ops.map((op) => op.kernel).slice(3)).toEqual(["conv2d_subgroup"]);
      sub.destroy();
      const odd = await build(device, { ...c, cout: 12 }, "subgroup");
      expect(odd.layer.winogradWeight).toBeUndefined();
      expect(odd.g.ops.map((op) => op.kernel)).toEqual(["conv2d_subgroup"]);
      odd.destroy();
      // the upsampling 5×5 convolution: phase filters in one direct dispatch without the flag
      const up2 = await build(device, up2Cases[1]!, "direct");
      expect(up2.layer.winogradUp2Weight).toBeUndefined();
      expect(up2.g.ops.map((op) => [op.kernel, op.overrides.PHASES])).toEqual([
        ["conv2d_direct", true],
      ]);
      up2.destroy();
    });
  });

  it.each(up2Cases)(
    "×2-upsampling 5×5 by phases vs conv2dRef: n$n cin$cin $h×$w → cout$cout $act",
    (c) =>
      expectChainedMatches(c, (b) => {
        expect(b.layer.winogradUp2Weight).toBeDefined();
        expect(b.g.ops.map((op) => op.kernel)).toEqual([
          "winograd_input",
          "winograd_gemm",
          "winograd_output",
          "conv2d_subgroup",
        ]);
        expect(b.g.ops[3]!.overrides.FRAME_ONLY).toBe(true);
      }),
    60_000,
  );

  it.each(stride2Cases)(
    "stride-2 4×4 by phases vs conv2dRef: n$n cin$cin $h×$w → cout$cout $act",
    (c) =>
      expectChainedMatches(c, (b) => {
        expect(b.layer.winogradStride2Weight).toBeDefined();
        expect(b.g.ops.map((op) => [op.kernel, op.workgroups[2]])).toEqual([
          ["winograd_input", 1],
          ["winograd_gemm", 25],
          ["winograd_output", 1],
        ]);
        expect(b.g.ops[0]!.overrides.POLYPHASE).toBe(true);
        expect(b.g.ops[2]!.overrides.FILTER2).toBe(true);
      }),
    60_000,
  );

  it("routing: stride-2 4×4 layers by phases with the flag, on even inputs and fit channels", async () => {
    await withDevice(async (device) => {
      const c = stride2Cases[1]!;
      const direct = await build(device, c, "direct");
      expect(direct.layer.winogradStride2Weight).toBeUndefined();
      expect(direct.g.ops.map((op) => op.kernel)).toEqual(["conv2d_direct"]);
      direct.destroy();
      const sub = await build(device, c, "subgroup");
      expect(sub.layer.winogradStride2Weight).toBeDefined();
      // a stride-2 layer's weights are not a 3×3's, nor an upsampling one's
      expect(sub.layer.winogradWeight).toBeUndefined();
      expect(sub.layer.winogradUp2Weight).toBeUndefined();
      // an odd input stays on the direct kernel
      const odd = sub.g.tensor("odd", [1, c.cin, 7, 8]);
      conv(sub.g, odd, sub.layer, { pad: 1, stride: 2 }, chooseKernels(device));
      const wide = sub.g.tensor("wide", [1, c.cin, 8, 9]);
      conv(sub.g, wide, sub.layer, { pad: 1, stride: 2 }, chooseKernels(device));
      expect(sub.g.ops.map((op) => op.kernel).slice(3)).toEqual([
        "conv2d_subgroup",
        "conv2d_subgroup",
      ]);
      sub.destroy();
      // the generator: the content encoder's stride-2 layers get phase weights, the class
      // encoder's (run once per font, no faster by Winograd) none
      const gen = smallGenerator(device, 2, chooseKernels(device));
      const stride2 = [...gen.layers].filter(([, l]) => l.k === 4);
      expect(stride2.map(([name, l]) => [name, l.winogradStride2Weight !== undefined])).toEqual([
        ["enc_class_model.model.1.conv", false],
        ["enc_class_model.model.2.conv", false],
        ["enc_class_model.model.3.conv", false],
        ["enc_content.model.1.conv", true],
        ["enc_content.model.2.conv", true],
      ]);
      gen.destroy();
      // channels the GEMM cannot block (cout 12) get no phase weights and stay direct
      const unfit = await build(device, { ...c, cout: 12 }, "subgroup");
      expect(unfit.layer.winogradStride2Weight).toBeUndefined();
      expect(unfit.g.ops.map((op) => op.kernel)).toEqual(["conv2d_subgroup"]);
      unfit.destroy();
    });
  });

  it("the limits' Winograd bound is the largest V or M the generator's graph holds", async () => {
    await withDevice(async (device) => {
      const kernels = chooseKernels(device, { conv: "subgroup", precision: "f32" });
      // one halving (stride-2 V and upsampling M over the same grid) and two
      for (const downs of [1, 2]) {
        const gen = smallGenerator(device, downs, kernels);
        const hyper = gen.hyper;
        // even and odd sides (odd: no stride-2 Winograd), sides of 4k + 2 (a partial tile),
        // batches across GEMM_TILES
        for (const [n, h, w] of [
          [1, 32, 32],
          [2, 36, 36],
          [3, 20, 28],
          [1, 35, 36],
          [9, 12, 20],
        ] as const) {
          const { graph } = generatorGraph(gen, kernels, {
            content: { n, h, w, format: "f32" },
            outputFormat: "f32",
            readback: ["output"],
          });
          const intermediates = graph.tensors.filter((t) => /:winograd-[VM]$/.test(t.label));
          expect(intermediates.length).toBeGreaterThan(0);
          const shape = {
            n,
            k: 1,
            contentHeight: h,
            contentWidth: w,
            classHeight: h,
            classWidth: w,
            winograd: true,
          };
          expect(winogradIntermediateBytes(hyper, shape), `${downs} ${n} ${h}x${w}`).toBe(
            Math.max(...intermediates.map((t) => 4 * t.words)),
          );
        }
        gen.destroy();
      }
    });
  });

  it("logs the largest error measured", () => {
    expect(errors.length).toBe(cases.length + up2Cases.length + stride2Cases.length);
    console.log(`Winograd vs conv2dRef: max rel error ${Math.max(...errors).toExponential(2)}`);
  });
});
