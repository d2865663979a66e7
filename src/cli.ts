/**
 * The `funit` command: translate images with a FUNIT generator, verify the engine against a PyTorch
 * reference file, convert checkpoints, and render the few-shot Hangul font demo. Everything that
 * can be checked without a GPU (arguments, input files, image sizes from their headers against the
 * model and against src/limits.ts, the call against the adapter's limits) is checked before
 * anything is decoded or a device is opened, so a mistake costs no device start-up; outputs are
 * written atomically, so a failed run leaves no file behind. Every command parses its arguments
 * with src/node/args.ts and throws typed errors; `exitCodeFor` is the one place that maps them to
 * exit statuses. Everything a command prints on stderr starts `funit <command>: `; FUNIT_DEBUG=1
 * adds the stack trace. `translate` reads an input from stdin and writes its PNG to stdout for `-`.
 */
import { readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { parseSafetensors } from "./safetensors";
import { floatTensors, maxAbsError, type ImageRGBA, type Tensor } from "./tensor";
import { convertCommand, CONVERT_COMMAND } from "./node/convert";
import { DEFAULT_DEMO_OUT, DEFAULT_DEMO_TEXT, DEFAULT_DEMO_WEIGHTS, runDemo } from "./node/demo";
import { FONT_COMMAND, fontCommand } from "./node/font-command";
import { packageRoot } from "./node/assets";
import {
  helpText,
  parseCommand,
  synopsis,
  positiveInteger,
  requireString,
  type CommandSpec,
} from "./node/args";
import {
  checkTranslateCall,
  loadInputImages,
  loadWeights,
  nodeDeviceLimits,
  openEngine,
} from "./node/session";
import { checkOutputPath, encodePng, readInputFile, writeFilesAtomic } from "./node/images";
import { writeStdout } from "./node/stdio";
import {
  CheckpointError,
  DeviceError,
  InputError,
  ModelFormatError,
  SafetensorsError,
  UsageError,
} from "./errors";
import { checkLimit } from "./limits";

/** Success. */
export const EXIT_OK = 0;
/** verify found a tensor outside atol, or a failure that is not one of the typed errors (a bug). */
export const EXIT_CHECK_FAILED = 1;
/**
 * Bad command line or input: InputError (UsageError), ModelFormatError, SafetensorsError,
 * CheckpointError.
 */
export const EXIT_USAGE = 2;
/** The WebGPU device failed or is missing: DeviceError (no adapter, a missing feature, a loss). */
export const EXIT_DEVICE = 3;

const TRANSLATE_COMMAND: CommandSpec = {
  name: "translate",
  usage:
    "translate --content A.png [B.png …] --class S1.png [S2.png …] --out OUT [--weights W]\n" +
    "[--size S]",
  about: "Translates each content image into the class (style) shown by the K ≥ 1 class images.",
  options: {
    content: {
      type: "string",
      multiple: true,
      value: "A.png …",
      help: "one or more content images (PNG or JPEG); - reads one image from stdin",
    },
    class: {
      type: "string",
      multiple: true,
      value: "S1.png …",
      help: "one or more class images, K ≥ 1 (PNG or JPEG); - reads one image from stdin",
    },
    out: {
      type: "string",
      value: "OUT",
      help:
        "output PNG; - writes it to stdout (one content image only; nothing else goes\n" +
        "there); with several content images, OUT-0.png, OUT-1.png, … in content order\n" +
        "(a trailing .png on OUT is kept once: out.png → out-0.png)",
    },
    weights: {
      type: "string",
      value: "W",
      help:
        "generator weights (.safetensors, F32 or F16); default, as for demo,\n" +
        `${DEFAULT_DEMO_WEIGHTS} in the package`,
    },
    size: {
      type: "string",
      value: "S",
      help:
        "resize every input to S×S first (PIL bilinear, antialiased, as the NVlabs test\n" +
        "script does); S ≤ 2048 and a multiple of 2^n_downs_content; without it, content\n" +
        "height and width must be multiples of 2^n_downs_content",
    },
  },
  notes: "Grey, RGB and RGBA inputs all become RGB; transparency is composited onto white.",
};

const VERIFY_COMMAND: CommandSpec = {
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

const DEMO_COMMAND: CommandSpec = {
  name: "demo",
  usage: "demo [TEXT] [--out FILE] [--weights W]",
  about:
    `Renders TEXT (default "${DEFAULT_DEMO_TEXT}") in each of the 8 held-out fonts from K=5\n` +
    "reference glyphs of each: top row the source font, then one row per font (its name, the\n" +
    "references, a gap, the generated text).",
  options: {
    out: { type: "string", value: "FILE", help: `output PNG (default ${DEFAULT_DEMO_OUT})` },
    weights: {
      type: "string",
      value: "W",
      help: `generator weights (default ${DEFAULT_DEMO_WEIGHTS} in the package)`,
    },
  },
  maxPositionals: Infinity,
};

/** Every command's description, for `funit help` and the test that each option has help. */
export const COMMANDS: Record<string, CommandSpec> = {
  translate: TRANSLATE_COMMAND,
  verify: VERIFY_COMMAND,
  convert: CONVERT_COMMAND,
  demo: DEMO_COMMAND,
  font: FONT_COMMAND,
};

const USAGE = [
  "funit: FUNIT few-shot image-to-image translation on WebGPU",
  "",
  "usage:",
  ...Object.values(COMMANDS).map((spec) => `  funit ${synopsis(spec, 0)}`),
  "  funit help [COMMAND]     (or funit COMMAND --help)",
  "  funit --version",
  "",
  "exit status: 0 ok, 1 failed check (verify) or internal error, 2 usage or input error (a bad or",
  "too-large image, file or model; every refusal names its limit), 3 WebGPU device error",
].join("\n");

/** "funit-webgpu 0.1.0", from the package's own package.json. */
export function versionText(): string {
  const manifest = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8"));
  return `${manifest.name} ${manifest.version}`;
}

// --- shared steps --------------------------------------------------------------------------------------

/**
 * Output paths: OUT itself for one image, else OUT-0.png, OUT-1.png, … (a trailing .png on OUT kept
 * once).
 */
export function outputPaths(out: string, count: number): string[] {
  if (count === 1) return [out];
  const stem = extname(out).toLowerCase() === ".png" ? out.slice(0, -4) : out;
  return Array.from({ length: count }, (_, i) => `${stem}-${i}.png`);
}

// --- commands ------------------------------------------------------------------------------------------

/** The path that means stdin (an input) or stdout (the output). */
const STDIO = "-";

async function translateCommand(args: string[]): Promise<number> {
  const { values } = parseCommand(TRANSLATE_COMMAND, args);
  if (values.help) return printHelp(TRANSLATE_COMMAND);
  const weightsPath =
    (values.weights as string | undefined) ?? join(packageRoot(), DEFAULT_DEMO_WEIGHTS);
  const outPath = requireString(values, "out");
  const contentPaths = (values.content as string[] | undefined) ?? [];
  const classPaths = (values.class as string[] | undefined) ?? [];
  if (contentPaths.length === 0) throw new UsageError("--content needs at least one image");
  if (classPaths.length === 0)
    throw new UsageError("K = 0: --class needs at least one class image");
  if ([...contentPaths, ...classPaths].filter((p) => p === STDIO).length > 1)
    throw new UsageError("stdin holds one image: '-' may be given once");
  if (outPath === STDIO && contentPaths.length > 1)
    throw new UsageError(
      `--out - writes one PNG to stdout, but ${contentPaths.length} content images make ` +
        `${contentPaths.length}: give --out a file name`,
    );
  if (outPath === STDIO && process.stdout.isTTY)
    throw new UsageError("--out - writes a binary PNG to stdout, which is a terminal: redirect it");
  const size =
    values.size === undefined ? undefined : positiveInteger("size", values.size as string);
  if (size !== undefined) checkLimit("maxSize", size, "--size");

  const outPaths = outPath === STDIO ? [] : outputPaths(outPath, contentPaths.length);
  for (const p of outPaths) await checkOutputPath(p);
  const weights = await loadWeights(weightsPath);
  // Sizes from the headers, against the model, src/limits.ts and the adapter: nothing decoded yet.
  await checkTranslateCall(weights.hyper, contentPaths, classPaths, size, nodeDeviceLimits);
  const contents = await loadInputImages(contentPaths, size);
  const classImages = await loadInputImages(classPaths, size);

  const engine = await openEngine(weights);
  let outputs: ImageRGBA[];
  try {
    outputs = await engine.funit.translate(contents, classImages);
  } finally {
    engine.close();
  }
  if (outPath === STDIO) {
    await writeStdout(encodePng(outputs[0]!));
    return EXIT_OK;
  }
  await writeFilesAtomic(outputs.map((img, i) => ({ path: outPaths[i]!, bytes: encodePng(img) })));
  for (const p of outPaths) console.log(p);
  return EXIT_OK;
}

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

async function verifyCommand(args: string[]): Promise<number> {
  const { values } = parseCommand(VERIFY_COMMAND, args);
  if (values.help) return printHelp(VERIFY_COMMAND);
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

async function demoCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(DEMO_COMMAND, args);
  if (values.help) return printHelp(DEMO_COMMAND);
  await runDemo({
    text: positionals.length ? positionals.join(" ") : undefined,
    out: values.out as string | undefined,
    weights: values.weights as string | undefined,
  });
  return EXIT_OK;
}

function printHelp(spec?: CommandSpec): number {
  console.log(spec ? helpText(spec) : USAGE);
  return EXIT_OK;
}

// --- entry point ---------------------------------------------------------------------------------------

/**
 * The one mapping from errors to exit statuses. Input of any kind (the command line, an image, a
 * weights or checkpoint file, a limit it exceeds) is 2; the device is 3; anything untyped is a bug
 * in funit and exits 1, as a failed verify does.
 */
export function exitCodeFor(e: unknown): number {
  if (
    e instanceof InputError ||
    e instanceof ModelFormatError ||
    e instanceof SafetensorsError ||
    e instanceof CheckpointError
  )
    return EXIT_USAGE;
  if (e instanceof DeviceError) return EXIT_DEVICE;
  return EXIT_CHECK_FAILED;
}

/** Runs one command line (without the node and script paths) and returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "translate":
        return await translateCommand(rest);
      case "verify":
        return await verifyCommand(rest);
      case "convert":
        return await convertCommand(rest);
      case "demo":
        return await demoCommand(rest);
      case "font":
        return await fontCommand(rest);
      case "help":
      case "--help":
      case "-h":
        if (rest[0] !== undefined && !(rest[0] in COMMANDS))
          throw new UsageError(`unknown command '${rest[0]}'`);
        return printHelp(rest[0] === undefined ? undefined : COMMANDS[rest[0]]);
      case "--version":
        console.log(versionText());
        return EXIT_OK;
      case undefined:
        console.error(USAGE);
        return EXIT_USAGE;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    return reportError(e, command !== undefined && command in COMMANDS ? command : undefined);
  }
}

/**
 * Prints a failure as `funit <command>: <message>` (plain `funit:` outside a command), the one
 * prefix of everything a command says on stderr, and returns its exit status.
 */
function reportError(e: unknown, command: string | undefined): number {
  const err = e instanceof Error ? e : new Error(String(e));
  const prefix = command ? `funit ${command}:` : "funit:";
  console.error(`${prefix} ${err.message}`);
  if (err instanceof UsageError)
    console.error(`${prefix} run 'funit help${command ? ` ${command}` : ""}' for usage`);
  const code = exitCodeFor(err);
  if ((process.env.FUNIT_DEBUG === "1" || code === EXIT_CHECK_FAILED) && err.stack)
    console.error(err.stack); // an untyped error is a bug: its stack is what a report needs
  return code;
}
