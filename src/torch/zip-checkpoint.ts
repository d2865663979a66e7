/**
 * The zip checkpoint format (torch >= 1.6): one `<archive>/data.pkl` pickle plus one STORED entry
 * per storage under `<archive>/data/`, and a `byteorder` record that must say little. Only the
 * zip directory and the pickle are read up front; every storage record's size is checked against
 * what the pickle says before any tensor is read, and a whole record is checked against its CRC.
 */
import { unpickle } from "./pickle";
import { type RandomAccessReader } from "./reader";
import {
  allowedGlobals,
  fail,
  MAX_PICKLE_BYTES,
  storagePid,
  StorageTable,
  type StorageBytes,
} from "./storage";
import { openZip, type ZipArchive, type ZipEntry } from "./zip";
import { limitText } from "../limits";

export async function loadZip(
  reader: RandomAccessReader,
): Promise<{ root: unknown; bytes: StorageBytes }> {
  const zip = await openZip(reader);
  const pickles = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1)
    fail(
      `zip archive has ${pickles.length ? "several" : "no"} '<archive>/data.pkl' records: ` +
        "not a torch checkpoint",
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
  // Check every record up front: a missing or short one is reported before any output is written.
  const entries = new Map<string, ZipEntry>();
  for (const s of storages.roots.values()) {
    const entry = zip.entry(`${prefix}data/${s.key}`);
    if (entry.size !== s.numel * s.elementBytes) {
      fail(
        `storage record '${entry.name}' holds ${entry.size} bytes but ` +
          `${s.dtype}[${s.numel}] needs ${s.numel * s.elementBytes}`,
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
