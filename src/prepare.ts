/**
 * Prepared shapes: `funit.prepare({ contents: { n, height, width }, classImages? })` does, before
 * the first call of those shapes, everything that call would otherwise do first: it builds the
 * plan translate() runs (kept in the engine's plan cache) and creates every pipeline an engine call
 * of those shapes can need, for each output (images, a texture, an f32 tensor), and for
 * encodeClass on the class images. Pipelines depend on the shapes (the tiled convolution's tile
 * follows a layer's pixel count, the CPU convolutions' workgroup size its rows), which is why the
 * engine's load-time warm-up (one small translation) cannot cover them. Jobs of a prepared shape
 * compile their own plan instance, from these cached pipelines, without creating any.
 */
import { InputError } from "./errors";
import type { FunitHyper } from "./hyper";
import type { BatchSpec, GeneratorGraph, PlanSpec } from "./model";
import type { PlanCache } from "./plan-cache";
import { getKernel } from "./runtime/kernels";

/** The shapes of the calls to prepare: a content batch, and class images or (without) a code. */
export interface PrepareShape {
  contents: { n: number; height: number; width: number };
  classImages?: { k: number; height: number; width: number };
}

/** What preparing needs from the engine. */
export interface PrepareEngine {
  device: GPUDevice;
  plans: PlanCache;
  build: (spec: PlanSpec) => GeneratorGraph;
}

/**
 * The specs of a shape: the one whose plan is built (translate's), and those whose pipelines are
 * made. InputErrors name a bad shape before anything is built.
 */
export function prepareSpecs(
  hyper: FunitHyper,
  shape: PrepareShape,
): { plan: PlanSpec; pipelines: PlanSpec[] } {
  if (typeof shape !== "object" || shape === null || typeof shape.contents !== "object")
    throw new InputError("prepare: each shape needs contents: { n, height, width }");
  const content = batch(shape.contents.n, shape.contents, "contents.n");
  const f = 2 ** hyper.n_downs_content;
  if (content.h % f !== 0 || content.w % f !== 0)
    throw new InputError(
      `prepare: contents are ${content.w}x${content.h}; this model needs width and height ` +
        `divisible by ${f} (2^n_downs_content)`,
    );
  const classImages = shape.classImages
    ? batch(shape.classImages.k, shape.classImages, "classImages.k")
    : undefined;
  const call = (outputFormat: PlanSpec["outputFormat"]): PlanSpec => ({
    content,
    classImages,
    outputFormat,
    readback: outputFormat === "texture" ? [] : ["output"],
  });
  const encode: PlanSpec[] = classImages
    ? [{ classImages, outputFormat: "f32", readback: ["class_code"] }]
    : [];
  return { plan: call("rgba8"), pipelines: [call("texture"), call("f32"), ...encode] };
}

function batch(n: number, size: { height: number; width: number }, what: string): BatchSpec {
  const dims: [string, number][] = [
    [what, n],
    [`${what.split(".")[0]}.height`, size.height],
    [`${what.split(".")[0]}.width`, size.width],
  ];
  for (const [name, v] of dims)
    if (!Number.isSafeInteger(v) || v < 1)
      throw new InputError(`prepare: ${name} must be a whole number ≥ 1, got ${v}`);
  return { n, h: size.height, w: size.width, format: "rgba8" };
}

/** Builds each plan and creates each pipeline of the shapes' specs (see the summary above). */
export async function prepareShapes(
  engine: PrepareEngine,
  specs: ReturnType<typeof prepareSpecs>[],
): Promise<void> {
  for (const { plan, pipelines } of specs) {
    await engine.plans.get(plan);
    const ops = pipelines.flatMap((spec) => engine.build(spec).graph.ops);
    await Promise.all(ops.map((op) => getKernel(engine.device, op.kernel, op.overrides)));
  }
}
