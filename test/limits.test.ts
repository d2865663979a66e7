/**
 * src/limits.ts as pure functions: the fixed limits refuse just above their value and accept it,
 * and the device-derived checks (activation binding, normalisation dispatch, texture layers and
 * side, largest weight) refuse exactly the calls that do not fit the given GPUSupportedLimits, each
 * with an InputError naming the limit. The image-header probe that feeds them is tested in
 * images.test.ts.
 */
import { describe, expect, it } from "vitest";
import { InputError } from "../src/errors";
import { contentChannels, expectedTensors, type FunitHyper } from "../src/hyper";
import {
  checkCallFits,
  checkImagePixels,
  checkLimit,
  checkResizeSide,
  checkWeightsFit,
  largestActivationBytes,
  largestWeight,
  LIMITS,
  type CallShape,
  type FunitDeviceLimits,
} from "../src/limits";

const TINY: FunitHyper = {
  nf: 8,
  n_res_blks: 1,
  nf_mlp: 32,
  latent_dim: 16,
  n_mlp_blks: 3,
  n_downs_content: 2,
  n_downs_class: 3,
};

/** WebGPU's default limits (what every device has unless more is asked for). */
const DEFAULTS: FunitDeviceLimits = {
  maxStorageBufferBindingSize: 128 * 1024 * 1024,
  maxBufferSize: 256 * 1024 * 1024,
  maxComputeWorkgroupsPerDimension: 65535,
  maxTextureArrayLayers: 256,
  maxTextureDimension2D: 8192,
};

function shape(n: number, k: number, side: number, textureOutput = false): CallShape {
  const s = { contentWidth: side, contentHeight: side, classWidth: side, classHeight: side };
  return { n, k, ...s, textureOutput };
}

function refusal(f: () => void): InputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error("expected a refusal");
}

describe("fixed limits", () => {
  it("accept the limit itself and refuse one more, naming it", () => {
    expect(() => checkLimit("maxSize", LIMITS.maxSize, "--size")).not.toThrow();
    expect(refusal(() => checkLimit("maxSize", LIMITS.maxSize + 1, "--size")).message).toMatch(
      /--size is 2049, too large \(limit maxSize = 2048\)/,
    );
    expect(() => checkImagePixels(2048, 2048, "a.png")).not.toThrow();
    expect(() => checkImagePixels(2049, 2048, "a.png")).toThrow(/too large/);
    expect(refusal(() => checkImagePixels(20000, 20000, "a.png")).message).toMatch(
      /a\.png is 20000x20000 = 400000000 pixels: too large \(limit maxImagePixels = 4194304\)/,
    );
  });

  it("--size must be a multiple of 2^n_downs_content, and says which to try", () => {
    expect(() => checkResizeSide(32, TINY)).not.toThrow();
    const e = refusal(() => checkResizeSide(30, TINY));
    expect(e.message).toMatch(/--size 30 is not a multiple of 4: .*try --size 28/);
    expect(e.message).not.toMatch(/pass --size/);
    expect(refusal(() => checkResizeSide(100000, TINY)).message).toMatch(/limit maxSize/);
  });
});

describe("device-derived limits", () => {
  it("the largest activation is the first layer's [images, nf, H, W] in f32", () => {
    expect(largestActivationBytes(TINY, shape(2, 3, 32))).toBe(4 * 8 * 3 * 32 * 32);
    const wide = { ...shape(5, 1, 32), classWidth: 64, classHeight: 64 };
    expect(largestActivationBytes(TINY, wide)).toBe(4 * 8 * Math.max(5 * 32 * 32, 64 * 64));
  });

  it("refuses exactly the batches whose activation exceeds the binding, saying how many fit", () => {
    const limits = { ...DEFAULTS, maxStorageBufferBindingSize: 4 * 8 * 32 * 32 * 100 };
    expect(() => checkCallFits(TINY, limits, shape(100, 1, 32))).not.toThrow();
    expect(() => checkCallFits(TINY, limits, shape(1, 100, 32))).not.toThrow();
    const e = refusal(() => checkCallFits(TINY, limits, shape(101, 1, 32)));
    expect(e.message).toMatch(/limit maxStorageBufferBindingSize = 3276800.*at most 100 images/);
    expect(refusal(() => checkCallFits(TINY, limits, shape(1, 101, 32))).message).toMatch(
      /at most 100 images/,
    );
    // maxBufferSize binds too when it is the smaller of the two
    const small = { ...DEFAULTS, maxBufferSize: 4 * 8 * 32 * 32 * 10 };
    expect(refusal(() => checkCallFits(TINY, small, shape(11, 1, 32))).message).toMatch(
      /limit maxBufferSize = 327680/,
    );
  });

  it("refuses 10,000 images on any device: the normalisation dispatch has one workgroup per plane", () => {
    const huge = { ...DEFAULTS, maxStorageBufferBindingSize: 2 ** 40, maxBufferSize: 2 ** 40 };
    const fit = Math.floor(65535 / contentChannels(TINY));
    expect(() => checkCallFits(TINY, huge, shape(fit, 1, 32))).not.toThrow();
    expect(refusal(() => checkCallFits(TINY, huge, shape(fit + 1, 1, 32))).message).toMatch(
      /limit maxComputeWorkgroupsPerDimension = 65535.*at most 2047 content images/,
    );
    expect(() => checkCallFits(TINY, huge, shape(10_000, 1, 32))).toThrow(InputError);
    expect(() => checkCallFits(TINY, DEFAULTS, shape(1, 10_000, 32))).toThrow(InputError);
  });

  it("a texture output needs a layer per content image and a side within maxTextureDimension2D", () => {
    expect(() => checkCallFits(TINY, DEFAULTS, shape(256, 1, 8, true))).not.toThrow();
    expect(() => checkCallFits(TINY, DEFAULTS, shape(257, 1, 8))).not.toThrow(); // readback
    expect(refusal(() => checkCallFits(TINY, DEFAULTS, shape(257, 1, 8, true))).message).toMatch(
      /limit maxTextureArrayLayers = 256/,
    );
    const tall = { ...shape(1, 1, 8, true), contentHeight: 8200 };
    expect(refusal(() => checkCallFits(TINY, DEFAULTS, tall)).message).toMatch(
      /limit maxTextureDimension2D = 8192/,
    );
  });

  it("the largest weight tensor is found among all of them and checked against the binding", () => {
    const { name, bytes } = largestWeight(TINY);
    const sizes = [...expectedTensors(TINY)].map(([, d]) => 4 * d.reduce((a, b) => a * b, 1));
    expect(bytes).toBe(Math.max(...sizes));
    expect(expectedTensors(TINY).has(name)).toBe(true);
    const exact = { ...DEFAULTS, maxStorageBufferBindingSize: bytes };
    expect(() => checkWeightsFit(TINY, exact)).not.toThrow();
    expect(
      refusal(() => checkWeightsFit(TINY, { ...DEFAULTS, maxStorageBufferBindingSize: bytes - 4 }))
        .message,
    ).toMatch(new RegExp(`weight ${name.replace(/\./g, "\\.")} needs ${bytes} bytes`));
  });
});
