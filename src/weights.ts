/**
 * Reading a FUNIT generator from safetensors bytes: the hyperparameters come from
 * `__metadata__.gen` (JSON) or, when absent, are inferred from the tensor shapes; every tensor the
 * architecture needs must be present with its exact shape, and nothing else (AdaIN running stats
 * aside); F32, F16 and BF16 are accepted and widened to f32; a NaN or infinite weight is refused.
 * Every failure is a ModelFormatError or SafetensorsError that names the tensor.
 */
import {
  checkHyper,
  checkTensorShapes,
  expectedTensors,
  inferHyper,
  type FunitHyper,
} from "./hyper";
import { parseSafetensors, tensorToFloat32 } from "./safetensors";
import { ModelFormatError } from "./errors";

export interface GeneratorWeights {
  hyper: FunitHyper;
  /** Every expected tensor as f32, in state-dict order. */
  tensors: Map<string, Float32Array>;
  /** The dtypes found in the file (e.g. ["F16"]). */
  dtypes: string[];
  metadata: Record<string, string>;
}

export function readGeneratorWeights(bytes: Uint8Array): GeneratorWeights {
  const file = parseSafetensors(bytes);
  const shapes = new Map([...file.tensors].map(([k, v]) => [k, v.shape]));
  let hyper: FunitHyper;
  if (file.metadata.gen !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(file.metadata.gen);
    } catch {
      throw new ModelFormatError(
        `__metadata__.gen is not valid JSON: ${file.metadata.gen.slice(0, 80)}`,
      );
    }
    if (typeof parsed !== "object" || parsed === null)
      throw new ModelFormatError("__metadata__.gen is not a JSON object");
    hyper = checkHyper(parsed as Record<string, unknown>);
  } else {
    hyper = inferHyper(shapes);
  }
  checkTensorShapes(hyper, shapes);
  const tensors = new Map<string, Float32Array>();
  const dtypes = new Set<string>();
  for (const name of expectedTensors(hyper).keys()) {
    const raw = file.tensors.get(name)!;
    dtypes.add(raw.dtype);
    const values = tensorToFloat32(name, raw);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new ModelFormatError(
        `tensor '${name}' holds a non-finite value (${values[bad]}) at flat index ${bad}`,
      );
    tensors.set(name, values);
  }
  return { hyper, tensors, dtypes: [...dtypes], metadata: file.metadata };
}
