/**
 * The numeric suite that the browser page and the Deno script run, built for the device at hand:
 * every kernel test on each convolution kernel the device can run, and the whole generator on
 * tiny-a and one Hangul case (UnShinmun) with each convolution kernel (a device without 8-lane
 * subgroups must refuse the subgroup one), both in f16 (the shipped f16 weights for Hangul) where
 * the device has shader-f16 (else "f16" must be refused), plus the API equivalences and profiling on tiny-a. The
 * Hangul case translates `hangulContent` of its 8 content images (all 5 class images): each content
 * image is translated independently, so a prefix is checked exactly as the whole batch is, and the
 * slow SwiftShader adapter keeps the browser suite short. `runRuntimeSuite` is what both entries
 * (test/browser/numeric.ts, test/portable/deno-main.ts) call.
 */
import { requestFunitDevice } from "../../src/device";
import { adapterInfo, type ConvKernel } from "../../src/policy";
import { convKernelsFor, kernelTests } from "./kernels";
import {
  f16ReferenceTest,
  profileTest,
  referenceTest,
  rgbaTest,
  styleEquivalenceTest,
} from "./generator";
import { runAll, type PortableTest, type TestContext, type TestResult } from "./runner";

export const TINY_A = {
  weights: "test/fixtures/tiny-a/gen_test.safetensors",
  expected: "test/fixtures/tiny-a/expected.safetensors",
};
export const HANGUL_CASE = {
  weights: "test/fixtures/hangul64/gen_test.safetensors",
  expected: "test/fixtures/hangul64/UnShinmun.safetensors",
};
export const ALL_CONV_KERNELS: readonly ConvKernel[] = ["tiled", "direct", "subgroup"];

export function runtimeSuite(
  device: GPUDevice,
  opts: { hangulContent?: number } = {},
): PortableTest[] {
  return [
    ...kernelTests(convKernelsFor(device)),
    referenceTest(TINY_A),
    ...ALL_CONV_KERNELS.flatMap((conv) => [
      referenceTest({ ...TINY_A, conv }),
      referenceTest({ ...HANGUL_CASE, conv, contentCount: opts.hangulContent }),
    ]),
    // f16 where the device has shader-f16 (Deno's lavapipe), else the refusal (Chromium's SwiftShader)
    f16ReferenceTest(TINY_A),
    f16ReferenceTest({
      weights: "weights/hangul64-f16.safetensors",
      expected: HANGUL_CASE.expected,
    }),
    styleEquivalenceTest(TINY_A.weights, TINY_A.expected),
    rgbaTest(TINY_A.weights, TINY_A.expected),
    profileTest(TINY_A.weights, TINY_A.expected),
  ];
}

export interface SuiteRun {
  /** What the Node side needs to rebuild the suite's names, plus what identifies the adapter. */
  adapter: {
    features: string[];
    subgroupMinSize?: number;
    vendor?: string;
    architecture?: string;
    description?: string;
  };
  results: TestResult[];
}

/**
 * Gets a device from `gpu` (navigator.gpu in a page or in Deno) and runs the runtime suite on it.
 * Device loss or an error outside every test's scopes adds a failed result of its own.
 */
export async function runRuntimeSuite(
  gpu: GPU | undefined,
  load: TestContext["load"],
  opts: { hangulContent?: number } = {},
  onResult?: (r: TestResult) => void,
): Promise<SuiteRun> {
  const uncaught: string[] = [];
  const device = await requestFunitDevice(gpu, { onError: (m) => uncaught.push(m) });
  const info = adapterInfo(device);
  const adapter = {
    vendor: info?.vendor,
    architecture: info?.architecture,
    description: info?.description,
    subgroupMinSize: info?.subgroupMinSize,
    features: [...device.features].sort(),
  };
  const results = await runAll(runtimeSuite(device, opts), { device, load }, onResult);
  if (uncaught.length)
    results.push({
      name: "no uncaptured device errors",
      ok: false,
      message: uncaught.join(" | "),
      ms: 0,
    });
  device.destroy();
  return { adapter, results };
}
