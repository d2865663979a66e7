/**
 * Every kernel (each of the three convolutions, instance norm, linear, mean pool, image pack and
 * unpack) against its plain TypeScript reference (test/helpers/reference.ts) on seeded random
 * shapes: odd sizes, channel counts that are not multiples of 4 or of the tile, batches, K = 1 and
 * K > 1. Tolerance for float kernels: |gpu − ref| ≤ 1e-4 · (1 + |ref|) (f32 accumulation over up to
 * a few thousand terms vs an f64 reference); the pack/unpack kernels are exact up to f32 rounding.
 * Runtime-neutral: the same bodies run in Node (test/kernels.test.ts), Chromium and Deno.
 */
import { Graph, type TensorDesc } from "../../src/runtime/graph";
import { conv } from "../../src/ops/conv";
import { packImages, unpackImages } from "../../src/ops/images";
import { instanceNorm, linear, meanPool } from "../../src/ops/layers";
import { uploadLayer } from "../../src/upload";
import { chooseKernels, subgroupConvSupported, type ConvKernel } from "../../src/policy";
import { runGraph } from "../helpers/run-graph";
import {
  conv2dRef,
  instanceNormRef,
  linearRef,
  meanPoolRef,
  randomArray,
  rng,
  type ConvCase,
} from "../helpers/reference";
import { assert, assertClose, assertEqual } from "./assert";
import type { PortableTest } from "./runner";

const TOL = 1e-4;

export const CONV_CASES: ConvCase[] = [
  { n: 1, cin: 3, h: 9, w: 7, cout: 5, k: 7, stride: 1, pad: 3, upsample: 1, act: "none" },
  { n: 2, cin: 5, h: 11, w: 8, cout: 17, k: 4, stride: 2, pad: 1, upsample: 1, act: "relu" },
  { n: 3, cin: 13, h: 5, w: 6, cout: 70, k: 3, stride: 1, pad: 1, upsample: 1, act: "none" },
  { n: 1, cin: 9, h: 4, w: 5, cout: 33, k: 5, stride: 1, pad: 2, upsample: 2, act: "none" },
  { n: 2, cin: 6, h: 13, w: 10, cout: 3, k: 7, stride: 1, pad: 3, upsample: 1, act: "tanh" },
  { n: 1, cin: 7, h: 3, w: 3, cout: 4, k: 1, stride: 1, pad: 0, upsample: 1, act: "relu" },
  { n: 5, cin: 16, h: 5, w: 3, cout: 16, k: 4, stride: 2, pad: 1, upsample: 1, act: "relu" },
  { n: 1, cin: 130, h: 6, w: 6, cout: 129, k: 3, stride: 1, pad: 1, upsample: 1, act: "none" },
];
// plus seeded random cases over every kernel size FUNIT uses
const pick = rng(7);
for (let i = 0; i < 6; i++) {
  const k = [3, 4, 5, 7][Math.floor(pick() * 4)]!;
  const stride = k === 4 ? 2 : 1;
  const pad = k === 4 ? 1 : (k - 1) / 2;
  const upsample = k === 5 && pick() < 0.7 ? 2 : 1;
  const min = pad + 1;
  CONV_CASES.push({
    n: 1 + Math.floor(pick() * 3),
    cin: 1 + Math.floor(pick() * 40),
    cout: 1 + Math.floor(pick() * 90),
    h: min + Math.floor(pick() * 12),
    w: min + Math.floor(pick() * 12),
    k,
    stride,
    pad,
    upsample,
    act: (["none", "relu", "tanh"] as const)[Math.floor(pick() * 3)]!,
  });
}

/** The convolution kernels a device can run: all three where subgroups have ≥ 8 lanes (lavapipe). */
export function convKernelsFor(device: GPUDevice): ConvKernel[] {
  return subgroupConvSupported(device) ? ["tiled", "direct", "subgroup"] : ["tiled", "direct"];
}

export function convTest(c: ConvCase, kernel: ConvKernel): PortableTest {
  return {
    name: `conv2d ${kernel}: n${c.n} cin${c.cin} ${c.h}×${c.w} → cout${c.cout} k${c.k} s${c.stride} p${c.pad} up${c.upsample} ${c.act}`,
    async run({ device }) {
      const rand = rng(c.n * 1000 + c.cin * 31 + c.cout);
      const x = randomArray(c.n * c.cin * c.h * c.w, rand);
      const weight = randomArray(
        c.cout * c.cin * c.k * c.k,
        rand,
        1 / Math.sqrt(c.cin * c.k * c.k),
      );
      const bias = randomArray(c.cout, rand, 0.5);
      const want = conv2dRef(c, x, weight, bias);
      // the engine's policy for this kernel: tile limits, phase filters on the CPU kernels
      const kernels = chooseKernels(device, { conv: kernel, precision: "f32" });
      const layer = uploadLayer(
        device,
        "test",
        "conv",
        [c.cout, c.cin, c.k, c.k],
        weight,
        bias,
        "test",
        { phaseWeights: kernels.phaseWeights },
      );
      try {
        const g = new Graph();
        const input = g.tensor("x", [c.n, c.cin, c.h, c.w]);
        const out = conv(
          g,
          input,
          layer,
          { stride: c.stride, pad: c.pad, upsample: c.upsample, act: c.act },
          kernels,
        );
        assertEqual(out.shape, [c.n, c.cout, want.oh, want.ow], "conv2d output shape");
        const [bytes] = await runGraph(device, g, [[input, x]], [out]);
        assertClose(new Float32Array(bytes!), want.out, TOL, "conv2d", "rel");
      } finally {
        layer.weight.destroy();
        layer.bias.destroy();
        layer.up2Weight?.destroy();
      }
    },
  };
}

const NORM_CASES = [
  { n: 1, c: 3, h: 5, w: 7, adain: false, relu: false, residual: false },
  { n: 2, c: 5, h: 33, w: 31, adain: false, relu: true, residual: false },
  { n: 3, c: 6, h: 4, w: 4, adain: true, relu: true, residual: false },
  { n: 2, c: 7, h: 9, w: 3, adain: true, relu: false, residual: true },
  { n: 1, c: 9, h: 16, w: 17, adain: false, relu: false, residual: true },
  { n: 3, c: 4, h: 8, w: 6, adain: true, relu: true, residual: true },
];

function instanceNormTest(c: (typeof NORM_CASES)[number], threads: number): PortableTest {
  return {
    name: `instance_norm ${threads} threads: n${c.n} c${c.c} ${c.h}×${c.w} adain=${c.adain} relu=${c.relu} residual=${c.residual}`,
    async run({ device }) {
      const rand = rng(c.n * 100 + c.c * 7 + c.h);
      const plane = c.h * c.w;
      const x = randomArray(c.n * c.c * plane, rand, 3).map((v, i) => v + (i % 5)); // non-zero means
      const offset = 6;
      const adain = randomArray(offset + 2 * c.c + 4, rand, 2);
      const residual = randomArray(x.length, rand);
      const want = instanceNormRef(x, c.n, c.c, plane, {
        adain: c.adain ? adain : undefined,
        offset,
        relu: c.relu,
        residual: c.residual ? residual : undefined,
      });
      const g = new Graph();
      const t = g.tensor("x", [c.n, c.c, c.h, c.w]);
      const a = g.tensor("adain", [1, adain.length]);
      const r = g.tensor("residual", [c.n, c.c, c.h, c.w]);
      instanceNorm(
        g,
        t,
        "test",
        {
          relu: c.relu,
          adain: c.adain ? { params: a, offset } : undefined,
          residual: c.residual ? r : undefined,
        },
        { normThreads: threads },
      );
      const inputs: [TensorDesc, Float32Array][] = [[t, x]];
      if (c.adain) inputs.push([a, adain]);
      if (c.residual) inputs.push([r, residual]);
      const [bytes] = await runGraph(device, g, inputs, [t]);
      assertClose(new Float32Array(bytes!), want, TOL, "instance_norm", "rel");
    },
  };
}

function linearTest({
  n,
  fin,
  fout,
  relu,
}: {
  n: number;
  fin: number;
  fout: number;
  relu: boolean;
}): PortableTest {
  return {
    name: `linear: n${n} ${fin} → ${fout} relu=${relu}`,
    async run({ device }) {
      const rand = rng(fin * fout + n);
      const x = randomArray(n * fin, rand);
      const weight = randomArray(fout * fin, rand, 1 / Math.sqrt(fin));
      const bias = randomArray(fout, rand);
      const want = linearRef(x, n, fin, weight, bias, fout, relu);
      const layer = uploadLayer(device, "test", "linear", [fout, fin], weight, bias, "test");
      try {
        const g = new Graph();
        const t = g.tensor("x", [n, fin]);
        const y = linear(g, t, layer, relu);
        const [bytes] = await runGraph(device, g, [[t, x]], [y]);
        assertClose(new Float32Array(bytes!), want, TOL, "linear", "rel");
      } finally {
        layer.weight.destroy();
        layer.bias.destroy();
      }
    },
  };
}

function meanPoolTest({
  groups,
  k,
  c,
  h,
  w,
}: {
  groups: number;
  k: number;
  c: number;
  h: number;
  w: number;
}): PortableTest {
  return {
    name: `mean_pool (global average pool + mean over K): groups ${groups} K=${k} c${c} ${h}×${w}`,
    async run({ device }) {
      const rand = rng(groups * 10 + k + c);
      const x = randomArray(groups * k * c * h * w, rand, 2);
      const want = meanPoolRef(x, groups, k, c, h * w);
      const g = new Graph();
      const t = g.tensor("x", [groups * k, c, h, w]);
      const y = meanPool(g, t, k, "test");
      const [bytes] = await runGraph(device, g, [[t, x]], [y]);
      assertClose(new Float32Array(bytes!), want, TOL, "mean_pool", "rel");
    },
  };
}

const packTest: PortableTest = {
  name: "image pack/unpack: RGBA8 to [N,3,H,W] in [-1,1] (alpha dropped) and back with rounding and clamping",
  async run({ device }) {
    const rand = rng(99);
    const [n, h, w] = [3, 7, 5];
    const pixels = Uint32Array.from({ length: n * h * w }, () => Math.floor(rand() * 2 ** 32));
    const bytes = new Uint8Array(pixels.buffer);
    // tensor values chosen away from rounding boundaries (x.5), some outside [-1, 1]
    const values = Float32Array.from(
      { length: n * 3 * h * w },
      () => (Math.floor(rand() * 300) - 20 + 0.25) / 127.5 - 1,
    );
    const g = new Graph();
    const raw = g.tensor("rgba", [n, h, w]);
    const t = packImages(g, raw, "test");
    const f = g.tensor("f", [n, 3, h, w]);
    const out = unpackImages(g, f, "test");
    const [packed, unpacked] = await runGraph(
      device,
      g,
      [
        [raw, pixels],
        [f, values],
      ],
      [t, out],
    );
    const plane = h * w;
    const wantPacked = new Float32Array(n * 3 * plane);
    const wantBytes = new Uint8Array(n * plane * 4);
    for (let i = 0; i < n; i++)
      for (let p = 0; p < plane; p++) {
        for (let c = 0; c < 3; c++) {
          wantPacked[(i * 3 + c) * plane + p] = bytes[(i * plane + p) * 4 + c]! / 127.5 - 1;
          wantBytes[(i * plane + p) * 4 + c] = Math.min(
            255,
            Math.max(0, Math.round((values[(i * 3 + c) * plane + p]! + 1) * 127.5)),
          );
        }
        wantBytes[(i * plane + p) * 4 + 3] = 255;
      }
    assertClose(new Float32Array(packed!), wantPacked, 1e-6, "image_pack");
    const gotBytes = new Uint8Array(unpacked!);
    assert(
      gotBytes.length === wantBytes.length,
      `image_unpack: ${gotBytes.length} bytes, want ${wantBytes.length}`,
    );
    const wrong = wantBytes.findIndex((v, i) => gotBytes[i] !== v);
    assert(
      wrong < 0,
      `image_unpack: byte ${wrong} is ${gotBytes[wrong]}, want ${wantBytes[wrong]} (exact)`,
    );
  },
};

/** Every kernel test: each convolution case on each of `convKernels`, then the other kernels. */
export function kernelTests(convKernels: readonly ConvKernel[]): PortableTest[] {
  return [
    ...convKernels.flatMap((kernel) => CONV_CASES.map((c) => convTest(c, kernel))),
    ...[8, 256].flatMap((threads) => NORM_CASES.map((c) => instanceNormTest(c, threads))),
    ...[
      { n: 1, fin: 7, fout: 3, relu: false },
      { n: 3, fin: 64, fout: 257, relu: true },
      { n: 2, fin: 129, fout: 70, relu: false },
    ].map(linearTest),
    ...[
      { groups: 1, k: 1, c: 5, h: 3, w: 2 },
      { groups: 1, k: 5, c: 13, h: 4, w: 4 },
      { groups: 2, k: 3, c: 7, h: 17, w: 19 },
    ].map(meanPoolTest),
    packTest,
  ];
}
