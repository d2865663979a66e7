/**
 * The legacy checkpoint format (torch < 1.6; the 2019 NVlabs FUNIT checkpoints are of this kind):
 * a magic-number pickle, a protocol pickle, a sys-info pickle, the object pickle, a pickle of
 * storage keys, then each storage as an int64 element count and its raw bytes. The pickles' total
 * length is not recorded, so a window of the file is read and widened until they fit (bounded by
 * LIMITS.maxPickleBytes); storage records are walked and checked against the pickle up front.
 */
import { unpickle } from "./pickle";
import { readExactly, type RandomAccessReader } from "./reader";
import {
  allowedGlobals,
  describe,
  fail,
  isCount,
  MAX_PICKLE_BYTES,
  StorageRef,
  storagePid,
  StorageTable,
  type StorageBytes,
} from "./storage";
import { PickleError } from "../errors";
import { limitText } from "../limits";

/** The legacy format's first pickle: torch's magic number. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
/**
 * Parses the legacy format's five pickles from the first `window` bytes (a truncated PickleError
 * when too few).
 */
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
          `storage view ${describe(viewKey)} does not lie inside storage '${base.key}' ` +
            `of ${base.numel} elements`,
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

export async function loadLegacy(
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
        `storage record '${key}' ends at byte ${at}, past the end of the ` +
          `${reader.size}-byte file: truncated`,
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
