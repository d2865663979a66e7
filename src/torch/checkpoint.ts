/**
 * Reads a PyTorch checkpoint as a state dict of lazily read tensors, in both torch serialisations:
 * the zip format (torch >= 1.6: `<archive>/data.pkl` plus one STORED entry per storage) and the
 * legacy format (magic number, protocol and sys-info pickles, the object pickle, a pickle of storage
 * keys, then each storage as an int64 element count and raw bytes; the 2019 NVlabs FUNIT checkpoints
 * are of this kind). Only the pickles and the zip directory are read up front; each tensor's bytes
 * are read when asked for, so memory stays bounded by one tensor. The unpickler gets an allow-list of
 * exactly the globals torch uses for state dicts, and every storage reference, offset, shape and
 * stride is checked against the bytes really in the file before anything is read.
 */
import type { SafeDType } from "../safetensors";
import { PyGlobal, pyTypeName, unpickle, type AllowedGlobals } from "./pickle";
import { readExactly, type RandomAccessReader } from "./reader";
import { openZip, type ZipArchive, type ZipEntry } from "./zip";
import { CheckpointError, PickleError } from "../errors";
import { LIMITS, limitText } from "../limits";

export { CheckpointError, PickleError, ZipError } from "../errors";

export type GeneratorChoice = "gen_test" | "gen";

/** One tensor of the state dict; `read()` returns its elements as contiguous little-endian bytes. */
export interface CheckpointTensor {
  dtype: SafeDType;
  shape: number[];
  read(): Promise<Uint8Array>;
}

export interface StateDict {
  format: "zip" | "legacy";
  /** Which generator of an NVlabs `{gen, gen_test}` checkpoint was taken, or "bare" for a plain state dict. */
  generator: GeneratorChoice | "bare";
  tensors: Map<string, CheckpointTensor>;
}

/** Storage classes torch pickles by name, with the element type they hold. */
const STORAGE_TYPES: Record<string, { dtype: SafeDType; bytes: number }> = {
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

/** The legacy format's first pickle: torch's magic number. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
/** Largest pickle we read into memory (state-dict pickles are KiB; the tensors are not in it). */
const MAX_PICKLE_BYTES = LIMITS.maxPickleBytes;

/** A storage the pickle referred to. Legacy views point into a root storage at `elementOffset`. */
class StorageRef {
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
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

function fail(message: string): never {
  throw new CheckpointError(message);
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function countTuple(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.length > 64 || !v.every(isCount))
    fail(`${what} ${describe(v)} is not a tuple of non-negative integers`);
  return [...(v as number[])];
}

function describe(v: unknown): string {
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
        `tensor of size (${shape}), stride (${strides}), offset ${offset} reaches past its storage '${storage.key}' of ${storage.numel} elements`,
      );
    }
    // Only an expanded (stride-0) view could hold more elements than its storage; parameters never are.
    if (numel > storage.numel)
      fail(
        `tensor of size (${shape}) has more elements than its storage '${storage.key}' (${storage.numel})`,
      );
    // The converter reads a view's whole span: one far wider than its elements is refused, not read.
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
function allowedGlobals(): AllowedGlobals {
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
class StorageTable {
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
          `storage '${key}' is referred to as both ${known.dtype}[${known.numel}] and ${dtype}[${numel}]`,
        );
      return known;
    }
    const ref = new StorageRef(key, dtype, bytes, numel);
    this.roots.set(key, ref);
    return ref;
  }
}

function storagePid(pid: unknown, fields: number): unknown[] {
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
interface StorageBytes {
  read(storage: StorageRef, byteStart: number, byteLength: number): Promise<Uint8Array>;
}

async function loadZip(
  reader: RandomAccessReader,
): Promise<{ root: unknown; bytes: StorageBytes }> {
  const zip = await openZip(reader);
  const pickles = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1)
    fail(
      `zip archive has ${pickles.length ? "several" : "no"} '<archive>/data.pkl' records: not a torch checkpoint`,
    );
  const prefix = pickles[0]!.slice(0, -"data.pkl".length);
  const byteorder = zip.entries.get(`${prefix}byteorder`);
  if (byteorder && byteorder.size < 16) {
    const order = new TextDecoder().decode(await zip.read(byteorder)).trim();
    if (order !== "little")
      fail(`checkpoint was saved with byte order '${order}'; only little-endian is supported`);
  }
  const pkl = zip.entry(pickles[0]!);
  if (pkl.size > MAX_PICKLE_BYTES)
    fail(
      `data.pkl is ${pkl.size} bytes: too large (${limitText("maxPickleBytes", MAX_PICKLE_BYTES)})`,
    );
  const storages = new StorageTable();
  const { value } = unpickle(await zip.read(pkl), {
    globals: allowedGlobals(),
    persistentLoad: (pid) => {
      const [, type, key, , numel] = storagePid(pid, 5);
      return storages.root(key, type, numel);
    },
  });
  // Check every record up front, so a missing or short one is reported before any output is written.
  const entries = new Map<string, ZipEntry>();
  for (const s of storages.roots.values()) {
    const entry = zip.entry(`${prefix}data/${s.key}`);
    if (entry.size !== s.numel * s.elementBytes) {
      fail(
        `storage record '${entry.name}' holds ${entry.size} bytes but ${s.dtype}[${s.numel}] needs ${s.numel * s.elementBytes}`,
      );
    }
    entries.set(s.key, entry);
  }
  return {
    root: value,
    bytes: {
      read: (s, start, length) => readZipStorage(zip, entries.get(s.rootKey)!, start, length),
    },
  };
}

/** A whole record is checked against its CRC; part of one (a view) cannot be. */
function readZipStorage(
  zip: ZipArchive,
  entry: ZipEntry,
  start: number,
  length: number,
): Promise<Uint8Array> {
  return start === 0 && length === entry.size
    ? zip.read(entry)
    : zip.readRange(entry, start, length);
}

/** Parses the legacy format's five pickles from the first `window` bytes (throws truncated errors if too few). */
function parseLegacyPickles(bytes: Uint8Array) {
  const plain = { globals: new Map() };
  let at = 0;
  const next = (options: Parameters<typeof unpickle>[1]) => {
    const r = unpickle(bytes, options, at);
    at = r.end;
    return r.value;
  };
  if (next(plain) !== LEGACY_MAGIC)
    fail("not a torch checkpoint: the legacy format's magic number is wrong");
  const protocol = next(plain);
  if (protocol !== LEGACY_PROTOCOL)
    fail(`legacy checkpoint protocol ${describe(protocol)} is not ${LEGACY_PROTOCOL}`);
  const sysInfo = next(plain);
  if (!(sysInfo instanceof Map) || sysInfo.get("little_endian") !== true)
    fail("legacy checkpoint was not saved little-endian (or has no sys_info)");
  const storages = new StorageTable();
  const views = new Map<string, StorageRef>();
  const root = next({
    globals: allowedGlobals(),
    persistentLoad: (pid) => {
      const [, type, rootKey, , numel, view] = storagePid(pid, 6);
      const base = storages.root(rootKey, type, numel);
      if (view === null) return base;
      if (!Array.isArray(view) || view.length !== 3)
        fail(`storage view metadata ${describe(view)} is not (key, offset, size)`);
      const [viewKey, offset, size] = view as unknown[];
      if (
        typeof viewKey !== "string" ||
        !isCount(offset) ||
        !isCount(size) ||
        offset + size > base.numel
      ) {
        fail(
          `storage view ${describe(viewKey)} does not lie inside storage '${base.key}' of ${base.numel} elements`,
        );
      }
      const known = views.get(viewKey);
      if (known) return known;
      const ref = new StorageRef(viewKey, base.dtype, base.elementBytes, size, base.key, offset);
      views.set(viewKey, ref);
      return ref;
    },
  });
  const keys = next(plain);
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string"))
    fail("legacy checkpoint's storage key list is not a list of strings");
  return { root, storages, keys: keys as string[], dataStart: at };
}

async function loadLegacy(
  reader: RandomAccessReader,
): Promise<{ root: unknown; bytes: StorageBytes }> {
  // The pickles' total length is not recorded, so read a window and widen it until they all fit.
  let window = Math.min(reader.size, 1 << 20);
  let parsed: ReturnType<typeof parseLegacyPickles>;
  for (;;) {
    try {
      parsed = parseLegacyPickles(
        await readExactly(reader, 0, window, "legacy checkpoint pickles"),
      );
      break;
    } catch (e) {
      if (!(e instanceof PickleError && e.truncated) || window === reader.size) throw e;
      if (window >= MAX_PICKLE_BYTES)
        fail(
          `legacy checkpoint's pickles are larger than ${MAX_PICKLE_BYTES} bytes: too large ` +
            `(${limitText("maxPickleBytes", MAX_PICKLE_BYTES)})`,
        );
      window = Math.min(reader.size, window * 4, MAX_PICKLE_BYTES);
    }
  }
  // Walk the storage records: each is an int64 element count, then the elements.
  const { root, storages, keys } = parsed;
  const offsets = new Map<string, number>();
  let at = parsed.dataStart;
  for (const key of keys) {
    const s = storages.roots.get(key);
    if (!s) fail(`legacy checkpoint lists storage '${key}' that no tensor refers to`);
    if (offsets.has(key)) fail(`legacy checkpoint lists storage '${key}' twice`);
    const head = await readExactly(reader, at, 8, `size of storage record '${key}'`);
    const numel = new DataView(head.buffer, head.byteOffset, 8).getBigInt64(0, true);
    if (numel !== BigInt(s.numel))
      fail(`storage record '${key}' holds ${numel} elements but the pickle says ${s.numel}`);
    offsets.set(key, at + 8);
    at += 8 + s.numel * s.elementBytes;
    if (at > reader.size)
      fail(
        `storage record '${key}' ends at byte ${at}, past the end of the ${reader.size}-byte file: truncated`,
      );
  }
  for (const key of storages.roots.keys())
    if (!offsets.has(key)) fail(`storage '${key}' has no record in the legacy checkpoint`);
  return {
    root,
    bytes: {
      read: (s, start, length) =>
        readExactly(reader, offsets.get(s.rootKey)! + start, length, `storage '${s.rootKey}'`),
    },
  };
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
async function readTensor(t: TensorRef, bytes: StorageBytes): Promise<Uint8Array> {
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

/** Picks the state dict out of the unpickled object: NVlabs `{gen, gen_test}` or a bare state dict. */
function chooseStateDict(
  root: unknown,
  generator: GeneratorChoice,
): { dict: Map<unknown, unknown>; generator: GeneratorChoice | "bare" } {
  if (!(root instanceof Map)) fail(`checkpoint holds ${describe(root)}, not a dict`);
  if (root.has("gen") || root.has("gen_test")) {
    const dict = root.get(generator);
    if (dict === undefined)
      fail(
        `checkpoint has no '${generator}' generator (it has: ${[...root.keys()].map(String).join(", ")})`,
      );
    if (!(dict instanceof Map))
      fail(`checkpoint's '${generator}' is ${describe(dict)}, not a state dict`);
    return { dict, generator };
  }
  if (root.size && [...root.values()].every((v) => v instanceof TensorRef))
    return { dict: root, generator: "bare" };
  const keys = [...root.keys()].slice(0, 6).map(String).join(", ");
  fail(
    `checkpoint holds {${keys}${root.size > 6 ? ", …" : ""}}: expected an NVlabs FUNIT {gen, gen_test} checkpoint or a generator state dict`,
  );
}

/** Detects the format, reads the pickles and returns the chosen state dict with lazily read tensors. */
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
