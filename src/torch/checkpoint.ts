/**
 * Reads a PyTorch checkpoint as a state dict of lazily read tensors, in both torch
 * serialisations: the zip format (torch >= 1.6: `<archive>/data.pkl` plus one STORED entry per
 * storage) and the legacy format (magic number, protocol and sys-info pickles, the object pickle,
 * a pickle of storage keys, then each storage as an int64 element count and raw bytes; the 2019
 * NVlabs FUNIT checkpoints are of this kind). Only the pickles and the zip directory are read up
 * front; each tensor's bytes are read when asked for, so memory stays bounded by one tensor. The
 * unpickler gets an allow-list of exactly the globals torch uses for state dicts, and every
 * storage reference, offset, shape and stride is checked against the bytes really in the file
 * before anything is read. This module detects the format and picks the state dict;
 * src/torch/zip-checkpoint.ts and src/torch/legacy-checkpoint.ts read the two formats,
 * src/torch/storage.ts what they share.
 */
import type { SafeDType } from "../safetensors";
import { loadLegacy } from "./legacy-checkpoint";
import { readExactly, type RandomAccessReader } from "./reader";
import { describe, fail, readTensor, TensorRef } from "./storage";
import { loadZip } from "./zip-checkpoint";

export { CheckpointError, PickleError, ZipError } from "../errors";

export type GeneratorChoice = "gen_test" | "gen";

/** A state-dict tensor; `read()` returns its elements as contiguous little-endian bytes. */
export interface CheckpointTensor {
  dtype: SafeDType;
  shape: number[];
  read(): Promise<Uint8Array>;
}

export interface StateDict {
  format: "zip" | "legacy";
  /** Which generator of an NVlabs `{gen, gen_test}` checkpoint was taken; "bare": a state dict. */
  generator: GeneratorChoice | "bare";
  tensors: Map<string, CheckpointTensor>;
}

/** Picks the state dict out of the unpickled object: NVlabs `{gen, gen_test}` or a bare one. */
function chooseStateDict(
  root: unknown,
  generator: GeneratorChoice,
): { dict: Map<unknown, unknown>; generator: GeneratorChoice | "bare" } {
  if (!(root instanceof Map)) fail(`checkpoint holds ${describe(root)}, not a dict`);
  if (root.has("gen") || root.has("gen_test")) {
    const dict = root.get(generator);
    if (dict === undefined)
      fail(
        `checkpoint has no '${generator}' generator ` +
          `(it has: ${[...root.keys()].map(String).join(", ")})`,
      );
    if (!(dict instanceof Map))
      fail(`checkpoint's '${generator}' is ${describe(dict)}, not a state dict`);
    return { dict, generator };
  }
  if (root.size && [...root.values()].every((v) => v instanceof TensorRef))
    return { dict: root, generator: "bare" };
  const keys = [...root.keys()].slice(0, 6).map(String).join(", ");
  fail(
    `checkpoint holds {${keys}${root.size > 6 ? ", …" : ""}}: expected an NVlabs FUNIT ` +
      "{gen, gen_test} checkpoint or a generator state dict",
  );
}

/** Detects the format, reads the pickles, returns the chosen state dict (tensors read lazily). */
export async function readStateDict(
  reader: RandomAccessReader,
  options: { generator?: GeneratorChoice } = {},
): Promise<StateDict> {
  if (reader.size < 4)
    fail(`file is ${reader.size} bytes: empty or truncated, not a torch checkpoint`);
  const head = await readExactly(reader, 0, Math.min(reader.size, 512), "file header");
  let format: StateDict["format"];
  if (head[0] === 0x50 && head[1] === 0x4b) format = "zip";
  else if (head[0] === 0x80 && head[2] === 0x8a) format = "legacy";
  else if (head.byteLength >= 262 && new TextDecoder().decode(head.subarray(257, 262)) === "ustar")
    fail("tar-format checkpoints (torch < 0.4) are not supported");
  else fail("not a torch checkpoint: neither a zip archive nor the legacy pickle format");
  const { root, bytes } = format === "zip" ? await loadZip(reader) : await loadLegacy(reader);
  const chosen = chooseStateDict(root, options.generator ?? "gen_test");
  const tensors = new Map<string, CheckpointTensor>();
  for (const [name, value] of chosen.dict) {
    if (typeof name !== "string") fail(`state dict key ${describe(name)} is not a string`);
    if (!(value instanceof TensorRef))
      fail(`state dict entry '${name}' is ${describe(value)}, not a tensor`);
    tensors.set(name, {
      dtype: value.storage.dtype,
      shape: value.shape,
      read: () => readTensor(value, bytes),
    });
  }
  return { format, generator: chosen.generator, tensors };
}
