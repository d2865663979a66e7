/**
 * `funit convert` end to end: the NVlabs fixtures (zip and legacy) convert bit-identically to the
 * reference safetensors in f32 and to nearest-even f16; bare, strided, shared, half/bf16/f64, ZIP64
 * and legacy-view checkpoints convert correctly; bad inputs fail with a named problem, a non-zero exit
 * code and no file left behind; progress is reported and the input is read by bounded positioned reads.
 */
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  float16Bytes,
  parseSafetensors,
  tensorToFloat32,
  type SafetensorsFile,
} from "../src/safetensors";
import { convertCheckpoint } from "../src/node/convert";
import { main } from "../src/cli";

/** `funit convert …` in process, through the CLI's one parser and exit-code mapping. */
const runConvertCommand = (argv: string[]) => main(["convert", ...argv]);
import { readStateDict } from "../src/torch/checkpoint";
import { convertToSafetensors } from "../src/torch/convert";
import { bytesReader } from "../src/torch/reader";
import {
  global,
  pickle,
  reduce,
  torchLegacy,
  torchZip,
  type CheckpointValue,
  type TensorSpec,
} from "./helpers/torch-writers";
import { CheckpointError, ModelFormatError, PickleError, ZipError } from "../src/errors";

const tmp = mkdtempSync(join(tmpdir(), "funit-convert-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
});

let dirCount = 0;
/** A fresh empty directory, so a test can check that nothing at all was left in it. */
function freshDir(): string {
  const dir = join(tmp, `case-${dirCount++}`);
  mkdirSync(dir);
  return dir;
}

const read = (path: string) => parseSafetensors(new Uint8Array(readFileSync(path)));

function expectSameTensors(got: SafetensorsFile, want: SafetensorsFile) {
  expect([...got.tensors.keys()]).toEqual([...want.tensors.keys()]);
  for (const [name, t] of want.tensors) {
    const g = got.tensors.get(name)!;
    expect(g.dtype, name).toBe(t.dtype);
    expect(g.shape, name).toEqual(t.shape);
    expect(Buffer.compare(g.bytes, t.bytes), name).toBe(0);
  }
}

/** The reference tensors as a bare state dict of crafted storages (one storage per tensor). */
function bareFrom(path: string): Map<string, CheckpointValue> {
  return new Map(
    [...read(path).tensors].map(([name, t], i) => [
      name,
      { key: String(i), storage: t.bytes.slice(), shape: t.shape },
    ]),
  );
}

const TINY_A = "test/fixtures/tiny-a/gen_test.safetensors";
const bare = bareFrom(TINY_A);

const ROUND_TRIPS: [string, string][] = [
  ["test/fixtures/tiny-a/gen.pt", TINY_A],
  ["test/fixtures/tiny-a/gen-legacy.pt", TINY_A],
  ["test/fixtures/tiny-b/gen.pt", "test/fixtures/tiny-b/gen_test.safetensors"],
  ["test/fixtures/tiny-b/gen-legacy.pt", "test/fixtures/tiny-b/gen_test.safetensors"],
  ["test/fixtures/hangul64/gen.pt", "test/fixtures/hangul64/gen_test.safetensors"],
];

describe("convert: NVlabs fixtures", () => {
  it.each(ROUND_TRIPS)("%s converts bit-identically to %s in f32", async (input, reference) => {
    const out = join(freshDir(), "out.safetensors");
    const result = await convertCheckpoint(input, out, {});
    const got = read(out);
    const want = read(reference);
    expectSameTensors(got, want);
    expect(result.tensors).toBe(want.tensors.size);
    expect(result.bytes).toBe(readFileSync(out).byteLength);
    expect(result.generator).toBe("gen_test");
    expect(got.metadata.format).toBe("funit-generator/1");
    expect(JSON.parse(got.metadata.gen!)).toEqual(JSON.parse(want.metadata.gen!));
    expect(got.metadata.source).toBe(input.split("/").pop());
    expect(got.metadata.generator).toBe("gen_test");
  });

  it.each([ROUND_TRIPS[0]!, ROUND_TRIPS[3]!, ROUND_TRIPS[4]!])(
    "%s converts to f16 equal to the f32 reference rounded to nearest even",
    async (input, reference) => {
      const out = join(freshDir(), "out.safetensors");
      await convertCheckpoint(input, out, { dtype: "f16" });
      const got = read(out);
      for (const [name, t] of read(reference).tensors) {
        const g = got.tensors.get(name)!;
        expect(g.dtype).toBe("F16");
        expect(g.shape).toEqual(t.shape);
        expect(Buffer.compare(g.bytes, float16Bytes(tensorToFloat32(name, t))), name).toBe(0);
      }
    },
  );

  it("weights/hangul64-f16.safetensors is exactly what the converter makes from the hangul64 gen.pt", async () => {
    const out = join(freshDir(), "hangul64-f16.safetensors");
    await convertCheckpoint("test/fixtures/hangul64/gen.pt", out, { dtype: "f16" });
    expect(
      Buffer.compare(readFileSync(out), readFileSync("weights/hangul64-f16.safetensors")),
    ).toBe(0);
  });

  it("--generator gen takes the other generator, identically from zip and legacy files", async () => {
    const dir = freshDir();
    await convertCheckpoint("test/fixtures/tiny-a/gen.pt", join(dir, "zip.safetensors"), {
      generator: "gen",
    });
    await convertCheckpoint("test/fixtures/tiny-a/gen-legacy.pt", join(dir, "legacy.safetensors"), {
      generator: "gen",
    });
    const zip = read(join(dir, "zip.safetensors"));
    expectSameTensors(zip, read(join(dir, "legacy.safetensors")));
    expect(zip.metadata.generator).toBe("gen");
    const ema = read(TINY_A);
    expect(
      [...zip.tensors].some(
        ([name, t]) => Buffer.compare(t.bytes, ema.tensors.get(name)!.bytes) !== 0,
      ),
    ).toBe(true);
  });

  it("reports progress per tensor and reads the input by positioned reads, never whole", async () => {
    const file = new Uint8Array(readFileSync("test/fixtures/hangul64/gen.pt"));
    const reads: number[] = [];
    const reader = {
      size: file.byteLength,
      read: async (o: number, n: number) => {
        reads.push(n);
        return file.subarray(o, o + n);
      },
    };
    const progress: [number, number][] = [];
    let written = 0;
    const result = await convertToSafetensors(
      reader,
      async (b) => {
        written += b.byteLength;
      },
      { onProgress: (d, t) => progress.push([d, t]) },
    );
    expect(progress).toHaveLength(result.tensors + 1);
    expect(
      progress.every(([d, t], i) => t === result.bytes && (i === 0 || d > progress[i - 1]![0])),
    ).toBe(true);
    expect(progress.at(-1)![0]).toBe(result.bytes);
    expect(written).toBe(result.bytes);
    // Only gen_test's records, the directory and data.pkl are read: about half the file, none larger than a tensor.
    const largestTensor = Math.max(
      ...[...read("test/fixtures/hangul64/gen_test.safetensors").tensors.values()].map(
        (t) => t.bytes.byteLength,
      ),
    );
    expect(Math.max(...reads)).toBeLessThanOrEqual(largestTensor);
    expect(reads.reduce((a, b) => a + b, 0)).toBeLessThan(file.byteLength * 0.6);
  });
});

describe("convert: crafted checkpoints", () => {
  async function convertBytes(bytes: Uint8Array, opts: { dtype?: "f32" | "f16" } = {}) {
    const dir = freshDir();
    writeFileSync(join(dir, "in.pt"), bytes);
    const result = await convertCheckpoint(join(dir, "in.pt"), join(dir, "out.safetensors"), opts);
    return { result, file: read(join(dir, "out.safetensors")) };
  }

  it("converts bare state dicts (zip, ZIP64 and legacy), dropping AdaIN running stats", async () => {
    const withStats = bareFrom(TINY_A);
    withStats.set("dec.model.0.model.0.model.0.norm.running_mean", {
      key: "rm",
      storage: new Uint8Array(64 * 4),
      shape: [64],
    });
    withStats.set("dec.model.0.model.0.model.0.norm.num_batches_tracked", {
      key: "nb",
      storageType: "torch.LongStorage",
      elementBytes: 8,
      storage: new Uint8Array(8),
      shape: [],
    });
    for (const bytes of [
      torchZip(withStats),
      torchZip(withStats, { zip64: true }),
      torchLegacy(withStats),
    ]) {
      const { result, file } = await convertBytes(bytes);
      expect(result.generator).toBe("bare");
      expectSameTensors(file, read(TINY_A));
    }
  });

  it("gathers strided tensors and tensors at an offset into a shared storage", async () => {
    const want = read(TINY_A);
    const strided = bareFrom(TINY_A);
    // [8,3,7,7] weight stored with its first two dims swapped: storage layout [3,8,7,7].
    const w = want.tensors.get("enc_class_model.model.0.conv.weight")!;
    const permuted = new Uint8Array(w.bytes.byteLength);
    for (let o = 0; o < 8; o++)
      for (let c = 0; c < 3; c++) {
        permuted.set(
          w.bytes.subarray((o * 3 + c) * 49 * 4, (o * 3 + c + 1) * 49 * 4),
          (c * 8 + o) * 49 * 4,
        );
      }
    strided.set("enc_class_model.model.0.conv.weight", {
      key: "0",
      storage: permuted,
      shape: [8, 3, 7, 7],
      stride: [49, 8 * 49, 7, 1],
    });
    // The bias lives at element 5 of a 16-element storage.
    const b = want.tensors.get("enc_class_model.model.0.conv.bias")!;
    const shared = new Uint8Array(16 * 4).fill(0xab);
    shared.set(b.bytes, 5 * 4);
    strided.set("enc_class_model.model.0.conv.bias", {
      key: "1",
      storage: shared,
      offset: 5,
      shape: [8],
    });
    for (const bytes of [torchZip(strided), torchLegacy(strided)])
      expectSameTensors((await convertBytes(bytes)).file, want);
  });

  it("reads half, bfloat16 and double storages", async () => {
    const want = read(TINY_A);
    const half = new Map<string, CheckpointValue>();
    for (const [name, t] of want.tensors) {
      half.set(name, {
        key: name,
        storageType: "torch.HalfStorage",
        elementBytes: 2,
        storage: float16Bytes(tensorToFloat32(name, t)),
        shape: t.shape,
      });
    }
    const f16 = (await convertBytes(torchZip(half), { dtype: "f16" })).file;
    for (const [name, t] of f16.tensors)
      expect(Buffer.compare(t.bytes, (half.get(name) as TensorSpec).storage), name).toBe(0);
    const f32 = (await convertBytes(torchZip(half))).file;
    for (const [name, t] of f32.tensors)
      expect(tensorToFloat32(name, t)).toEqual(tensorToFloat32(name, f16.tensors.get(name)!));

    const mixed = bareFrom(TINY_A);
    const bias = want.tensors.get("mlp.model.0.fc.bias")!;
    const values = tensorToFloat32("bias", bias);
    const doubles = new Uint8Array(values.length * 8);
    values.forEach((v, i) => new DataView(doubles.buffer).setFloat64(i * 8, v, true));
    mixed.set("mlp.model.0.fc.bias", {
      key: "d",
      storageType: "torch.DoubleStorage",
      elementBytes: 8,
      storage: doubles,
      shape: bias.shape,
    });
    const weight = want.tensors.get("mlp.model.1.fc.weight")!;
    const bf16 = new Uint8Array(weight.bytes.byteLength / 2);
    for (let i = 0; i < bf16.length; i += 2)
      bf16.set(weight.bytes.subarray(i * 2 + 2, i * 2 + 4), i); // top halves
    mixed.set("mlp.model.1.fc.weight", {
      key: "bf",
      storageType: "torch.BFloat16Storage",
      elementBytes: 2,
      storage: bf16,
      shape: weight.shape,
    });
    const got = (await convertBytes(torchZip(mixed))).file;
    expect(Buffer.compare(got.tensors.get("mlp.model.0.fc.bias")!.bytes, bias.bytes)).toBe(0); // f32 → f64 → f32 is exact
    const truncated = tensorToFloat32("w", weight).map((v) => {
      const u = new Uint32Array(new Float32Array([v]).buffer);
      return new Float32Array(new Uint32Array([u[0]! & 0xffff0000]).buffer)[0]!;
    });
    expect(tensorToFloat32("w", got.tensors.get("mlp.model.1.fc.weight")!)).toEqual(truncated);
  });

  it("resolves legacy storage views to their place in the root storage", async () => {
    const root = new Float32Array(32).map((_, i) => i);
    const state = new Map<string, CheckpointValue>([
      ["a", { key: "root", storage: new Uint8Array(root.buffer), shape: [32] }],
      ["b", { key: "view", storage: new Uint8Array(8 * 4), shape: [2, 4] }],
    ]);
    const sd = await readStateDict(
      bytesReader(torchLegacy(state, { views: new Map([["view", ["root", 10]]]) })),
    );
    const b = sd.tensors.get("b")!;
    expect(b.shape).toEqual([2, 4]);
    expect([...new Float32Array((await b.read()).slice().buffer)]).toEqual([
      10, 11, 12, 13, 14, 15, 16, 17,
    ]);
  });
});

describe("convert: bad inputs fail cleanly and leave nothing behind", () => {
  const tinyZip = new Uint8Array(readFileSync("test/fixtures/tiny-a/gen.pt"));
  const tinyLegacy = new Uint8Array(readFileSync("test/fixtures/tiny-a/gen-legacy.pt"));

  /** Sets an entry's sizes in the central directory (not the data) to `size`. */
  function declareSize(zip: Uint8Array, name: string, size: number): Uint8Array {
    const out = zip.slice();
    const view = new DataView(out.buffer);
    const nameBytes = new TextEncoder().encode(name);
    for (let at = 0; at + 46 < out.length; at++) {
      if (
        view.getUint32(at, true) === 0x02014b50 &&
        Buffer.compare(out.subarray(at + 46, at + 46 + nameBytes.length), nameBytes) === 0
      ) {
        view.setUint32(at + 20, size, true);
        view.setUint32(at + 24, size, true);
        return out;
      }
    }
    throw new Error(`no central record for ${name}`);
  }

  const discriminator = new Map<string, CheckpointValue>([
    [
      "cnn_f.0.conv.weight",
      { key: "0", storage: new Uint8Array(4 * 3 * 7 * 7 * 4), shape: [4, 3, 7, 7] },
    ],
    ["cnn_f.0.conv.bias", { key: "1", storage: new Uint8Array(16), shape: [4] }],
    ["cnn_c.conv.weight", { key: "2", storage: new Uint8Array(10 * 4 * 4), shape: [10, 4, 1, 1] }],
  ]);
  const withLong = bareFrom(TINY_A);
  withLong.set("mlp.model.0.fc.bias", {
    key: "long",
    storageType: "torch.LongStorage",
    elementBytes: 8,
    storage: new Uint8Array(32 * 8),
    shape: [32],
  });
  const misShaped = bareFrom(TINY_A);
  misShaped.set("mlp.model.0.fc.bias", { key: "x", storage: new Uint8Array(31 * 4), shape: [31] });
  const huge = bareFrom(TINY_A);
  huge.set("mlp.model.0.fc.bias", {
    key: "big",
    storage: new Uint8Array(32 * 4),
    shape: [32],
    declaredNumel: 1e9,
  });

  // Every tensor a view of one storage: the output would be many times the input.
  const largest = Math.max(...[...read(TINY_A).tensors.values()].map((t) => t.bytes.byteLength));
  const sharedStorage = new Uint8Array(largest);
  const allShared = new Map(
    [...read(TINY_A).tensors].map(([name, t]): [string, CheckpointValue] => [
      name,
      { key: "shared", storage: sharedStorage, shape: t.shape },
    ]),
  );

  const cases: [string, Uint8Array, new (...a: never[]) => Error, RegExp][] = [
    [
      "truncated zip",
      tinyZip.subarray(0, Math.floor(tinyZip.length * 0.6)),
      ZipError,
      /no end-of-central-directory record/,
    ],
    [
      "truncated legacy (in the storages)",
      tinyLegacy.subarray(0, Math.floor(tinyLegacy.length * 0.5)),
      CheckpointError,
      /past the end of the .*-byte file: truncated/,
    ],
    [
      "truncated legacy (in the pickles)",
      tinyLegacy.subarray(0, 5000),
      PickleError,
      /input ends at 5000 \(truncated\?\)/,
    ],
    [
      "zip with a missing record",
      torchZip(bare, { omit: "3" }),
      ZipError,
      /no record 'archive\/data\/3'/,
    ],
    [
      "zip record declared larger than the file",
      declareSize(torchZip(bare), "archive/data/3", 0x7fff0000),
      ZipError,
      /entry 'archive\/data\/3' declares 2147418112 bytes at offset \d+, past the end of the entries/,
    ],
    [
      "storage declared larger than its zip record",
      torchZip(huge),
      CheckpointError,
      /holds 128 bytes but F32\[1000000000\] needs 4000000000/,
    ],
    [
      "legacy storage declared larger than the file",
      torchLegacy(huge),
      CheckpointError,
      /ends at byte \d+, past the end of the \d+-byte file/,
    ],
    [
      "legacy record header disagreeing with the pickle",
      torchLegacy(bare, { lieNumel: 7 }),
      CheckpointError,
      /holds 7 elements but the pickle says/,
    ],
    [
      "pickle naming a disallowed global",
      torchZip(bare, { pickleBytes: pickle(reduce(global("os.system"), "echo pwned")) }),
      PickleError,
      /global 'os\.system' is not allowed/,
    ],
    [
      "FUNIT discriminator state dict",
      torchZip(discriminator),
      ModelFormatError,
      /looks like a FUNIT discriminator/,
    ],
    [
      "NVlabs discriminator checkpoint",
      torchZip(new Map([["dis", discriminator]])),
      CheckpointError,
      /checkpoint holds \{dis\}: expected an NVlabs FUNIT/,
    ],
    [
      "integer tensor where weights belong",
      torchZip(withLong),
      CheckpointError,
      /'mlp\.model\.0\.fc\.bias' has dtype I64/,
    ],
    [
      "mis-shaped tensor",
      torchZip(misShaped),
      ModelFormatError,
      /'mlp\.model\.0\.fc\.bias' has shape \[31\], expected \[32\]/,
    ],
    [
      "tensors all sharing one storage",
      torchZip(allShared),
      CheckpointError,
      /tensors total \d+ bytes, more than the \d+-byte file/,
    ],
    [
      "text file",
      new TextEncoder().encode("hello, I am not a checkpoint\n"),
      CheckpointError,
      /not a torch checkpoint/,
    ],
    ["empty file", new Uint8Array(0), CheckpointError, /empty or truncated/],
  ];

  it.each(cases)("%s", async (_, bytes, errorClass, message) => {
    const dir = freshDir();
    writeFileSync(join(dir, "in.pt"), bytes);
    const out = join(dir, "out.safetensors");
    const error = await convertCheckpoint(join(dir, "in.pt"), out, {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(errorClass);
    expect((error as Error).message).toMatch(message);
    expect(readdirSync(dir)).toEqual(["in.pt"]);
  });

  it("refuses --generator gen when the checkpoint lacks it", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "in.pt"), torchZip(new Map([["gen_test", bare]])));
    await expect(
      convertCheckpoint(join(dir, "in.pt"), join(dir, "out.safetensors"), { generator: "gen" }),
    ).rejects.toThrow(/no 'gen' generator \(it has: gen_test\)/);
  });

  it("fails mid-stream on a corrupt record after the header was written, and keeps an existing output untouched", async () => {
    const dir = freshDir();
    const corrupt = tinyZip.slice();
    // Flip a byte inside gen_test's last storage record (CRC-checked when read, after the header is out).
    const lastData = corrupt.length - 10_000;
    corrupt[lastData] = corrupt[lastData]! ^ 0xff;
    writeFileSync(join(dir, "in.pt"), corrupt);
    writeFileSync(join(dir, "out.safetensors"), "previous");
    const progress: number[] = [];
    await expect(
      convertCheckpoint(join(dir, "in.pt"), join(dir, "out.safetensors"), {
        onProgress: (d) => progress.push(d),
      }),
    ).rejects.toThrow(/CRC-32/);
    expect(progress.length).toBeGreaterThan(1);
    expect(readdirSync(dir).sort()).toEqual(["in.pt", "out.safetensors"]);
    expect(readFileSync(join(dir, "out.safetensors"), "utf8")).toBe("previous");
  });
});

describe("funit convert command", () => {
  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    vi.spyOn(process.stderr, "write").mockImplementation((s) => {
      err.push(String(s));
      return true;
    });
    // The CLI reports errors with console.error (which vitest intercepts before process.stderr).
    vi.spyOn(console, "error").mockImplementation((...a) => void err.push(`${a.join(" ")}\n`));
    return { out, err };
  }

  it("converts, prints a one-line summary and exits 0", async () => {
    const dir = freshDir();
    const io = capture();
    const code = await runConvertCommand([
      "test/fixtures/tiny-b/gen-legacy.pt",
      join(dir, "b.safetensors"),
      "--dtype",
      "f16",
      "--generator",
      "gen_test",
    ]);
    expect(code).toBe(0);
    expect(io.out.join("")).toMatch(
      /^wrote .*b\.safetensors: 52 tensors, f16, .* MB from 'gen_test' of gen-legacy\.pt \(legacy format; nf=8 .*\)\n$/,
    );
    expect(read(join(dir, "b.safetensors")).tensors.get("mlp.model.0.fc.weight")!.dtype).toBe(
      "F16",
    );
  });

  it.each([
    [[], /expected IN\.pt and OUT\.safetensors, got 0/],
    [["a.pt", "b.safetensors", "--dtype", "f8"], /--dtype must be f32 or f16, not 'f8'/],
    [["a.pt", "b.safetensors", "--generator", "dis"], /--generator must be gen_test or gen/],
    [["a.pt", "b.safetensors", "--bogus"], /Unknown option '--bogus'/],
    [["a.pt", "b.safetensors", "c"], /unexpected argument 'c'/],
  ])("exits 2 with a pointer to the help for %j", async (argv, message) => {
    const io = capture();
    expect(await runConvertCommand(argv as string[])).toBe(2);
    expect(io.err.join("")).toMatch(message);
    expect(io.err.join("")).toMatch(/^funit convert: /);
    expect(io.err.join("")).toContain("run 'funit help convert' for usage");
  });

  it("prints its usage for --help, as the other commands do", async () => {
    const io = capture();
    expect(await runConvertCommand(["--help"])).toBe(0);
    expect(io.out.join("")).toContain("usage: funit convert IN.pt OUT.safetensors");
  });

  it("exits 2 naming the problem for a missing or bad input, leaving no output", async () => {
    const dir = freshDir();
    let io = capture();
    expect(await runConvertCommand([join(dir, "missing.pt"), join(dir, "out.safetensors")])).toBe(
      2,
    );
    expect(io.err.join("")).toMatch(/cannot read checkpoint .*missing\.pt: no such file/);
    vi.restoreAllMocks();
    writeFileSync(
      join(dir, "bad.pt"),
      torchZip(bare, { pickleBytes: pickle(reduce(global("builtins.exec"), "1")) }),
    );
    io = capture();
    expect(await runConvertCommand([join(dir, "bad.pt"), join(dir, "out.safetensors")])).toBe(2);
    expect(io.err.join("")).toMatch(
      /^funit convert: .*bad\.pt: pickle byte \d+: global 'builtins\.exec' is not allowed/,
    );
    expect(existsSync(join(dir, "out.safetensors"))).toBe(false);
    expect(readdirSync(dir)).toEqual(["bad.pt"]);
  });
});
