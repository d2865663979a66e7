/**
 * Every kernel against its plain TypeScript reference, in Node on Dawn: the portable kernel tests
 * (test/portable/kernels.ts, where the cases and tolerances are described), each convolution case
 * on every convolution kernel this device can run (Dawn's lavapipe runs all three). The same bodies
 * run in Chromium (browser-numeric.test.ts) and Deno (deno-numeric.test.ts).
 */
import { describe, expect, it } from "vitest";
import { convKernelsFor, kernelTests } from "./portable/kernels";
import { duplicateNames } from "./portable/runner";
import { runPortable, sharedDevice } from "./helpers/gpu";

const tests = kernelTests(convKernelsFor(await sharedDevice()));

describe("kernels", () => {
  it("have distinct test names", () => expect(duplicateNames(tests)).toEqual([]));
  for (const test of tests) it(test.name, () => runPortable(test));
});
