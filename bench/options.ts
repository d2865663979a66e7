/**
 * The bench's command line, parsed by `parseBenchArgs` when main() asks (never at import, so the
 * modules can be imported and the parser tested without running a bench). Unknown options and bad
 * values are refused before any device is opened.
 */
import { parseArgs } from "node:util";
import type { Precision } from "../src/index";

export interface BenchOptions {
  /** Print one JSON object instead of the tables. */
  json: boolean;
  /** Paired runs per case; undefined: each case's default for the adapter. */
  repeats: number | undefined;
  /** Case ids asked for with --case (repeatable); empty: the default cases. */
  cases: string[];
  /** False with --no-peers: the engine alone. */
  peers: boolean;
  /** Wall time of encodeClass and translation instead of per-dispatch GPU times. */
  wallStages: boolean;
  /** onnxruntime-web's dist/ folder, for a bundled bench (dist/gpu/bench.mjs). */
  ortDist: string | undefined;
  /** The engine's precision; auto: its own choice per adapter. */
  precision: Precision | "auto";
  /** Only write the animals case's weights and inputs (bench/make-animals.sh). */
  writeAnimals: boolean;
}

export const BENCH_USAGE =
  "node dist/bench/bench.js [--json] [--repeats N] [--case ID …] [--no-peers] [--wall-stages]\n" +
  "                         [--precision auto|f32|f16] [--ort-dist DIR] [--write-animals]";

export function parseBenchArgs(args: string[]): BenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: "boolean", default: false },
      repeats: { type: "string" },
      case: { type: "string", multiple: true },
      "no-peers": { type: "boolean", default: false },
      "wall-stages": { type: "boolean", default: false },
      "ort-dist": { type: "string" },
      precision: { type: "string", default: "auto" },
      "write-animals": { type: "boolean", default: false },
    },
  });
  const precision = values.precision!;
  if (precision !== "auto" && precision !== "f32" && precision !== "f16")
    throw new Error(`--precision ${precision}: use auto, f32 or f16`);
  return {
    json: values.json!,
    repeats:
      values.repeats === undefined ? undefined : wholeNumber("repeats", values.repeats, "of runs"),
    cases: values.case ?? [],
    peers: !values["no-peers"],
    wallStages: values["wall-stages"]!,
    ortDist: values["ort-dist"],
    precision,
    writeAnimals: values["write-animals"]!,
  };
}

/** A flag's comma-separated sizes (`--batch 8,16,32`), each a whole number, 1 or more. */
export function sizeList(flag: string, value: string, example: string): number[] {
  const sizes = value.split(",").map(Number);
  if (!sizes.every((n) => Number.isInteger(n) && n >= 1))
    throw new Error(`--${flag} ${value}: use sizes like ${example}`);
  return sizes;
}

/** A flag's whole number, 1 or more; `what` says what it counts in the refusal ("of runs"). */
export function wholeNumber(flag: string, value: string, what?: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--${flag} ${value}: use a whole number${what ? ` ${what}` : ""}, 1 or more`);
  return n;
}
