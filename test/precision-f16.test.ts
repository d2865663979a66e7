/**
 * The f16 path (precision "f16"): each f16 kernel against the plain TypeScript reference, the whole
 * generator in f16 against PyTorch (tiny-a, tiny-b and two held-out Hangul fonts, one with the
 * shipped f16 weights) and against the TypeScript generator (other hyperparameters), the "auto"
 * choice, the error on a device without `shader-f16`, and the buffer plan's f16 sizes. lavapipe
 * exposes shader-f16 (emulated on the CPU), so these run in CI; "auto" never picks f16 there.
 *
 * Kernel inputs are rounded to f16 first and the reference runs in f64 on those same values, so
 * the tolerances measure the kernels' own rounding, in units of u = 2^-11 (f16's unit roundoff):
 * - conv2d_tiled_f16: products and the sums within one TILE_K step (≤ 32 terms) are f16, the sums across
 *   steps f32, and the result is rounded to f16 once. Error ≤ |ref|·u (last rounding) + the step
 *   sums' error, which is bounded by a multiple of u · Σ|w·x| (the magnitude of the terms, computed
 *   by the same reference on |w|, |x|, |bias|): tolerance 4u · (|ref| + Σ|w·x|) per output.
 * - instance_norm_f16, mean_pool_f16: f32 statistics, one f16 rounding of each output (or none, for
 *   the f32 pool output): tolerance 2u · (1 + |ref|).
 * - to_f16 / from_f16: exact (round to nearest even, and widening).
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { Funit } from "../src/engine";
import { REQUIRED_LIMITS } from "../src/device";
import { choosePrecision } from "../src/policy";
import { Graph, type TensorDesc } from "../src/runtime/graph";
import { conv, type ConvChoice } from "../src/ops/conv";
import { castTensor } from "../src/ops/images";
import { instanceNorm, meanPool } from "../src/ops/layers";
import { uploadLayer } from "../src/upload";
import { float16BitsToNumber, float16Bytes } from "../src/safetensors";
import { getNodeGPU } from "../src/node/gpu";
import { runPortable, withDevice } from "./helpers/gpu";
import { maxAbsError, readTensors } from "./helpers/fixtures";
import { tensorToImages, type ImageRGBA } from "../src/tensor";
import { runGraph } from "./helpers/run-graph";
import {
  conv2dRef,
  funitRef,
  GENERATOR_FAMILY,
  instanceNormRef,
  meanPoolRef,
  randomArray,
  rng,
  type ConvCase,
} from "./helpers/reference";
import { expectedTensors } from "../src/hyper";
import { CONV_CASES } from "./portable/kernels";
import { F16_TOL, f16ReferenceTest } from "./portable/generator";
import { DeviceError } from "../src/errors";

const U = 2 ** -11;

/** Values rounded to the nearest f16 (ties to even), as f32. */
function roundF16(x: Float32Array): Float32Array {
  const bytes = float16Bytes(x);
  const view = new DataView(bytes.buffer);
  return Float32Array.from({ length: x.length }, (_, i) =>
    float16BitsToNumber(view.getUint16(i * 2, true)),
  );
}

/** max over i of |got − want| / scale[i]: ≤ 1 means within tolerance everywhere. */
function worstRatio(got: Float32Array, want: Float32Array, scale: (i: number) => number): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const r = Math.abs(got[i]! - want[i]!) / scale(i);
    if (!(r <= worst)) worst = Number.isNaN(r) ? Infinity : r;
  }
  return worst;
}

/** Runs one op on f16 data: f32 inputs are cast to f16 on the GPU, the op's output cast back. */
async function runF16(
  device: GPUDevice,
  build: (g: Graph, inputs: TensorDesc[], kernels: ConvChoice) => TensorDesc,
  inputs: { shape: number[]; data: Float32Array; f16?: boolean }[],
  products: "f16" | "f32" = "f16",
): Promise<Float32Array> {
  const g = new Graph();
  // the tiled convolution within the limits every engine device has (SwiftShader's)
  const kernels: ConvChoice = {
    conv: "tiled",
    tiles: { limits: REQUIRED_LIMITS },
    f16Products: products,
  };
  const raw = inputs.map((x, i) => g.tensor(`in${i}`, x.shape));
  const ready = raw.map((t, i) =>
    inputs[i]!.f16 === false ? t : castTensor(g, t, "f16", `in${i}`),
  );
  let out = build(g, ready, kernels);
  if (out.dtype === "f16") out = castTensor(g, out, "f32", "out");
  const [bytes] = await runGraph(
    device,
    g,
    raw.map((t, i) => [t, inputs[i]!.data]),
    [out],
  );
  return new Float32Array(bytes!);
}

// the portable kernel tests' cases (every kernel size, stride 2, upsampling, odd channel counts)
// and one decoder-like layer
const convCases: ConvCase[] = [
  ...CONV_CASES,
  { n: 1, cin: 64, h: 8, w: 8, cout: 32, k: 5, stride: 1, pad: 2, upsample: 2, act: "relu" },
];

describe("f16 kernels against the TypeScript reference", () => {
  const convRuns = (["f16", "f32"] as const).flatMap((products) =>
    convCases.map((c) => ({ ...c, products })),
  );
  it.each(convRuns)(
    "conv2d_tiled_f16 ($products products): n$n cin$cin $h×$w → cout$cout k$k s$stride up$upsample $act",
    async (c) => {
      const rand = rng(c.n * 1000 + c.cin * 31 + c.cout);
      const x = roundF16(randomArray(c.n * c.cin * c.h * c.w, rand));
      const weight = roundF16(
        randomArray(c.cout * c.cin * c.k * c.k, rand, 1 / Math.sqrt(c.cin * c.k * c.k)),
      );
      const bias = randomArray(c.cout, rand, 0.5);
      const want = conv2dRef(c, x, weight, bias).out;
      const terms = conv2dRef(
        { ...c, act: "none" },
        x.map(Math.abs),
        weight.map(Math.abs),
        bias.map(Math.abs),
      ).out;
      const got = await withDevice(async (device) => {
        const layer = uploadLayer(
          device,
          "test",
          "conv",
          [c.cout, c.cin, c.k, c.k],
          weight,
          bias,
          "test",
          { dtype: "f16" },
        );
        try {
          return await runF16(
            device,
            (g, [t], kernels) =>
              conv(
                g,
                t!,
                layer,
                { stride: c.stride, pad: c.pad, upsample: c.upsample, act: c.act },
                kernels,
              ),
            [{ shape: [c.n, c.cin, c.h, c.w], data: x }],
            c.products,
          );
        } finally {
          layer.weight.destroy();
          layer.bias.destroy();
        }
      });
      // measured worst: 0.20 of this bound with f16 products, 0.12 with f32 ones (lavapipe)
      const ratio = worstRatio(
        got,
        want,
        (i) => (c.products === "f16" ? 4 : 2) * U * (Math.abs(want[i]!) + terms[i]!),
      );
      expect(ratio).toBeLessThanOrEqual(1);
    },
  );

  const normCases = [
    { n: 2, c: 5, h: 33, w: 31, adain: false, relu: true, residual: false, threads: 256 },
    { n: 3, c: 6, h: 4, w: 4, adain: true, relu: true, residual: false, threads: 8 },
    { n: 2, c: 7, h: 9, w: 3, adain: true, relu: false, residual: true, threads: 256 },
    { n: 1, c: 4, h: 64, w: 64, adain: false, relu: false, residual: true, threads: 8 },
  ];
  it.each(normCases)(
    "instance_norm_f16 ($threads threads): n$n c$c $h×$w adain=$adain relu=$relu residual=$residual",
    async (c) => {
      const rand = rng(c.n * 100 + c.c * 7 + c.h);
      const plane = c.h * c.w;
      const x = roundF16(randomArray(c.n * c.c * plane, rand, 3).map((v, i) => v + (i % 5))); // non-zero means
      const offset = 6;
      const adain = randomArray(offset + 2 * c.c + 4, rand, 2);
      const residual = roundF16(randomArray(x.length, rand));
      const want = instanceNormRef(x, c.n, c.c, plane, {
        adain: c.adain ? adain : undefined,
        offset,
        relu: c.relu,
        residual: c.residual ? residual : undefined,
      });
      const got = await withDevice(async (device) => {
        const g = new Graph();
        const shape = [c.n, c.c, c.h, c.w];
        const t = castTensor(g, g.tensor("x", shape), "f16", "x");
        const a = g.tensor("adain", [1, adain.length]);
        const r = castTensor(g, g.tensor("residual", shape), "f16", "residual");
        instanceNorm(
          g,
          t,
          "test",
          {
            relu: c.relu,
            adain: c.adain ? { params: a, offset } : undefined,
            residual: c.residual ? r : undefined,
          },
          { normThreads: c.threads },
        );
        const out = castTensor(g, t, "f32", "out");
        const inputs: [TensorDesc, Float32Array][] = [
          [g.tensors[0]!, x],
          [a, adain],
          [g.tensors.find((d) => d.label === "residual")!, residual],
        ];
        const [bytes] = await runGraph(device, g, inputs, [out]);
        return new Float32Array(bytes!);
      });
      const ratio = worstRatio(got, want, (i) => 2 * U * (1 + Math.abs(want[i]!))); // measured worst: 0.33
      expect(ratio).toBeLessThanOrEqual(1);
    },
  );

  it.each([
    { groups: 1, k: 5, c: 13, h: 4, w: 4 },
    { groups: 2, k: 3, c: 7, h: 17, w: 19 },
  ])("mean_pool_f16: groups $groups K=$k c$c $h×$w", async ({ groups, k, c, h, w }) => {
    const rand = rng(groups * 10 + k + c);
    const x = roundF16(randomArray(groups * k * c * h * w, rand, 2));
    const want = meanPoolRef(x, groups, k, c, h * w);
    const got = await withDevice((device) =>
      runF16(device, (g, [t]) => meanPool(g, t!, k, "test"), [
        { shape: [groups * k, c, h, w], data: x },
      ]),
    );
    // f16 inputs, f32 sums and output: as tight as the f32 kernels' 1e-4
    expect(worstRatio(got, want, (i) => 1e-4 * (1 + Math.abs(want[i]!)))).toBeLessThanOrEqual(1);
  });

  // Normal f16 range only: WGSL leaves subnormal flushing and out-of-range conversion to the GPU.
  it("to_f16 rounds to nearest even and from_f16 widens exactly (odd length)", async () => {
    const rand = rng(5);
    const x = Float32Array.from([
      ...randomArray(1001, rand, 40),
      65504,
      -65504,
      6.2e-5,
      0.1,
      1 / 3,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
    ]);
    const want = roundF16(x);
    const got = await withDevice((device) =>
      runF16(device, (_g, [t]) => t!, [{ shape: [x.length], data: x }]),
    );
    expect(Array.from(got)).toEqual(Array.from(want));
  });
});

/** Whole generator, precision "f16", vs PyTorch's f32 outputs (tolerances: F16_TOL, test/portable/generator.ts). */
describe("the generator in f16 against PyTorch", () => {
  const runs = [
    {
      weights: "test/fixtures/tiny-a/gen_test.safetensors",
      expected: "test/fixtures/tiny-a/expected.safetensors",
    },
    {
      weights: "test/fixtures/tiny-b/gen_test.safetensors",
      expected: "test/fixtures/tiny-b/expected.safetensors",
    },
    {
      weights: "test/fixtures/hangul64/gen_test.safetensors",
      expected: "test/fixtures/hangul64/Bandal.safetensors",
    },
    {
      weights: "weights/hangul64-f16.safetensors",
      expected: "test/fixtures/hangul64/UnShinmun.safetensors",
    },
  ];
  for (const run of runs) {
    const test = f16ReferenceTest(run);
    it(test.name, () => runPortable(test));
  }
});

describe("generators of the NVlabs family in f16 against the TypeScript generator", () => {
  // No residual blocks (no AdaIN: an empty MLP output), a 2-block MLP, 2 or 5 class downsamplings,
  // 1 or 3 content ones, non-square, K = 1 and 3 (as generator-family.test.ts), random weights
  // rounded to f16 so that the reference sees the weights the GPU holds. Tolerances as for the
  // PyTorch references above (measured worst: content code 5.0e-3 · max|ref|, output 2.2e-2).
  const family = GENERATOR_FAMILY;
  it.each(family)("$hyper at $h×$w, N=$n, K=$k", async ({ hyper, n, k, h, w }) => {
    const rand = rng(hyper.nf * 131 + hyper.n_res_blks);
    const tensors = new Map<string, Float32Array>();
    for (const [name, shape] of expectedTensors(hyper)) {
      const fanIn = shape.slice(1).reduce((a, b) => a * b, 1) || 1;
      tensors.set(
        name,
        roundF16(
          randomArray(
            shape.reduce((a, b) => a * b, 1),
            rand,
            name.endsWith("bias") ? 0.5 : 1.5 / Math.sqrt(fanIn),
          ),
        ),
      );
    }
    const content = randomArray(n * 3 * h * w, rand);
    const classImages = randomArray(k * 3 * h * w, rand);
    const want = funitRef(
      hyper,
      (name) => tensors.get(name)!,
      { n, hh: h, ww: w, data: content },
      { k, hh: h, ww: w, data: classImages },
    );
    const got = await withDevice(async (device) => {
      const engine = await Funit.create(
        device,
        { hyper, tensors, dtypes: ["F16"], metadata: {} },
        { precision: "f16" },
      );
      try {
        return await engine.runWithIntermediates(
          { shape: [n, 3, h, w], data: content },
          { shape: [k, 3, h, w], data: classImages },
        );
      } finally {
        engine.destroy();
      }
    });
    const within = (g: Float32Array, r: Float32Array) =>
      maxAbsError(g, r) / Math.max(...r.map(Math.abs), 1e-30);
    expect(within(got.class_code.data, want.classCode)).toBeLessThanOrEqual(F16_TOL.codesRelMax);
    if (want.adain.length)
      expect(within(got.adain_params.data, want.adain)).toBeLessThanOrEqual(F16_TOL.codesRelMax);
    expect(within(got.content_code.data, want.contentCode)).toBeLessThanOrEqual(
      F16_TOL.codesRelMax,
    );
    expect(got.output.shape).toEqual([n, 3, h, w]);
    expect(maxAbsError(got.output.data, want.output)).toBeLessThanOrEqual(F16_TOL.output);
  });
});

describe("the f16 path through the image API", () => {
  it("translate() of RGBA images (pack → f16 → unpack) agrees with the f32 engine within the output tolerance", async () => {
    const { tensors } = readTensors("test/fixtures/hangul64/Bandal.safetensors");
    const contents = tensorToImages(tensors.get("content")!).slice(0, 2);
    const classes = tensorToImages(tensors.get("class_images")!);
    const bytes = new Uint8Array(readFileSync("test/fixtures/hangul64/gen_test.safetensors"));
    await withDevice(async (device) => {
      const out: Record<string, ImageRGBA[]> = {};
      for (const precision of ["f32", "f16"] as const) {
        const engine = await Funit.create(device, bytes, { precision });
        try {
          out[precision] = await engine.translate(contents, classes);
        } finally {
          engine.destroy();
        }
      }
      let worst = 0;
      out.f16!.forEach((img, i) =>
        img.data.forEach((v, p) => {
          worst = Math.max(worst, Math.abs(v - out.f32![i]!.data[p]!));
        }),
      );
      // 5e-2 (the output tolerance above) is 6.4 levels of 255, plus one for rounding
      expect(worst).toBeLessThanOrEqual(7);
    });
  });
});

describe("precision choice", () => {
  it("Funit.create on this device: auto follows choosePrecision; f16 runs the tiled kernel, and refuses the CPU kernels", async () => {
    const tiny = new Uint8Array(readFileSync("test/fixtures/tiny-a/gen_test.safetensors"));
    await withDevice(async (device) => {
      const auto = await Funit.create(device, tiny);
      try {
        expect(auto.precision).toBe(choosePrecision(device));
      } finally {
        auto.destroy();
      }
      await expect(
        Funit.create(device, tiny, { precision: "f16", conv: "direct" }),
      ).rejects.toThrow(/f16 path has only the tiled convolution/);
    });
  });

  it("a device created without shader-f16 refuses precision f16 with a clear error and runs auto in f32", async () => {
    const adapter = await getNodeGPU().requestAdapter();
    const device = await adapter!.requestDevice({ label: "no-f16" });
    try {
      expect(device.features.has("shader-f16")).toBe(false);
      const tiny = new Uint8Array(readFileSync("test/fixtures/tiny-a/gen_test.safetensors"));
      await expect(Funit.create(device, tiny, { precision: "f16" })).rejects.toThrow(DeviceError);
      await expect(Funit.create(device, tiny, { precision: "f16" })).rejects.toThrow(
        /'f16' needs a device with the 'shader-f16' feature/,
      );
      const engine = await Funit.create(device, tiny, { precision: "auto" });
      try {
        expect(engine.precision).toBe("f32");
      } finally {
        engine.destroy();
      }
    } finally {
      device.destroy();
    }
  });
});

describe("f16 buffer plan", () => {
  it("holds f16 activations in half the bytes of f32 ones, and the weights likewise", async () => {
    const bytes = new Uint8Array(readFileSync("test/fixtures/hangul64/gen_test.safetensors"));
    const { tensors } = readTensors("test/fixtures/hangul64/Bandal.safetensors");
    const [, c, h, w] = tensors.get("content")!.shape as [number, number, number, number];
    const content = { shape: [1, c, h, w], data: tensors.get("content")!.data.slice(0, c * h * w) };
    await withDevice(async (device) => {
      const sizes: Record<string, { activations: number; weights: number }> = {};
      for (const precision of ["f32", "f16"] as const) {
        // the same kernel at both precisions (f16 runs the tiled one; on lavapipe f32 would run
        // the subgroup path, with its phase and Winograd weights and intermediates)
        const engine = await Funit.create(device, bytes, { precision, conv: "tiled" });
        try {
          await engine.translateTensor(content, new Float32Array(engine.hyper.latent_dim));
          sizes[precision] = {
            activations: await engine.activationBytes(),
            weights: engine.weightBytes,
          };
        } finally {
          engine.destroy();
        }
      }
      // every activation of this plan is f16 except the f32 input, output, class code and MLP,
      // which are small next to the 32…128-channel maps
      expect(sizes.f16!.activations / sizes.f32!.activations).toBeGreaterThan(0.45);
      expect(sizes.f16!.activations / sizes.f32!.activations).toBeLessThan(0.6);
      expect(sizes.f16!.weights / sizes.f32!.weights).toBeLessThan(0.6);
    });
  });
});
