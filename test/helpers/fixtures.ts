/** Loading the repo's reference tensors (PyTorch outputs in funit-expected/1 safetensors files). */
import { readFileSync } from "node:fs";
import { parseSafetensors, tensorToFloat32 } from "../../src/safetensors";
import type { Tensor } from "../../src/tensor";

export function readTensors(path: string): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const f = parseSafetensors(new Uint8Array(readFileSync(path)));
  const tensors = new Map<string, Tensor>();
  for (const [name, raw] of f.tensors) tensors.set(name, { shape: raw.shape, data: tensorToFloat32(name, raw) });
  return { tensors, metadata: f.metadata };
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}
