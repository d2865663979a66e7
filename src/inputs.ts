/**
 * Checking what a caller hands the engine, before any GPU work: content and class images (RGBA8
 * images of one size, or a [N,3,H,W] tensor with finite values) and styles (a class code of
 * latent_dim finite floats, or class images), and a call's batch sizes against the device's
 * limits (src/limits.ts). Each check is an InputError that names the input and what is wrong;
 * what passes comes back as a BatchSpec (the plan's key) and a private copy of the bytes to
 * upload, so a caller may reuse its buffers as soon as a call has returned its promise. The
 * engine's calls take their whole input here (translationInputs, classCodeInputs,
 * tensorPairInputs): the checked bytes and the PlanSpec of the plan that runs them.
 */
import { InputError } from "./errors";
import type { FunitHyper } from "./hyper";
import { checkCallFits, type FunitDeviceLimits } from "./limits";
import type { BatchSpec, PlanSpec, Readback } from "./model";
import type { InputData } from "./plan-cache";
import { checkImageBatch, imageBatchDims, isTensor, type ImageRGBA, type Tensor } from "./tensor";
import { checkTextureTarget, type TextureTarget } from "./texture-output";

/** A class code (latent_dim floats), K class images, or a [K,3,H,W] tensor of them. */
export type Style = Float32Array | ImageRGBA[] | Tensor;

/** A checked batch: its spec and the bytes the plan's input buffer takes. */
export interface BatchInput {
  spec: BatchSpec;
  data: ArrayBufferView;
}

/** Content images: any batch whose size the encoder's downsamplings divide. */
export function contentInput(hyper: FunitHyper, x: ImageRGBA[] | Tensor): BatchInput {
  const spec = batchSpec(x, "content");
  const f = 2 ** hyper.n_downs_content;
  if (spec.h % f !== 0 || spec.w % f !== 0) {
    throw new InputError(
      `content images are ${spec.w}x${spec.h}; this model needs width and height divisible by ` +
        `${f} (2^n_downs_content)`,
    );
  }
  return { spec, data: batchData(x) };
}

export function classInput(x: ImageRGBA[] | Tensor): BatchInput {
  return { spec: batchSpec(x, "class images"), data: batchData(x) };
}

/** A style: class images to encode, or a class code to write into the plan. */
export function styleInput(
  hyper: FunitHyper,
  style: Style,
): { spec?: BatchSpec; data?: ArrayBufferView; code?: Float32Array } {
  if (style instanceof Float32Array) {
    if (style.length !== hyper.latent_dim)
      throw new InputError(
        `class code has ${style.length} values; this model's latent_dim is ${hyper.latent_dim}`,
      );
    if (!style.every(Number.isFinite)) throw new InputError("class code holds a non-finite value");
    return { code: style.slice() };
  }
  return classInput(style);
}

function batchSpec(x: ImageRGBA[] | Tensor, what: string): BatchSpec {
  if (isTensor(x)) {
    const { n, h, w } = imageBatchDims(x, what);
    return { n, h, w, format: "f32" };
  }
  const { width, height } = checkImageBatch(x, what);
  return { n: x.length, h: height, w: width, format: "rgba8" };
}

function batchData(x: ImageRGBA[] | Tensor): ArrayBufferView {
  if (isTensor(x)) {
    if (!x.data.every(Number.isFinite))
      throw new InputError("input tensor holds a non-finite value");
    return x.data.slice();
  }
  const plane = x[0]!.width * x[0]!.height * 4;
  const out = new Uint8Array(plane * x.length);
  x.forEach((img, i) => out.set(img.data, i * plane));
  return out;
}

/**
 * Refuses (InputError naming the limit) a call of these batches that the device could not run:
 * checked when the call is made, before any plan or buffer exists. `winograd`: the engine runs
 * Winograd convolutions (KernelChoice.winogradWeights), whose intermediates count too.
 */
export function checkCallLimits(
  hyper: FunitHyper,
  limits: FunitDeviceLimits,
  content: BatchSpec | undefined,
  classImages: BatchSpec | undefined,
  textureOutput = false,
  winograd = false,
): void {
  checkCallFits(hyper, limits, {
    n: content?.n ?? 0,
    contentWidth: content?.w ?? 0,
    contentHeight: content?.h ?? 0,
    k: classImages?.n ?? 0,
    classWidth: classImages?.w ?? 0,
    classHeight: classImages?.h ?? 0,
    textureOutput,
    winograd,
  });
}

/** A call's checked and copied inputs, and the spec of the plan that runs them. */
export interface CallInputs {
  spec: PlanSpec;
  data: InputData;
}

/**
 * A translation's inputs: content images in a style, into an output of `outputFormat` (read
 * back, or written to a texture: `target`, checked on `device` before anything is written).
 */
export function translationInputs(
  hyper: FunitHyper,
  device: GPUDevice,
  contents: ImageRGBA[] | Tensor,
  style: Style,
  outputFormat: PlanSpec["outputFormat"],
  target: TextureTarget | undefined,
  winograd: boolean,
): CallInputs {
  const content = contentInput(hyper, contents);
  const { spec: classSpec, data: classData, code } = styleInput(hyper, style);
  const texture = outputFormat === "texture";
  checkCallLimits(hyper, device.limits, content.spec, classSpec, texture, winograd);
  const { n, h, w } = content.spec;
  if (target) checkTextureTarget(device, target, n, h, w);
  return {
    spec: {
      content: content.spec,
      classImages: classSpec,
      outputFormat,
      readback: texture ? [] : ["output"],
    },
    data: { content: content.data, classImages: classData, classCode: code },
  };
}

/** encodeClass's inputs: K class images, whose mean class code is read back. */
export function classCodeInputs(
  hyper: FunitHyper,
  limits: FunitDeviceLimits,
  images: ImageRGBA[] | Tensor,
): CallInputs {
  const cls = classInput(images);
  checkCallLimits(hyper, limits, undefined, cls.spec);
  return {
    spec: { classImages: cls.spec, outputFormat: "f32", readback: ["class_code"] },
    data: { classImages: cls.data },
  };
}

/**
 * A translation of content tensors with class image tensors into an f32 output, reading back
 * `readback` (runWithIntermediates and profile).
 */
export function tensorPairInputs(
  hyper: FunitHyper,
  limits: FunitDeviceLimits,
  contents: Tensor,
  classImages: Tensor,
  readback: Readback[],
  winograd: boolean,
): CallInputs {
  const content = contentInput(hyper, contents);
  const cls = classInput(classImages);
  checkCallLimits(hyper, limits, content.spec, cls.spec, false, winograd);
  return {
    spec: { content: content.spec, classImages: cls.spec, outputFormat: "f32", readback },
    data: { content: content.data, classImages: cls.data },
  };
}
