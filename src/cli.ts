/**
 * The `funit` command's dispatch: translate images with a FUNIT generator
 * (src/node/translate-command.ts), verify the engine against a PyTorch reference file
 * (src/node/verify-command.ts), convert checkpoints (src/node/convert.ts), render the few-shot
 * Hangul font demo (src/node/demo.ts) and write fonts (src/node/font-command.ts). Everything that
 * can be checked without a GPU (arguments, input files, image sizes from their headers against the
 * model and against src/limits.ts, the call against the adapter's limits) is checked before
 * anything is decoded or a device is opened, so a mistake costs no device start-up; outputs are
 * written atomically, so a failed run leaves no file behind. Every command parses its arguments
 * with src/node/args.ts and throws typed errors; `exitCodeFor` is the one place that maps them to
 * exit statuses. Everything a command prints on stderr starts `funit <command>: `; FUNIT_DEBUG=1
 * adds the stack trace. `translate` reads an input from stdin and writes its PNG to stdout for `-`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { convertCommand, CONVERT_COMMAND } from "./node/convert";
import { DEMO_COMMAND, demoCommand } from "./node/demo";
import { FONT_COMMAND, fontCommand } from "./node/font-command";
import { TRANSLATE_COMMAND, translateCommand } from "./node/translate-command";
import { VERIFY_COMMAND, verifyCommand } from "./node/verify-command";
import { packageRoot } from "./node/assets";
import { helpText, synopsis, type CommandSpec } from "./node/args";
import { EXIT_CHECK_FAILED, EXIT_DEVICE, EXIT_OK, EXIT_USAGE } from "./node/exit-status";
import {
  CheckpointError,
  DeviceError,
  InputError,
  ModelFormatError,
  SafetensorsError,
  UsageError,
} from "./errors";

export { EXIT_CHECK_FAILED, EXIT_DEVICE, EXIT_OK, EXIT_USAGE } from "./node/exit-status";
export { outputPaths } from "./node/translate-command";
export { VERIFIED_TENSORS, type TensorCheck } from "./node/verify-command";

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

function printHelp(spec?: CommandSpec): number {
  console.log(spec ? helpText(spec) : USAGE);
  return EXIT_OK;
}

// --- entry point ---------------------------------------------------------------------------------

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
