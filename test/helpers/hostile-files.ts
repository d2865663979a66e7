/**
 * Hostile input files built in the tests (nothing big is committed): a PNG or JPEG whose header
 * claims a huge size, a legacy checkpoint whose last tensor is a sparse view over a multi-GB
 * storage (served by a reader stub, or written as a sparse file), and a pickle of many empty dicts.
 */
import { readFileSync } from "node:fs";
import jpeg from "jpeg-js";
import { encodePng } from "../../src/node/images";
import { parseSafetensors } from "../../src/safetensors";
import type { RandomAccessReader } from "../../src/torch/reader";
import { torchLegacy, type CheckpointValue } from "./torch-writers";

/** A small RGBA image with varied values. */
export function smallImage(width: number, height: number) {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? 255 : (i * 37) & 0xff;
  return { width, height, data };
}

/** A 2×2 PNG whose IHDR claims width × height (its CRC no longer matches: it is never read). */
export function pngClaiming(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(encodePng(smallImage(2, 2)));
  const view = new DataView(bytes.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  return bytes;
}

/**
 * A 16×8 JPEG with `app` bytes of APP1 segments before its frame header, optionally claiming a
 * size.
 */
export function jpegWith(app: number, claim?: [number, number]): Uint8Array {
  const img = smallImage(16, 8);
  const plain = new Uint8Array(jpeg.encode({ ...img, data: Buffer.from(img.data) }, 90).data);
  const segments: number[] = [];
  for (let left = app; left > 0; left -= 65533) {
    const n = Math.min(65533, left);
    segments.push(0xff, 0xe1, (n + 2) >> 8, (n + 2) & 0xff, ...new Uint8Array(n));
  }
  const out = new Uint8Array([...plain.subarray(0, 2), ...segments, ...plain.subarray(2)]);
  if (claim) {
    const sof = out.findIndex((b, i) => b === 0xff && out[i + 1] === 0xc0);
    new DataView(out.buffer).setUint16(sof + 5, claim[1]);
    new DataView(out.buffer).setUint16(sof + 7, claim[0]);
  }
  return out;
}

/** A generator's tensors as a bare state dict of crafted storages (one storage per tensor). */
export function bareFrom(path: string): Map<string, CheckpointValue> {
  const file = parseSafetensors(new Uint8Array(readFileSync(path)));
  return new Map(
    [...file.tensors].map(([name, t], i) => [
      name,
      { key: String(i), storage: t.bytes.slice(), shape: t.shape },
    ]),
  );
}

/**
 * A legacy checkpoint of the tiny-a generator whose last tensor is a view spread over a storage of
 * `spanBytes` (its record header claims that size). `bytes` holds the file up to that storage's
 * first elements; `size` is the length the whole file would have (pad it with zeros, or truncate a
 * file up to it to make it sparse).
 */
export function sparseSpanCheckpoint(spanBytes: number): { bytes: Uint8Array; size: number } {
  const state = bareFrom("test/fixtures/tiny-a/gen_test.safetensors");
  const [name, last] = [...state].pop()! as [string, { storage: Uint8Array; shape: number[] }];
  const numel = last.shape.reduce((a, b) => a * b, 1);
  const storageNumel = Math.floor(spanBytes / 4);
  // The first dimension takes the big stride, spreading the rows over the whole storage.
  const rows = last.shape[0]!;
  const rowStride = Math.floor((storageNumel - numel / rows) / Math.max(1, rows - 1));
  const stride = last.shape.map((_, i) =>
    i === 0 ? rowStride : last.shape.slice(i + 1).reduce((a, b) => a * b, 1),
  );
  state.set(name, {
    key: "huge",
    storage: last.storage,
    declaredNumel: storageNumel,
    shape: last.shape,
    stride,
  });
  const bytes = torchLegacy(state);
  return { bytes, size: bytes.byteLength - last.storage.byteLength + storageNumel * 4 };
}

/** Serves `bytes` and then zeros up to `size`, recording each read's length. */
export function paddedReader(
  bytes: Uint8Array,
  size: number,
  reads: number[] = [],
): RandomAccessReader {
  return {
    size,
    read: async (offset, length) => {
      reads.push(length);
      const out = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
      if (offset < bytes.byteLength) out.set(bytes.subarray(offset, offset + out.byteLength));
      return out;
    },
  };
}

/** A pickle of `n` empty dicts, each pushed and popped (2 bytes each), then an empty dict. */
export function manyDictsPickle(n: number): Uint8Array {
  const body = new Uint8Array(2 + 2 * n + 2);
  body.set([0x80, 2]);
  for (let i = 0; i < n; i++) body.set([0x7d, 0x30], 2 + 2 * i);
  body.set([0x7d, 0x2e], 2 + 2 * n);
  return body;
}
