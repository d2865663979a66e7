/** Class-code helpers: blending, averaging, and the JSON round trip (exact for float32). */
import { describe, expect, it } from "vitest";
import {
  averageClassCodes,
  classCodeFromJSON,
  classCodeToJSON,
  interpolateClassCodes,
} from "../src/style";
import { randomArray, rng } from "./helpers/reference";
import { InputError } from "../src/errors";

describe("class codes", () => {
  const rand = rng(3);
  const a = randomArray(64, rand),
    b = randomArray(64, rand);
  it("interpolates: t=0 gives a, t=1 gives b, t=0.5 the mean", () => {
    expect(interpolateClassCodes(a, b, 0)).toEqual(a);
    expect(interpolateClassCodes(a, b, 1)).toEqual(b);
    const mid = interpolateClassCodes(a, b, 0.5),
      mean = averageClassCodes([a, b]);
    mid.forEach((v, i) => expect(v).toBeCloseTo(mean[i]!, 6));
  });
  it("round-trips through JSON exactly and checks the length", () => {
    expect(classCodeFromJSON(classCodeToJSON(a), 64)).toEqual(a);
    expect(() => classCodeFromJSON(classCodeToJSON(a), 32)).toThrow(
      /has 64 numbers, the model needs 32/,
    );
    expect(() => classCodeFromJSON('[1, "x"]')).toThrow(InputError);
    expect(() => classCodeFromJSON("{")).toThrow(/not valid JSON/);
    expect(() => averageClassCodes([])).toThrow(InputError);
    expect(() => interpolateClassCodes(a, b.subarray(1), 0.5)).toThrow(/differ in length/);
  });
  it("refuses numbers that are finite as doubles but overflow float32 (issue 10 item 10)", () => {
    // 1e39 is a finite double and Infinity once stored in a Float32Array.
    expect(Number.isFinite(1e39) && !Number.isFinite(Math.fround(1e39))).toBe(true);
    expect(() => classCodeFromJSON("[0, 1e39]")).toThrow(/finite as float32/);
    expect(() => classCodeFromJSON("[-1e39]")).toThrow(InputError);
    // The largest float32 and values that round down to it stay accepted.
    const max = 3.4028234663852886e38;
    expect(classCodeFromJSON(`[${max}, -${max}]`)).toEqual(Float32Array.from([max, -max]));
  });
});
