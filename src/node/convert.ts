/**
 * `funit convert IN.pt OUT.safetensors [--generator gen_test|gen] [--dtype f32|f16]` for Node: wraps
 * the input file in a positioned-read reader (the checkpoint is never read whole), streams the
 * safetensors output into a temp file next to OUT, and renames it into place only when everything
 * was written, so a failed conversion never leaves a partial or stale output behind. A cli-progress
 * bar on stderr is shown only when stderr is a terminal, so logs and pipes stay clean.
 */
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { convertToSafetensors, type ConvertResult } from "../torch/convert";
import type { GeneratorChoice } from "../torch/checkpoint";
import type { RandomAccessReader } from "../torch/reader";
import { CheckpointError, ModelFormatError, SafetensorsError } from "../errors";

export interface ConvertCheckpointOptions {
  generator?: GeneratorChoice;
  dtype?: "f32" | "f16";
  onProgress?: (done: number, total: number) => void;
}

/** A RandomAccessReader over an open file; short reads are looped, reads past the end return fewer bytes. */
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
          out.byteLength - filled,
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

/** Converts a torch checkpoint file into a safetensors file; OUT appears only if conversion succeeded. */
export async function convertCheckpoint(
  inPath: string,
  outPath: string,
  opts: ConvertCheckpointOptions = {},
): Promise<ConvertResult> {
  const input = await open(inPath, "r");
  const tempPath = join(
    dirname(outPath),
    `.${basename(outPath)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`,
  );
  let output: FileHandle | undefined;
  try {
    output = await open(tempPath, "wx");
    const out = output;
    const result = await convertToSafetensors(
      await fileReader(input),
      (bytes) => writeAll(out, bytes),
      {
        generator: opts.generator,
        dtype: opts.dtype,
        source: basename(inPath),
        onProgress: opts.onProgress,
      },
    );
    await output.close();
    output = undefined;
    await rename(tempPath, outPath);
    return result;
  } catch (e) {
    await output?.close().catch(() => {});
    await rm(tempPath, { force: true }).catch(() => {});
    throw e;
  } finally {
    await input.close();
  }
}

const USAGE =
  "usage: funit convert IN.pt OUT.safetensors [--generator gen_test|gen] [--dtype f32|f16]";

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/**
 * Runs `funit convert` with the arguments after "convert". Returns the exit code, as every funit
 * command does: 0 on success, 2 for a usage or input error (a missing, malformed or refused
 * checkpoint; message on stderr), 1 for an internal failure.
 */
export async function runConvertCommand(argv: string[]): Promise<number> {
  let inPath: string, outPath: string, generator: GeneratorChoice, dtype: "f32" | "f16";
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        generator: { type: "string", default: "gen_test" },
        dtype: { type: "string", default: "f32" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      process.stdout.write(
        `${USAGE}\nConverts an NVlabs FUNIT PyTorch checkpoint (zip or legacy format) to safetensors.\n`,
      );
      return 0;
    }
    if (positionals.length !== 2)
      throw new Error(`expected IN.pt and OUT.safetensors, got ${positionals.length} paths`);
    if (values.generator !== "gen_test" && values.generator !== "gen")
      throw new Error(`--generator must be gen_test or gen, not '${values.generator}'`);
    if (values.dtype !== "f32" && values.dtype !== "f16")
      throw new Error(`--dtype must be f32 or f16, not '${values.dtype}'`);
    [inPath, outPath] = positionals as [string, string];
    generator = values.generator;
    dtype = values.dtype;
  } catch (e) {
    process.stderr.write(`funit convert: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }

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
  try {
    const result = await convertCheckpoint(inPath, outPath, {
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
    bar?.stop();
    const hyper = Object.entries(result.hyper)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    process.stdout.write(
      `wrote ${outPath}: ${result.tensors} tensors, ${dtype}, ${megabytes(result.bytes)} MB from '${result.generator}' of ${basename(inPath)} (${result.format} format; ${hyper})\n`,
    );
    return 0;
  } catch (e) {
    bar?.stop();
    const known =
      e instanceof CheckpointError ||
      e instanceof ModelFormatError ||
      e instanceof SafetensorsError;
    const fsError = typeof (e as NodeJS.ErrnoException)?.code === "string";
    if (known || fsError) {
      process.stderr.write(`funit convert: ${basename(inPath)}: ${(e as Error).message}\n`);
      return 2;
    }
    process.stderr.write(`funit convert: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}
