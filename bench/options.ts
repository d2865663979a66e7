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
  let repeats: number | undefined;
  if (values.repeats !== undefined) {
    repeats = Number(values.repeats);
    if (!Number.isInteger(repeats) || repeats < 1)
      throw new Error(`--repeats ${values.repeats}: use a whole number of runs, 1 or more`);
  }
  return {
    json: values.json!,
    repeats,
    cases: values.case ?? [],
    peers: !values["no-peers"],
    wallStages: values["wall-stages"]!,
    ortDist: values["ort-dist"],
    precision,
    writeAnimals: values["write-animals"]!,
  };
}
