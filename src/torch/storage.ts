/**
 * The part of reading a PyTorch checkpoint shared by both its formats: the allow-list of globals
 * torch uses in state-dict pickles (each rebuilt as plain data), the storage references the
 * pickle's persistent ids name (one table per file, so every reference to a key agrees on its type
 * and size), the strided tensor views over them (offset, shape and stride checked against the
 * storage before anything is read), and reading a view's elements in row-major order from
 * wherever the format keeps its storages' bytes (StorageBytes).
 */
import type { SafeDType } from "../safetensors";
import { PyGlobal, pyTypeName, type AllowedGlobals } from "./pickle";
import { CheckpointError } from "../errors";
import { LIMITS, limitText } from "../limits";

/** Storage classes torch pickles by name, with the element type they hold. */
export const STORAGE_TYPES: Record<string, { dtype: SafeDType; bytes: number }> = {
  "torch.DoubleStorage": { dtype: "F64", bytes: 8 },
  "torch.FloatStorage": { dtype: "F32", bytes: 4 },
  "torch.HalfStorage": { dtype: "F16", bytes: 2 },
  "torch.BFloat16Storage": { dtype: "BF16", bytes: 2 },
  "torch.LongStorage": { dtype: "I64", bytes: 8 },
  "torch.IntStorage": { dtype: "I32", bytes: 4 },
  "torch.ShortStorage": { dtype: "I16", bytes: 2 },
  "torch.CharStorage": { dtype: "I8", bytes: 1 },
  "torch.ByteStorage": { dtype: "U8", bytes: 1 },
  "torch.BoolStorage": { dtype: "BOOL", bytes: 1 },
};

/** Largest pickle we read into memory (state-dict pickles are KiB; the tensors are not in it). */
export const MAX_PICKLE_BYTES = LIMITS.maxPickleBytes;

/** A storage the pickle referred to. Legacy views point into a root storage at `elementOffset`. */
export class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: SafeDType,
    readonly elementBytes: number,
    readonly numel: number,
    readonly rootKey = key,
    readonly elementOffset = 0,
  ) {}
}

/** What `_rebuild_tensor_v2` describes: a strided view of a storage. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

export function fail(message: string): never {
  throw new CheckpointError(message);
}

export function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function countTuple(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.length > 64 || !v.every(isCount))
    fail(`${what} ${describe(v)} is not a tuple of non-negative integers`);
  return [...(v as number[])];
}

export function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.slice(0, 80));
  if (typeof v === "number" || typeof v === "boolean" || v === null) return String(v);
  if (Array.isArray(v) && v.length <= 8 && v.every((x) => typeof x === "number"))
    return `(${v.join(", ")})`;
  return `a ${pyTypeName(v)}`;
}

function rebuildTensor(args: readonly unknown[]): TensorRef {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef))
    fail(`tensor rebuilt from ${describe(storage)}, not a storage`);
  if (!isCount(offset))
    fail(`tensor storage offset ${describe(offset)} is not a non-negative integer`);
  const shape = countTuple(size, "tensor size");
  const strides = countTuple(stride, "tensor stride");
  if (shape.length !== strides.length)
    fail(`tensor size (${shape}) and stride (${strides}) differ in length`);
  const numel = shape.reduce((a, b) => a * b, 1);
  if (numel > 0) {
    const last = shape.reduce((sum, d, i) => sum + (d - 1) * strides[i]!, offset);
    if (!Number.isSafeInteger(last) || last >= storage.numel) {
      fail(
        `tensor of size (${shape}), stride (${strides}), offset ${offset} reaches past its ` +
          `storage '${storage.key}' of ${storage.numel} elements`,
      );
    }
    // Only an expanded (stride-0) view could hold more elements than its storage; parameters
    // never are.
    if (numel > storage.numel)
      fail(
        `tensor of size (${shape}) has more elements than its storage ` +
          `'${storage.key}' (${storage.numel})`,
      );
    // The converter reads a view's whole span: one far wider than its elements is refused, not
    // read.
    const span = last - offset + 1;
    if (span > LIMITS.maxViewSpanRatio * numel + 1024)
      fail(
        `tensor of size (${shape}), stride (${strides}) spans ${span} elements of storage ` +
          `'${storage.key}' for ${numel} elements: too sparse a view ` +
          `(${limitText("maxViewSpanRatio", LIMITS.maxViewSpanRatio)})`,
      );
  }
  return new TensorRef(storage, offset, shape, strides);
}

/** The globals torch uses in state-dict pickles, each with a handler that builds plain data. */
export function allowedGlobals(): AllowedGlobals {
  const g = new Map<string, ((args: readonly unknown[]) => unknown) | null>();
  g.set("collections.OrderedDict", (args) => {
    if (args.length)
      fail("OrderedDict is rebuilt with arguments; torch pickles it empty and adds items");
    return new Map();
  });
  g.set("torch._utils._rebuild_tensor_v2", rebuildTensor);
  g.set("torch._utils._rebuild_tensor", rebuildTensor);
  const parameter = (args: readonly unknown[]) => {
    if (!(args[0] instanceof TensorRef))
      fail(`parameter rebuilt from ${describe(args[0])}, not a tensor`);
    return args[0];
  };
  g.set("torch._utils._rebuild_parameter", parameter);
  g.set("torch._utils._rebuild_parameter_with_state", parameter);
  for (const name of Object.keys(STORAGE_TYPES)) g.set(name, null);
  return g;
}

function storageType(v: unknown): { dtype: SafeDType; bytes: number } {
  const t =
    v instanceof PyGlobal && Object.hasOwn(STORAGE_TYPES, v.qualname)
      ? STORAGE_TYPES[v.qualname]
      : undefined;
  if (!t) fail(`storage type ${describe(v)} is not a torch storage class`);
  return t;
}

/** Storages by key, so that every reference to one key agrees on its type and size. */
export class StorageTable {
  readonly roots = new Map<string, StorageRef>();

  root(key: unknown, type: unknown, numel: unknown): StorageRef {
    if (typeof key !== "string" || key.length > 256)
      fail(`storage key ${describe(key)} is not a short string`);
    if (!isCount(numel))
      fail(`storage '${key}' size ${describe(numel)} is not a non-negative integer`);
    const { dtype, bytes } = storageType(type);
    const known = this.roots.get(key);
    if (known) {
      if (known.dtype !== dtype || known.numel !== numel)
        fail(
          `storage '${key}' is referred to as both ${known.dtype}[${known.numel}] ` +
            `and ${dtype}[${numel}]`,
        );
      return known;
    }
    const ref = new StorageRef(key, dtype, bytes, numel);
    this.roots.set(key, ref);
    return ref;
  }
}

export function storagePid(pid: unknown, fields: number): unknown[] {
  if (!Array.isArray(pid) || pid[0] !== "storage") {
    if (Array.isArray(pid) && pid[0] === "module")
      fail("checkpoint pickles a whole nn.Module with its source code; only state dicts are read");
    fail(`persistent id ${describe(pid)} is not a ('storage', ...) tuple`);
  }
  if (pid.length !== fields)
    fail(`storage persistent id has ${pid.length} fields, expected ${fields}`);
  return pid;
}

/** Where a storage's bytes live in the file: a zip entry or a legacy record. */
export interface StorageBytes {
  read(storage: StorageRef, byteStart: number, byteLength: number): Promise<Uint8Array>;
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expected) return false;
    expected *= shape[i]!;
  }
  return true;
}

/** Reads a tensor's elements in row-major order, gathering strided views element by element. */
export async function readTensor(t: TensorRef, bytes: StorageBytes): Promise<Uint8Array> {
  const { storage, shape, stride } = t;
  const size = storage.elementBytes;
  const numel = shape.reduce((a, b) => a * b, 1);
  if (numel === 0) return new Uint8Array(0);
  const first = storage.elementOffset + t.offset;
  if (isContiguous(shape, stride)) return bytes.read(storage, first * size, numel * size);
  // rebuildTensor bounded the span to a few times numel; the reader fetches it in bounded pieces.
  const span = shape.reduce((sum, d, i) => sum + (d - 1) * stride[i]!, 1);
  const source = await bytes.read(storage, first * size, span * size);
  const out = new Uint8Array(numel * size);
  const index = new Array<number>(shape.length).fill(0);
  let from = 0;
  for (let i = 0; i < numel; i++) {
    out.set(source.subarray(from * size, (from + 1) * size), i * size);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) {
        from += stride[d]!;
        break;
      }
      from -= (shape[d]! - 1) * stride[d]!;
      index[d] = 0;
    }
  }
  return out;
}
