/**
 * Test-only writers for the formats the checkpoint readers consume: a protocol-2 pickle writer for a
 * small value language, a STORED zip writer (optionally with ZIP64 records), and builders for torch
 * zip and legacy checkpoints. Tests use them to craft valid variants (bare dicts, strided and half
 * tensors, legacy views) and bad inputs (disallowed globals, missing records, lying sizes) in memory.
 */
import { crc32 } from "../../src/torch/zip";

/** Values the pickle writer understands; arrays are lists, Maps are dicts. */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | Map<string, PickleValue>
  | { tuple: PickleValue[] }
  | { dict: [PickleValue, PickleValue][] }
  | { global: string }
  | { reduce: PickleValue; args: PickleValue[] }
  | { persid: PickleValue }
  | { raw: Uint8Array };

export const tuple = (...items: PickleValue[]): PickleValue => ({ tuple: items });
export const global = (qualname: string): PickleValue => ({ global: qualname });
export const reduce = (fn: PickleValue, ...args: PickleValue[]): PickleValue => ({
  reduce: fn,
  args,
});
export const persid = (pid: PickleValue): PickleValue => ({ persid: pid });

/** A growable byte buffer: single bytes collect in `pending`, large arrays are kept as chunks, not copied per byte. */
class Bytes {
  private chunks: Uint8Array[] = [];
  private pending: number[] = [];
  private flushed = 0;
  get length() {
    return this.flushed + this.pending.length;
  }
  byte(...b: number[]) {
    for (const x of b) this.pending.push(x);
  }
  u16(v: number) {
    this.byte(v & 0xff, (v >> 8) & 0xff);
  }
  u32(v: number) {
    this.byte(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  u64(v: number) {
    this.u32(v % 2 ** 32);
    this.u32(Math.floor(v / 2 ** 32));
  }
  i64(v: bigint) {
    for (let i = 0n; i < 8n; i++) this.byte(Number((BigInt.asUintN(64, v) >> (8n * i)) & 0xffn));
  }
  bytes(b: Uint8Array) {
    this.flush();
    this.chunks.push(b);
    this.flushed += b.byteLength;
  }
  ascii(s: string) {
    this.bytes(new TextEncoder().encode(s));
  }
  private flush() {
    if (!this.pending.length) return;
    this.chunks.push(Uint8Array.from(this.pending));
    this.flushed += this.pending.length;
    this.pending = [];
  }
  done() {
    this.flush();
    const out = new Uint8Array(this.flushed);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }
}

function writeValue(out: Bytes, v: PickleValue): void {
  if (v === null) return out.byte(0x4e);
  if (v === true) return out.byte(0x88);
  if (v === false) return out.byte(0x89);
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 256) return out.byte(0x4b, v);
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 65536) {
    out.byte(0x4d);
    return out.u16(v);
  }
  if (typeof v === "number" && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) {
    out.byte(0x4a);
    return out.u32(v >>> 0);
  }
  if (typeof v === "number" || typeof v === "bigint") {
    if (typeof v === "number" && !Number.isInteger(v)) {
      out.byte(0x47);
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, v, false);
      return out.bytes(b);
    }
    // LONG1: minimal little-endian two's complement.
    let n = BigInt(v);
    const le: number[] = [];
    do {
      le.push(Number(BigInt.asUintN(8, n)));
      n >>= 8n;
    } while (!(
      (n === 0n && !(le[le.length - 1]! & 0x80)) ||
      (n === -1n && le[le.length - 1]! & 0x80)
    ));
    return out.byte(0x8a, le.length, ...le);
  }
  if (typeof v === "string") {
    const b = new TextEncoder().encode(v);
    out.byte(0x58);
    out.u32(b.byteLength);
    return out.bytes(b);
  }
  if (v instanceof Uint8Array) {
    out.byte(0x42);
    out.u32(v.byteLength);
    return out.bytes(v);
  }
  if (Array.isArray(v)) {
    out.byte(0x5d, 0x28);
    v.forEach((x) => writeValue(out, x));
    return out.byte(0x65);
  }
  if (v instanceof Map) {
    // As torch does: OrderedDict() rebuilt empty, then the items set on it.
    writeValue(out, reduce(global("collections.OrderedDict")));
    out.byte(0x28);
    for (const [k, x] of v) {
      writeValue(out, k);
      writeValue(out, x);
    }
    return out.byte(0x75);
  }
  if ("raw" in v) return out.bytes(v.raw);
  if ("dict" in v) {
    out.byte(0x7d, 0x28);
    for (const [k, x] of v.dict) {
      writeValue(out, k);
      writeValue(out, x);
    }
    return out.byte(0x75);
  }
  if ("tuple" in v) {
    out.byte(0x28);
    v.tuple.forEach((x) => writeValue(out, x));
    return out.byte(0x74);
  }
  if ("global" in v) {
    const dot = v.global.lastIndexOf(".");
    out.byte(0x63);
    return out.ascii(`${v.global.slice(0, dot)}\n${v.global.slice(dot + 1)}\n`);
  }
  if ("reduce" in v) {
    writeValue(out, v.reduce);
    writeValue(out, { tuple: v.args });
    return out.byte(0x52);
  }
  writeValue(out, v.persid);
  out.byte(0x51);
}

/** A protocol-2 pickle of `v`. */
export function pickle(v: PickleValue): Uint8Array {
  const out = new Bytes();
  out.byte(0x80, 2);
  writeValue(out, v);
  out.byte(0x2e);
  return out.done();
}

/** A zip of STORED entries; `zip64` writes every size and offset through ZIP64 records, as large torch files do. */
export function zipStored(
  entries: { name: string; data: Uint8Array }[],
  zip64 = false,
): Uint8Array {
  const out = new Bytes();
  const central = new Bytes();
  for (const { name, data } of entries) {
    const offset = out.length;
    const nameBytes = new TextEncoder().encode(name);
    const crc = crc32(data);
    out.u32(0x04034b50);
    out.u16(45);
    out.u16(0);
    out.u16(0);
    out.u32(0);
    out.u32(crc);
    out.u32(data.byteLength);
    out.u32(data.byteLength);
    out.u16(nameBytes.byteLength);
    out.u16(0);
    out.bytes(nameBytes);
    out.bytes(data);
    central.u32(0x02014b50);
    central.u16(45);
    central.u16(45);
    central.u16(0);
    central.u16(0);
    central.u32(0);
    central.u32(crc);
    const big = zip64 ? 0xffffffff : undefined;
    central.u32(big ?? data.byteLength);
    central.u32(big ?? data.byteLength);
    central.u16(nameBytes.byteLength);
    central.u16(zip64 ? 28 : 0);
    central.u16(0);
    central.u16(0);
    central.u16(0);
    central.u32(0);
    central.u32(big ?? offset);
    central.bytes(nameBytes);
    if (zip64) {
      central.u16(1);
      central.u16(24);
      central.u64(data.byteLength);
      central.u64(data.byteLength);
      central.u64(offset);
    }
  }
  const centralOffset = out.length;
  const centralBytes = central.done();
  out.bytes(centralBytes);
  if (zip64) {
    const recordOffset = out.length;
    out.u32(0x06064b50);
    out.u64(44);
    out.u16(45);
    out.u16(45);
    out.u32(0);
    out.u32(0);
    out.u64(entries.length);
    out.u64(entries.length);
    out.u64(centralBytes.byteLength);
    out.u64(centralOffset);
    out.u32(0x07064b50);
    out.u32(0);
    out.u64(recordOffset);
    out.u32(1);
  }
  out.u32(0x06054b50);
  out.u16(0);
  out.u16(0);
  out.u16(zip64 ? 0xffff : entries.length);
  out.u16(zip64 ? 0xffff : entries.length);
  out.u32(zip64 ? 0xffffffff : centralBytes.byteLength);
  out.u32(zip64 ? 0xffffffff : centralOffset);
  out.u16(0);
  return out.done();
}

/** A tensor to put in a crafted checkpoint: its storage, and a view of it (contiguous unless stride says otherwise). */
export interface TensorSpec {
  key: string;
  storageType?: string;
  /** Raw little-endian storage bytes. */
  storage: Uint8Array;
  elementBytes?: number;
  offset?: number;
  shape: number[];
  stride?: number[];
  /** An element count to claim in the pickle (and legacy record header) instead of the true one. */
  declaredNumel?: number;
}

function contiguousStride(shape: number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

function tensorValue(
  t: TensorSpec,
  pid: (t: TensorSpec, numel: number) => PickleValue,
): PickleValue {
  const numel = t.declaredNumel ?? t.storage.byteLength / (t.elementBytes ?? 4);
  return reduce(
    global("torch._utils._rebuild_tensor_v2"),
    persid(pid(t, numel)),
    t.offset ?? 0,
    tuple(...t.shape),
    tuple(...(t.stride ?? contiguousStride(t.shape))),
    false,
    reduce(global("collections.OrderedDict")),
  );
}

/** A checkpoint's top level: tensors become torch tensor pickles, Maps OrderedDicts. */
export type CheckpointValue = TensorSpec | Map<string, CheckpointValue>;

function isTensorSpec(v: CheckpointValue): v is TensorSpec {
  return !(v instanceof Map);
}

function toPickleValue(
  v: CheckpointValue,
  pid: (t: TensorSpec, numel: number) => PickleValue,
  storages: Map<string, TensorSpec>,
): PickleValue {
  if (isTensorSpec(v)) {
    storages.set(v.key, v);
    return tensorValue(v, pid);
  }
  return new Map([...v].map(([k, x]) => [k, toPickleValue(x, pid, storages)]));
}

/** A torch >= 1.6 zip checkpoint. `omit` leaves a storage record out; `pickleBytes` replaces data.pkl. */
export function torchZip(
  root: CheckpointValue,
  opts: { zip64?: boolean; omit?: string; pickleBytes?: Uint8Array } = {},
): Uint8Array {
  const storages = new Map<string, TensorSpec>();
  const value = toPickleValue(
    root,
    (t, numel) =>
      tuple("storage", global(t.storageType ?? "torch.FloatStorage"), t.key, "cpu", numel),
    storages,
  );
  const entries = [{ name: "archive/data.pkl", data: opts.pickleBytes ?? pickle(value) }];
  for (const [key, t] of storages)
    if (key !== opts.omit) entries.push({ name: `archive/data/${key}`, data: t.storage });
  entries.push({ name: "archive/version", data: new TextEncoder().encode("3\n") });
  return zipStored(entries, opts.zip64);
}

/**
 * A legacy (pre-1.6) checkpoint. `views` maps a tensor key to [rootKey, elementOffset] so that it is
 * written as a view of another storage (which must come earlier); `lieNumel` makes every record header
 * claim that many elements, whatever the pickle says.
 */
export function torchLegacy(
  root: CheckpointValue,
  opts: { views?: Map<string, [string, number]>; lieNumel?: number } = {},
): Uint8Array {
  const storages = new Map<string, TensorSpec>();
  const rootSizes = new Map<string, number>();
  const value = toPickleValue(
    root,
    (t, numel) => {
      const view = opts.views?.get(t.key);
      if (!view)
        return tuple(
          "storage",
          global(t.storageType ?? "torch.FloatStorage"),
          t.key,
          "cpu",
          numel,
          null,
        );
      const base = storages.get(view[0]);
      const baseNumel = base ? base.storage.byteLength / (base.elementBytes ?? 4) : 0;
      return tuple(
        "storage",
        global(t.storageType ?? "torch.FloatStorage"),
        view[0],
        "cpu",
        baseNumel,
        tuple(t.key, view[1], numel),
      );
    },
    storages,
  );
  for (const [key, t] of storages)
    if (!opts.views?.has(key))
      rootSizes.set(key, t.declaredNumel ?? t.storage.byteLength / (t.elementBytes ?? 4));
  const out = new Bytes();
  out.bytes(pickle(0x1950a86a20f9469cfc6cn));
  out.bytes(pickle(1001));
  out.bytes(
    pickle({
      dict: [
        ["protocol_version", 1001],
        ["little_endian", true],
      ],
    }),
  );
  out.bytes(pickle(value));
  const keys = [...rootSizes.keys()];
  out.bytes(pickle(keys));
  for (const key of keys) {
    out.i64(BigInt(opts.lieNumel ?? rootSizes.get(key)!));
    out.bytes(storages.get(key)!.storage);
  }
  return out.done();
}
