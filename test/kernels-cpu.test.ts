/**
 * The CPU-adapter convolutions (conv2d_subgroup.wgsl, conv2d_direct.wgsl) against the plain
 * TypeScript reference (test/helpers/reference.ts), in every register tile the subgroup kernel can
 * be specialised to (PX pixels × COB channels a lane), not only the one src/ops/conv-tiles.ts picks, on
 * seeded random shapes and on the edges the tiling has: rows whose width is not a multiple of PX
 * (a run sticking out past the edge), output channels that are not a multiple of the block, strides
 * 1 and 2 (the sliding-window and the gather paths), ×2 upsampling, every kernel size 1/3/4/5/7,
 * non-square images, batches, inputs barely larger than the padding. Tolerance as in
 * kernels.test.ts: |gpu − ref| ≤ 1e-4 · (1 + |ref|).
 */
import { describe, expect, it } from "vitest";
import { Graph } from "../src/runtime/graph";
import { conv } from "../src/ops/conv";
import {
  directConvTiles,
  subgroupConvTiles,
  subgroupFrameTiles,
  up2PhaseWorkgroups,
} from "../src/ops/conv-tiles";
import { chooseKernels, subgroupConvSupported } from "../src/policy";
import { uploadLayer } from "../src/upload";
import { maxRelError } from "../src/tensor";
import { sharedDevice, withDevice } from "./helpers/gpu";
import { runGraph } from "./helpers/run-graph";
import { conv2dRef, randomArray, rng, type ConvCase } from "./helpers/reference";

const cases: ConvCase[] = [
  { n: 2, cin: 5, h: 9, w: 7, cout: 11, k: 3, stride: 1, pad: 1, upsample: 1, act: "relu" }, // ow 7: runs of 4 stick out
  { n: 1, cin: 3, h: 10, w: 13, cout: 3, k: 7, stride: 1, pad: 3, upsample: 1, act: "tanh" }, // 3 channels, wide window
  { n: 3, cin: 6, h: 5, w: 6, cout: 17, k: 5, stride: 1, pad: 2, upsample: 2, act: "none" }, // upsampled 5×5
  { n: 2, cin: 7, h: 11, w: 9, cout: 9, k: 4, stride: 2, pad: 1, upsample: 1, act: "relu" }, // strided, odd sizes
  { n: 1, cin: 4, h: 2, w: 3, cout: 5, k: 3, stride: 1, pad: 1, upsample: 1, act: "none" }, // barely above the padding
  { n: 2, cin: 9, h: 4, w: 3, cout: 20, k: 1, stride: 1, pad: 0, upsample: 1, act: "relu" }, // 1×1
  { n: 1, cin: 2, h: 3, w: 2, cout: 6, k: 5, stride: 1, pad: 2, upsample: 2, act: "none" }, // tiny upsampled
  // stride 2, 4×4, pad 1 on rows of whole vec4 pairs: the vec4 path, whose lanes take the columns
  // beside their run from the neighbouring lanes: 2 runs a row; 6 (rows start mid-subgroup); 17
  // (runs beside in another subgroup, mid-row)
  { n: 2, cin: 5, h: 9, w: 16, cout: 9, k: 4, stride: 2, pad: 1, upsample: 1, act: "relu" },
  { n: 1, cin: 3, h: 6, w: 48, cout: 5, k: 4, stride: 2, pad: 1, upsample: 1, act: "none" },
  { n: 1, cin: 2, h: 4, w: 136, cout: 4, k: 4, stride: 2, pad: 1, upsample: 1, act: "tanh" },
  // stride 1, padded by k / 2, rows of whole vec4s: the vec4 path that takes the runs beside from
  // the neighbouring lanes: 10 runs a row (beside in another subgroup), 2, 1 (both ends reflect);
  // every kernel size it takes (7, 3, 5, 1); couts of whole vec4s (conv2d_direct's vec4 weights)
  { n: 2, cin: 3, h: 7, w: 40, cout: 9, k: 7, stride: 1, pad: 3, upsample: 1, act: "tanh" },
  { n: 1, cin: 5, h: 5, w: 8, cout: 3, k: 7, stride: 1, pad: 3, upsample: 1, act: "none" },
  { n: 3, cin: 4, h: 6, w: 4, cout: 6, k: 7, stride: 1, pad: 3, upsample: 1, act: "relu" },
  { n: 2, cin: 6, h: 5, w: 12, cout: 10, k: 3, stride: 1, pad: 1, upsample: 1, act: "relu" },
  { n: 1, cin: 3, h: 6, w: 12, cout: 8, k: 5, stride: 1, pad: 2, upsample: 1, act: "none" },
  { n: 2, cin: 5, h: 3, w: 8, cout: 12, k: 1, stride: 1, pad: 0, upsample: 1, act: "relu" },
  // 7×7 on rows of whole vec8s with more than 4 channels: conv2d_subgroup's 8 pixels a lane
  // (takesSameRow8): 17 runs a row (beside in another subgroup, mid-row), 1 (both ends reflect)
  { n: 1, cin: 2, h: 5, w: 136, cout: 6, k: 7, stride: 1, pad: 3, upsample: 1, act: "relu" },
  { n: 2, cin: 3, h: 5, w: 8, cout: 5, k: 7, stride: 1, pad: 3, upsample: 1, act: "tanh" },
];

/** Cases on rows of whole vec8s, padded by k / 2, stride 1: the ones same_row runs with PX 8. */
const sameRow8Cases = [
  ...cases.filter((c) => c.k % 2 === 1 && c.stride === 1 && c.upsample === 1 && c.w % 8 === 0),
  { n: 1, cin: 3, h: 4, w: 16, cout: 7, k: 3, stride: 1, pad: 1, upsample: 1, act: "none" },
] as ConvCase[];
const pick = rng(2026);
for (let i = 0; i < 3; i++) {
  const k = [1, 3, 4, 5, 7][Math.floor(pick() * 5)]!;
  const stride = k === 4 || pick() < 0.2 ? 2 : 1;
  const pad = k === 4 ? 1 : (k - 1) / 2;
  const upsample = pick() < 0.4 ? 2 : 1;
  const min = Math.ceil((pad + 1) / upsample);
  cases.push({
    n: 1 + Math.floor(pick() * 3),
    cin: 1 + Math.floor(pick() * 24),
    cout: 1 + Math.floor(pick() * 40),
    h: min + Math.floor(pick() * 10),
    w: min + Math.floor(pick() * 10),
    k,
    stride,
    pad,
    upsample,
    act: (["none", "relu", "tanh"] as const)[Math.floor(pick() * 3)]!,
  });
}

/**
 * Tiles tested on each kernel: every PX (1…4) and every COB (4, 8, 16) at least once, besides the
 * ones src/model.ts picks (subgroup 4 × 8 and 4 × 4, direct 4 × 4, run through the builder). Each is
 * a pipeline of its own, slow to compile on lavapipe, hence not the full cross product.
 */
const tiles = [
  { PX: 1, COB: 4 },
  { PX: 2, COB: 16 },
  { PX: 3, COB: 8 },
  { PX: 4, COB: 4 },
  { PX: 4, COB: 8 },
];
const directTiles = [
  { PX: 1, COB: 16 },
  { PX: 2, COB: 8 },
  { PX: 3, COB: 4 },
];

function inputs(c: ConvCase) {
  const rand = rng(c.n * 1000 + c.cin * 31 + c.cout * 7 + c.k);
  const x = randomArray(c.n * c.cin * c.h * c.w, rand);
  const weight = randomArray(c.cout * c.cin * c.k * c.k, rand, 1 / Math.sqrt(c.cin * c.k * c.k));
  const bias = randomArray(c.cout, rand, 0.5);
  return { x, weight, bias, want: conv2dRef(c, x, weight, bias) };
}

// The decoder's 5×5 convolutions of ×2-upsampled inputs run by phase filters inside, by grouped
// filters along the reflect frame and with the 5×5 weights at its corners: the smallest input it
// takes (3×3), odd and non-square sizes, partial runs, channel counts off the block, batches.
const up2Cases: ConvCase[] = [
  { n: 1, cin: 4, h: 3, w: 3, cout: 8, k: 5, stride: 1, pad: 2, upsample: 2, act: "none" },
  { n: 2, cin: 7, h: 4, w: 7, cout: 13, k: 5, stride: 1, pad: 2, upsample: 2, act: "relu" },
  { n: 3, cin: 5, h: 6, w: 5, cout: 3, k: 5, stride: 1, pad: 2, upsample: 2, act: "tanh" },
  { n: 1, cin: 33, h: 9, w: 12, cout: 40, k: 5, stride: 1, pad: 2, upsample: 2, act: "none" },
  // parts of the frame over several workgroups each (15 runs down a column, 9 along a row)
  { n: 3, cin: 3, h: 20, w: 13, cout: 5, k: 5, stride: 1, pad: 2, upsample: 2, act: "relu" },
  // corners of more images than a workgroup has lanes
  { n: 9, cin: 2, h: 3, w: 4, cout: 4, k: 5, stride: 1, pad: 2, upsample: 2, act: "none" },
  // more workgroups for a phase's interior than for the frame
  { n: 1, cin: 2, h: 48, w: 44, cout: 4, k: 5, stride: 1, pad: 2, upsample: 2, act: "tanh" },
];

/** The params of a convolution kernel for case c, whose output is want.oh × want.ow. */
function convParams(c: ConvCase, want: { oh: number; ow: number }) {
  return {
    batch: c.n,
    cin: c.cin,
    in_h: c.h,
    in_w: c.w,
    cout: c.cout,
    out_h: want.oh,
    out_w: want.ow,
    pad: c.pad,
  };
}

/** Runs one dispatch of a CPU convolution kernel with a given tile (as src/ops/conv.ts builds it). */
async function runTile(
  kernel: "conv2d_subgroup" | "conv2d_direct",
  c: ConvCase,
  tile: { PX: number; COB: number },
): Promise<{ got: Float32Array; want: Float32Array }> {
  const { x, weight, bias, want } = inputs(c);
  const got = await withDevice(async (device) => {
    const layer = uploadLayer(
      device,
      "test",
      "conv",
      [c.cout, c.cin, c.k, c.k],
      weight,
      bias,
      "test",
    );
    const g = new Graph();
    const input = g.tensor("x", [c.n, c.cin, c.h, c.w]);
    const out = g.tensor("y", [c.n, c.cout, want.oh, want.ow]);
    const WG = 64;
    g.op({
      label: `test ${kernel} PX=${tile.PX} COB=${tile.COB}`,
      kernel,
      overrides: {
        KSIZE: c.k,
        STRIDE: c.stride,
        UPSAMPLE: c.upsample,
        ACT: { none: 0, relu: 1, tanh: 2 }[c.act],
        WG,
        ...tile,
      },
      params: convParams(c, want),
      bindings: { input, input4: input, weight: layer.weight, bias: layer.bias, output: out },
      workgroups: [
        Math.ceil((c.n * want.oh * Math.ceil(want.ow / tile.PX)) / WG),
        Math.ceil(c.cout / tile.COB),
        1,
      ],
    });
    const [bytes] = await runGraph(device, g, [[input, x]], [out]);
    layer.weight.destroy();
    layer.bias.destroy();
    return new Float32Array(bytes!);
  });
  return { got, want: want.out };
}

/**
 * The FRAME_ONLY dispatch alone, as src/ops/conv.ts adds it beside a Winograd convolution: the
 * outer ring of output pixels (rows and columns 0 and the last), the rest left zero.
 */
async function runRing(
  kernel: "conv2d_subgroup" | "conv2d_direct",
  c: ConvCase,
): Promise<{ got: Float32Array; want: Float32Array; oh: number; ow: number }> {
  const { x, weight, bias, want } = inputs(c);
  // the frame's own tile, as src/ops/conv.ts picks it (16 channels a lane past 8 on subgroups)
  const t = kernel === "conv2d_direct" ? directConvTiles() : subgroupFrameTiles(c.cout);
  const got = await withDevice(async (device) => {
    const layer = uploadLayer(device, "test", "conv", [c.cout, c.cin, 5, 5], weight, bias, "test", {
      phaseWeights: true,
    });
    const g = new Graph();
    const input = g.tensor("x", [c.n, c.cin, c.h, c.w]);
    const out = g.tensor("y", [c.n, c.cout, want.oh, want.ow]);
    g.op({
      label: "test ring",
      kernel,
      overrides: {
        KSIZE: 5,
        STRIDE: 1,
        UPSAMPLE: 2,
        ACT: { none: 0, relu: 1, tanh: 2 }[c.act],
        ...t,
        PHASES: true,
        FRAME_ONLY: true,
      },
      params: convParams(c, want),
      bindings: { input, input4: input, weight: layer.up2Weight!, bias: layer.bias, output: out },
      workgroups: [up2PhaseWorkgroups(c.n, c.h, c.w, t, true).frame, Math.ceil(c.cout / t.COB), 1],
    });
    const [bytes] = await runGraph(device, g, [[input, x]], [out]);
    layer.weight.destroy();
    layer.bias.destroy();
    layer.up2Weight?.destroy();
    return new Float32Array(bytes!);
  });
  return { got, want: want.out, oh: want.oh, ow: want.ow };
}

/** Runs the conv builder with a CPU kernel (the tile it picks) under the engine's policy for it. */
async function runBuilder(
  c: ConvCase,
  kernel: "subgroup" | "direct",
): Promise<{ got: Float32Array; want: Float32Array }> {
  const { x, weight, bias, want } = inputs(c);
  const got = await withDevice(async (device) => {
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
    const g = new Graph();
    const input = g.tensor("x", [c.n, c.cin, c.h, c.w]);
    const out = conv(
      g,
      input,
      layer,
      { stride: c.stride, pad: c.pad, upsample: c.upsample, act: c.act },
      kernels,
    );
    expect(out.shape).toEqual([c.n, c.cout, want.oh, want.ow]);
    const [bytes] = await runGraph(device, g, [[input, x]], [out]);
    layer.weight.destroy();
    layer.bias.destroy();
    layer.up2Weight?.destroy();
    return new Float32Array(bytes!);
  });
  return { got, want: want.out };
}

/** Every plane's outer ring matches the reference; the pixels inside it stay untouched (zero). */
function expectRingOnly(
  got: Float32Array,
  want: Float32Array,
  planes: number,
  oh: number,
  ow: number,
) {
  const ring: number[] = [],
    ringWant: number[] = [],
    inside: number[] = [];
  for (let p = 0; p < planes; p++)
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++) {
        const i = (p * oh + y) * ow + x;
        if (y === 0 || y === oh - 1 || x === 0 || x === ow - 1) {
          ring.push(got[i]!);
          ringWant.push(want[i]!);
        } else inside.push(got[i]!);
      }
  expect(maxRelError(Float32Array.from(ring), Float32Array.from(ringWant))).toBeLessThanOrEqual(
    1e-4,
  );
  expect(inside.every((v) => v === 0)).toBe(true);
}

const subgroups = await sharedDevice().then(subgroupConvSupported);
const label = "n$n cin$cin $h×$w → cout$cout k$k s$stride p$pad up$upsample $act";

it.each(["direct", "subgroup"] as const)(
  "%s: an upsampling 5×5 convolution runs by phases, a smaller one (2×3) plainly",
  async (kernel) => {
    await withDevice(async (device) => {
      const c = up2Cases[1]!;
      const { weight, bias } = inputs(c);
      const kernels = chooseKernels(device, { conv: kernel, precision: "f32" });
      expect(kernels.phaseWeights).toBe(true);
      const layer = uploadLayer(
        device,
        "test",
        "conv",
        [c.cout, c.cin, 5, 5],
        weight,
        bias,
        "test",
        { phaseWeights: kernels.phaseWeights },
      );
      const g = new Graph();
      conv(g, g.tensor("x", [c.n, c.cin, c.h, c.w]), layer, { pad: 2, upsample: 2 }, kernels);
      conv(g, g.tensor("x", [c.n, c.cin, 2, 3]), layer, { pad: 2, upsample: 2 }, kernels);
      expect(g.ops.map((op) => op.overrides.PHASES ?? false)).toEqual([true, false]);
      layer.weight.destroy();
      layer.bias.destroy();
      layer.up2Weight?.destroy();
    });
  },
);

describe("conv2d_direct (CPU adapters without subgroups)", () => {
  it.each(cases)(`builder: ${label}`, async (c) => {
    const { got, want } = await runBuilder(c, "direct");
    expect(maxRelError(got, want)).toBeLessThanOrEqual(1e-4);
  });

  it.each(up2Cases)(`builder, frame + phases: ${label}`, async (c) => {
    const { got, want } = await runBuilder(c, "direct");
    expect(maxRelError(got, want)).toBeLessThanOrEqual(1e-4);
  });

  it.each(up2Cases)(`FRAME_ONLY writes the outer ring only: ${label}`, async (c) => {
    const { got, want, oh, ow } = await runRing("conv2d_direct", c);
    expectRingOnly(got, want, c.n * c.cout, oh, ow);
  });

  const runs = directTiles.flatMap((t) => cases.map((c) => ({ ...c, ...t })));
  it.each(runs)(`PX=$PX COB=$COB: ${label}`, async (c) => {
    const { got, want } = await runTile("conv2d_direct", c, { PX: c.PX, COB: c.COB });
    expect(maxRelError(got, want)).toBeLessThanOrEqual(1e-4);
  });

  it.each(sameRow8Cases)(`PX=8 COB=8, rows of whole vec8s: ${label}`, async (c) => {
    const { got, want } = await runTile("conv2d_direct", c, { PX: 8, COB: 8 });
    expect(maxRelError(got, want)).toBeLessThanOrEqual(1e-4);
  });
});

// Dawn's lavapipe has subgroups of 8, so CI runs these; elsewhere the kernel is never chosen.
describe.runIf(subgroups)("conv2d_subgroup (CPU adapters with subgroups ≥ 8)", () => {
  it("picks tiles that are tested here", () => {
    for (const cout of [1, 3, 4, 5, 8, 9, 64, 129]) {
      const t = subgroupConvTiles(cout);
      expect(
        tiles.some((s) => s.PX === t.PX && s.COB === t.COB),
        `cout ${cout}`,
      ).toBe(true);
    }
    expect(directConvTiles()).toMatchObject({ PX: 4, COB: 4 }); // covered by the builder cases above
    // 7×7 rows of whole vec8s, cout > 4: 8 × 8 (the builder's w 40, 136 and 8 cases; PX 8 below)
    const seven = { k: 7, stride: 1, pad: 3, upsample: 1, inW: 64 };
    expect(subgroupConvTiles(32, 1, 1, seven)).toMatchObject({ PX: 8, COB: 8 });
    expect(subgroupConvTiles(3, 1, 1, seven)).toMatchObject({ PX: 4, COB: 4 });
    expect(subgroupConvTiles(32, 1, 1, { ...seven, inW: 60 }).PX).toBe(4);
    expect(subgroupConvTiles(32, 1, 1, { ...seven, k: 5, pad: 2 }).PX).toBe(4);
    // the frame's tiles: 4 × 16 past 8 channels (up2Cases' cout 13 and 40), else the conv's
    expect(subgroupFrameTiles(13)).toMatchObject({ PX: 4, COB: 16 });
    expect(subgroupFrameTiles(64)).toMatchObject({ PX: 4, COB: 16 });
    expect(subgroupFrameTiles(8)).toEqual(subgroupConvTiles(8));
    expect(subgroupFrameTiles(3)).toEqual(subgroupConvTiles(3));
    // one SIMD group a workgroup (the builder cases run it), 64 lanes (the tile cases' default)
    // once 8-lane workgroups would pass 65,535 in x
    expect(subgroupConvTiles(64, 8 * 16, 16).WG).toBe(8);
    expect(subgroupConvTiles(64, 65535 * 8, 4).WG).toBe(8);
    expect(subgroupConvTiles(64, 65535 * 8 + 1, 4).WG).toBe(64);
    expect(directConvTiles(8 * 16, 16).WG).toBe(8);
    expect(directConvTiles(65535 * 8 + 1, 4).WG).toBe(64);
  });

  it.each(cases)(`builder: ${label}`, async (c) => {
    const { got, want } = await runBuilder(c, "subgroup");
    expect(maxRelError(got, want)).toBeLessThanOrEqual(1e-4);
  });

  it.each(up2Cases)(`builder, frame + phases: ${label}`, async (c) => {
    const { got, want } = await runBuilder(c, "subgroup");
    expect(maxRelError(got, want)).toBeLessThanOrEqual(1e-4);
  });

  it.each(up2Cases)(`FRAME_ONLY writes the outer ring only: ${label}`, async (c) => {
    const { got, want, oh, ow } = await runRing("conv2d_subgroup", c);
    expectRingOnly(got, want, c.n * c.cout, oh, ow);
  });

  const runs = tiles.flatMap((t) => cases.map((c) => ({ ...c, ...t })));
  it.each(runs)(`PX=$PX COB=$COB: ${label}`, async (c) => {
    const { got, want } = await runTile("conv2d_subgroup", c, { PX: c.PX, COB: c.COB });
    expect(maxRelError(got, want)).toBeLessThanOrEqual(1e-4);
  });

  it.each(sameRow8Cases)(`PX=8 COB=8, rows of whole vec8s: ${label}`, async (c) => {
    const { got, want } = await runTile("conv2d_subgroup", c, { PX: 8, COB: 8 });
    expect(maxRelError(got, want)).toBeLessThanOrEqual(1e-4);
  });
});
