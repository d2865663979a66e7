/**
 * The steps every GPU command of the CLI shares: reading and checking a weights file on the CPU (so a
 * missing or malformed file fails before any device start-up), checking an image size against the
 * model, and opening the engine on a Node WebGPU device with one close() that releases both.
 */
import { Funit } from "../engine";
import type { FunitHyper } from "../hyper";
import { type ImageRGBA } from "../tensor";
import { readGeneratorWeights, type GeneratorWeights } from "../weights";
import { getNodeDevice } from "./gpu";
import { readInputFile } from "./images";
import { InputError } from "../errors";

export interface LoadedWeights {
  path: string;
  hyper: FunitHyper;
  /** The checked tensors, handed to the engine as they are (the file is parsed once). */
  weights: GeneratorWeights;
}

/** Reads and checks a weights file on the CPU: a missing, malformed or non-FUNIT file fails here, before any GPU work. */
export async function loadWeights(path: string): Promise<LoadedWeights> {
  const bytes = await readInputFile(path, "weights file");
  try {
    const weights = readGeneratorWeights(bytes);
    return { path, hyper: weights.hyper, weights };
  } catch (e) {
    throw new InputError(`weights file ${path}: ${(e as Error).message}`);
  }
}

/** A GPU device with the engine on it; close() releases both. */
export async function openEngine(weights: LoadedWeights): Promise<{ funit: Funit; close(): void }> {
  const device = await getNodeDevice();
  let funit: Funit;
  try {
    funit = await Funit.create(device, weights.weights, { label: weights.path });
  } catch (e) {
    device.destroy();
    throw e;
  }
  return {
    funit,
    close() {
      funit.destroy();
      device.destroy();
    },
  };
}

/** Throws unless height and width are multiples of 2^n_downs_content (the content encoder halves them that often). */
export function checkContentSize(img: ImageRGBA, hyper: FunitHyper, what: string): void {
  const m = 2 ** hyper.n_downs_content;
  if (img.width % m !== 0 || img.height % m !== 0) {
    throw new InputError(
      `${what} is ${img.width}x${img.height}: this model needs height and width to be multiples of ${m} (2^n_downs_content, n_downs_content = ${hyper.n_downs_content}); pass --size S to resize`,
    );
  }
}
