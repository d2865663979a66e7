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
 *
 * Under faults: a call's inputs are checked and copied when it is made; when it starts, a disposed
 * engine (EngineDisposedError), an aborted signal (its reason) or a lost device (DeviceLostError)
 * stops it before any GPU work. Created with a device provider instead of a device, an engine
 * keeps the weights on the CPU and, after a loss, opens a new device (src/engine-device.ts),
 * uploads them again and retries the interrupted call once.
 */
import { closeState, deviceLoss, lostError, openOnDevice, type DeviceState } from "./engine-device";
import { DeviceError, DeviceLostError, EngineDisposedError, InputError } from "./errors";
import type { FunitHyper } from "./hyper";
import { checkCallLimits, classInput, contentInput, styleInput, type Style } from "./inputs";
import { jobTarget, TranslationJob, type JobOptions, type JobResult } from "./job";
import { loadWeightsBytes, type LoadOptions, type WeightsSource } from "./load";
import type { PlanSpec, Readback } from "./model";
import { planInputs, type InputData } from "./plan-cache";
import type { ConvKernel, KernelChoice, KernelOptions, Precision } from "./policy";
import { generatorGraph } from "./model";
import { prepareShapes, prepareSpecs, type PrepareShape } from "./prepare";
import type { Dispatch } from "./runtime/graph";
import { encodePlan, encodeTensorWrites, runPlanOnce, timePlanOnce } from "./runtime/run";
import type { ImageRGBA, Tensor } from "./tensor";
import { checkTextureTarget, createOutputTexture, type TextureTarget } from "./texture-output";
import { readGeneratorWeights, type GeneratorWeights } from "./weights";

export type { Style } from "./inputs";
export type { TextureTarget } from "./texture-output";
export type { LoadOptions, LoadProgress, WeightsSource } from "./load";

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
export interface FunitOptions extends KernelOptions, LoadOptions {
  label?: string;
  /** Shapes to prepare at load (see Funit.prepare). */
  prepare?: PrepareShape[];
}

/**
 * Gives the engine a device: at creation, and again after each device loss. Each call must
 * return a new, working device (for instance `() => requestFunitDevice(navigator.gpu)`).
 */
export type DeviceProvider = () => Promise<GPUDevice>;

/** Options of a single call. */
export interface CallOptions {
  /** Aborting it before the call starts runs nothing; later, the result is dropped. */
  signal?: AbortSignal;
}

/** How a call runs (see Funit.call). */
interface CallRules extends CallOptions {
  /** Whether the call may run again on a new device after a loss (not with caller GPU objects). */
  retry?: boolean;
}

export class Funit {
  readonly hyper: FunitHyper;
  readonly label: string;
  /** The device state in use: replaced, with a provider, after a device loss. */
  private state: DeviceState;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(
    state: DeviceState,
    label: string,
    private readonly options: KernelOptions,
    /** With a provider: the weights, kept on the CPU to be uploaded again after a loss. */
    private recovery?: { provider: DeviceProvider; weights: GeneratorWeights },
  ) {
    this.state = state;
    this.hyper = state.gen.hyper;
    this.label = label;
  }

  /** The device the engine runs on (a new one after a recovered loss). */
  get device(): GPUDevice {
    return this.state.device;
  }
  /** Everything chosen for this device and the options (src/policy.ts). */
  get kernels(): KernelChoice {
    return this.state.kernels;
  }
  /** The convolution kernel this engine runs (kernels.conv). */
  get convKernel(): ConvKernel {
    return this.state.kernels.conv;
  }
  /** Precision of the activations and convolution weights (class code and MLP: always f32). */
  get precision(): Precision {
    return this.state.kernels.precision;
  }
  /** Bytes of weights held on the GPU. */
  get weightBytes(): number {
    return this.state.gen.bytes;
  }
  private get plans() {
    return this.state.plans;
  }
  private get outputViews() {
    return this.state.outputViews;
  }
  private get jobPlans() {
    return this.state.jobPlans;
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
    const engine = new Funit(state, label, kernelOptions, provider && { provider, weights: w });
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
    return this.call(() => {
      const specs = list.map((shape) => prepareSpecs(this.hyper, shape));
      return () => {
        const { device, plans, gen, kernels } = this.state;
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
    if (this.disposed) throw this.disposedError();
    const target = jobTarget(options ?? {});
    const inputs = this.translationInputs(contents, style, target ? "texture" : "rgba8", target);
    const { device, label, jobPlans: plans, outputViews } = this;
    return new TranslationJob({ device, label, plans, outputViews }, inputs, target);
  }

  /** Mean class code over the K images: latent_dim floats. */
  encodeClass(images: ImageRGBA[] | Tensor, opts: CallOptions = {}): Promise<Float32Array> {
    return this.call(() => {
      const cls = classInput(images);
      checkCallLimits(this.hyper, this.device.limits, undefined, cls.spec);
      return async () => {
        const out = await this.run(
          { classImages: cls.spec, outputFormat: "f32", readback: ["class_code"] },
          { classImages: cls.data },
        );
        return out.class_code!.data;
      };
    }, opts);
  }

  /** Translates each content image into the style (a class code, or K class images). */
  translate(contents: ImageRGBA[], style: Style, opts: CallOptions = {}): Promise<ImageRGBA[]> {
    return this.call(() => {
      const inputs = this.translationInputs(contents, style, "rgba8");
      return async () => {
        const output = await this.translateOnce(inputs);
        const rgba = new Uint8ClampedArray(output.buffer, output.byteOffset, output.byteLength);
        const { n, h, w } = inputs.spec.content!;
        return Array.from({ length: n }, (_, i) => ({
          width: w,
          height: h,
          data: rgba.slice(i * h * w * 4, (i + 1) * h * w * 4),
        }));
      };
    }, opts);
  }

  /** Like translate, on [N,3,H,W] tensors in [-1, 1]. */
  translateTensor(contents: Tensor, style: Style, opts: CallOptions = {}): Promise<Tensor> {
    return this.call(() => {
      const inputs = this.translationInputs(contents, style, "f32");
      const shape = [...contents.shape];
      return async () => ({ shape, data: await this.translateOnce(inputs) });
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
    return this.call(
      () => {
        const inputs = this.translationInputs(contents, style, "texture", target);
        return async () => {
          const encoder = this.device.createCommandEncoder({ label: `${this.label}:to-texture` });
          const { texture, upload } = await this.encodeToTexture(encoder, inputs, target);
          this.device.queue.submit([encoder.finish()]);
          upload.destroy(); // freed once the submitted copies are done
          // nothing is read back, so a loss meanwhile would go unnoticed: ask
          const lost = await deviceLoss(this.device);
          if (lost) {
            if (!target.texture) texture.destroy();
            throw lostError(lost);
          }
          return texture;
        };
      },
      // a caller's texture belongs to the lost device: only a texture made here can be made again
      { retry: !target.texture },
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
    return this.call(
      () => {
        const inputs = this.translationInputs(contents, style, "texture", target);
        return async () => (await this.encodeToTexture(encoder, inputs, target)).texture;
      },
      { retry: false },
    );
  }

  /** Runs content [N,3,H,W] with class images [K,3,H,W] and reads back every intermediate. */
  runWithIntermediates(contents: Tensor, classImages: Tensor): Promise<Intermediates> {
    return this.call(() => {
      const content = contentInput(this.hyper, contents);
      const cls = classInput(classImages);
      checkCallLimits(this.hyper, this.device.limits, content.spec, cls.spec);
      const spec: PlanSpec = {
        content: content.spec,
        classImages: cls.spec,
        outputFormat: "f32",
        readback: ["content_code", "class_code", "adain_params", "output"],
      };
      // the spec reads back every intermediate
      return async () =>
        (await this.run(spec, {
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
    return this.call(() => {
      const content = contentInput(this.hyper, contents);
      const cls = classInput(classImages);
      checkCallLimits(this.hyper, this.device.limits, content.spec, cls.spec);
      return async () => {
        if (!this.device.features.has("timestamp-query"))
          throw new DeviceError("profiling needs the 'timestamp-query' feature");
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
      };
    });
  }

  /** Bytes of activation memory held by the plans built so far. */
  activationBytes(): Promise<number> {
    return this.plans.activationBytes();
  }

  /**
   * Frees the engine's GPU memory. Calls queued and not yet started reject with an
   * EngineDisposedError and run nothing; a call already running rejects with it as well.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    closeState(this.state);
    this.recovery = undefined; // the CPU copy of the weights can go too
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

  /**
   * Queues a call. `prepare` runs now: it checks and copies the inputs (a bad input rejects at
   * once, and the caller may reuse its buffers) and returns the work, which runs when the calls
   * before it are done. When it starts, the work first meets the engine's state then: disposed,
   * aborted or on a lost device, it is refused before any GPU work (a provider's engine first
   * moves to a new device). A failure caused by a loss during the work is retried once on a new
   * device when `retry` allows and there is a provider.
   */
  private call<T>(prepare: () => () => Promise<T>, rules: CallRules = {}): Promise<T> {
    const { signal } = rules;
    if (this.disposed) return Promise.reject(this.disposedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    let work: () => Promise<T>;
    try {
      work = prepare();
    } catch (e) {
      return Promise.reject(e);
    }
    const start = () => this.start(work, rules);
    const next = this.queue.then(start, start);
    this.queue = next.catch(() => undefined);
    return signal ? settleOnAbort(next, signal) : next;
  }

  private async start<T>(work: () => Promise<T>, { signal, retry = true }: CallRules): Promise<T> {
    if (this.disposed) throw this.disposedError();
    signal?.throwIfAborted();
    await this.ensureDevice();
    try {
      return await this.attempt(work);
    } catch (e) {
      if (!(e instanceof DeviceLostError) || !this.recovery || !retry) throw e;
      await this.ensureDevice();
      return await this.attempt(work);
    }
  }

  /** Runs the work once; a failure of a disposed engine or lost device says so (typed). */
  private async attempt<T>(work: () => Promise<T>): Promise<T> {
    if (this.disposed) throw this.disposedError();
    const state = this.state;
    try {
      return await work();
    } catch (e) {
      if (this.disposed) throw this.disposedError(e);
      const lost = await deviceLoss(state.device);
      if (lost && !(e instanceof DeviceLostError)) throw lostError(lost, { cause: e });
      throw e;
    }
  }

  /**
   * Makes sure the device is usable: a lost device is a DeviceLostError, or, with a provider, is
   * replaced by a new one holding the weights again (the old state is dropped first).
   */
  private async ensureDevice(): Promise<void> {
    const lost = await deviceLoss(this.state.device);
    if (!lost) return;
    if (!this.recovery) throw lostError(lost);
    closeState(this.state);
    const { provider, weights } = this.recovery;
    let device: GPUDevice;
    try {
      device = await provider();
    } catch (e) {
      throw new DeviceLostError(
        String(lost.reason),
        `${lost.message}; the device provider failed: ${(e as Error).message ?? e}`,
        { cause: e },
      );
    }
    const state = await openOnDevice(device, weights, this.label, this.options);
    if (this.disposed) {
      closeState(state);
      throw this.disposedError();
    }
    this.state = state;
  }

  private disposedError(cause?: unknown): EngineDisposedError {
    return new EngineDisposedError(
      `${this.label}: the engine was disposed`,
      cause === undefined ? undefined : { cause },
    );
  }

  /** A translation's checked and copied inputs and the spec of its plan. */
  private translationInputs(
    contents: ImageRGBA[] | Tensor,
    style: Style,
    outputFormat: PlanSpec["outputFormat"],
    target?: TextureTarget,
  ): { spec: PlanSpec; data: InputData } {
    const content = contentInput(this.hyper, contents);
    const { spec: classSpec, data: classData, code } = styleInput(this.hyper, style);
    const texture = outputFormat === "texture";
    checkCallLimits(this.hyper, this.device.limits, content.spec, classSpec, texture);
    const { n, h, w } = content.spec;
    if (target) checkTextureTarget(this.device, target, n, h, w);
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

  /** One translation's output: RGBA8 (one u32 per pixel, returned as its f32 view) or f32. */
  private async translateOnce(inputs: { spec: PlanSpec; data: InputData }): Promise<Float32Array> {
    return (await this.run(inputs.spec, inputs.data)).output!.data;
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
   * Records input copies and the plan into `encoder` (the inputs and target were checked when
   * the call was made, so a refused call wrote nothing).
   */
  private async encodeToTexture(
    encoder: GPUCommandEncoder,
    inputs: { spec: PlanSpec; data: InputData },
    target: TextureTarget,
  ): Promise<{ texture: GPUTexture; upload: GPUBuffer }> {
    const { n, h, w } = inputs.spec.content!;
    const bundle = await this.plans.get(inputs.spec);
    if (this.disposed) throw this.disposedError();
    const texture = target.texture ?? createOutputTexture(this.device, this.label, n, h, w);
    await this.outputViews.bind(bundle.plan, texture, target.layer ?? 0, n, !target.texture);
    const upload = encodeTensorWrites(
      this.device,
      encoder,
      bundle.plan,
      planInputs(bundle, inputs.data),
    );
    encodePlan(encoder, bundle.plan);
    return { texture, upload };
  }
}

/**
 * The call's promise, settled early with the signal's reason if it aborts first (the engine's
 * queue still waits for the work itself, which an abort cannot stop once it runs).
 */
function settleOnAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
