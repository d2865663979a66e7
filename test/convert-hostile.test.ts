/**
 * The converter against hostile checkpoints (issue 10, items 6-8), in process: a strided view whose
 * span is far larger than its elements is refused at unpickling (before any byte of it is read,
 * checked on a 3.4 GB storage served by a reader stub); reads are made in pieces of at most
 * LIMITS.readChunkBytes; a pickle that amplifies into millions of objects stops at
 * maxPickleObjects, and one past maxPickleBytes is not read; the output sink sees nothing until the
 * checkpoint passed every check; and an output that turns into a non-regular file during conversion
 * is refused with an error naming the output path, not the temp file or the input. The same cases
 * through the CLI, with their peak RSS, are in hostile-cli.test.ts.
 */
import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { convertCheckpoint } from "../src/node/convert";
import { readStateDict } from "../src/torch/checkpoint";
import { convertToSafetensors } from "../src/torch/convert";
import { bytesReader, readExactly, type RandomAccessReader } from "../src/torch/reader";
import { LIMITS } from "../src/limits";
import { CheckpointError, InputError, PickleError } from "../src/errors";
import { unpickle } from "../src/torch/pickle";
import { torchLegacy, torchZip } from "./helpers/torch-writers";
import { manyDictsPickle, paddedReader, sparseSpanCheckpoint } from "./helpers/hostile-files";

const TINY_A = "test/fixtures/tiny-a/gen_test.safetensors";

describe("strided views (item 6)", () => {
  it("refuses a view spanning 3.4 GB for a few hundred elements before reading any of it", async () => {
    const { bytes, size } = sparseSpanCheckpoint(3.4e9);
    const reads: number[] = [];
    let written = 0;
    const err = await convertToSafetensors(paddedReader(bytes, size, reads), async (b) => {
      written += b.byteLength;
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(
      /spans \d+ elements of storage 'huge' for \d+ elements: too sparse a view \(limit maxViewSpanRatio = 4\)/,
    );
    expect(written).toBe(0);
    expect(Math.max(...reads)).toBeLessThanOrEqual(LIMITS.readChunkBytes);
  });

  it("accepts a span of 4·numel + 1024 elements and refuses one element more", async () => {
    // A [8] bias with stride k spans 7k + 1 elements: k = 150 spans 1051 ≤ 4·8 + 1024 = 1056.
    const check = async (k: number) => {
      const storage = new Uint8Array(4 * (7 * k + 1));
      const view = new DataView(storage.buffer);
      for (let i = 0; i < 8; i++) view.setFloat32(4 * i * k, i + 0.5, true);
      const dict = new Map([["b", { key: "0", storage, shape: [8], stride: [k] }]]);
      const state = await readStateDict(bytesReader(torchZip(dict)));
      return new Float32Array((await state.tensors.get("b")!.read()).slice().buffer);
    };
    expect([...(await check(150))]).toEqual([0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5]);
    // k = 151 spans 1058 elements
    await expect(check(151)).rejects.toThrow(/too sparse a view/);
  });

  it("reads long ranges in pieces of at most readChunkBytes, reassembled in order", async () => {
    const size = LIMITS.readChunkBytes * 2 + 12345;
    const reads: number[] = [];
    const reader: RandomAccessReader = {
      size,
      read: async (offset, length) => {
        reads.push(length);
        return new Uint8Array(length).fill(reads.length); // each piece holds its number
      },
    };
    const bytes = await readExactly(reader, 7, size - 7, "test range");
    expect(reads).toEqual([LIMITS.readChunkBytes, LIMITS.readChunkBytes, 12345 - 7]);
    const chunk = LIMITS.readChunkBytes;
    expect([bytes[0], bytes[chunk - 1], bytes[chunk], bytes[2 * chunk], bytes[size - 8]]).toEqual([
      1, 1, 2, 3, 3,
    ]);
  });
});

describe("pickle amplification (item 7)", () => {
  it("stops a pickle of millions of empty dicts at maxPickleObjects, writing nothing", async () => {
    const bytes = torchZip(new Map(), { pickleBytes: manyDictsPickle(3_000_000) });
    let writes = 0;
    const err = await convertToSafetensors(bytesReader(bytes), async () => {
      writes++;
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PickleError);
    expect((err as Error).message).toMatch(
      /more than 100000 values \(limit maxPickleObjects = 100000\)/,
    );
    expect(writes).toBe(0);
  });

  it("does not read a data.pkl larger than maxPickleBytes", async () => {
    const bytes = torchZip(new Map(), { pickleBytes: manyDictsPickle(LIMITS.maxPickleBytes / 2) });
    await expect(readStateDict(bytesReader(bytes))).rejects.toThrow(
      /data\.pkl is \d+ bytes: too large \(limit maxPickleBytes = 8388608\)/,
    );
  });

  it("stops widening a legacy checkpoint's pickle window at maxPickleBytes", async () => {
    // The legacy header's three pickles, then an object pickle whose string runs past 8 MiB.
    const legacy = torchLegacy(new Map());
    let end = 0;
    for (let i = 0; i < 3; i++) end = unpickle(legacy, { globals: new Map() }, end).end;
    const huge = new Uint8Array(LIMITS.maxPickleBytes * 2);
    huge.set(legacy.subarray(0, end));
    huge.set([0x80, 2, 0x58], end); // PROTO 2, BINUNICODE of length:
    new DataView(huge.buffer).setUint32(end + 3, LIMITS.maxPickleBytes * 2, true);
    const reads: number[] = [];
    await expect(readStateDict(paddedReader(huge, huge.byteLength, reads))).rejects.toThrow(
      /pickles are larger than 8388608 bytes: too large \(limit maxPickleBytes = 8388608\)/,
    );
    // windows of 1, 4 and 8 MiB (plus the 512-byte format probe), never the whole 16 MiB
    expect(reads.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(13 * 1024 * 1024 + 512);
  });
});

describe("the output file (items 7, 8)", () => {
  it("creates no temp file for a refused checkpoint and names the input's problem", async () => {
    const dir = mkdtempSync(join(tmpdir(), "funit-hostile-"));
    const { writeFileSync } = await import("node:fs");
    const { bytes } = sparseSpanCheckpoint(1.9e9);
    writeFileSync(join(dir, "in.pt"), bytes);
    // The real file is short (its last record is cut): the view is refused while unpickling anyway.
    const err = await convertCheckpoint(join(dir, "in.pt"), join(dir, "out.safetensors")).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(/too sparse a view/);
    expect(readdirSync(dir)).toEqual(["in.pt"]);
  });

  it("refuses an output that became a directory while converting, naming the output only", async () => {
    const dir = mkdtempSync(join(tmpdir(), "funit-hostile-"));
    const out = join(dir, "out.safetensors");
    const err = await convertCheckpoint("test/fixtures/tiny-a/gen.pt", out, {
      onProgress: (done) => {
        if (done > 0 && readdirSync(dir).length === 1) mkdirSync(out);
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    const message = (err as Error).message;
    expect(message).toBe(`cannot write ${out}: it exists and is a directory, not a regular file`);
    expect(message).not.toMatch(/\.tmp|gen\.pt/);
    expect(readdirSync(dir)).toEqual(["out.safetensors"]); // the directory, and no temp file
  });

  it("refuses an output directory that does not exist before reading the checkpoint", async () => {
    const out = join(tmpdir(), "funit-no-such-dir", "x", "out.safetensors");
    await expect(convertCheckpoint("test/fixtures/tiny-a/gen.pt", out)).rejects.toThrow(
      `cannot write ${out}: directory ${join(tmpdir(), "funit-no-such-dir", "x")} does not exist`,
    );
  });
});
