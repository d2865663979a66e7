/**
 * A zip reader for PyTorch checkpoints (torch >= 1.6 saves a zip of STORED, uncompressed entries).
 * It reads only the end records and the central directory up front, then each entry on demand with
 * positioned reads, so memory stays bounded by the largest entry asked for. ZIP64 records (which torch
 * writes for large files) are understood; compressed, encrypted and multi-disk archives are refused.
 * Every offset and size is checked against the file before it is used, and whole-entry reads are
 * checked against the entry's CRC-32.
 */
import { readExactly, type RandomAccessReader } from "./reader";
import { ZipError } from "../errors";
import { LIMITS, limitText } from "../limits";

export interface ZipEntry {
  name: string;
  /** 0 = STORED; anything else is refused when the entry is read. */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
/** Central directories of real checkpoints are a few KiB (one record per tensor storage). */
const MAX_CENTRAL_DIRECTORY = LIMITS.maxZipCentralDirectoryBytes;

const names = new TextDecoder("utf-8");

function fail(message: string): never {
  throw new ZipError(message);
}

function dataView(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A little-endian uint64 as a number, refusing values past 2^53 (no file here is that large). */
function u64(view: DataView, at: number, what: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} ${v} is impossibly large`);
  return Number(v);
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as zip uses), continuing from `crc` so large entries can be checked in pieces. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

export class ZipArchive {
  private readonly dataOffsets = new Map<string, number>();

  constructor(
    readonly reader: RandomAccessReader,
    readonly entries: ReadonlyMap<string, ZipEntry>,
    /** Where the central directory starts: every entry's bytes must lie before it. */
    private readonly centralOffset: number,
  ) {}

  /** Looks an entry up by name, with an error that names the missing record. */
  entry(name: string): ZipEntry {
    const e = this.entries.get(name);
    if (!e) fail(`the archive has no record '${name}'`);
    return e;
  }

  /** File offset of an entry's bytes, from its local header (read once, then cached). */
  async dataOffset(entry: ZipEntry): Promise<number> {
    const cached = this.dataOffsets.get(entry.name);
    if (cached !== undefined) return cached;
    if (entry.flags & 1) fail(`entry '${entry.name}' is encrypted`);
    if (entry.method !== 0)
      fail(
        `entry '${entry.name}' is compressed (method ${entry.method}); torch checkpoints store entries uncompressed`,
      );
    if (entry.compressedSize !== entry.size)
      fail(
        `stored entry '${entry.name}' has compressed size ${entry.compressedSize} but size ${entry.size}`,
      );
    if (entry.localHeaderOffset + 30 > this.centralOffset)
      fail(
        `entry '${entry.name}': local header offset ${entry.localHeaderOffset} is past the entries`,
      );
    const head = dataView(
      await readExactly(
        this.reader,
        entry.localHeaderOffset,
        30,
        `local header of '${entry.name}'`,
      ),
    );
    if (head.getUint32(0, true) !== LOCAL_SIGNATURE)
      fail(`entry '${entry.name}': no local header at offset ${entry.localHeaderOffset}`);
    const nameLength = head.getUint16(26, true);
    const extraLength = head.getUint16(28, true);
    const offset = entry.localHeaderOffset + 30 + nameLength + extraLength;
    if (offset + entry.size > this.centralOffset) {
      fail(
        `entry '${entry.name}': ${entry.size} bytes at offset ${offset} run past the entries (end ${this.centralOffset}): truncated or corrupt`,
      );
    }
    const localName = names.decode(
      await readExactly(
        this.reader,
        entry.localHeaderOffset + 30,
        nameLength,
        `name of '${entry.name}'`,
      ),
    );
    if (localName !== entry.name) fail(`entry '${entry.name}': local header names '${localName}'`);
    this.dataOffsets.set(entry.name, offset);
    return offset;
  }

  /** Bytes [start, start + length) of an entry, without a CRC check (for parts of an entry). */
  async readRange(entry: ZipEntry, start: number, length: number): Promise<Uint8Array> {
    if (
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(length) ||
      start < 0 ||
      length < 0 ||
      start + length > entry.size
    ) {
      fail(
        `entry '${entry.name}': bytes [${start}, ${start + length}) are outside its ${entry.size} bytes`,
      );
    }
    const offset = await this.dataOffset(entry);
    return readExactly(this.reader, offset + start, length, `entry '${entry.name}'`);
  }

  /** A whole entry, checked against its CRC-32. */
  async read(entry: ZipEntry): Promise<Uint8Array> {
    const bytes = await this.readRange(entry, 0, entry.size);
    const actual = crc32(bytes);
    if (actual !== entry.crc32)
      fail(`entry '${entry.name}' is corrupt: CRC-32 ${hex(actual)}, expected ${hex(entry.crc32)}`);
    return bytes;
  }
}

function hex(n: number): string {
  return "0x" + n.toString(16).padStart(8, "0");
}

/** Reads the end records and central directory. Throws ZipError if the file is not a readable zip. */
export async function openZip(reader: RandomAccessReader): Promise<ZipArchive> {
  const tailLength = Math.min(reader.size, EOCD_SIZE + MAX_COMMENT);
  if (tailLength < EOCD_SIZE) fail(`file is ${reader.size} bytes, too short for a zip`);
  const tailStart = reader.size - tailLength;
  const tail = await readExactly(reader, tailStart, tailLength, "zip end record");
  const tv = dataView(tail);
  let eocd = -1;
  for (let i = tailLength - EOCD_SIZE; i >= 0; i--) {
    if (
      tv.getUint32(i, true) === EOCD_SIGNATURE &&
      i + EOCD_SIZE + tv.getUint16(i + 20, true) === tailLength
    ) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail("no end-of-central-directory record: not a zip file, or truncated");
  const eocdOffset = tailStart + eocd;
  let disk = tv.getUint16(eocd + 4, true);
  let centralDisk = tv.getUint16(eocd + 6, true);
  let count = tv.getUint16(eocd + 10, true);
  let centralSize = tv.getUint32(eocd + 12, true);
  let centralOffset = tv.getUint32(eocd + 16, true);
  let entriesEnd = eocdOffset;

  // ZIP64: a locator just before the end record points at a record with 64-bit counts and offsets.
  if (eocd >= 20 && tv.getUint32(eocd - 20, true) === ZIP64_LOCATOR_SIGNATURE) {
    const recordOffset = u64(tv, eocd - 12, "ZIP64 end record offset");
    if (recordOffset + 56 > eocdOffset - 20)
      fail(`ZIP64 end record offset ${recordOffset} is past the end of the archive`);
    const rv = dataView(await readExactly(reader, recordOffset, 56, "ZIP64 end record"));
    if (rv.getUint32(0, true) !== ZIP64_EOCD_SIGNATURE)
      fail(`no ZIP64 end record at offset ${recordOffset}`);
    disk = rv.getUint32(16, true);
    centralDisk = rv.getUint32(20, true);
    count = u64(rv, 32, "ZIP64 entry count");
    centralSize = u64(rv, 40, "ZIP64 central directory size");
    centralOffset = u64(rv, 48, "ZIP64 central directory offset");
    entriesEnd = recordOffset;
  } else if (count === 0xffff || centralSize === 0xffffffff || centralOffset === 0xffffffff) {
    fail("end record defers to a ZIP64 record that is missing: truncated or corrupt");
  }
  if (disk !== 0 || centralDisk !== 0) fail("multi-disk zip archives are not supported");
  if (centralSize > MAX_CENTRAL_DIRECTORY)
    fail(
      `central directory of ${centralSize} bytes: too large ` +
        `(${limitText("maxZipCentralDirectoryBytes", MAX_CENTRAL_DIRECTORY)})`,
    );
  if (centralOffset + centralSize > entriesEnd) {
    fail(
      `central directory [${centralOffset}, ${centralOffset + centralSize}) runs past its end record at ${entriesEnd}: truncated or corrupt`,
    );
  }
  if (count * 46 > centralSize)
    fail(`${count} entries cannot fit a ${centralSize}-byte central directory`);

  const central = await readExactly(reader, centralOffset, centralSize, "zip central directory");
  const cv = dataView(central);
  const entries = new Map<string, ZipEntry>();
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > centralSize || cv.getUint32(at, true) !== CENTRAL_SIGNATURE)
      fail(`central directory record ${i} is missing or corrupt (offset ${centralOffset + at})`);
    const nameLength = cv.getUint16(at + 28, true);
    const extraLength = cv.getUint16(at + 30, true);
    const commentLength = cv.getUint16(at + 32, true);
    const next = at + 46 + nameLength + extraLength + commentLength;
    if (next > centralSize) fail(`central directory record ${i} runs past the directory`);
    const name = names.decode(central.subarray(at + 46, at + 46 + nameLength));
    const entry: ZipEntry = {
      name,
      flags: cv.getUint16(at + 8, true),
      method: cv.getUint16(at + 10, true),
      crc32: cv.getUint32(at + 16, true),
      compressedSize: cv.getUint32(at + 20, true),
      size: cv.getUint32(at + 24, true),
      localHeaderOffset: cv.getUint32(at + 42, true),
    };
    readZip64Extra(
      entry,
      dataView(central.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength)),
    );
    if (entry.localHeaderOffset + 30 + entry.compressedSize > centralOffset) {
      fail(
        `entry '${name}' declares ${entry.compressedSize} bytes at offset ${entry.localHeaderOffset}, past the end of the entries (${centralOffset}): truncated or corrupt`,
      );
    }
    if (entries.has(name)) fail(`duplicate entry '${name}'`);
    entries.set(name, entry);
    at = next;
  }
  return new ZipArchive(reader, entries, centralOffset);
}

/** Replaces 0xFFFFFFFF sizes and offset with the 64-bit values of the ZIP64 extra field, in its fixed order. */
function readZip64Extra(entry: ZipEntry, extra: DataView): void {
  const wanted = (["size", "compressedSize", "localHeaderOffset"] as const).filter(
    (k) => entry[k] === 0xffffffff,
  );
  if (!wanted.length) return;
  for (let at = 0; at + 4 <= extra.byteLength;) {
    const id = extra.getUint16(at, true);
    const length = extra.getUint16(at + 2, true);
    if (at + 4 + length > extra.byteLength) break;
    if (id === 0x0001) {
      if (wanted.length * 8 > length) fail(`entry '${entry.name}': ZIP64 extra field is too short`);
      wanted.forEach((k, i) => {
        entry[k] = u64(extra, at + 4 + 8 * i, `entry '${entry.name}' ${k}`);
      });
      return;
    }
    at += 4 + length;
  }
  fail(`entry '${entry.name}': sizes defer to a ZIP64 extra field that is missing`);
}
