/**
 * The public FUNIT engine. `Funit.create` reads and checks the weights, asks src/policy.ts what to
 * run on the device (chooseKernels), uploads the weights accordingly (src/upload.ts) and creates
 * the pipelines of one small translation. Each call then checks its inputs (src/inputs.ts), finds
 * or builds the plan of its shape (src/plan-cache.ts; the graph comes from src/model.ts) and runs
 * it as one command encoder, one submit and one readback (runPlanOnce). Calls on one engine are
 * serialised, since a plan's buffers are reused from call to call. A style is either a class code
 * (latent_dim floats: the mean class code of K example images, which can be saved, averaged or
 * interpolated) or the K example images themselves, encoded in the same submit as the
 * translation. For GPU-resident use (games), translateToTexture writes the output into an
 * rgba8unorm array texture and reads nothing back (src/texture-output.ts);
 * encodeTranslationToTexture records the same work into the caller's own command encoder.
 */
import { DeviceError } from "./errors";
import type { FunitHyper } from "./hyper";
import { classInput, contentInput, styleInput, type Style } from "./inputs";
import {
  generatorGraph,
  smallTranslationOps,
  type BatchSpec,
  type PlanSpec,
  type Readback,
} from "./model";
import { PlanCache, planInputs, type InputData } from "./plan-cache";
import {
  chooseKernels,
  type ConvKernel,
  type KernelChoice,
  type KernelOptions,
  type Precision,
} from "./policy";
import type { Dispatch } from "./runtime/graph";
import { getKernel } from "./runtime/kernels";
import { encodePlan, encodeTensorWrites, runPlanOnce, timePlanOnce } from "./runtime/run";
import type { ImageRGBA, Tensor } from "./tensor";
import {
  checkTextureTarget,
  createOutputTexture,
  OutputViews,
  type TextureTarget,
} from "./texture-output";
import { uploadGenerator, type GpuGenerator } from "./upload";
import { readGeneratorWeights, type GeneratorWeights } from "./weights";

export type { Style } from "./inputs";
export type { TextureTarget } from "./texture-output";

export interface Intermediates {
  content_code: Tensor;
  class_code: Tensor;
  adain_params: Tensor;
  output: Tensor;
}

/** One dispatch of a profiled translation: its GPU time and what it ran (kernel, overrides, …). */
export type ProfiledDispatch = Pick<Dispatch, "label" | "kernel" | "overrides" | "params"> & {
  ms: number;
};

/**
 * An engine's options: a label for its GPU objects, and the kernel options of chooseKernels
 * (conv kernel, precision, a forced tile, the f16 convolution's products), each "auto" by default.
 */
export interface FunitOptions extends KernelOptions {
  label?: string;
}

export class Funit {
  readonly hyper: FunitHyper;
  readonly device: GPUDevice;
  readonly label: string;
  /** Everything chosen for this device and the options (src/policy.ts). */
  readonly kernels: KernelChoice;
  /** The convolution kernel this engine runs (kernels.conv). */
  readonly convKernel: ConvKernel;
  /** Precision of the activations and convolution weights (class code and MLP: always f32). */
  readonly precision: Precision;
  /** Bytes of weights held on the GPU. */
  readonly weightBytes: number;
  private readonly gen: GpuGenerator;
  private readonly plans: PlanCache;
  private readonly outputViews: OutputViews;
  private queue: Promise<unknown> = Promise.resolve();
  private destroyed = false;

  private constructor(device: GPUDevice, gen: GpuGenerator, label: string, kernels: KernelChoice) {
    this.device = device;
    this.kernels = kernels;
    this.convKernel = kernels.conv;
    this.precision = kernels.precision;
    this.gen = gen;
    this.hyper = gen.hyper;
    this.label = label;
    this.weightBytes = gen.bytes;
    this.plans = new PlanCache(device, label, (spec) => generatorGraph(gen, kernels, spec));
    this.outputViews = new OutputViews(device, label);
  }

  /**
   * Loads safetensors bytes (F32/F16/BF16) or already-read weights, uploads them and creates the
   * pipelines of a small translation (see warmPipelines). Option conflicts are refused before
   * anything is uploaded.
   */
  static async create(
    device: GPUDevice,
    weights: Uint8Array | GeneratorWeights,
    opts: FunitOptions = {},
  ): Promise<Funit> {
    const label = opts.label ?? "funit";
    const w = weights instanceof Uint8Array ? readGeneratorWeights(weights) : weights;
    const kernels = chooseKernels(device, opts);
    const gen = uploadGenerator(device, w.hyper, w.tensors, label, kernels);
    const engine = new Funit(device, gen, label, kernels);
    try {
      await engine.warmPipelines();
    } catch (e) {
      engine.destroy(); // no half-made engine keeps its weights on the device
      throw e;
    }
    return engine;
  }

  /**
   * Creates, at load, the pipelines of one small translation: RGBA in, RGBA and texture out (every
   * kernel of the f32 call, plus pack, unpack and image_to_texture), for every layer. Pipelines
   * also depend on the image size and batch: the tiled convolution's tile follows a layer's pixel
   * count, and the CPU convolutions' workgroup size its rows. So a call of another size may create
   * a few pipelines of its own at its first call (cached per device afterwards); a page that knows
   * its sizes can make one call of each at load.
   */
  private async warmPipelines(): Promise<void> {
    const ops = smallTranslationOps(this.gen, this.kernels);
    await Promise.all(ops.map((op) => getKernel(this.device, op.kernel, op.overrides)));
  }

  /** Mean class code over the K images: latent_dim floats. */
  encodeClass(images: ImageRGBA[] | Tensor): Promise<Float32Array> {
    return this.serial(async () => {
      const cls = classInput(images);
      const out = await this.run(
        { classImages: cls.spec, outputFormat: "f32", readback: ["class_code"] },
        { classImages: cls.data },
      );
      return out.class_code!.data;
    });
  }

  /** Translates each content image into the style (a class code, or K class images). */
  translate(contents: ImageRGBA[], style: Style): Promise<ImageRGBA[]> {
    return this.serial(async () => {
      const { content, output } = await this.translateOnce(contents, style, "rgba8");
      const rgba = new Uint8ClampedArray(output.buffer, output.byteOffset, output.byteLength);
      const { n, h, w } = content;
      return Array.from({ length: n }, (_, i) => ({
        width: w,
        height: h,
        data: rgba.slice(i * h * w * 4, (i + 1) * h * w * 4),
      }));
    });
  }

  /** Like translate, on [N,3,H,W] tensors in [-1, 1]. */
  translateTensor(contents: Tensor, style: Style): Promise<Tensor> {
    return this.serial(async () => ({
      shape: [...contents.shape],
      data: (await this.translateOnce(contents, style, "f32")).output,
    }));
  }

  /**
   * Translates each content image (RGBA images, or a [N,3,H,W] tensor) into the style and writes
   * the results to the GPU only: one encoder, one submit, nothing read back. Resolves (once the
   * work is submitted, not finished: later GPU work is ordered after it) to the texture written:
   * - format rgba8unorm, dimension 2d, one array layer per content image (image i in layer
   *   `layer + i`), the content images' width and height;
   * - pixels as translate() returns them: RGB = round(clamp((y + 1) · 127.5, 0, 255)), alpha 255
   *   (the glyph model's output is near-grey: its channels differ by a few levels at ink edges);
   * - without `target.texture`, a new texture of exactly N layers with usage STORAGE_BINDING |
   *   TEXTURE_BINDING | COPY_SRC, owned (and destroyed) by the caller.
   * A bad target is an InputError, thrown before anything is written.
   */
  translateToTexture(
    contents: ImageRGBA[] | Tensor,
    style: Style,
    target: TextureTarget = {},
  ): Promise<GPUTexture> {
    return this.serial(async () => {
      const encoder = this.device.createCommandEncoder({ label: `${this.label}:to-texture` });
      const { texture, upload } = await this.encodeToTexture(encoder, contents, style, target);
      this.device.queue.submit([encoder.finish()]);
      upload.destroy(); // freed once the submitted copies are done
      return texture;
    });
  }

  /**
   * Records what translateToTexture does into the caller's command encoder (a game's frame encoder,
   * say) and submits nothing: the inputs go in as copies inside the encoder, so several calls in
   * one encoder, or in encoders submitted in any order, each translate their own inputs. The
   * encoder must have no pass open. Resolves to the texture that the encoder writes once
   * submitted. Submit it before destroying the engine or translating MAX_PLANS (8) other input
   * shapes on it (plans are recycled). The small upload buffer of each call is left to the garbage
   * collector.
   */
  encodeTranslationToTexture(
    encoder: GPUCommandEncoder,
    contents: ImageRGBA[] | Tensor,
    style: Style,
    target: TextureTarget = {},
  ): Promise<GPUTexture> {
    return this.serial(
      async () => (await this.encodeToTexture(encoder, contents, style, target)).texture,
    );
  }

  /** Runs content [N,3,H,W] with class images [K,3,H,W] and reads back every intermediate. */
  runWithIntermediates(contents: Tensor, classImages: Tensor): Promise<Intermediates> {
    return this.serial(async () => {
      const content = contentInput(this.hyper, contents);
      const cls = classInput(classImages);
      const spec: PlanSpec = {
        content: content.spec,
        classImages: cls.spec,
        outputFormat: "f32",
        readback: ["content_code", "class_code", "adain_params", "output"],
      };
      // the spec reads back every intermediate
      return (await this.run(spec, {
        content: content.data,
        classImages: cls.data,
      })) as Intermediates;
    });
  }

  /**
   * GPU time of every dispatch of one translation (content images with class images), from
   * timestamp queries: [{label, ms}] in execution order. Needs the `timestamp-query` feature.
   */
  profile(contents: Tensor, classImages: Tensor): Promise<ProfiledDispatch[]> {
    return this.serial(async () => {
      if (!this.device.features.has("timestamp-query"))
        throw new DeviceError("profiling needs the 'timestamp-query' feature");
      const content = contentInput(this.hyper, contents);
      const cls = classInput(classImages);
      const bundle = await this.plans.get({
        content: content.spec,
        classImages: cls.spec,
        outputFormat: "f32",
        readback: ["output"],
      });
      const data = { content: content.data, classImages: cls.data };
      const ms = await timePlanOnce(this.device, bundle.plan, planInputs(bundle, data));
      return bundle.plan.dispatches.map((d, i) => ({
        label: d.label,
        kernel: d.kernel,
        overrides: d.overrides,
        params: d.params,
        ms: ms[i]!,
      }));
    });
  }

  /** Bytes of activation memory held by the plans built so far. */
  activationBytes(): Promise<number> {
    return this.plans.activationBytes();
  }

  destroy(): void {
    this.destroyed = true;
    this.gen.destroy();
    this.plans.destroy();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.destroyed) return Promise.reject(new Error(`${this.label}: engine was destroyed`));
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** One translation, output as RGBA8 (one u32 per pixel, returned as its f32 view) or f32. */
  private async translateOnce(
    contents: ImageRGBA[] | Tensor,
    style: Style,
    outputFormat: "rgba8" | "f32",
  ): Promise<{ content: BatchSpec; output: Float32Array }> {
    const content = contentInput(this.hyper, contents);
    const { spec: classSpec, data: classData, code } = styleInput(this.hyper, style);
    const out = await this.run(
      { content: content.spec, classImages: classSpec, outputFormat, readback: ["output"] },
      { content: content.data, classImages: classData, classCode: code },
    );
    return { content: content.spec, output: out.output!.data };
  }

  /** Runs the plan of a spec once; returns each read-back tensor (shape from the plan). */
  private async run(spec: PlanSpec, data: InputData): Promise<Partial<Record<Readback, Tensor>>> {
    const bundle = await this.plans.get(spec);
    const { plan, readbacks } = bundle;
    const tensors = readbacks.map((r) => r.tensor);
    const bytes = await runPlanOnce(
      this.device,
      plan,
      planInputs(bundle, data),
      tensors,
      bundle.staging,
    );
    return Object.fromEntries(
      readbacks.map((r, i) => [
        r.name,
        { shape: [...r.tensor.shape], data: new Float32Array(bytes[i]!) },
      ]),
    );
  }

  /**
   * Checks the target, then records input copies and the plan into `encoder`. Every check comes
   * before anything is recorded or created, so a refused call writes nothing.
   */
  private async encodeToTexture(
    encoder: GPUCommandEncoder,
    contents: ImageRGBA[] | Tensor,
    style: Style,
    target: TextureTarget,
  ): Promise<{ texture: GPUTexture; upload: GPUBuffer }> {
    const content = contentInput(this.hyper, contents);
    const { spec: classSpec, data: classData, code } = styleInput(this.hyper, style);
    const { n, h, w } = content.spec;
    checkTextureTarget(this.device, target, n, h, w);
    const bundle = await this.plans.get({
      content: content.spec,
      classImages: classSpec,
      outputFormat: "texture",
      readback: [],
    });
    const texture = target.texture ?? createOutputTexture(this.device, this.label, n, h, w);
    await this.outputViews.bind(bundle.plan, texture, target.layer ?? 0, n, !target.texture);
    const upload = encodeTensorWrites(
      this.device,
      encoder,
      bundle.plan,
      planInputs(bundle, { content: content.data, classImages: classData, classCode: code }),
    );
    encodePlan(encoder, bundle.plan);
    return { texture, upload };
  }
}
