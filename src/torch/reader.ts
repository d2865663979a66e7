import { CheckpointError } from "../errors";
/**
 * The random-access byte source that the checkpoint readers work on: a size and positioned reads.
 * Node wraps a file handle in it (src/node/convert.ts), browsers a Blob, tests a byte array, so a
 * large checkpoint is never read into memory as a whole.
 */

export interface RandomAccessReader {
  /** Total size in bytes. */
  readonly size: number;
  /** Exactly `length` bytes starting at `offset`; implementations may return fewer only at the end. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Reads exactly [offset, offset + length) or throws a CheckpointError saying what was asked for. */
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
  const bytes = await reader.read(offset, length);
  if (bytes.byteLength !== length) {
    throw new CheckpointError(
      `${what}: read ${bytes.byteLength} of ${length} bytes at offset ${offset} (file truncated while reading?)`,
    );
  }
  return bytes;
}

/** A reader over bytes already in memory (tests, small uploads). Returns views, not copies. */
export function bytesReader(bytes: Uint8Array): RandomAccessReader {
  return {
    size: bytes.byteLength,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
  };
}
