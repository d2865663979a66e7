/**
 * The tiled convolutions (conv2d_tiled.wgsl, conv2d_tiled_f16.wgsl: the GPU kernels) under every tile choice,
 * forced one at a time on this device (lavapipe allows all of them: 1024 threads, 32 KiB of
 * workgroup memory), in f32 and f16, and under the automatic choice for a SwiftShader-sized
 * adapter (256 threads, 16 KiB: smaller TILE_K); plus chooseConvTile's rules. Shapes have channel
 * counts, pixel counts and reduction lengths that are multiples of no tile. Tolerances as in
 * kernels.test.ts (f32: 1e-4 · (1 + |ref|)) and precision-f16.test.ts (f16 inputs, 4u · (|ref| +
 * Σ|w·x|) with u = 2^-11).
 */
import { describe, expect, it } from "vitest";
import { REQUIRED_LIMITS } from "../src/device";
import { Graph } from "../src/runtime/graph";
import { conv } from "../src/ops/conv";
import {
  chooseConvTile,
  CONV_TILES,
  type ConvTileLimits,
  type ConvTileName,
} from "../src/ops/conv-tiles";
import { castTensor } from "../src/ops/images";
import { chooseKernels } from "../src/policy";
import { uploadLayer } from "../src/upload";
import { float16BitsToNumber, float16Bytes } from "../src/safetensors";
import { readFileSync } from "node:fs";
import { Funit } from "../src/engine";
import { maxAbsError, maxRelError, readTensors } from "./helpers/fixtures";
import { withDevice } from "./helpers/gpu";
import { runGraph } from "./helpers/run-graph";
import { conv2dRef, randomArray, rng, type ConvCase } from "./helpers/reference";

const U = 2 ** -11;

function roundF16(x: Float32Array): Float32Array {
  const view = new DataView(float16Bytes(x).buffer);
  return Float32Array.from({ length: x.length }, (_, i) =>
    float16BitsToNumber(view.getUint16(i * 2, true)),
  );
}

/** A SwiftShader-sized adapter: the engine's minimum limits. */
const SMALL: ConvTileLimits = { ...REQUIRED_LIMITS };

const cases: ConvCase[] = [
  { n: 2, cin: 13, h: 7, w: 9, cout: 70, k: 3, stride: 1, pad: 1, upsample: 1, act: "relu" },
  { n: 1, cin: 9, h: 5, w: 4, cout: 5, k: 5, stride: 1, pad: 2, upsample: 2, act: "tanh" },
  { n: 3, cin: 6, h: 10, w: 7, cout: 37, k: 4, stride: 2, pad: 1, upsample: 1, act: "none" },
];

type Run = ConvCase & { tile: ConvTileName | "auto (small adapter)"; dtype: "f32" | "f16" };
const runs: Run[] = [];
for (const tile of Object.keys(CONV_TILES) as ConvTileName[]) {
  for (const dtype of ["f32", "f16"] as const)
    for (const c of cases.slice(0, 2)) runs.push({ ...c, tile, dtype });
}
for (const c of cases)
  for (const dtype of ["f32", "f16"] as const)
    runs.push({ ...c, tile: "auto (small adapter)", dtype });

describe("tiled convolution under each tile choice", () => {
  it.each(runs)(
    "$tile $dtype: n$n cin$cin $h×$w → cout$cout k$k s$stride up$upsample $act",
    async (c) => {
      const rand = rng(c.n * 1000 + c.cin * 31 + c.cout);
      const f16 = c.dtype === "f16";
      const round = f16 ? roundF16 : (x: Float32Array) => x;
      const x = round(randomArray(c.n * c.cin * c.h * c.w, rand));
      const weight = round(
        randomArray(c.cout * c.cin * c.k * c.k, rand, 1 / Math.sqrt(c.cin * c.k * c.k)),
      );
      const bias = randomArray(c.cout, rand, 0.5);
      const want = conv2dRef(c, x, weight, bias);
      const got = await withDevice(async (device) => {
        const layer = uploadLayer(
          device,
          "test",
          "conv",
          [c.cout, c.cin, c.k, c.k],
          weight,
          bias,
          "test",
          { dtype: c.dtype },
        );
        try {
          const small = c.tile === "auto (small adapter)";
          const kernels = chooseKernels(device, {
            conv: "tiled",
            precision: "f32",
            ...(small ? {} : { convTile: c.tile as ConvTileName }),
          });
          if (small) kernels.tiles.limits = SMALL;
          const g = new Graph();
          const input = g.tensor("x", [c.n, c.cin, c.h, c.w]);
          let out = conv(
            g,
            f16 ? castTensor(g, input, "f16", "x") : input,
            layer,
            { stride: c.stride, pad: c.pad, upsample: c.upsample, act: c.act },
            kernels,
          );
          if (!small)
            expect(g.ops.at(-1)!.overrides).toMatchObject(CONV_TILES[c.tile as ConvTileName]);
          if (f16) out = castTensor(g, out, "f32", "out");
          const [bytes] = await runGraph(device, g, [[input, x]], [out]);
          return new Float32Array(bytes!);
        } finally {
          layer.weight.destroy();
          layer.bias.destroy();
        }
      });
      if (!f16) {
        expect(maxRelError(got, want.out)).toBeLessThanOrEqual(1e-4);
      } else {
        const terms = conv2dRef(
          { ...c, act: "none" },
          x.map(Math.abs),
          weight.map(Math.abs),
          bias.map(Math.abs),
        ).out;
        let worst = 0;
        for (let i = 0; i < got.length; i++)
          worst = Math.max(
            worst,
            Math.abs(got[i]! - want.out[i]!) / (4 * U * (Math.abs(want.out[i]!) + terms[i]!)),
          );
        expect(worst).toBeLessThanOrEqual(1);
      }
    },
  );
});

describe("a forced tile through the engine", () => {
  it("Funit.create(…, { conv: 'tiled', convTile }) runs every conv with that tile and matches PyTorch within 1e-4", async () => {
    const { tensors } = readTensors("test/fixtures/tiny-a/expected.safetensors");
    await withDevice(async (device) => {
      const bytes = new Uint8Array(readFileSync("test/fixtures/tiny-a/gen_test.safetensors"));
      // the option reaches chooseConvTile: an unknown tile is refused when the pipelines are made
      await expect(
        Funit.create(device, bytes, { conv: "tiled", convTile: "9x9" as ConvTileName }),
      ).rejects.toThrow(/unknown convolution tile '9x9'/);
      await expect(
        Funit.create(device, bytes, { conv: "direct", convTile: "64x64" }),
      ).rejects.toThrow(/convTile applies to the tiled convolution; this engine runs 'direct'/);
      const engine = await Funit.create(device, bytes, { conv: "tiled", convTile: "32x64" });
      try {
        const got = await engine.runWithIntermediates(
          tensors.get("content")!,
          tensors.get("class_images")!,
        );
        for (const name of ["content_code", "class_code", "adain_params", "output"] as const) {
          expect(maxAbsError(got[name].data, tensors.get(name)!.data), name).toBeLessThan(1e-4);
        }
      } finally {
        engine.destroy();
      }
    });
  });
});

describe("chooseConvTile", () => {
  const BIG: ConvTileLimits = {
    maxComputeInvocationsPerWorkgroup: 1024,
    maxComputeWorkgroupSizeX: 1024,
    maxComputeWorkgroupSizeY: 1024,
    maxComputeWorkgroupStorageSize: 32768,
  };

  it("shapes the tile by output channels, and narrows wide tiles when a layer would make too few workgroups", () => {
    expect(chooseConvTile(3, 65536, BIG, 4).name).toBe("256x4");
    expect(chooseConvTile(32, 65536, BIG, 4).name).toBe("128x32");
    expect(chooseConvTile(64, 65536, BIG, 4).name).toBe("64x64");
    // NVlabs animals, batch 1, 128×128: the last downsampling is 32×32 pixels × 256 channels (64
    // tiles of 64×64, 128 of 32×64); the residual blocks 16×16 × 512 (32 of 64×64, 128 of 32×32)
    expect(chooseConvTile(256, 32 * 32, BIG, 4).name).toBe("32x64");
    expect(chooseConvTile(512, 16 * 16, BIG, 4).name).toBe("32x32");
    expect(chooseConvTile(64, 10, BIG, 4).name).toBe("32x32");
    // the same layers at batch 16 have work enough for 64×64 tiles
    expect(chooseConvTile(256, 16 * 32 * 32, BIG, 4).name).toBe("64x64");
    expect(chooseConvTile(512, 16 * 16 * 16, BIG, 4).name).toBe("64x64");
    // automatic choices never exceed 256 threads, so they fit every engine device
    for (const cout of [1, 4, 5, 32, 33, 64, 256, 1024])
      for (const px of [1, 100, 1e6]) {
        const t = chooseConvTile(cout, px, SMALL, 4);
        expect(t.WG_PX * t.WG_CO).toBeLessThanOrEqual(256);
      }
  });

  it("takes TILE_K from the adapter's workgroup memory: the largest of 32, 16, 8 that fits, deeper for f16", () => {
    // f32 64×64: 32 rows × (16 + 16) vec4s × 16 bytes = 16 KiB: fits the minimum
    expect(chooseConvTile(64, 65536, SMALL, 4).TILE_K).toBe(32);
    // f32 128×32: 32 × 40 × 16 = 20 KiB > 16 KiB → 16; with 32 KiB → 32; f16 halves the bytes → 32
    expect(chooseConvTile(32, 65536, SMALL, 4).TILE_K).toBe(16);
    expect(chooseConvTile(32, 65536, BIG, 4).TILE_K).toBe(32);
    expect(chooseConvTile(32, 65536, SMALL, 2).TILE_K).toBe(32);
    // f32 256×4: 65 vec4s a row → 8 rows on 16 KiB, 16 on 32 KiB
    expect(chooseConvTile(3, 65536, SMALL, 4).TILE_K).toBe(8);
    expect(chooseConvTile(3, 65536, BIG, 4).TILE_K).toBe(16);
  });

  it("checks a forced tile against the adapter and refuses unknown or oversized ones", () => {
    // 32 rows × (32 + 32) vec4s × 16 bytes = 32 KiB
    expect(chooseConvTile(3, 100, BIG, 4, "128x128")).toMatchObject({
      name: "128x128",
      WG_PX: 32,
      WG_CO: 32,
      TILE_K: 32,
    });
    expect(
      chooseConvTile(3, 100, { ...BIG, maxComputeWorkgroupStorageSize: 16384 }, 4, "128x128")
        .TILE_K,
    ).toBe(16);
    expect(() => chooseConvTile(3, 100, SMALL, 4, "128x128")).toThrow(
      /32×32 threads a workgroup; this device allows 256/,
    );
    expect(() => chooseConvTile(3, 100, SMALL, 4, "128x64")).toThrow(/allows 256/);
    expect(() => chooseConvTile(3, 100, BIG, 4, "9x9")).toThrow(/unknown convolution tile '9x9'/);
    expect(() =>
      chooseConvTile(64, 65536, { ...BIG, maxComputeWorkgroupStorageSize: 2048 }, 4),
    ).toThrow(/does not fit this device's 2048 bytes of workgroup memory/);
  });
});
