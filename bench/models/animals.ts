/**
 * The full-size bench model: NVlabs FUNIT's animals configuration (nf = 64, 29.9 M parameters) with
 * deterministic random weights made here from the hyperparameters, so any machine can rebuild them
 * without a 120 MB file (a GPU machine gets only the bundled bench). PyTorch's default layer init is
 * mimicked (uniform in ±1/√fan_in for weights and biases) so activations keep a realistic scale.
 * `bench/make-animals.sh` writes these weights and inputs to `bench/models/animals128/`, where
 * PyTorch (`make_reference.py`) adds the ONNX export and the reference outputs the bench checks.
 */
import { expectedTensors, type FunitHyper } from "../../src/hyper";
import { serializeSafetensors } from "../../src/safetensors";
import type { Tensor } from "../../src/tensor";
import { rng } from "../../test/helpers/reference";

export const ANIMALS: FunitHyper = { nf: 64, n_res_blks: 2, nf_mlp: 256, latent_dim: 64, n_mlp_blks: 3, n_downs_content: 3, n_downs_class: 4 };
export const ANIMALS_SIZE = 128;
export const ANIMALS_DIR = "bench/models/animals128";


function uniform(n: number, bound: number, rand: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * bound;
  return out;
}

/** The animals-config generator as safetensors bytes (f32, hyperparameters in __metadata__.gen). */
export function animalsWeights(seed = 1): Uint8Array {
  const rand = rng(seed);
  const tensors = [...expectedTensors(ANIMALS)].map(([name, shape]) => {
    // fan_in of a layer is the weight's size over its output count; a bias uses its layer's.
    const weightShape = name.endsWith(".bias") ? expectedTensors(ANIMALS).get(name.replace(/\.bias$/, ".weight"))! : shape;
    const fanIn = weightShape.slice(1).reduce((a, b) => a * b, 1);
    const values = uniform(shape.reduce((a, b) => a * b, 1), 1 / Math.sqrt(fanIn), rand);
    return { name, dtype: "F32" as const, shape, bytes: new Uint8Array(values.buffer) };
  });
  return serializeSafetensors(tensors, { format: "pt", gen: JSON.stringify(ANIMALS), source: `bench/models/animals.ts seed ${seed}` });
}

/** Deterministic inputs in [-1, 1): 16 content images and 5 class images, 128×128. */
export function animalsInputs(seed = 2): { content: Tensor; class_images: Tensor } {
  const rand = rng(seed);
  const s = ANIMALS_SIZE;
  return {
    content: { shape: [16, 3, s, s], data: uniform(16 * 3 * s * s, 1, rand) },
    class_images: { shape: [5, 3, s, s], data: uniform(5 * 3 * s * s, 1, rand) },
  };
}
