/**
 * The public FUNIT engine, a thin class over the modules that do the work. `Funit.create` reads
 * and checks the weights (src/load.ts), opens them on the device (src/engine-device.ts: the kernel
 * choice of src/policy.ts, the upload, the pipelines of one small translation) and hands that
 * device state to its call runner (src/call-runner.ts), which serialises the calls (a plan's
 * buffers are reused from call to call) and handles disposal, aborts and device loss. Each call
 * checks and copies its inputs when it is made (src/inputs.ts) and, when its turn comes, runs the
 * plan of its shape (src/plan-cache.ts; the graph comes from src/model.ts) as one command encoder,
 * one submit and one readback (src/run-call.ts). A style is either a class code (latent_dim
 * floats: the mean class code of K example images, which can be saved, averaged or interpolated)
 * or the K example images themselves, encoded in the same submit as the translation. For
 * GPU-resident use (games), translateToTexture writes the output into an rgba8unorm array texture
 * and reads nothing back (src/texture-output.ts); encodeTranslationToTexture records the same work
 * into the caller's own command encoder; createJob records it a few dispatches at a time
 * (src/job.ts). prepare() builds plans and pipelines ahead (src/prepare.ts); profile() times each
 * dispatch (src/profile.ts).
 *
 * Under faults: a call's inputs are checked and copied when it is made; when it starts, a disposed
 * engine (EngineDisposedError), an aborted signal (its reason) or a lost device (DeviceLostError)
 * stops it before any GPU work. Created with a device provider instead of a device, an engine
 * keeps the weights on the CPU and, after a loss, opens a new device, uploads them again and
 * retries the interrupted call once.
 */
import { CallRunner, type CallOptions, type DeviceProvider } from "./call-runner";
import { openOnDevice, type DeviceState } from "./engine-device";
import { InputError } from "./errors";
import type { FunitHyper } from "./hyper";
import {
  classCodeInputs,
  tensorPairInputs,
  translationInputs,
  type CallInputs,
  type Style,
} from "./inputs";
import { jobTarget, TranslationJob, type JobOptions, type JobResult } from "./job";
import { loadWeightsBytes, type LoadOptions, type WeightsSource } from "./load";
import { generatorGraph, type PlanSpec } from "./model";
import type { ConvKernel, KernelChoice, KernelOptions, Precision } from "./policy";
import { prepareShapes, prepareSpecs, type PrepareShape } from "./prepare";
import { profileDispatches, type ProfiledDispatch } from "./profile";
import { encodeToTexture, readOutputs, readTranslation, submitToTexture } from "./run-call";
import { rgbaImages, type ImageRGBA, type Tensor } from "./tensor";
import type { TextureTarget } from "./texture-output";
import { readGeneratorWeights } from "./weights";

export type { Style } from "./inputs";
export type { TextureTarget } from "./texture-output";
export type { LoadOptions, LoadProgress, WeightsSource } from "./load";
export type { CallOptions, DeviceProvider } from "./call-runner";
export type { ProfiledDispatch } from "./profile";

export interface Intermediates {
  content_code: Tensor;
  class_code: Tensor;
  adain_params: Tensor;
  output: Tensor;
}

/**
 * An engine's options: a label for its GPU objects, and the kernel options of chooseKernels
 * (conv kernel, precision, a forced tile, the f16 convolution's products), each "auto" by default.
 */
export interface FunitOptions extends KernelOptions, LoadOptions {
  label?: string;
  /** Shapes to prepare at load (see Funit.prepare). */
  prepare?: PrepareShape[];
}

/** What runWithIntermediates reads back: every intermediate, so its result is an Intermediates. */
const INTERMEDIATES: (keyof Intermediates)[] = [
  "content_code",
  "class_code",
  "adain_params",
  "output",
];

export class Funit {
  readonly hyper: FunitHyper;
  readonly label: string;
  /**
   * Runs the calls one at a time and holds the device state they run on (a new one after a
   * recovered loss), so the getters below always read the state in use.
   */
  private readonly runner: CallRunner;

  private constructor(runner: CallRunner, label: string) {
    this.runner = runner;
    this.hyper = runner.state.gen.hyper;
    this.label = label;
  }

  /** The device the engine runs on (a new one after a recovered loss). */
  get device(): GPUDevice {
    return this.runner.state.device;
  }
  /** Everything chosen for this device and the options (src/policy.ts). */
  get kernels(): KernelChoice {
    return this.runner.state.kernels;
  }
  /** The convolution kernel this engine runs (kernels.conv). */
  get convKernel(): ConvKernel {
    return this.kernels.conv;
  }
  /** Precision of the activations and convolution weights (class code and MLP: always f32). */
  get precision(): Precision {
    return this.kernels.precision;
  }
  /** Bytes of weights held on the GPU. */
  get weightBytes(): number {
    return this.runner.state.gen.bytes;
  }

  /**
   * Loads a model (safetensors F32/F16/BF16 from an ArrayBuffer, any ArrayBufferView, a Blob, a
   * Response, a URL or URL string, with `onProgress` and `signal`; or already-read weights),
   * uploads it and creates the pipelines of a small translation. Option conflicts are refused
   * before anything is uploaded; a lost device is a DeviceLostError.
   *
   * `device` may be a DeviceProvider instead: the engine then keeps the weights as f32 on the CPU
   * (4 bytes a parameter, whatever the file's dtype) so that, after a device loss, it can ask the
   * provider for a new device, upload them again and retry the interrupted call once.
   */
  static async create(
    device: GPUDevice | DeviceProvider,
    weights: WeightsSource,
    opts: FunitOptions = {},
  ): Promise<Funit> {
    const label = opts.label ?? "funit";
    const loaded = await loadWeightsBytes(weights, opts);
    const w = loaded instanceof Uint8Array ? readGeneratorWeights(loaded) : loaded;
    opts.signal?.throwIfAborted();
    const provider = typeof device === "function" ? device : undefined;
    const gpu = provider ? await provider() : device;
    if (typeof gpu !== "object" || gpu === null || typeof gpu.createBuffer !== "function")
      throw new InputError(`device: expected a GPUDevice or a function resolving to one`);
    const kernelOptions: KernelOptions = {
      conv: opts.conv,
      precision: opts.precision,
      convTile: opts.convTile,
      f16Products: opts.f16Products,
    };
    const state = await openOnDevice(gpu as GPUDevice, w, label, kernelOptions);
    const recovery = provider && { provider, weights: w };
    const engine = new Funit(new CallRunner(state, label, kernelOptions, recovery), label);
    if (opts.prepare) {
      try {
        await engine.prepare(opts.prepare);
      } catch (e) {
        engine.dispose(); // no half-made engine keeps its weights on the device
        throw e;
      }
    }
    return engine;
  }

  /**
   * Builds the plan and creates every pipeline that calls of these shapes need (src/prepare.ts),
   * so that their first call creates no pipeline. A bad shape is an InputError.
   */
  prepare(shapes: PrepareShape | PrepareShape[], opts: CallOptions = {}): Promise<void> {
    const list = Array.isArray(shapes) ? shapes : [shapes];
    return this.runner.call(() => {
      const specs = list.map((shape) => prepareSpecs(this.hyper, shape));
      return ({ device, plans, gen, kernels }) => {
        const build = (spec: PlanSpec) => generatorGraph(gen, kernels, spec);
        return prepareShapes({ device, plans, build }, specs);
      };
    }, opts);
  }

  /**
   * A translation to record a few dispatches at a time into the caller's encoders (src/job.ts):
   * `job.encode(encoder, { maxDispatches })`, then `job.result()`: the images, or with
   * `options.texture` (the caller's texture, or true for a new one) the texture. The inputs are
   * checked and copied here (InputErrors); the job holds a plan of its own, so jobs and calls do
   * not wait for each other. A job does not survive a device loss (it fails; make a new one).
   */
  createJob<O extends JobOptions = Record<string, never>>(
    contents: ImageRGBA[] | Tensor,
    style: Style,
    options?: O,
  ): TranslationJob<JobResult<O>> {
    this.runner.throwIfDisposed();
    const target = jobTarget(options ?? {});
    const inputs = this.translationInputs(contents, style, target ? "texture" : "rgba8", target);
    const { device, jobPlans: plans, outputViews } = this.runner.state;
    return new TranslationJob({ device, label: this.label, plans, outputViews }, inputs, target);
  }

  /** Mean class code over the K images: latent_dim floats. */
  encodeClass(images: ImageRGBA[] | Tensor, opts: CallOptions = {}): Promise<Float32Array> {
    return this.runner.call(() => {
      const inputs = classCodeInputs(this.hyper, this.device.limits, images);
      return async (state) => (await readOutputs(state, inputs)).class_code!.data;
    }, opts);
  }

  /** Translates each content image into the style (a class code, or K class images). */
  translate(contents: ImageRGBA[], style: Style, opts: CallOptions = {}): Promise<ImageRGBA[]> {
    return this.runner.call(() => {
      const inputs = this.translationInputs(contents, style, "rgba8");
      const { n, h, w } = inputs.spec.content!;
      return async (state) => rgbaImages(await readTranslation(state, inputs), n, h, w);
    }, opts);
  }

  /** Like translate, on [N,3,H,W] tensors in [-1, 1]. */
  translateTensor(contents: Tensor, style: Style, opts: CallOptions = {}): Promise<Tensor> {
    return this.runner.call(() => {
      const inputs = this.translationInputs(contents, style, "f32");
      const shape = [...contents.shape];
      return async (state) => ({ shape, data: await readTranslation(state, inputs) });
    }, opts);
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
    // a caller's texture belongs to the lost device: only a texture made here can be made again
    return this.textureCall(contents, style, target, !target.texture, (state, inputs) =>
      submitToTexture(state, this.label, inputs, target, this.throwIfDisposed),
    );
  }

  /**
   * Records what translateToTexture does into the caller's command encoder (a game's frame encoder,
   * say) and submits nothing: the inputs go in as copies inside the encoder, so several calls in
   * one encoder, or in encoders submitted in any order, each translate their own inputs. The
   * encoder must have no pass open. Resolves to the texture that the encoder writes once
   * submitted. Submit it before destroying the engine or translating MAX_PLANS (8) other input
   * shapes on it (plans are recycled). The small upload buffer of each call is left to the garbage
   * collector. After a device loss the caller's encoder is useless: the call is not retried.
   */
  encodeTranslationToTexture(
    encoder: GPUCommandEncoder,
    contents: ImageRGBA[] | Tensor,
    style: Style,
    target: TextureTarget = {},
  ): Promise<GPUTexture> {
    return this.textureCall(contents, style, target, false, async (state, inputs) => {
      const open = this.throwIfDisposed;
      return (await encodeToTexture(state, this.label, encoder, inputs, target, open)).texture;
    });
  }

  /** Runs content [N,3,H,W] with class images [K,3,H,W] and reads back every intermediate. */
  runWithIntermediates(contents: Tensor, classImages: Tensor): Promise<Intermediates> {
    return this.runner.call(() => {
      const inputs = this.tensorPairInputs(contents, classImages, INTERMEDIATES);
      return async (state) => (await readOutputs(state, inputs)) as Intermediates;
    });
  }

  /**
   * GPU time of every dispatch of one translation (content images with class images), from
   * timestamp queries: [{label, ms}] in execution order. Needs the `timestamp-query` feature.
   */
  profile(contents: Tensor, classImages: Tensor): Promise<ProfiledDispatch[]> {
    return this.runner.call(() => {
      const inputs = this.tensorPairInputs(contents, classImages, ["output"]);
      return (state) => profileDispatches(state, inputs);
    });
  }

  /** Bytes of activation memory held by the plans built so far. */
  activationBytes(): Promise<number> {
    return this.runner.state.plans.activationBytes();
  }

  /**
   * Frees the engine's GPU memory. Calls queued and not yet started reject with an
   * EngineDisposedError and run nothing; a call already running rejects with it as well.
   */
  dispose(): void {
    this.runner.dispose();
  }

  // The doc comment below is also a directive that the declaration files keep: a consumer whose
  // TypeScript lib lacks Symbol.dispose (ES2022) ignores this member instead of failing to compile
  // (JSR refuses the alternatives: a lib reference or a global declaration of Symbol.dispose).
  /** @ts-ignore: dispose(), for `using engine = await Funit.create(…)` */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** The former name of dispose(). */
  destroy(): void {
    this.dispose();
  }

  /** The texture steps' check, after their await, that the engine was not disposed meanwhile. */
  private readonly throwIfDisposed = (): void => this.runner.throwIfDisposed();

  /** A texture-output call: inputs checked and copied when called, `work` run on the device state. */
  private textureCall(
    contents: ImageRGBA[] | Tensor,
    style: Style,
    target: TextureTarget,
    retry: boolean,
    work: (state: DeviceState, inputs: CallInputs) => Promise<GPUTexture>,
  ): Promise<GPUTexture> {
    return this.runner.call(
      () => {
        const inputs = this.translationInputs(contents, style, "texture", target);
        return (state) => work(state, inputs);
      },
      { retry },
    );
  }

  /** Content and class tensors' checked and copied inputs, reading back `readback`. */
  private tensorPairInputs(
    contents: Tensor,
    classImages: Tensor,
    readback: Parameters<typeof tensorPairInputs>[4],
  ): CallInputs {
    const { hyper, device, kernels } = this;
    return tensorPairInputs(
      hyper,
      device.limits,
      contents,
      classImages,
      readback,
      kernels.winogradWeights,
    );
  }

  /** A translation's checked and copied inputs and its plan's spec, on the device in use. */
  private translationInputs(
    contents: ImageRGBA[] | Tensor,
    style: Style,
    outputFormat: PlanSpec["outputFormat"],
    target?: TextureTarget,
  ): CallInputs {
    const winograd = this.kernels.winogradWeights;
    return translationInputs(
      this.hyper,
      this.device,
      contents,
      style,
      outputFormat,
      target,
      winograd,
    );
  }
}
