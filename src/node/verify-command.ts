/**
 * `funit verify`: runs the engine on the inputs stored in a funit-expected/1 file (the PyTorch
 * reference) and compares every stored intermediate (content_code, class_code, adain_params,
 * output) by max absolute error against --atol, printing a table or one JSON object. Exit 0 only
 * when all are within atol, 1 otherwise.
 */
import { parseSafetensors } from "../safetensors";
import { floatTensors, maxAbsError, type Tensor } from "../tensor";
import { InputError, UsageError } from "../errors";
import { parseCommand, requireString, type CommandSpec } from "./args";
import { EXIT_CHECK_FAILED, EXIT_OK, printCommandHelp } from "./exit-status";
import { readInputFile } from "./files";
import { loadWeights, openEngine } from "./session";

export const VERIFY_COMMAND: CommandSpec = {
  name: "verify",
  usage: "verify --weights W --expected E.safetensors [--atol 1e-4] [--json]",
  about:
    "Runs the engine on the 'content' and 'class_images' tensors of a funit-expected/1 file and\n" +
    "reports the max absolute error of every stored intermediate (content_code, class_code,\n" +
    "adain_params, output). Exit 0 only when all are within atol, 1 otherwise.",
  options: {
    weights: { type: "string", value: "W", help: "generator weights (.safetensors)" },
    expected: {
      type: "string",
      value: "E",
      help: "the funit-expected/1 reference file (.safetensors)",
    },
    atol: { type: "string", value: "A", help: "absolute tolerance (default 1e-4)" },
    json: {
      type: "boolean",
      help: 'print exactly one JSON object: { "<tensor>": { "maxAbsErr", "shape" }, …, "ok" }',
    },
  },
};

/** The intermediates a funit-expected/1 file may hold, in pipeline order. */
export const VERIFIED_TENSORS = ["content_code", "class_code", "adain_params", "output"] as const;

export interface TensorCheck {
  /** null when the shapes differ (nothing to compare) or an error is not a number (NaN). */
  maxAbsErr: number | null;
  shape: number[];
  /** Present only when the engine's shape differs from the stored one. */
  engineShape?: number[];
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

async function readExpected(path: string): Promise<Map<string, Tensor>> {
  const bytes = await readInputFile(path, "expected file", "maxWeightsFileBytes");
  try {
    const file = parseSafetensors(bytes);
    if (file.metadata.format !== "funit-expected/1") {
      throw new InputError(
        `metadata format is ${JSON.stringify(file.metadata.format)}, expected "funit-expected/1"`,
      );
    }
    const tensors = floatTensors(file);
    for (const name of ["content", "class_images"]) {
      if (!tensors.has(name)) throw new InputError(`tensor '${name}' is missing`);
    }
    if (!VERIFIED_TENSORS.some((n) => tensors.has(n)))
      throw new InputError(`holds none of ${VERIFIED_TENSORS.join(", ")}: nothing to verify`);
    return tensors;
  } catch (e) {
    throw new InputError(`expected file ${path}: ${(e as Error).message}`);
  }
}

export async function verifyCommand(args: string[]): Promise<number> {
  const { values } = parseCommand(VERIFY_COMMAND, args);
  if (values.help) return printCommandHelp(VERIFY_COMMAND);
  const weightsPath = requireString(values, "weights");
  const expectedPath = requireString(values, "expected");
  const atolText = (values.atol as string | undefined) ?? "1e-4";
  const atol = Number(atolText);
  if (atolText.trim() === "" || !Number.isFinite(atol) || atol < 0)
    throw new UsageError(`--atol must be a non-negative number, got '${atolText}'`);

  const expected = await readExpected(expectedPath);
  const weights = await loadWeights(weightsPath);
  const engine = await openEngine(weights);
  let got: Record<string, Tensor>;
  try {
    got = {
      ...(await engine.funit.runWithIntermediates(
        expected.get("content")!,
        expected.get("class_images")!,
      )),
    };
  } finally {
    engine.close();
  }

  const report: Record<string, TensorCheck> = {};
  let ok = true;
  for (const name of VERIFIED_TENSORS) {
    const want = expected.get(name);
    if (!want) continue;
    const have = got[name]!;
    if (!sameShape(want.shape, have.shape)) {
      report[name] = { maxAbsErr: null, shape: want.shape, engineShape: have.shape };
      ok = false;
      continue;
    }
    const err = maxAbsError(have.data, want.data);
    report[name] = { maxAbsErr: Number.isNaN(err) ? null : err, shape: want.shape };
    if (!(err <= atol)) ok = false;
  }

  if (values.json) {
    console.log(JSON.stringify({ ...report, ok }));
  } else {
    printVerifyTable(report, atol, ok, expectedPath);
  }
  return ok ? EXIT_OK : EXIT_CHECK_FAILED;
}

function printVerifyTable(
  report: Record<string, TensorCheck>,
  atol: number,
  ok: boolean,
  expectedPath: string,
): void {
  const rows = Object.entries(report).map(([name, r]) => {
    const err = r.engineShape
      ? `shape [${r.engineShape}] ≠`
      : r.maxAbsErr === null
        ? "NaN"
        : r.maxAbsErr.toExponential(3);
    const pass = r.maxAbsErr !== null && r.maxAbsErr <= atol;
    return [name, `[${r.shape.join(", ")}]`, err, pass ? "ok" : "FAIL"];
  });
  const header = ["tensor", "shape", "max |err|", `atol ${atol}`];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((s, c) => s.padEnd(widths[c]!))
      .join("  ")
      .trimEnd();
  console.log(`verify ${expectedPath}`);
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log(ok ? "all within atol" : "FAILED: some tensors exceed atol");
}
