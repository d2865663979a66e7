/**
 * Property tests: valid files mutated at random (bit flips, overwrites with boundary values, byte
 * insertions and deletions, truncation) go through the safetensors reader, the zip reader, the
 * unpickler and whole checkpoint conversion. Each must return data or throw one of the project's
 * error classes (never a TypeError, RangeError or the like), and each run must finish quickly.
 * Mutations are aimed mostly at the structural bytes (headers, pickles, directories), where a random
 * position in a mostly-tensor-data file would rarely land. The mutations are the fuzzer's
 * (test/helpers/fuzz.ts, `npm run fuzz`), here driven by fast-check's shrinking property runner.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { parseSafetensors, tensorToFloat32 } from "../src/safetensors";
import { unpickle, type AllowedGlobals } from "../src/torch/pickle";
import { bytesReader } from "../src/torch/reader";
import { openZip } from "../src/torch/zip";
import { convertToSafetensors } from "../src/torch/convert";
import { torchZip, zipStored } from "./helpers/torch-writers";
import { mutate, mutations } from "./helpers/fuzz";
import { CheckpointError, ModelFormatError, PickleError, SafetensorsError } from "../src/errors";

const PROJECT_ERRORS = [CheckpointError, ModelFormatError, SafetensorsError];
/** Fast enough for a 2-core CI box; a hang or runaway loop would blow well past it. */
const MAX_RUN_MS = 2000;

/** Runs `body`; a thrown error must be one of `allowed` (the project's classes), and the run must be quick. */
async function dataOrCleanError(
  body: () => unknown,
  allowed: (new (...a: never[]) => Error)[] = PROJECT_ERRORS,
): Promise<void> {
  const t0 = performance.now();
  try {
    await body();
  } catch (e) {
    if (!allowed.some((c) => e instanceof c)) throw e;
    expect((e as Error).message.length).toBeGreaterThan(0);
  }
  expect(performance.now() - t0).toBeLessThan(MAX_RUN_MS);
}

const tinySafetensors = new Uint8Array(readFileSync("test/fixtures/tiny-a/gen_test.safetensors"));
const tinyZip = new Uint8Array(readFileSync("test/fixtures/tiny-a/gen.pt"));
const tinyLegacy = new Uint8Array(readFileSync("test/fixtures/tiny-a/gen-legacy.pt"));
const headerEnd = 8 + Number(new DataView(tinySafetensors.buffer).getBigUint64(0, true));

describe("readers under random mutation", () => {
  it("parseSafetensors returns data or a SafetensorsError", async () => {
    await fc.assert(
      fc.asyncProperty(mutations(tinySafetensors.length, [[0, headerEnd]]), (ms) =>
        dataOrCleanError(() => {
          const file = parseSafetensors(mutate(tinySafetensors, ms));
          for (const [name, t] of file.tensors)
            if (["F32", "F16", "BF16"].includes(t.dtype)) tensorToFloat32(name, t);
        }),
      ),
      { numRuns: 1500 },
    );
  });

  it("the zip reader returns CRC-checked entries or a ZipError/CheckpointError (plain and ZIP64 archives)", async () => {
    const zip64 = zipStored(
      [...(await openZip(bytesReader(tinyZip))).entries.values()]
        .slice(0, 12)
        .map((e) => ({ name: e.name, data: new Uint8Array(e.size).fill(e.size & 0xff) })),
      true,
    );
    for (const [file, runs] of [
      [tinyZip, 600],
      [zip64, 600],
    ] as const) {
      // Structure: the first local header and the data.pkl it holds, and the central directory at the end.
      const hot: [number, number][] = [
        [0, 200],
        [file.length - 8000, file.length],
      ];
      await fc.assert(
        fc.asyncProperty(mutations(file.length, hot), (ms) =>
          dataOrCleanError(async () => {
            const zip = await openZip(bytesReader(mutate(file, ms)));
            for (const entry of zip.entries.values()) await zip.read(entry);
          }),
        ),
        { numRuns: runs },
      );
    }
  });

  it("the unpickler returns data or a PickleError on a mutated state-dict pickle", async () => {
    const zip = await openZip(bytesReader(tinyZip));
    const pkl = await zip.read(zip.entry("gen/data.pkl"));
    const globals: AllowedGlobals = new Map<string, ((a: readonly unknown[]) => unknown) | null>([
      ["collections.OrderedDict", () => new Map()],
      ["torch._utils._rebuild_tensor_v2", (a) => a],
      ["torch.FloatStorage", null],
    ]);
    await fc.assert(
      fc.asyncProperty(mutations(pkl.length, []), (ms) =>
        dataOrCleanError(() => {
          unpickle(mutate(pkl, ms), { globals, persistentLoad: (pid) => pid });
        }, [PickleError]),
      ),
      { numRuns: 5000 },
    );
  });

  it("conversion of a zip checkpoint with a mutated (but CRC-consistent) data.pkl gives data or a clean error", async () => {
    const zip = await openZip(bytesReader(tinyZip));
    const entries = await Promise.all(
      [...zip.entries.values()].map(async (e) => ({ name: e.name, data: await zip.read(e) })),
    );
    const pkl = entries[0]!.data;
    expect(entries[0]!.name).toBe("gen/data.pkl");
    await fc.assert(
      fc.asyncProperty(mutations(pkl.length, []), (ms) =>
        dataOrCleanError(async () => {
          const file = zipStored([
            { name: "gen/data.pkl", data: mutate(pkl, ms) },
            ...entries.slice(1),
          ]);
          await convertToSafetensors(bytesReader(file), async () => {}, { dtype: "f16" });
        }),
      ),
      { numRuns: 800 },
    );
  });

  it("conversion of mutated zip and legacy checkpoints gives data or a clean error", async () => {
    const bare = torchZip(
      new Map(
        [...parseSafetensors(tinySafetensors).tensors].map(([name, t], i) => [
          name,
          { key: String(i), storage: t.bytes.slice(), shape: t.shape },
        ]),
      ),
    );
    // Legacy: the five pickles and the first storage records; zip: data.pkl and the directory.
    const cases: [Uint8Array, [number, number][], number][] = [
      [tinyLegacy, [[0, 19_600]], 1000],
      [
        tinyZip,
        [
          [0, 200],
          [tinyZip.length - 8000, tinyZip.length],
        ],
        500,
      ],
      [
        bare,
        [
          [0, 100],
          [bare.length - 4000, bare.length],
        ],
        500,
      ],
    ];
    for (const [file, hot, runs] of cases) {
      await fc.assert(
        fc.asyncProperty(
          mutations(file.length, hot),
          fc.constantFrom("gen_test" as const, "gen" as const),
          (ms, generator) =>
            dataOrCleanError(async () => {
              await convertToSafetensors(bytesReader(mutate(file, ms)), async () => {}, {
                generator,
              });
            }),
        ),
        { numRuns: runs },
      );
    }
  });
});
