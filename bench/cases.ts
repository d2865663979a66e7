/**
 * The bench's models and cases: each case is a model, K class images and N content images, with
 * the PyTorch output it must reproduce (`Reference`, read from a safetensors file) and how many
 * paired runs it gets on this kind of adapter. The Hangul cases read files kept in the repository;
 * the animals-config cases need bench/make-animals.sh run once, and are reported as skipped until
 * then. Also the output tolerances, by the engine's precision.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseSafetensors, type Precision, type Tensor } from "../src/index";
import { floatTensors } from "../src/tensor";
import { ANIMALS_DIR, animalsWeights } from "./models/animals";
import type { BenchOptions } from "./options";

/**
 * Max |engine − PyTorch| allowed, by the engine's precision: f32 as the engine's tests (and `funit
 * verify`) hold it; f16 activations and weights as test/precision-f16.test.ts does. Peers run f32
 * and are checked at the f32 tolerance.
 */
export const TOLERANCES: Record<Precision, number> = { f32: 1e-4, f16: 5e-2 };
export const PEER_TOLERANCE = TOLERANCES.f32;

export interface Reference {
  content: Tensor;
  class_images: Tensor;
  output: Tensor;
}

export interface CaseSpec {
  id: string;
  model: string;
  k: number;
  n: number;
  repeats: number;
  reference: () => Reference;
  /** Why the case does not run (missing files, too slow here unless asked for). */
  skipped?: string;
}

export interface ModelSpec {
  name: string;
  weights: () => Uint8Array;
  onnx?: string;
  cases: CaseSpec[];
}

const tensors = (path: string) =>
  floatTensors(parseSafetensors(new Uint8Array(readFileSync(path))));

function readReference(path: string): Reference {
  const t = tensors(path);
  const get = (name: string) => {
    const v = t.get(name);
    if (!v) throw new Error(`${path} has no tensor '${name}'`);
    return v;
  };
  return { content: get("content"), class_images: get("class_images"), output: get("output") };
}

/** Whether bench/make-animals.sh has made the animals cases' PyTorch references. */
export const animalsReferencesExist = () =>
  existsSync(join(ANIMALS_DIR, "k1n1.safetensors")) &&
  existsSync(join(ANIMALS_DIR, "k5n16.safetensors"));

/** Each model with the cases asked for (default: all, some marked skipped); none left: dropped. */
export function benchModels(
  cpuAdapter: boolean,
  opts: BenchOptions,
  animalsMade = animalsReferencesExist(),
): ModelSpec[] {
  /** A case: K class images, N contents, paired runs on a CPU adapter or a GPU, its reference. */
  const spec = (
    model: string,
    [k, n]: [number, number],
    [cpuRepeats, gpuRepeats]: [number, number],
    referencePath: string,
    skipped?: string,
  ): CaseSpec => ({
    id: `${model}-k${k}-n${n}`,
    model,
    k,
    n,
    repeats: opts.repeats ?? (cpuAdapter ? cpuRepeats : gpuRepeats),
    reference: () => readReference(referencePath),
    skipped,
  });
  const hangul: ModelSpec = {
    name: "hangul64",
    weights: () => new Uint8Array(readFileSync("test/fixtures/hangul64/gen_test.safetensors")),
    onnx: "bench/models/hangul64.onnx",
    cases: [
      spec("hangul64", [5, 8], [5, 30], "test/fixtures/hangul64/NanumBrush.safetensors"),
      spec("hangul64", [1, 1], [7, 30], "bench/models/hangul64-k1n1.safetensors"),
    ],
  };
  const missing = animalsMade
    ? undefined
    : "skipped: run bench/make-animals.sh (PyTorch references for the animals config)";
  const slowHere =
    cpuAdapter && !opts.cases.includes("animals128-k5-n16")
      ? "skipped: minutes a run on a CPU adapter; ask for it with --case animals128-k5-n16"
      : undefined;
  const animals: ModelSpec = {
    name: "animals128",
    weights: () => animalsWeights(),
    onnx: join(ANIMALS_DIR, "model.onnx"),
    cases: [
      spec("animals128", [1, 1], [2, 20], join(ANIMALS_DIR, "k1n1.safetensors"), missing),
      spec(
        "animals128",
        [5, 16],
        [1, 20],
        join(ANIMALS_DIR, "k5n16.safetensors"),
        missing ?? slowHere,
      ),
    ],
  };
  const all = [hangul, animals];
  if (opts.cases.length) {
    const known = all.flatMap((m) => m.cases.map((c) => c.id));
    const unknown = opts.cases.filter((c) => !known.includes(c));
    if (unknown.length)
      throw new Error(`unknown --case ${unknown.join(", ")}; cases: ${known.join(", ")}`);
    for (const m of all) m.cases = m.cases.filter((c) => opts.cases.includes(c.id));
  }
  return all.filter((m) => m.cases.length > 0);
}
