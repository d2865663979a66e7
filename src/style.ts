/**
 * Class codes ("styles") are plain Float32Arrays of latent_dim numbers: the mean class-encoder
 * output over K example images. Because FUNIT averages codes over K, averages and linear blends of
 * codes are meaningful styles too; these helpers do that, and turn a code into text and back.
 */
import { InputError } from "./errors";

/** (1 − t)·a + t·b. */
export function interpolateClassCodes(a: Float32Array, b: Float32Array, t: number): Float32Array {
  if (a.length !== b.length)
    throw new InputError(`class codes differ in length (${a.length} vs ${b.length})`);
  return a.map((v, i) => (1 - t) * v + t * b[i]!);
}

/** The mean of several codes (as if their example images had been encoded together, equally weighted). */
export function averageClassCodes(codes: Float32Array[]): Float32Array {
  if (codes.length === 0) throw new InputError("no class codes to average");
  const out = new Float32Array(codes[0]!.length);
  for (const c of codes) {
    if (c.length !== out.length)
      throw new InputError(`class codes differ in length (${c.length} vs ${out.length})`);
    c.forEach((v, i) => (out[i]! += v / codes.length));
  }
  return out;
}

/** A code as JSON text (a plain array of numbers, exact for float32 values). */
export function classCodeToJSON(code: Float32Array): string {
  return JSON.stringify(Array.from(code));
}

/** Parses a code saved by classCodeToJSON; checks the length when one is given. */
export function classCodeFromJSON(text: string, latentDim?: number): Float32Array {
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch {
    throw new InputError("class code is not valid JSON");
  }
  // Finite as a float32, not only as a double: 1e39 is a finite double but Infinity in a Float32Array.
  if (
    !Array.isArray(values) ||
    !values.every((v) => typeof v === "number" && Number.isFinite(Math.fround(v)))
  ) {
    throw new InputError("class code must be a JSON array of numbers finite as float32");
  }
  if (latentDim !== undefined && values.length !== latentDim)
    throw new InputError(`class code has ${values.length} numbers, the model needs ${latentDim}`);
  return Float32Array.from(values as number[]);
}
