/**
 * The numeric suite that the browser page and the Deno script run, built for the device at hand:
 * every kernel test on each convolution kernel the device can run, and the whole generator on
 * tiny-a and one Hangul case (UnShinmun) with each convolution kernel (a device without 8-lane
 * subgroups must refuse the subgroup one), plus the API equivalences and profiling on tiny-a. The
 * Hangul case translates `hangulContent` of its 8 content images (all 5 class images): each content
 * image is translated independently, so a prefix is checked exactly as the whole batch is, and the
 * slow SwiftShader adapter keeps the browser suite short.
 */
import type { ConvKernel } from "../../src/device";
import { convKernelsFor, kernelTests } from "./kernels";
import { profileTest, referenceTest, rgbaTest, styleEquivalenceTest } from "./generator";
import type { PortableTest } from "./runner";

export const TINY_A = { weights: "test/fixtures/tiny-a/gen_test.safetensors", expected: "test/fixtures/tiny-a/expected.safetensors" };
export const HANGUL_CASE = { weights: "test/fixtures/hangul64/gen_test.safetensors", expected: "test/fixtures/hangul64/UnShinmun.safetensors" };
export const ALL_CONV_KERNELS: readonly ConvKernel[] = ["tiled", "direct", "subgroup"];

export function runtimeSuite(device: GPUDevice, opts: { hangulContent?: number } = {}): PortableTest[] {
  return [
    ...kernelTests(convKernelsFor(device)),
    referenceTest(TINY_A),
    ...ALL_CONV_KERNELS.flatMap((conv) => [
      referenceTest({ ...TINY_A, conv }),
      referenceTest({ ...HANGUL_CASE, conv, contentCount: opts.hangulContent }),
    ]),
    styleEquivalenceTest(TINY_A.weights, TINY_A.expected),
    rgbaTest(TINY_A.weights, TINY_A.expected),
    profileTest(TINY_A.weights, TINY_A.expected),
  ];
}
