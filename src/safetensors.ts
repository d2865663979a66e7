/**
 * The safetensors format (8-byte little-endian header length, a JSON header, then raw little-endian
 * tensor bytes), read and written from plain byte arrays so that it runs in browsers, Node and Deno.
 * The reader trusts nothing in the header: every offset, dtype and shape is checked against the
 * bytes actually present before a view is handed out, and each failure names the offending tensor.
 */
import { SafetensorsError } from "./errors";
import { LIMITS, limitText } from "./limits";

export type SafeDType =
  "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";

const DTYPE_BYTES: Record<SafeDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** Largest header we accept; real headers of the models here are a few KiB. */
const MAX_HEADER_BYTES = LIMITS.maxSafetensorsHeaderBytes;

export interface RawTensor {
  dtype: SafeDType;
  shape: number[];
  /** View into the file's bytes (not copied). */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

function fail(message: string): never {
  throw new SafetensorsError(message);
}

/** Parses a whole safetensors file. Throws SafetensorsError on anything malformed. */
export function parseSafetensors(file: Uint8Array): SafetensorsFile {
  if (file.byteLength < 8)
    fail(`file is ${file.byteLength} bytes, too short for a safetensors header`);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(MAX_HEADER_BYTES) && headerLen <= BigInt(file.byteLength - 8))
    fail(
      `header of ${headerLen} bytes: too large ` +
        `(${limitText("maxSafetensorsHeaderBytes", MAX_HEADER_BYTES)})`,
    );
  if (headerLen > BigInt(file.byteLength - 8)) {
    fail(
      `header length ${headerLen} exceeds the file (${file.byteLength} bytes): truncated or not a safetensors file`,
    );
  }
  const n = Number(headerLen);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(file.subarray(8, 8 + n)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    fail("header is not a JSON object");

  const data = file.subarray(8 + n);
  const tensors = new Map<string, RawTensor>();
  let metadata: Record<string, string> = {};
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof entry !== "object" || entry === null || Array.isArray(entry))
        fail("__metadata__ is not an object");
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== "string") fail(`__metadata__.${k} is not a string`);
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    if (typeof entry !== "object" || entry === null)
      fail(`tensor '${name}': entry is not an object`);
    const { dtype, shape, data_offsets } = entry as {
      dtype?: unknown;
      shape?: unknown;
      data_offsets?: unknown;
    };
    if (typeof dtype !== "string" || !(dtype in DTYPE_BYTES))
      fail(`tensor '${name}': unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(
        `tensor '${name}': shape ${JSON.stringify(shape)} is not a list of non-negative integers`,
      );
    }
    if (
      !Array.isArray(data_offsets) ||
      data_offsets.length !== 2 ||
      !data_offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      fail(
        `tensor '${name}': data_offsets ${JSON.stringify(data_offsets)} is not a pair of non-negative integers`,
      );
    }
    const [begin, end] = data_offsets as [number, number];
    const elements = (shape as number[]).reduce((a, b) => a * b, 1);
    const expected = elements * DTYPE_BYTES[dtype as SafeDType];
    if (end < begin || end - begin !== expected) {
      fail(
        `tensor '${name}': data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${expected}`,
      );
    }
    if (end > data.byteLength) {
      fail(
        `tensor '${name}': data_offsets end ${end} is past the end of the data (${data.byteLength} bytes): truncated file?`,
      );
    }
    spans.push([begin, end, name]);
    tensors.set(name, {
      dtype: dtype as SafeDType,
      shape: shape as number[],
      bytes: data.subarray(begin, end),
    });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![0] < spans[i - 1]![1])
      fail(`tensors '${spans[i - 1]![2]}' and '${spans[i]![2]}' overlap`);
  }
  return { tensors, metadata };
}

/** Converts an F32, F16 or BF16 tensor to a fresh Float32Array (little-endian source). */
export function tensorToFloat32(name: string, t: RawTensor): Float32Array {
  const count = t.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const out = new Float32Array(count);
  switch (t.dtype) {
    case "F32":
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case "F16":
      for (let i = 0; i < count; i++) out[i] = float16BitsToNumber(view.getUint16(i * 2, true));
      break;
    case "BF16": {
      const word = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        word.setUint32(0, view.getUint16(i * 2, true) << 16);
        out[i] = word.getFloat32(0);
      }
      break;
    }
    default:
      fail(`tensor '${name}': dtype ${t.dtype} is not a floating-point type`);
  }
  return out;
}

export function float16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** Rounds a float32 to the nearest float16 (ties to even), returning its bit pattern. */
export function numberToFloat16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && r & 1)) r++;
    return sign | r;
  }
  let r = mant >> 13;
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) {
    r++;
    if (r === 0x400) {
      r = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | r;
}

export interface TensorToWrite {
  name: string;
  dtype: SafeDType;
  shape: number[];
  /** Little-endian bytes, exactly product(shape) × dtype size of them. */
  bytes: Uint8Array;
}

/**
 * Builds the 8-byte length prefix plus JSON header (padded to 8 bytes) for tensors written in the
 * given order; data follows it, concatenated. Streaming writers call this, then write each tensor.
 */
export function safetensorsHeader(
  entries: { name: string; dtype: SafeDType; shape: number[] }[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const { name, dtype, shape } of entries) {
    if (name === "__metadata__" || name in header)
      fail(`duplicate or reserved tensor name '${name}'`);
    const size = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    header[name] = { dtype, shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + padded).fill(0x20, 8); // pad with spaces, as the reference writer does
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}

/** Serialises tensors into one safetensors byte array. */
export function serializeSafetensors(
  tensors: TensorToWrite[],
  metadata: Record<string, string> = {},
): Uint8Array {
  for (const t of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    if (t.bytes.byteLength !== size)
      fail(
        `tensor '${t.name}': ${t.bytes.byteLength} bytes given, ${t.dtype} ${JSON.stringify(t.shape)} needs ${size}`,
      );
  }
  const head = safetensorsHeader(tensors, metadata);
  const out = new Uint8Array(head.byteLength + tensors.reduce((a, t) => a + t.bytes.byteLength, 0));
  out.set(head, 0);
  let at = head.byteLength;
  for (const t of tensors) {
    out.set(t.bytes, at);
    at += t.bytes.byteLength;
  }
  return out;
}

/** Little-endian bytes of a Float32Array (copied, so later edits of the array do not leak in). */
export function float32Bytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
}

/** Little-endian F16 bytes of a Float32Array, rounded to nearest even. */
export function float16Bytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++)
    view.setUint16(i * 2, numberToFloat16Bits(values[i]!), true);
  return out;
}
