/**
 * The random-access byte source that the checkpoint readers work on: a size and positioned reads.
 * Node wraps a file handle in it (src/node/convert.ts), browsers a Blob, tests a byte array, so a
 * large checkpoint is never read into memory as a whole.
 */
import { CheckpointError } from "../errors";
import { LIMITS } from "../limits";

export interface RandomAccessReader {
  /** Total size in bytes. */
  readonly size: number;
  /** Exactly `length` bytes starting at `offset`; implementations may return fewer only at the end. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/**
 * Reads exactly [offset, offset + length) or throws a CheckpointError saying what was asked for.
 * Long ranges are read in pieces of LIMITS.readChunkBytes: one huge read can abort Node (a file
 * handle read takes an int32 length) and makes a reader hold a second copy of the whole range.
 */
export async function readExactly(
  reader: RandomAccessReader,
  offset: number,
  length: number,
  what: string,
): Promise<Uint8Array> {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > reader.size
  ) {
    throw new CheckpointError(
      `${what}: bytes [${offset}, ${offset + length}) lie outside the ${reader.size}-byte file (truncated file?)`,
    );
  }
  const short = (got: number) =>
    new CheckpointError(
      `${what}: read ${got} of ${length} bytes at offset ${offset} (file truncated while reading?)`,
    );
  const chunk = LIMITS.readChunkBytes;
  if (length <= chunk) {
    const bytes = await reader.read(offset, length);
    if (bytes.byteLength !== length) throw short(bytes.byteLength);
    return bytes;
  }
  const out = new Uint8Array(length);
  for (let at = 0; at < length; at += chunk) {
    const n = Math.min(chunk, length - at);
    const piece = await reader.read(offset + at, n);
    if (piece.byteLength !== n) throw short(at + piece.byteLength);
    out.set(piece, at);
  }
  return out;
}

/** A reader over bytes already in memory (tests, small uploads). Returns views, not copies. */
export function bytesReader(bytes: Uint8Array): RandomAccessReader {
  return {
    size: bytes.byteLength,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
  };
}
