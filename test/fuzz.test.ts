/**
 * The fuzzer of `npm run fuzz` (test/helpers/fuzz.ts) at CI size: 300 mutated inputs for each
 * parser (safetensors, zip, pickle, legacy checkpoint conversion, PNG with and without repaired
 * CRCs, JPEG), where the script runs 10,000. Every input must give data or the parser's own error
 * class with a message; a crash fails with the seed, index and mutations that reproduce it. The
 * per-input time bound (a hang) is the script's watchdog; here a hang shows as the test's timeout.
 */
import { describe, expect, it } from "vitest";
import { runFuzz } from "./helpers/fuzz";

const CI_COUNT = 300;

describe("fuzz (CI size)", () => {
  it(`${CI_COUNT} mutated inputs per parser: data or a typed refusal, never a crash`, async () => {
    const reports = await runFuzz({ root: ".", count: CI_COUNT, seed: 20261130 });
    expect(reports.map((r) => r.target)).toEqual([
      "safetensors",
      "zip",
      "pickle",
      "checkpoint (legacy, converted)",
      "png",
      "png (CRCs repaired)",
      "jpeg",
    ]);
    for (const r of reports) {
      expect(r.crashes, r.target).toEqual([]);
      expect(r.inputs, r.target).toBe(CI_COUNT);
      expect(r.accepted + r.refused, r.target).toBe(CI_COUNT);
      // Mutations reach past the first check: some inputs are refused, and most parsers accept some.
      expect(r.refused, r.target).toBeGreaterThan(0);
    }
  });
});
