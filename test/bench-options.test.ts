/**
 * The bench's command line and case selection (bench/options.ts, bench/cases.ts), and the
 * arithmetic count behind its GFLOP/s (bench/dispatches.ts): pure functions, no device. The bench
 * itself is run by `npm run bench`, whose figures are never asserted here.
 */
import { describe, expect, it } from "vitest";
import { benchModels } from "../bench/cases";
import {
  convFlops,
  decoder5x5Rates,
  executedFlops,
  stageTimes,
  type ConvShape,
} from "../bench/dispatches";
import { parseBenchArgs, sizeList, wholeNumber } from "../bench/options";

describe("bench options", () => {
  it("defaults: text report, every case, peers, the engine's own precision", () => {
    expect(parseBenchArgs([])).toEqual({
      json: false,
      repeats: undefined,
      cases: [],
      peers: true,
      wallStages: false,
      ortDist: undefined,
      precision: "auto",
      writeAnimals: false,
    });
  });

  it("reads every option", () => {
    const opts = parseBenchArgs([
      "--json",
      "--repeats",
      "3",
      "--case",
      "hangul64-k1-n1",
      "--case",
      "hangul64-k5-n8",
      "--no-peers",
      "--wall-stages",
      "--precision",
      "f16",
      "--ort-dist",
      "/tmp/ort",
    ]);
    expect(opts).toMatchObject({
      json: true,
      repeats: 3,
      cases: ["hangul64-k1-n1", "hangul64-k5-n8"],
      peers: false,
      wallStages: true,
      precision: "f16",
      ortDist: "/tmp/ort",
    });
  });

  it("refuses a bad precision, a bad repeat count and an unknown option", () => {
    expect(() => parseBenchArgs(["--precision", "f64"])).toThrow(/--precision f64/);
    for (const bad of ["0", "-2", "1.5", "many"])
      expect(() => parseBenchArgs([`--repeats=${bad}`])).toThrow(`--repeats ${bad}`);
    expect(() => parseBenchArgs(["--fast"])).toThrow(/--fast/);
  });

  it("reads the own-runner cases' size lists and counts, refusing what is not whole and ≥ 1", () => {
    expect(sizeList("batch", "8,16,32", "8,32")).toEqual([8, 16, 32]);
    for (const bad of ["8,0", "8,,16", "2.5", "x"])
      expect(() => sizeList("batch", bad, "8,32")).toThrow(`--batch ${bad}: use sizes like 8,32`);
    expect(wholeNumber("glyphs", "12")).toBe(12);
    expect(() => wholeNumber("glyphs", "0")).toThrow("--glyphs 0: use a whole number, 1 or more");
    expect(() => wholeNumber("repeats", "1.5", "of runs")).toThrow(
      "--repeats 1.5: use a whole number of runs, 1 or more",
    );
  });

  it("selects cases by id, applies --repeats and names the known cases for an unknown one", () => {
    const models = benchModels(
      true,
      parseBenchArgs(["--case", "hangul64-k1-n1", "--repeats", "2"]),
    );
    expect(models.map((m) => m.name)).toEqual(["hangul64"]);
    expect(models[0]!.cases.map((c) => [c.id, c.repeats])).toEqual([["hangul64-k1-n1", 2]]);
    expect(() => benchModels(true, parseBenchArgs(["--case", "nope"]))).toThrow(
      /unknown --case nope; cases: hangul64-k5-n8, hangul64-k1-n1, animals128/,
    );
  });

  it("skips the animals cases until their references are made, the slow one on a CPU adapter", () => {
    const animals = (cpu: boolean, made: boolean, args: string[] = []) =>
      Object.fromEntries(
        benchModels(cpu, parseBenchArgs(args), made)
          .flatMap((m) => m.cases)
          .filter((c) => c.model === "animals128")
          .map((c) => [c.id, c.skipped]),
      );
    const notMade = animals(false, false);
    expect(notMade["animals128-k1-n1"]).toMatch(/run bench\/make-animals.sh/);
    expect(notMade["animals128-k5-n16"]).toMatch(/run bench\/make-animals.sh/);
    expect(animals(false, true)).toEqual({
      "animals128-k1-n1": undefined,
      "animals128-k5-n16": undefined,
    });
    expect(animals(true, true)["animals128-k5-n16"]).toMatch(/--case animals128-k5-n16/);
    expect(animals(true, true, ["--case", "animals128-k5-n16"])).toEqual({
      "animals128-k5-n16": undefined,
    });
  });
});

describe("bench arithmetic", () => {
  const shape: ConvShape = {
    batch: 2,
    cin: 8,
    cout: 4,
    k: 5,
    stride: 1,
    upsample: 2,
    outH: 16,
    outW: 16,
    phases: false,
  };
  const phased: ConvShape = { ...shape, phases: true };

  it("counts a convolution as defined, and by phases as executed", () => {
    expect(convFlops(shape)).toBe(2 * 2 * 4 * 16 * 16 * 8 * 25);
    expect(executedFlops(shape)).toBe(convFlops(shape));
    // By phases: 4·6·6 interior pixels of 16×16 take 9 taps, the other 112 all 25.
    expect(executedFlops(phased)).toBe(2 * 2 * 4 * 8 * (144 * 9 + 112 * 25));
  });

  it("rates a decoder 5×5 layer over all its dispatches (Winograd and its ring)", () => {
    const k = (label: string, ms: number, part?: "frame") => ({
      label,
      stage: "decoder",
      ms,
      ...(part ? { layerShape: phased } : { shape: undefined }),
    });
    const rates = decoder5x5Rates([
      k("dec.model.2.conv conv5x5 up2 winograd input", 1),
      k("dec.model.2.conv conv5x5 up2 winograd gemm", 2),
      k("dec.model.2.conv conv5x5 up2 ring", 1, "frame"),
      k("dec.model.3 in+relu", 5),
    ]);
    expect(rates.gflops).toBeCloseTo(convFlops(phased) / 4e6, 9);
    expect(rates.executed).toBeNull();
    expect(decoder5x5Rates([k("dec.model.3 in+relu", 5)])).toEqual({
      gflops: null,
      executed: null,
    });
  });

  it("sums dispatch times per stage in generator order", () => {
    const k = (label: string, stage: string, ms: number) => ({ label, stage, ms });
    const stages = stageTimes([
      k("dec.0", "decoder", 2),
      k("enc_content.0", "content encoder", 1),
      k("dec.1", "decoder", 3),
    ]);
    expect(Object.entries(stages)).toEqual([
      ["content encoder", 1],
      ["decoder", 5],
    ]);
  });
});
