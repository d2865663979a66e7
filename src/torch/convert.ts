/**
 * Converts a FUNIT generator checkpoint into a safetensors stream, platform-independently: the
 * caller supplies a random-access reader for the input and a `write` sink for the output (Node writes
 * a temp file, a browser could collect Blobs). The hyperparameters are inferred from the tensor
 * shapes, every expected tensor is checked before anything is written, AdaIN running stats are
 * dropped, and tensors are read, converted and written one at a time so memory stays bounded.
 */
import {
  checkTensorShapes,
  expectedTensors,
  inferHyper,
  isUnusedBuffer,
  type FunitHyper,
} from "../hyper";
import {
  numberToFloat16Bits,
  safetensorsHeader,
  tensorToFloat32,
  type SafeDType,
} from "../safetensors";
import { readStateDict, type GeneratorChoice, type StateDict } from "./checkpoint";
import type { RandomAccessReader } from "./reader";
import { CheckpointError, ModelFormatError } from "../errors";

export interface ConvertOptions {
  generator?: GeneratorChoice;
  dtype?: "f32" | "f16";
  /** Input file name recorded as `__metadata__.source`. */
  source?: string;
  /** Called with output bytes written so far and in total, after the header and after each tensor. */
  onProgress?: (done: number, total: number) => void;
}

export interface ConvertResult {
  hyper: FunitHyper;
  format: StateDict["format"];
  generator: StateDict["generator"];
  tensors: number;
  bytes: number;
}

/** Floating-point source types and their element sizes. */
const FLOAT_BYTES: Partial<Record<SafeDType, number>> = { F64: 8, F32: 4, F16: 2, BF16: 2 };

/** Source bytes of one tensor as F32 or F16 output bytes; same-type copies keep every bit. */
function convertBytes(
  name: string,
  dtype: SafeDType,
  shape: number[],
  bytes: Uint8Array,
  out: "F32" | "F16",
): Uint8Array {
  if (dtype === out) return bytes;
  let values: Float32Array;
  if (dtype === "F64") {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    values = new Float32Array(bytes.byteLength / 8);
    for (let i = 0; i < values.length; i++) values[i] = view.getFloat64(i * 8, true);
  } else {
    values = tensorToFloat32(name, { dtype, shape, bytes });
  }
  const result = new Uint8Array(values.length * (out === "F32" ? 4 : 2));
  const view = new DataView(result.buffer);
  if (out === "F32")
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  else
    for (let i = 0; i < values.length; i++)
      view.setUint16(i * 2, numberToFloat16Bits(values[i]!), true);
  return result;
}

/** Names the network when a checkpoint is clearly not a FUNIT generator, to make the error useful. */
function notAGenerator(names: string[], cause: ModelFormatError): never {
  if (names.some((n) => /^cnn_[fc]\./.test(n))) {
    throw new ModelFormatError(
      `this looks like a FUNIT discriminator (tensors cnn_f.*, cnn_c.*), not a generator: ${cause.message}`,
    );
  }
  throw cause;
}

/**
 * Reads the checkpoint, checks it, and writes the safetensors file to `write` in order: header, then
 * each tensor in `expectedTensors` order. Throws CheckpointError / ModelFormatError before the first
 * write for anything wrong with the pickles or shapes, and CheckpointError mid-way if a record is bad.
 */
export async function convertToSafetensors(
  reader: RandomAccessReader,
  write: (bytes: Uint8Array) => Promise<void>,
  options: ConvertOptions = {},
): Promise<ConvertResult> {
  const outDtype = options.dtype === "f16" ? "F16" : "F32";
  const state = await readStateDict(reader, { generator: options.generator });
  const shapes = new Map([...state.tensors].map(([name, t]) => [name, t.shape]));
  const used = new Map([...shapes].filter(([name]) => !isUnusedBuffer(name)));
  let hyper: FunitHyper;
  try {
    hyper = inferHyper(used);
    checkTensorShapes(hyper, shapes);
  } catch (e) {
    if (e instanceof ModelFormatError) notAGenerator([...shapes.keys()], e);
    throw e;
  }
  const order = [...expectedTensors(hyper).keys()];
  let sourceBytes = 0;
  for (const name of order) {
    const { dtype, shape } = state.tensors.get(name)!;
    const size = FLOAT_BYTES[dtype];
    if (size === undefined)
      throw new CheckpointError(
        `tensor '${name}' has dtype ${dtype}, expected a floating-point type`,
      );
    sourceBytes += shape.reduce((a, b) => a * b, 1) * size;
  }
  // Tensors sharing one storage could make the output far larger than the input; FUNIT never ties weights.
  if (sourceBytes > reader.size) {
    throw new CheckpointError(
      `the generator's tensors total ${sourceBytes} bytes, more than the ${reader.size}-byte file: they share storages or their sizes are corrupt`,
    );
  }
  const entries = order.map((name) => ({
    name,
    dtype: outDtype as SafeDType,
    shape: state.tensors.get(name)!.shape,
  }));
  const metadata: Record<string, string> = {
    format: "funit-generator/1",
    gen: JSON.stringify(hyper),
    generator: state.generator,
  };
  if (options.source !== undefined) metadata.source = options.source;
  const header = safetensorsHeader(entries, metadata);
  const elementBytes = outDtype === "F32" ? 4 : 2;
  const total =
    header.byteLength +
    entries.reduce((sum, e) => sum + e.shape.reduce((a, b) => a * b, 1) * elementBytes, 0);

  await write(header);
  let done = header.byteLength;
  options.onProgress?.(done, total);
  for (const { name, shape } of entries) {
    const tensor = state.tensors.get(name)!;
    const bytes = convertBytes(name, tensor.dtype, shape, await tensor.read(), outDtype);
    await write(bytes);
    done += bytes.byteLength;
    options.onProgress?.(done, total);
  }
  return {
    hyper,
    format: state.format,
    generator: state.generator,
    tensors: entries.length,
    bytes: total,
  };
}
