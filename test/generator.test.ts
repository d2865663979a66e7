/**
 * The whole generator against PyTorch, in Node on Dawn: every stored intermediate of every
 * reference file (tiny-a, tiny-b, and the 8 held-out Hangul fonts) within 1e-4 max absolute error
 * on the f32 path with the adapter's own kernel choice; each convolution kernel on tiny-a, tiny-b
 * and one Hangul font; the API's equivalences (class code vs class images, RGBA vs tensor, batch vs
 * single) and profiling. The bodies are the portable ones (test/portable/generator.ts), which
 * Chromium and Deno also run; the kernel choice on fake adapters is test/policy.test.ts.
 */
import { describe, expect, it } from "vitest";
import { readdirSync } from "node:fs";
import { profileTest, referenceTest, rgbaTest, styleEquivalenceTest } from "./portable/generator";
import { ALL_CONV_KERNELS, HANGUL_CASE, TINY_A } from "./portable/suite";
import { runPortable } from "./helpers/gpu";

const TINY_B = {
  weights: "test/fixtures/tiny-b/gen_test.safetensors",
  expected: "test/fixtures/tiny-b/expected.safetensors",
};
const HANGUL_DIR = "test/fixtures/hangul64";
const cases = [
  { weights: TINY_A.weights, expected: [TINY_A.expected] },
  { weights: TINY_B.weights, expected: [TINY_B.expected] },
  {
    weights: HANGUL_CASE.weights,
    expected: readdirSync(HANGUL_DIR)
      .filter((f) => f.endsWith(".safetensors") && f !== "gen_test.safetensors")
      .map((f) => `${HANGUL_DIR}/${f}`),
  },
];

describe.each(cases)("generator $weights", ({ weights, expected }) => {
  it("has reference files", () => expect(expected.length).toBeGreaterThan(0));
  for (const file of expected) {
    const test = referenceTest({ weights, expected: file });
    it(test.name, () => runPortable(test));
  }
  for (const test of [styleEquivalenceTest(weights, expected[0]!), rgbaTest(weights, expected[0]!)])
    it(test.name, () => runPortable(test));
});

describe("every convolution kernel runs the whole generator within 1e-4", () => {
  for (const conv of ALL_CONV_KERNELS) {
    for (const { weights, expected } of [TINY_A, TINY_B, HANGUL_CASE]) {
      const test = referenceTest({ weights, expected, conv });
      it(test.name, () => runPortable(test));
    }
  }
});

describe("profile", () => {
  const test = profileTest(TINY_A.weights, TINY_A.expected);
  it(test.name, () => runPortable(test));
});
