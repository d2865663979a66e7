/** Loading the repo's reference tensors (PyTorch outputs in funit-expected/1 safetensors files). */
import { readFileSync } from "node:fs";
import { parseSafetensors } from "../../src/safetensors";
import { floatTensors, type Tensor } from "../../src/tensor";

export { maxAbsError, maxRelError } from "../../src/tensor";

export function readTensors(path: string): {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
} {
  const f = parseSafetensors(new Uint8Array(readFileSync(path)));
  return { tensors: floatTensors(f), metadata: f.metadata };
}
