/**
 * The fuzzer behind `npm run fuzz` (scripts/fuzz.mjs, 10,000 inputs a parser, with a watchdog on
 * each input) and test/fuzz.test.ts (300 a parser, in CI): valid files mutated at random (bit
 * flips, overwrites with boundary values, byte insertions and deletions, truncation; mostly in the
 * structural bytes) go through each parser a user's file can reach: the safetensors reader, the zip
 * reader, the unpickler, whole checkpoint conversion, and the PNG and JPEG decoders behind their
 * header checks. Each input must give data or one of the project's error classes with a message;
 * anything else (a TypeError, a RangeError, an abort) is a crash, reported with the seed and index
 * that reproduce it. Inputs are a pure function of (target, seed, index), so a run can be repeated.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import jpeg from "jpeg-js";
import { parseSafetensors, tensorToFloat32 } from "../../src/safetensors";
import { unpickle, type AllowedGlobals } from "../../src/torch/pickle";
import { bytesReader } from "../../src/torch/reader";
import { crc32, openZip } from "../../src/torch/zip";
import { convertToSafetensors } from "../../src/torch/convert";
import { decodeImage, encodePng, readImageHeader } from "../../src/node/images";
import {
  CheckpointError,
  InputError,
  ModelFormatError,
  PickleError,
  SafetensorsError,
} from "../../src/errors";

export type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "set"; at: number; bytes: number[] }
  | { kind: "insert"; at: number; bytes: number[] }
  | { kind: "delete"; at: number; count: number }
  | { kind: "truncate"; at: number };

/** Values that make length and offset fields extreme. */
const BOUNDARY = [
  [0xff, 0xff, 0xff, 0xff],
  [0, 0, 0, 0],
  [0xff, 0xff, 0xff, 0x7f],
  [0x80],
  [0x7f],
  [0xff],
  [0],
  [0x0a],
  [0x28],
  [0x2e],
];

/** A position: anywhere in the file, or (more often) inside one of the structural `hot` ranges. */
function position(size: number, hot: [number, number][]): fc.Arbitrary<number> {
  const anywhere = fc.nat({ max: Math.max(0, size - 1) });
  const inHot = hot.map(([a, b]) =>
    fc.integer({ min: a, max: Math.max(a, Math.min(b, size) - 1) }),
  );
  return fc.oneof(
    { arbitrary: anywhere, weight: 1 },
    ...inHot.map((arbitrary) => ({ arbitrary, weight: 3 })),
  );
}

/** One to four mutations of a file of `size` bytes, aimed mostly at the `hot` ranges. */
export function mutations(size: number, hot: [number, number][]): fc.Arbitrary<Mutation[]> {
  const at = position(size, hot);
  const bytes = (max: number) => fc.array(fc.nat({ max: 255 }), { minLength: 1, maxLength: max });
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant("flip" as const),
        at,
        bit: fc.integer({ min: 0, max: 7 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("set" as const),
        at,
        bytes: fc.oneof(fc.constantFrom(...BOUNDARY), bytes(8)),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant("insert" as const), at, bytes: bytes(16) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("delete" as const),
        at,
        count: fc.integer({ min: 1, max: 64 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at }) },
  );
  return fc.array(mutation, { minLength: 1, maxLength: 4 });
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Applies mutations to a copy; the original is never touched. */
export function mutate(file: Uint8Array, ms: Mutation[]): Uint8Array {
  let b: Uint8Array = file.slice();
  for (const m of ms) {
    const at = Math.min(m.at, b.length);
    if (m.kind === "flip") {
      if (at < b.length) b[at] = b[at]! ^ (1 << m.bit);
    } else if (m.kind === "set") b.set(m.bytes.slice(0, b.length - at), at);
    else if (m.kind === "insert")
      b = concat(b.subarray(0, at), Uint8Array.from(m.bytes), b.subarray(at));
    else if (m.kind === "delete") b = concat(b.subarray(0, at), b.subarray(at + m.count));
    else b = b.subarray(0, at);
  }
  return b;
}

type ErrorClass = new (...a: never[]) => Error;

/** One parser under fuzz: a valid seed file, its structural ranges, and what it may throw. */
export interface FuzzTarget {
  name: string;
  seed: Uint8Array;
  hot: [number, number][];
  allowed: ErrorClass[];
  run(input: Uint8Array): unknown;
}

const CHECKPOINT_ERRORS = [CheckpointError, ModelFormatError, SafetensorsError];

/** A small image with every value used, so a mutation anywhere in the data changes something. */
function testImage(width: number, height: number) {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + (i >> 5) * 11) & 0xff;
  return { width, height, data };
}

/** Decodes an image; whatever it returns must agree with the size its header declares. */
function decodeChecked(input: Uint8Array): void {
  const image = decodeImage(input, "fuzz");
  const header = readImageHeader(input)!;
  if (image.width !== header.width || image.height !== header.height)
    throw new Error(
      `decoded ${image.width}x${image.height}, header says ${header.width}x${header.height}`,
    );
}

/**
 * Recomputes every PNG chunk's CRC, so that mutations reach the decoder instead of its CRC check.
 */
function repairPngCrcs(input: Uint8Array): Uint8Array {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  for (let at = 8; at + 12 <= input.byteLength;) {
    const length = view.getUint32(at);
    if (at + 12 + length > input.byteLength) break;
    view.setUint32(at + 8 + length, crc32(input.subarray(at + 4, at + 8 + length)));
    at += 12 + length;
  }
  return input;
}

/** The targets, with seeds from the repository's fixtures (`root` is the repository root). */
export async function fuzzTargets(root: string): Promise<FuzzTarget[]> {
  const file = (p: string) => new Uint8Array(readFileSync(join(root, p)));
  const safetensors = file("test/fixtures/tiny-a/gen_test.safetensors");
  const headerEnd = 8 + Number(new DataView(safetensors.buffer).getBigUint64(0, true));
  const zip = file("test/fixtures/tiny-a/gen.pt");
  const legacy = file("test/fixtures/tiny-a/gen-legacy.pt");
  const archive = await openZip(bytesReader(zip));
  const pkl = await archive.read(archive.entry("gen/data.pkl"));
  const globals: AllowedGlobals = new Map<string, ((a: readonly unknown[]) => unknown) | null>([
    ["collections.OrderedDict", () => new Map()],
    ["torch._utils._rebuild_tensor_v2", (a) => a],
    ["torch.FloatStorage", null],
  ]);
  const img = testImage(24, 16);
  const png = encodePng(img);
  const jpg = new Uint8Array(jpeg.encode({ ...img, data: Buffer.from(img.data) }, 80).data);
  const ends = (b: Uint8Array, n: number): [number, number][] => [
    [0, 200],
    [b.length - n, b.length],
  ];
  return [
    {
      name: "safetensors",
      seed: safetensors,
      hot: [[0, headerEnd]],
      allowed: [SafetensorsError],
      run(input) {
        for (const [name, t] of parseSafetensors(input).tensors)
          if (["F32", "F16", "BF16"].includes(t.dtype)) tensorToFloat32(name, t);
      },
    },
    {
      name: "zip",
      seed: zip,
      hot: ends(zip, 8000),
      allowed: [CheckpointError],
      async run(input) {
        const z = await openZip(bytesReader(input));
        for (const entry of z.entries.values()) await z.read(entry);
      },
    },
    {
      name: "pickle",
      seed: pkl,
      hot: [],
      allowed: [PickleError],
      run: (input) => unpickle(input, { globals, persistentLoad: (pid) => pid }),
    },
    {
      name: "checkpoint (legacy, converted)",
      seed: legacy,
      hot: [[0, 19_600]],
      allowed: CHECKPOINT_ERRORS,
      run: (input) => convertToSafetensors(bytesReader(input), async () => {}, { dtype: "f16" }),
    },
    { name: "png", seed: png, hot: [[0, 64]], allowed: [InputError], run: decodeChecked },
    {
      name: "png (CRCs repaired)",
      seed: png,
      hot: [[0, 64]],
      allowed: [InputError],
      run: (input) => decodeChecked(repairPngCrcs(input)),
    },
    { name: "jpeg", seed: jpg, hot: [[0, 700]], allowed: [InputError], run: decodeChecked },
  ];
}

export interface FuzzCrash {
  index: number;
  error: string;
  mutations: Mutation[];
}

export interface FuzzReport {
  target: string;
  inputs: number;
  /** Inputs that parsed (mutations that kept the file valid, or touched only data). */
  accepted: number;
  /** Inputs refused with one of the allowed error classes. */
  refused: number;
  /** Inputs that threw anything else (the first ten are in `crashes`). */
  crashed: number;
  maxMs: number;
  totalMs: number;
  crashes: FuzzCrash[];
}

export interface FuzzOptions {
  root: string;
  /** Inputs per target. */
  count: number;
  seed?: number;
  /** Only the targets whose name starts with one of these. */
  only?: string[];
  /** Called before each input runs (the script's watchdog records it). */
  onInput?: (target: number, index: number) => void;
}

/** Runs `count` mutated inputs through each target; never throws for a crash, reports it. */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport[]> {
  const seed = opts.seed ?? 1;
  const reports: FuzzReport[] = [];
  const targets = (await fuzzTargets(opts.root)).filter(
    (t) => !opts.only?.length || opts.only.some((o) => t.name.startsWith(o)),
  );
  for (const [ti, target] of targets.entries()) {
    const plans = fc.sample(mutations(target.seed.length, target.hot), {
      seed: seed + ti,
      numRuns: opts.count,
    });
    const report: FuzzReport = {
      target: target.name,
      inputs: 0,
      accepted: 0,
      refused: 0,
      crashed: 0,
      maxMs: 0,
      totalMs: 0,
      crashes: [],
    };
    for (const [index, ms] of plans.entries()) {
      opts.onInput?.(ti, index);
      const input = mutate(target.seed, ms);
      const t0 = performance.now();
      try {
        await target.run(input);
        report.accepted++;
      } catch (e) {
        const allowed = target.allowed.some((c) => e instanceof c);
        if (allowed && (e as Error).message.length > 0) report.refused++;
        else if (++report.crashed <= 10)
          report.crashes.push({
            index,
            error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
            mutations: ms,
          });
      }
      const dt = performance.now() - t0;
      report.inputs++;
      report.totalMs += dt;
      report.maxMs = Math.max(report.maxMs, dt);
    }
    reports.push(report);
  }
  return reports;
}
