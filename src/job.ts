/**
 * Translation jobs: one translation recorded a slice at a time into the caller's command encoders
 * (a game's frame encoders), so that its GPU work fits a per-frame budget. `job.encode(encoder,
 * { maxDispatches })` records the next few dispatches of the plan, each slice in a compute pass of
 * its own, the inputs going in as copies in the first slice's encoder and the read-back copy in
 * the last one's; a plan recorded in slices computes exactly what its one-pass run does, so the
 * output equals translate() bit for bit. Each job holds a plan instance of its own, leased from
 * the engine's JobPlans pool (never the PlanCache that translate() uses): several jobs can be in
 * flight on one engine, interleaved in any order, beside ordinary calls. A job gives its plan back
 * when its result has been read, or when it is cancelled; a job the caller forgets keeps its plan
 * until the engine is destroyed (a FinalizationRegistry would not do: it may never run, and it
 * cannot tell whether the job's last slices are still queued on the GPU).
 */
import { EngineDisposedError, InputError } from "./errors";
import type { GeneratorGraph, PlanSpec } from "./model";
import { compileBundle, planInputs, type InputData, type PlanBundle } from "./plan-cache";
import { encodeSlice, encodeTensorWrites } from "./runtime/run";
import { rgbaImages, type ImageRGBA } from "./tensor";
import { createOutputTexture, type OutputViews, type TextureTarget } from "./texture-output";

/** Idle plan instances the pool keeps for the next jobs (the oldest is destroyed beyond that). */
export const MAX_IDLE_JOB_PLANS = 4;

/**
 * The plan instances jobs hold: a job leases one for its spec (an idle one, or a new one compiled
 * from the graph, with pipelines from the per-device cache) and gives it back when it ends. A
 * leased instance belongs to its job alone until then.
 */
export class JobPlans {
  private readonly idle: { key: string; bundle: PlanBundle }[] = [];
  private readonly leased = new Set<PlanBundle>();
  private destroyed = false;

  constructor(
    private readonly device: GPUDevice,
    private readonly label: string,
    private readonly build: (spec: PlanSpec) => GeneratorGraph,
  ) {}

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  async lease(spec: PlanSpec): Promise<PlanBundle> {
    const key = JSON.stringify(spec);
    let bundle: PlanBundle;
    const i = this.idle.map((e) => e.key).lastIndexOf(key);
    if (i >= 0) bundle = this.idle.splice(i, 1)[0]!.bundle;
    else bundle = await compileBundle(this.device, `${this.label}:job`, this.build(spec), spec);
    if (this.destroyed) {
      destroyPlan(bundle);
      throw new EngineDisposedError(`${this.label}: the engine was disposed`);
    }
    this.leased.add(bundle);
    return bundle;
  }

  /** Takes a job's plan back; the GPU work recorded with it must be submitted and done. */
  release(spec: PlanSpec, bundle: PlanBundle): void {
    if (!this.leased.delete(bundle)) return;
    if (this.destroyed) return destroyPlan(bundle);
    this.idle.push({ key: JSON.stringify(spec), bundle });
    while (this.idle.length > MAX_IDLE_JOB_PLANS) destroyPlan(this.idle.shift()!.bundle);
  }

  /** Bytes of activation memory held by idle and leased job plans. */
  activationBytes(): number {
    const all = [...this.idle.map((e) => e.bundle), ...this.leased];
    return all.reduce((a, b) => a + b.plan.activationBytes, 0);
  }

  destroy(): void {
    this.destroyed = true;
    for (const { bundle } of this.idle) destroyPlan(bundle);
    for (const bundle of this.leased) destroyPlan(bundle);
    this.idle.length = 0;
    this.leased.clear();
  }
}

function destroyPlan(bundle: PlanBundle): void {
  bundle.plan.destroy();
  bundle.staging?.destroy();
}

/**
 * Where a job's output goes: nowhere on the GPU (the default: result() reads the images back), a
 * new texture (`texture: true`; rgba8unorm, one layer per image, as translateToTexture makes), or
 * layers `layer …` of the caller's texture (as translateToTexture's target).
 */
export interface JobOptions {
  texture?: GPUTexture | true;
  layer?: number;
}

/** What result() resolves to: the texture for a texture job, else the images. */
export type JobResult<O extends JobOptions> = O extends { texture: GPUTexture | true }
  ? GPUTexture
  : ImageRGBA[];

export interface EncodeOptions {
  /** The most dispatches this call records (a whole number ≥ 1). */
  maxDispatches: number;
  /** Timestamps around this slice's compute pass (needs `timestamp-query`): its GPU time. */
  timestampWrites?: GPUComputePassTimestampWrites;
}

/** What a job needs from its engine. */
export interface JobEngine {
  device: GPUDevice;
  label: string;
  plans: JobPlans;
  outputViews: OutputViews;
}

/** The texture target of a job's options (none: the images are read back). */
export function jobTarget(options: JobOptions): TextureTarget | undefined {
  if (options.texture === undefined) {
    if (options.layer !== undefined)
      throw new InputError("layer: only meaningful with a texture output (options.texture)");
    return undefined;
  }
  const { texture, layer } = options;
  return texture === true ? { layer } : { texture, layer };
}

type JobState = "starting" | "encoding" | "encoded" | "reading" | "done" | "cancelled";

export class TranslationJob<T extends ImageRGBA[] | GPUTexture = ImageRGBA[]> {
  /**
   * Resolves once the job can record (its plan is leased and its output bound); until then,
   * encode() records nothing and returns false. Rejects if the plan cannot be built (a device
   * limit, say: the same error encode() and result() then give).
   */
  readonly ready: Promise<void>;
  private state: JobState = "starting";
  private bundle?: PlanBundle;
  private texture?: GPUTexture;
  private upload?: GPUBuffer;
  private next = 0;
  private failure?: unknown;
  private resultPromise?: Promise<T>;
  private madeTexture = false;
  private readonly spec: PlanSpec;
  private readonly data: InputData;

  /** Starts leasing the plan; the engine has checked and copied the inputs (createJob). */
  constructor(
    private readonly engine: JobEngine,
    { spec, data }: { spec: PlanSpec; data: InputData },
    target: TextureTarget | undefined,
  ) {
    if (engine.plans.isDestroyed)
      throw new EngineDisposedError(`${engine.label}: the engine was disposed`);
    this.spec = spec;
    this.data = data;
    this.ready = this.start(!!target, target?.texture, target?.layer ?? 0);
    this.ready.catch(() => undefined); // reported by encode() and result()
  }

  private async start(toTexture: boolean, given: GPUTexture | undefined, layer: number) {
    const { device, label, plans, outputViews } = this.engine;
    const { n, h, w } = this.spec.content!;
    try {
      const bundle = await plans.lease(this.spec);
      this.bundle = bundle;
      if ((this.state as JobState) === "cancelled") return this.release();
      if (toTexture) {
        const texture = given ?? createOutputTexture(device, label, n, h, w);
        this.texture = texture;
        this.madeTexture = !given;
        await outputViews.bind(bundle.plan, texture, layer, n, !given);
      }
      if ((this.state as JobState) === "cancelled") return this.release();
      this.state = "encoding";
    } catch (e) {
      this.failure = e;
      if (this.bundle) this.release();
      throw e;
    }
  }

  /** The fraction of the translation's dispatches recorded so far, in [0, 1]. */
  get progress(): number {
    if (!this.bundle) return 0;
    return this.next / this.bundle.plan.dispatches.length;
  }

  /**
   * Records at most `maxDispatches` more dispatches into `encoder` (which must have no pass open)
   * and returns true once the last one is recorded (and from then on). Before `ready`, it records
   * nothing and returns false. Submit the encoders in the order they were given to the job.
   */
  encode(encoder: GPUCommandEncoder, { maxDispatches, timestampWrites }: EncodeOptions): boolean {
    if (!Number.isSafeInteger(maxDispatches) || maxDispatches < 1)
      throw new InputError(`maxDispatches must be a whole number ≥ 1, got ${maxDispatches}`);
    if (this.failure) throw this.failure;
    if (this.state === "cancelled") throw new InputError("encode(): the job was cancelled");
    if (this.engine.plans.isDestroyed)
      throw new EngineDisposedError(`${this.engine.label}: the engine was disposed`);
    if (this.state === "starting") return false;
    if (this.state !== "encoding") return true;
    const bundle = this.bundle!;
    const { plan } = bundle;
    const total = plan.dispatches.length;
    if (this.next === 0)
      this.upload = encodeTensorWrites(
        this.engine.device,
        encoder,
        plan,
        planInputs(bundle, this.data),
      );
    const end = Math.min(total, this.next + maxDispatches);
    const label = `${plan.label}:slice ${this.next}-${end - 1}`;
    encodeSlice(encoder, plan, this.next, end, label, timestampWrites);
    this.next = end;
    if (end < total) return false;
    const output = bundle.readbacks[0];
    if (output && bundle.staging)
      encoder.copyBufferToBuffer(
        plan.bufferOf.get(output.tensor.id)!,
        0,
        bundle.staging,
        0,
        output.tensor.words * 4,
      );
    this.state = "encoded";
    return true;
  }

  /**
   * The images (or the texture) once the final slice's work is done. Call it after submitting
   * the encoder in which encode() returned true: it maps the job's read-back buffer (or waits for
   * the queue), which a later submit of that encoder would not allow. The job's plan goes back to
   * the engine's pool once the result is in. An InputError before the last slice is recorded.
   */
  result(): Promise<T> {
    if (this.resultPromise) return this.resultPromise;
    if (this.failure) return Promise.reject(this.failure);
    if (this.state === "cancelled")
      return Promise.reject(new InputError("result(): the job was cancelled"));
    if (this.state !== "encoded") {
      const left = this.bundle ? this.bundle.plan.dispatches.length - this.next : "all";
      return Promise.reject(
        new InputError(
          `result(): ${left} of the job's dispatches are not encoded yet; call it after ` +
            "submitting the encoder in which encode() returned true",
        ),
      );
    }
    this.state = "reading";
    this.resultPromise = this.read();
    return this.resultPromise;
  }

  private async read(): Promise<T> {
    try {
      const { staging, readbacks } = this.bundle!;
      if (!staging) {
        await this.engine.device.queue.onSubmittedWorkDone();
        return this.texture as T;
      }
      const bytes = readbacks[0]!.tensor.words * 4;
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
      const { n, h, w } = this.spec.content!;
      // the images are copies: the mapped range goes with unmap()
      const images = rgbaImages(new Uint8Array(staging.getMappedRange(0, bytes)), n, h, w);
      staging.unmap();
      return images as T;
    } finally {
      this.state = "done";
      this.release();
    }
  }

  /**
   * Drops the job: nothing more is recorded, result() rejects, and its plan goes back to the pool
   * (and a texture it made is destroyed) once the queue has finished the work submitted so far, so
   * submit any encoder holding its slices before cancelling. Cancelling a finished job does
   * nothing.
   */
  cancel(): void {
    if (this.state === "done" || this.state === "reading" || this.state === "cancelled") return;
    this.state = "cancelled";
    if (!this.bundle) return; // start() releases the plan when the lease comes in
    void this.engine.device.queue.onSubmittedWorkDone().then(() => this.release());
  }

  /** Gives the plan back, frees the upload, and destroys a texture the job made but never gave. */
  private release(): void {
    if (this.state === "cancelled" && this.madeTexture) this.texture?.destroy();
    this.upload?.destroy();
    this.upload = undefined;
    if (this.bundle) this.engine.plans.release(this.spec, this.bundle);
  }
}
