/**
 * The exit statuses of the `funit` command, shared by src/cli.ts (which maps errors to them in
 * `exitCodeFor`) and the command modules in src/node/ (which return them), plus the one way a
 * command prints its own `--help`.
 */
import { helpText, type CommandSpec } from "./args";

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

/** Prints a command's `--help` text on stdout; returns EXIT_OK. */
export function printCommandHelp(spec: CommandSpec): number {
  console.log(helpText(spec));
  return EXIT_OK;
}
