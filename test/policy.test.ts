/**
 * The per-adapter policy (src/policy.ts): chooseConvKernel, choosePrecision and chooseKernels on
 * fake adapters (a GPU, lavapipe with and without subgroups, SwiftShader), the option conflicts it
 * refuses, and the phase-filter rule (uploaded exactly when a CPU kernel runs, on any adapter);
 * then on this device, that engines follow it: a forced tiled kernel uploads no phase filters and
 * runs none, a CPU kernel does, and f16Products reaches the f16 convolution.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { REQUIRED_LIMITS } from "../src/device";
import { Funit } from "../src/engine";
import { DeviceError } from "../src/errors";
import {
  adapterInfo,
  chooseConvKernel,
  chooseKernels,
  choosePrecision,
  isCpuAdapter,
  type AdapterInfo,
} from "../src/policy";
import { readTensors } from "./helpers/fixtures";
import { withDevice } from "./helpers/gpu";
import { F16_TOL } from "./portable/generator";
import { maxAbsError } from "../src/tensor";

/** A device as far as the policy looks at one: adapter info, features and limits. */
const fake = (info: Partial<AdapterInfo>, features: string[]) =>
  ({
    adapterInfo: info,
    features: new Set(features),
    limits: { ...REQUIRED_LIMITS, maxComputeWorkgroupStorageSize: 32768 },
  }) as unknown as GPUDevice;
const gpu = { vendor: "nvidia", architecture: "hopper", subgroupMinSize: 32 };
const lavapipe = {
  vendor: "mesa",
  description: "llvmpipe (LLVM 15.0.6, 256 bits)",
  isFallbackAdapter: true,
  subgroupMinSize: 8,
};
const swiftshader = { vendor: "google", architecture: "swiftshader", subgroupMinSize: 4 };

describe("adapterInfo and isCpuAdapter", () => {
  it("read the device's adapter; software adapters count as CPU ones", () => {
    expect(adapterInfo(fake(gpu, []))).toEqual(gpu);
    expect(adapterInfo({} as GPUDevice)).toBeUndefined();
    expect(isCpuAdapter(gpu as AdapterInfo)).toBe(false);
    expect(isCpuAdapter(lavapipe as AdapterInfo)).toBe(true);
    expect(isCpuAdapter(swiftshader as AdapterInfo)).toBe(true);
    expect(isCpuAdapter({ isFallbackAdapter: true } as AdapterInfo)).toBe(true);
    expect(isCpuAdapter(undefined)).toBe(false);
  });
});

describe("convolution kernel choice", () => {
  it("tiled on GPUs, subgroup on CPU adapters with 8-lane subgroups, direct on other CPU adapters", () => {
    expect(chooseConvKernel(fake(gpu, ["subgroups"]))).toBe("tiled");
    expect(chooseConvKernel(fake(lavapipe, ["subgroups"]))).toBe("subgroup");
    expect(chooseConvKernel(fake({ ...lavapipe, subgroupMinSize: undefined }, []))).toBe("direct");
    expect(chooseConvKernel(fake(swiftshader, ["subgroups"]))).toBe("direct");
  });
});

describe("precision choice", () => {
  it("auto: f16 on GPUs with shader-f16; f32 on CPU adapters (emulated f16) and without the feature", () => {
    expect(choosePrecision(fake(gpu, ["shader-f16"]))).toBe("f16");
    expect(choosePrecision(fake(gpu, ["shader-f16"]), "auto")).toBe("f16");
    expect(choosePrecision(fake(gpu, []))).toBe("f32");
    expect(choosePrecision(fake(lavapipe, ["shader-f16"]))).toBe("f32");
    expect(choosePrecision(fake(swiftshader, []))).toBe("f32");
  });
  it("explicit choices are kept; f16 without shader-f16 is a DeviceError", () => {
    expect(choosePrecision(fake(gpu, ["shader-f16"]), "f32")).toBe("f32");
    expect(choosePrecision(fake(lavapipe, ["shader-f16"]), "f16")).toBe("f16");
    expect(() => choosePrecision(fake(gpu, []), "f16")).toThrow(DeviceError);
    expect(() => choosePrecision(fake(gpu, []), "f16")).toThrow(/shader-f16/);
  });
});

describe("chooseKernels", () => {
  it("on its own: the adapter's kernel, precision and norm threads, and the device's tile limits", () => {
    expect(chooseKernels(fake(gpu, ["shader-f16"]))).toEqual({
      conv: "tiled",
      precision: "f16",
      normThreads: 256,
      tiles: {
        limits: {
          maxComputeInvocationsPerWorkgroup: 256,
          maxComputeWorkgroupSizeX: 256,
          maxComputeWorkgroupSizeY: 64,
          maxComputeWorkgroupStorageSize: 32768,
        },
      },
      f16Products: "f16",
      phaseWeights: false,
      winogradWeights: false,
    });
    expect(chooseKernels(fake(lavapipe, ["subgroups", "shader-f16"]))).toMatchObject({
      conv: "subgroup",
      precision: "f32",
      normThreads: 8,
      phaseWeights: true,
      winogradWeights: true,
    });
    expect(chooseKernels(fake(swiftshader, []))).toMatchObject({ conv: "direct", normThreads: 8 });
  });

  it("phase filters exactly when a CPU kernel runs, whatever the adapter", () => {
    // forcing tiled on a CPU adapter uploads none (nothing would read them) …
    expect(chooseKernels(fake(lavapipe, ["subgroups"]), { conv: "tiled" }).phaseWeights).toBe(
      false,
    );
    // … and forcing a CPU kernel on a GPU keeps the phase path
    expect(chooseKernels(fake(gpu, []), { conv: "direct" }).phaseWeights).toBe(true);
    expect(chooseKernels(fake(gpu, ["subgroups"]), { conv: "subgroup" }).phaseWeights).toBe(true);
    // the f16 path runs the tiled kernel only
    expect(chooseKernels(fake(lavapipe, ["shader-f16"]), { precision: "f16" })).toMatchObject({
      conv: "tiled",
      phaseWeights: false,
    });
  });

  it("refuses conflicting options and kernels the device cannot run", () => {
    const f16gpu = fake(gpu, ["shader-f16"]);
    expect(() => chooseKernels(f16gpu, { precision: "f16", conv: "direct" })).toThrow(
      /f16 path has only the tiled convolution/,
    );
    const f32 = { precision: "f32" } as const;
    expect(() => chooseKernels(f16gpu, { ...f32, conv: "direct", convTile: "64x64" })).toThrow(
      /convTile applies to the tiled convolution; this engine runs 'direct'/,
    );
    expect(() => chooseKernels(f16gpu, { precision: "f32", f16Products: "f32" })).toThrow(
      /f16Products applies to the f16 path/,
    );
    expect(() => chooseKernels(fake(swiftshader, ["subgroups"]), { conv: "subgroup" })).toThrow(
      DeviceError,
    );
    expect(chooseKernels(f16gpu, { convTile: "32x64", f16Products: "f32" })).toMatchObject({
      tiles: { force: "32x64" },
      f16Products: "f32",
    });
  });
});

const HANGUL = "test/fixtures/hangul64/gen_test.safetensors";
const BANDAL = "test/fixtures/hangul64/Bandal.safetensors";

describe("engines follow the policy on this device", () => {
  it("a forced tiled kernel uploads and runs no phase filters; a CPU kernel runs the upsampling convolutions by phases", async () => {
    const bytes = new Uint8Array(readFileSync(HANGUL));
    const { tensors } = readTensors(BANDAL);
    const one = (name: string) => {
      const t = tensors.get(name)!;
      const per = t.data.length / t.shape[0]!;
      return { shape: [1, ...t.shape.slice(1)], data: t.data.slice(0, per) };
    };
    await withDevice(async (device) => {
      const runs: Record<string, { weightBytes: number; phases: number }> = {};
      for (const conv of ["tiled", "direct"] as const) {
        const engine = await Funit.create(device, bytes, { conv, precision: "f32" });
        try {
          expect(engine.kernels.phaseWeights).toBe(conv === "direct");
          const dispatches = await engine.profile(one("content"), one("class_images"));
          runs[conv] = {
            weightBytes: engine.weightBytes,
            phases: dispatches.filter((d) => d.overrides.PHASES === true).length,
          };
        } finally {
          engine.destroy();
        }
      }
      // the Hangul decoder has two upsampling 5×5 convolutions
      expect(runs.direct!.phases).toBe(2);
      expect(runs.tiled!.phases).toBe(0);
      expect(runs.direct!.weightBytes).toBeGreaterThan(runs.tiled!.weightBytes);
    });
  });

  it("f16Products 'f32' runs the f16 convolutions with f32 products, within the f16 tolerances", async () => {
    await withDevice(async (device) => {
      expect(device.features.has("shader-f16")).toBe(true); // lavapipe emulates it
      const bytes = new Uint8Array(readFileSync(HANGUL));
      const { tensors } = readTensors(BANDAL);
      const engine = await Funit.create(device, bytes, { precision: "f16", f16Products: "f32" });
      try {
        expect(engine.kernels.f16Products).toBe("f32");
        const content = tensors.get("content")!;
        const classImages = tensors.get("class_images")!;
        const convs = (await engine.profile(content, classImages)).filter(
          (d) => d.kernel === "conv2d_tiled_f16",
        );
        expect(convs.length).toBeGreaterThan(0);
        expect(convs.every((d) => d.overrides.F32_MATH === true)).toBe(true);
        const got = await engine.runWithIntermediates(content, classImages);
        expect(maxAbsError(got.output.data, tensors.get("output")!.data)).toBeLessThanOrEqual(
          F16_TOL.output,
        );
      } finally {
        engine.destroy();
      }
    });
  });
});
