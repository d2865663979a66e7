/**
 * `funit convert IN.pt OUT.safetensors [--generator gen_test|gen] [--dtype f32|f16]` for Node:
 * wraps the input file in a positioned-read reader (the checkpoint is never read whole, and no read
 * is longer than LIMITS.readChunkBytes), streams the safetensors output into a temp file next to
 * OUT that is created only once the checkpoint has passed every check, and renames it into place
 * only when everything was written, so a failed conversion never leaves a partial or stale output
 * behind. A cli-progress bar on stderr is shown only when stderr is a terminal, so logs and pipes
 * stay clean.
 */
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import cliProgress from "cli-progress";
import { convertToSafetensors, type ConvertResult } from "../torch/convert";
import type { GeneratorChoice } from "../torch/checkpoint";
import type { RandomAccessReader } from "../torch/reader";
import {
  CheckpointError,
  InputError,
  ModelFormatError,
  SafetensorsError,
  UsageError,
} from "../errors";
import { LIMITS } from "../limits";
import { helpText, oneOf, parseCommand, type CommandSpec } from "./args";
import { checkOutputPath, checkOutputTarget, describeFsError } from "./files";

export interface ConvertCheckpointOptions {
  generator?: GeneratorChoice;
  dtype?: "f32" | "f16";
  onProgress?: (done: number, total: number) => void;
}

/**
 * A RandomAccessReader over an open file; short reads are looped, reads past the end return fewer
 * bytes, and each read of the handle asks for at most LIMITS.readChunkBytes (Node aborts on a
 * length past 2^31 - 1).
 */
export async function fileReader(handle: FileHandle): Promise<RandomAccessReader> {
  const { size } = await handle.stat();
  return {
    size,
    async read(offset, length) {
      const out = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
      let filled = 0;
      while (filled < out.byteLength) {
        const { bytesRead } = await handle.read(
          out,
          filled,
          Math.min(out.byteLength - filled, LIMITS.readChunkBytes),
          offset + filled,
        );
        if (bytesRead === 0) return out.subarray(0, filled);
        filled += bytesRead;
      }
      return out;
    },
  };
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.byteLength;) {
    const { bytesWritten } = await handle.write(bytes, at, bytes.byteLength - at);
    at += bytesWritten;
  }
}

/**
 * "cannot write OUT: reason" for a failure writing the output: names the output, never the temp
 * file.
 */
function outputError(outPath: string, e: unknown): InputError {
  if (e instanceof InputError) return e;
  return new InputError(`cannot write ${outPath}: ${describeFsError(e)}`, { cause: e });
}

/**
 * Converts a torch checkpoint file into a safetensors file; OUT appears only if conversion
 * succeeded. The temp file beside OUT is created at the first write, which comes only after every
 * pickle, record and shape was checked, so a refused checkpoint never touches the output directory.
 * Errors: the checkpoint's own (CheckpointError, ModelFormatError) with the input named by the
 * caller; InputError "cannot read IN" / "cannot write OUT" for the files themselves.
 */
export async function convertCheckpoint(
  inPath: string,
  outPath: string,
  opts: ConvertCheckpointOptions = {},
): Promise<ConvertResult> {
  await checkOutputPath(outPath);
  const input = await open(inPath, "r").catch((e: unknown) => {
    throw new InputError(`cannot read checkpoint ${inPath}: ${describeFsError(e)}`, { cause: e });
  });
  const tempPath = join(
    dirname(outPath),
    `.${basename(outPath)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`,
  );
  let output: FileHandle | undefined;
  let created = false;
  const write = async (bytes: Uint8Array) => {
    try {
      if (!output) {
        created = true;
        output = await open(tempPath, "wx");
      }
      await writeAll(output, bytes);
    } catch (e) {
      throw outputError(outPath, e);
    }
  };
  try {
    const result = await convertToSafetensors(await fileReader(input), write, {
      generator: opts.generator,
      dtype: opts.dtype,
      source: basename(inPath),
      onProgress: opts.onProgress,
    });
    try {
      await (output as FileHandle | undefined)?.close();
      output = undefined;
      await checkOutputTarget(outPath); // again: it may have appeared while converting
      await rename(tempPath, outPath);
    } catch (e) {
      throw outputError(outPath, e);
    }
    return result;
  } catch (e) {
    await (output as FileHandle | undefined)?.close().catch(() => {});
    if (created) await rm(tempPath, { force: true }).catch(() => {});
    throw e;
  } finally {
    await input.close();
  }
}

export const CONVERT_COMMAND: CommandSpec = {
  name: "convert",
  usage: "convert IN.pt OUT.safetensors [--generator gen_test|gen] [--dtype f32|f16]",
  about: "Converts an NVlabs FUNIT PyTorch checkpoint (zip or legacy format) to safetensors.",
  options: {
    generator: {
      type: "string",
      value: "G",
      help: "which generator of a {gen, gen_test} checkpoint: gen_test (default) or gen",
    },
    dtype: { type: "string", value: "T", help: "output element type: f32 (default) or f16" },
  },
  maxPositionals: 2,
};

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/**
 * Runs `funit convert` with the arguments after "convert", parsed by the parser every funit command
 * uses. Returns 0 on success; every failure is thrown, typed, for the CLI's one mapping to exit
 * codes (a checkpoint's errors get the input's name in front, so they say which file is wrong).
 */
export async function convertCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(CONVERT_COMMAND, args);
  if (values.help) {
    process.stdout.write(`${helpText(CONVERT_COMMAND)}\n`);
    return 0;
  }
  if (positionals.length !== 2)
    throw new UsageError(`expected IN.pt and OUT.safetensors, got ${positionals.length} paths`);
  const [inPath, outPath] = positionals as [string, string];
  const generator = oneOf(values, "generator", ["gen_test", "gen"] as const, "gen_test");
  const dtype = oneOf(values, "dtype", ["f32", "f16"] as const, "f32");

  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: "converting |{bar}| {percentage}% {done}/{all} MB",
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let started = false;
  let result: ConvertResult;
  try {
    result = await convertCheckpoint(inPath, outPath, {
      generator,
      dtype,
      onProgress:
        bar &&
        ((done, total) => {
          if (!started) {
            bar.start(total, 0, { done: "0.0", all: megabytes(total) });
            started = true;
          }
          bar.update(done, { done: megabytes(done), all: megabytes(total) });
        }),
    });
  } catch (e) {
    if (
      e instanceof CheckpointError ||
      e instanceof ModelFormatError ||
      e instanceof SafetensorsError
    )
      e.message = `${inPath}: ${e.message}`;
    throw e;
  } finally {
    bar?.stop();
  }
  const hyper = Object.entries(result.hyper)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  process.stdout.write(
    `wrote ${outPath}: ${result.tensors} tensors, ${dtype}, ${megabytes(result.bytes)} MB ` +
      `from '${result.generator}' of ${basename(inPath)} (${result.format} format; ${hyper})\n`,
  );
  return 0;
}
