/**
 * The public FUNIT engine. `Funit.create` reads and checks the weights, uploads them and compiles
 * every pipeline; each call then finds (or builds once, per input shape) a plan and runs it as one
 * command encoder, one submit and one readback. Calls on one engine are serialised, since a plan's
 * buffers are reused from call to call. A style is either a class code (latent_dim floats: the
 * mean class code of K example images, which can be saved, averaged or interpolated) or the K
 * example images themselves, encoded in the same submit as the translation. For GPU-resident use
 * (games), translateToTexture writes the output into an rgba8unorm array texture and reads nothing
 * back; encodeTranslationToTexture records the same work into the caller's own command encoder.
 */
import {
  chooseConvKernel,
  chooseNormThreads,
  choosePrecision,
  subgroupConvSupported,
  type ConvKernel,
  type Precision,
} from "./device";
import { adainParamCount, type FunitHyper } from "./hyper";
import {
  castTensor,
  classEncoder,
  contentEncoder,
  decoder,
  type ConvTileName,
  imagesToTexture,
  mlp,
  packImages,
  unpackImages,
  uploadGenerator,
  type GpuGenerator,
} from "./model";
import {
  compile,
  encodePlan,
  encodePlanTimed,
  Graph,
  type Dispatch,
  type Plan,
  type TensorDesc,
  type TextureSlot,
} from "./runtime/graph";
import { getKernel } from "./runtime/kernels";
import { imageBatchDims, isTensor, type ImageRGBA, type Tensor } from "./tensor";
import { readGeneratorWeights, type GeneratorWeights } from "./weights";
import { DeviceError, InputError } from "./errors";

export interface Intermediates {
  content_code: Tensor;
  class_code: Tensor;
  adain_params: Tensor;
  output: Tensor;
}

export type Style = Float32Array | ImageRGBA[] | Tensor;

type Format = "rgba8" | "f32";

interface BatchSpec {
  n: number;
  h: number;
  w: number;
  format: Format;
}

interface PlanSpec {
  content?: BatchSpec;
  classImages?: BatchSpec;
  /** Produce the output as RGBA8, as f32, or into a texture bound when the plan runs (OUTPUT_TEXTURE). */
  outputFormat: Format | "texture";
  readback: ("content_code" | "class_code" | "adain_params" | "output")[];
}

interface InputData {
  content?: ArrayBufferView;
  classImages?: ArrayBufferView;
  classCode?: Float32Array;
}

interface PlanBundle {
  plan: Plan;
  inputs: { content?: TensorDesc; classImages?: TensorDesc; classCode: TensorDesc };
  /** The plan reads a class code written by the caller (no class images to encode). */
  takesCode: boolean;
  readbacks: { name: string; tensor: TensorDesc; offset: number }[];
  /** The MAP_READ buffer read-backs land in; none for a plan that reads nothing back. */
  staging?: GPUBuffer;
}

/** The texture slot a texture-output plan writes (see translateToTexture). */
const OUTPUT_TEXTURE: TextureSlot = { slot: "output" };

/** One dispatch of a profiled translation: its GPU time and what it ran (kernel, overrides, params). */
export type ProfiledDispatch = Pick<Dispatch, "label" | "kernel" | "overrides" | "params"> & {
  ms: number;
};

/** Where translateToTexture writes; without `texture`, a new texture is created and returned. */
export interface TextureTarget {
  /**
   * The caller's texture: format rgba8unorm, dimension 2d, the content images' width and height,
   * usage including STORAGE_BINDING, created on the engine's device, with enough array layers.
   */
  texture?: GPUTexture;
  /** First array layer written (default 0): image i goes to layer `layer + i`. */
  layer?: number;
}

/** Plans (buffers for one input shape) kept per engine; the least recently used goes first. */
const MAX_PLANS = 8;

export interface FunitOptions {
  label?: string;
  /** Convolution kernel; "auto" (the default) picks per adapter (see chooseConvKernel). */
  conv?: ConvKernel | "auto";
  /**
   * "f16": f16 activations and convolution weights (needs `shader-f16`; runs the tiled
   * convolution, the only f16 one); "f32"; "auto" (the default): f16 on GPUs that have
   * `shader-f16`, f32 elsewhere (see choosePrecision).
   */
  precision?: Precision | "auto";
  /** One tile for every tiled convolution, for benchmarks and tests (default: chooseConvTile per layer). */
  convTile?: ConvTileName;
}

export class Funit {
  readonly hyper: FunitHyper;
  readonly device: GPUDevice;
  readonly label: string;
  /** The convolution kernel this engine runs. */
  readonly convKernel: ConvKernel;
  /** The precision of activations and convolution weights (the class code and MLP are always f32). */
  readonly precision: Precision;
  private readonly convTile?: ConvTileName;
  private readonly normThreads: number;
  /** Bytes of weights held on the GPU. */
  readonly weightBytes: number;
  private readonly gen: GpuGenerator;
  private readonly dummy: GPUBuffer;
  private readonly plans = new Map<string, Promise<PlanBundle>>();
  private queue: Promise<unknown> = Promise.resolve();
  private destroyed = false;

  private constructor(
    device: GPUDevice,
    gen: GpuGenerator,
    label: string,
    convKernel: ConvKernel,
    precision: Precision = "f32",
    convTile?: ConvTileName,
  ) {
    this.device = device;
    this.convKernel = convKernel;
    this.precision = precision;
    this.convTile = convTile;
    this.normThreads = chooseNormThreads(device);
    this.gen = gen;
    this.hyper = gen.hyper;
    this.label = label;
    this.weightBytes = gen.bytes;
    this.dummy = device.createBuffer({
      label: `${label}:unused-binding`,
      size: 16,
      usage: GPUBufferUsage.STORAGE,
    });
  }

  /** Loads safetensors bytes (F32/F16/BF16) or already-read weights, and compiles every pipeline. */
  static async create(
    device: GPUDevice,
    weights: Uint8Array | GeneratorWeights,
    opts: FunitOptions = {},
  ): Promise<Funit> {
    const label = opts.label ?? "funit";
    const w = weights instanceof Uint8Array ? readGeneratorWeights(weights) : weights;
    const precision = choosePrecision(device, opts.precision);
    // Option conflicts are programming errors, not device or input ones: plain Errors.
    if (precision === "f16" && opts.conv && opts.conv !== "auto" && opts.conv !== "tiled") {
      throw new Error(
        `the f16 path has only the tiled convolution; conv '${opts.conv}' needs precision 'f32'`,
      );
    }
    const conv =
      precision === "f16"
        ? "tiled"
        : !opts.conv || opts.conv === "auto"
          ? chooseConvKernel(device)
          : opts.conv;
    if (opts.convTile && conv !== "tiled")
      throw new Error(
        `convTile applies to the tiled convolution; this engine runs '${conv}' (pass conv: 'tiled')`,
      );
    if (conv === "subgroup" && !subgroupConvSupported(device)) {
      throw new DeviceError(
        "the subgroup convolution needs a device with the 'subgroups' feature and subgroups of at least 8 lanes",
      );
    }
    const engine = new Funit(
      device,
      uploadGenerator(device, w.hyper, w.tensors, label, precision),
      label,
      conv,
      precision,
      opts.convTile,
    );
    try {
      await engine.warmPipelines();
    } catch (e) {
      engine.destroy(); // no half-made engine keeps its weights on the device
      throw e;
    }
    return engine;
  }

  /**
   * Creates every pipeline the model uses: they depend on layer shapes, not on image sizes, so the
   * graph of one small RGBA translation (which has every op of the f32 one, plus pack and unpack)
   * names them all.
   */
  private async warmPipelines(): Promise<void> {
    const size = 2 ** Math.max(this.hyper.n_downs_content, this.hyper.n_downs_class) * 4;
    const batch: BatchSpec = { n: 1, h: size, w: size, format: "rgba8" };
    // The texture-output graph adds its one kernel (image_to_texture in place of image_unpack).
    const ops = (["rgba8", "texture"] as const).flatMap(
      (outputFormat) =>
        this.buildGraph({ content: batch, classImages: batch, outputFormat, readback: [] }).graph
          .ops,
    );
    await Promise.all(ops.map((op) => getKernel(this.device, op.kernel, op.overrides)));
  }

  /** Mean class code over the K images: latent_dim floats. */
  encodeClass(images: ImageRGBA[] | Tensor): Promise<Float32Array> {
    return this.serial(async () => {
      const cls = this.classInput(images);
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
   * Translates each content image (RGBA images, or a [N,3,H,W] tensor) into the style and writes the
   * results to the GPU only: one encoder, one submit, nothing read back. Resolves (once the work is
   * submitted, not finished: later GPU work is ordered after it) to the texture written:
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
   * say) and submits nothing: the inputs go in as copies inside the encoder, so several calls in one
   * encoder, or in encoders submitted in any order, each translate their own inputs. The encoder
   * must have no pass open. Resolves to the texture that the encoder writes once submitted. Submit
   * it before destroying the engine or translating 8 other input shapes on it (plans are recycled).
   * The small upload buffer of each call is left to the garbage collector.
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
      const content = this.contentInput(contents);
      const cls = this.classInput(classImages);
      const spec: PlanSpec = {
        content: content.spec,
        classImages: cls.spec,
        outputFormat: "f32",
        readback: ["content_code", "class_code", "adain_params", "output"],
      };
      const out = await this.run(spec, { content: content.data, classImages: cls.data });
      return {
        content_code: out.content_code!,
        class_code: out.class_code!,
        adain_params: out.adain_params!,
        output: out.output!,
      };
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
      const content = this.contentInput(contents);
      const cls = this.classInput(classImages);
      const bundle = await this.planFor({
        content: content.spec,
        classImages: cls.spec,
        outputFormat: "f32",
        readback: ["output"],
      });
      const { plan } = bundle;
      const count = plan.dispatches.length * 2;
      const querySet = this.device.createQuerySet({
        label: `${this.label}:profile`,
        type: "timestamp",
        count,
      });
      const resolved = this.device.createBuffer({
        label: `${this.label}:profile-resolve`,
        size: count * 8,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
      const readback = this.device.createBuffer({
        label: `${this.label}:profile-readback`,
        size: count * 8,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      try {
        this.writeInputs(bundle, { content: content.data, classImages: cls.data });
        const encoder = this.device.createCommandEncoder({ label: `${this.label}:profile` });
        encodePlanTimed(encoder, plan, querySet);
        encoder.resolveQuerySet(querySet, 0, count, resolved, 0);
        encoder.copyBufferToBuffer(resolved, 0, readback, 0, count * 8);
        this.device.queue.submit([encoder.finish()]);
        await readback.mapAsync(GPUMapMode.READ);
        const ns = new BigUint64Array(readback.getMappedRange().slice(0));
        readback.unmap();
        return plan.dispatches.map((d, i) => ({
          label: d.label,
          kernel: d.kernel,
          overrides: d.overrides,
          params: d.params,
          ms: Number(ns[2 * i + 1]! - ns[2 * i]!) / 1e6,
        }));
      } finally {
        querySet.destroy();
        resolved.destroy();
        readback.destroy();
      }
    });
  }

  /** Bytes of activation memory held by the plans built so far. */
  async activationBytes(): Promise<number> {
    let total = 0;
    for (const p of this.plans.values()) total += (await p).plan.activationBytes;
    return total;
  }

  destroy(): void {
    this.destroyed = true;
    this.gen.destroy();
    this.dummy.destroy();
    for (const p of this.plans.values())
      p.then(
        (b) => {
          b.plan.destroy();
          b.staging?.destroy();
        },
        () => {},
      );
    this.plans.clear();
  }

  // ---------------------------------------------------------------- inputs

  private contentInput(x: ImageRGBA[] | Tensor): { spec: BatchSpec; data: ArrayBufferView } {
    const spec = batchSpec(x, "content");
    const f = 2 ** this.hyper.n_downs_content;
    if (spec.h % f !== 0 || spec.w % f !== 0) {
      throw new InputError(
        `content images are ${spec.w}x${spec.h}; this model needs width and height divisible by ${f} (2^n_downs_content)`,
      );
    }
    return { spec, data: batchData(x) };
  }

  private classInput(x: ImageRGBA[] | Tensor): { spec: BatchSpec; data: ArrayBufferView } {
    const spec = batchSpec(x, "class images");
    return { spec, data: batchData(x) };
  }

  private styleInput(style: Style): {
    spec?: BatchSpec;
    data?: ArrayBufferView;
    code?: Float32Array;
  } {
    if (style instanceof Float32Array) {
      if (style.length !== this.hyper.latent_dim)
        throw new InputError(
          `class code has ${style.length} values; this model's latent_dim is ${this.hyper.latent_dim}`,
        );
      if (!style.every(Number.isFinite))
        throw new InputError("class code holds a non-finite value");
      return { code: style };
    }
    return this.classInput(style);
  }

  // ---------------------------------------------------------------- planning and running

  /** One translation, output as RGBA8 (one u32 per pixel, returned as its f32 view) or f32. */
  private async translateOnce(
    contents: ImageRGBA[] | Tensor,
    style: Style,
    outputFormat: Format,
  ): Promise<{ content: BatchSpec; output: Float32Array }> {
    const content = this.contentInput(contents);
    const { spec: classSpec, data: classData, code } = this.styleInput(style);
    const out = await this.run(
      { content: content.spec, classImages: classSpec, outputFormat, readback: ["output"] },
      { content: content.data, classImages: classData, classCode: code },
    );
    return { content: content.spec, output: out.output!.data };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.destroyed) return Promise.reject(new Error(`${this.label}: engine was destroyed`));
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private buildGraph(spec: PlanSpec) {
    const g = new Graph({
      conv: this.convKernel,
      normThreads: this.normThreads,
      convTiles: { limits: this.device.limits, force: this.convTile },
    });
    // The f16 path converts at its edges: images and tensors come in as f32, the class code,
    // AdaIN parameters and everything read back or unpacked leave as f32.
    const f16 = this.precision === "f16";
    const gen = this.gen;
    const input = (b: BatchSpec, label: string) => {
      const raw =
        b.format === "f32"
          ? g.tensor(`${label}:input`, [b.n, 3, b.h, b.w])
          : g.tensor(`${label}:rgba`, [b.n, b.h, b.w]);
      const tensor = b.format === "f32" ? raw : packImages(g, raw, label);
      return { raw, tensor: f16 ? castTensor(g, tensor, "f16", label) : tensor };
    };
    const tensors: Partial<Record<PlanSpec["readback"][number], TensorDesc>> = {};
    let classImages: TensorDesc | undefined;
    let classCode: TensorDesc;
    if (spec.classImages) {
      const ci = input(spec.classImages, "class");
      classImages = ci.raw;
      classCode = classEncoder(g, gen, ci.tensor);
    } else {
      classCode = g.tensor("class_code:input", [1, this.hyper.latent_dim]);
    }
    tensors.class_code = classCode;
    let content: TensorDesc | undefined;
    if (spec.content) {
      // A generator without residual blocks has no AdaIN layer: the MLP's output is empty.
      const adain =
        adainParamCount(this.hyper) > 0
          ? mlp(g, gen, classCode)
          : g.tensor("adain_params:empty", [1, 0]);
      const ci = input(spec.content, "content");
      content = ci.raw;
      const code = contentEncoder(g, gen, ci.tensor);
      const decoded = decoder(g, gen, code, adain);
      const out = f16 ? castTensor(g, decoded, "f32", "output") : decoded;
      if (spec.outputFormat === "texture") imagesToTexture(g, out, OUTPUT_TEXTURE, "output");
      const codeOut =
        f16 && spec.readback.includes("content_code")
          ? castTensor(g, code, "f32", "content_code")
          : code;
      Object.assign(tensors, {
        adain_params: adain,
        content_code: codeOut,
        output: spec.outputFormat === "rgba8" ? unpackImages(g, out, "output") : out,
      });
    }
    return { graph: g, tensors, inputs: { content, classImages, classCode } };
  }

  private planFor(spec: PlanSpec): Promise<PlanBundle> {
    const key = JSON.stringify(spec);
    let p = this.plans.get(key);
    if (p) {
      this.plans.delete(key); // most recently used last
      this.plans.set(key, p);
      return p;
    }
    // Keep the buffers of a few recent shapes only: a page that translates batches of every size
    // must not hold one plan's activations per size forever. Calls are serialised, so an evicted
    // plan is not in use.
    while (this.plans.size >= MAX_PLANS) {
      const [oldKey, old] = this.plans.entries().next().value as [string, Promise<PlanBundle>];
      this.plans.delete(oldKey);
      old.then(
        (b) => {
          b.plan.destroy();
          b.staging?.destroy();
        },
        () => {},
      );
    }
    p = (async () => {
      const { graph, tensors, inputs } = this.buildGraph(spec);
      const inputIds = new Set(
        [inputs.content, inputs.classImages, spec.classImages ? undefined : inputs.classCode]
          .filter((t): t is TensorDesc => !!t)
          .map((t) => t.id),
      );
      const readbacks: PlanBundle["readbacks"] = [];
      let offset = 0;
      for (const name of spec.readback) {
        const tensor = tensors[name];
        if (!tensor) throw new Error(`plan has no tensor ${name}`);
        readbacks.push({ name, tensor, offset });
        offset += tensor.elements * 4;
      }
      const label = `${this.label}:${spec.content ? `translate ${spec.content.n}x${spec.content.h}x${spec.content.w}` : "encode"}${spec.classImages ? ` k=${spec.classImages.n}` : " code"}`;
      const plan = await compile(
        this.device,
        graph,
        { inputs: inputIds, outputs: new Set(readbacks.map((r) => r.tensor.id)) },
        label,
        this.dummy,
      );
      const staging = readbacks.length
        ? this.device.createBuffer({
            label: `${label}:readback`,
            size: Math.max(16, offset),
            usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
          })
        : undefined;
      return { plan, inputs, takesCode: !spec.classImages, readbacks, staging };
    })();
    p.catch(() => this.plans.delete(key));
    this.plans.set(key, p);
    return p;
  }

  /** Uploads a call's inputs into its plan's buffers (the class code only where the plan takes one). */
  private writeInputs({ plan, inputs, takesCode }: PlanBundle, data: InputData): void {
    const write = (t: TensorDesc | undefined, d: ArrayBufferView | undefined) => {
      if (!t || !d) return;
      // A view of shared memory (a WASM heap, say) is copied: writeBuffer may refuse shared buffers.
      const src =
        typeof SharedArrayBuffer !== "undefined" && d.buffer instanceof SharedArrayBuffer
          ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice()
          : d;
      this.device.queue.writeBuffer(
        plan.bufferOf.get(t.id)!,
        0,
        src.buffer,
        src.byteOffset,
        src.byteLength,
      );
    };
    write(inputs.content, data.content);
    write(inputs.classImages, data.classImages);
    if (takesCode) write(inputs.classCode, data.classCode);
  }

  // ---------------------------------------------------------------- texture output

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
    const content = this.contentInput(contents);
    const { spec: classSpec, data: classData, code } = this.styleInput(style);
    const { n, h, w } = content.spec;
    const layer = target.layer ?? 0;
    if (!Number.isSafeInteger(layer) || layer < 0)
      throw new InputError(`layer must be a whole number ≥ 0, got ${layer}`);
    if (target.texture) checkTargetTexture(target.texture, n, h, w, layer);
    else checkTextureLimits(this.device, n, h, w, layer);
    const bundle = await this.planFor({
      content: content.spec,
      classImages: classSpec,
      outputFormat: "texture",
      readback: [],
    });
    const texture =
      target.texture ??
      this.device.createTexture({
        label: `${this.label}:translation ${n}x${h}x${w}`,
        format: "rgba8unorm",
        size: [w, h, n],
        usage:
          GPUTextureUsage.STORAGE_BINDING |
          GPUTextureUsage.TEXTURE_BINDING |
          GPUTextureUsage.COPY_SRC,
      });
    await this.bindOutput(bundle.plan, texture, layer, n, !target.texture);
    const upload = this.encodeInputs(encoder, bundle, {
      content: content.data,
      classImages: classData,
      classCode: code,
    });
    encodePlan(encoder, bundle.plan, bundle.plan.uniforms.label);
    return { texture, upload };
  }

  /** Storage views already checked against this device, per texture and layer range. */
  private readonly outputViews = new WeakMap<GPUTexture, Map<string, GPUTextureView>>();

  /**
   * Binds layers [layer, layer + n) of the texture as the plan's output. The first time a texture
   * is seen, binding runs in a validation error scope: a texture of another device (the one thing
   * its attributes cannot show) is refused with an InputError instead of failing at submit.
   */
  private async bindOutput(
    plan: Plan,
    texture: GPUTexture,
    layer: number,
    n: number,
    ownTexture: boolean,
  ): Promise<void> {
    const key = `${layer}+${n}`;
    let views = this.outputViews.get(texture);
    const known = views?.get(key);
    if (known) return plan.bindTextures({ [OUTPUT_TEXTURE.slot]: known });
    const view = texture.createView({
      label: `${this.label}:output layers ${layer}..${layer + n - 1}`,
      dimension: "2d-array",
      baseArrayLayer: layer,
      arrayLayerCount: n,
      baseMipLevel: 0,
      mipLevelCount: 1,
    });
    if (ownTexture) return plan.bindTextures({ [OUTPUT_TEXTURE.slot]: view }); // made here, on this device; used once
    this.device.pushErrorScope("validation");
    let thrown: unknown;
    try {
      plan.bindTextures({ [OUTPUT_TEXTURE.slot]: view });
    } catch (e) {
      thrown = e; // an implementation may throw instead of reporting; the scope must still be popped
    }
    const error = await this.device.popErrorScope();
    if (thrown || error) {
      throw new InputError(
        `the output texture cannot be bound on this engine's device (is it from another GPUDevice?): ${error?.message ?? (thrown as Error).message}`,
      );
    }
    if (!views) {
      views = new Map();
      this.outputViews.set(texture, views);
    }
    views.set(key, view);
  }

  /**
   * Records the call's inputs as copies from one upload buffer into the plan's input buffers, so
   * they take effect in encoder order (a queue.writeBuffer would land before every encoder that is
   * not yet submitted). Returns the upload buffer, for the caller to destroy after submitting.
   */
  private encodeInputs(
    encoder: GPUCommandEncoder,
    { plan, inputs, takesCode }: PlanBundle,
    data: InputData,
  ): GPUBuffer {
    const parts = (
      [
        [inputs.content, data.content],
        [inputs.classImages, data.classImages],
        [takesCode ? inputs.classCode : undefined, data.classCode],
      ] as const
    ).filter((p): p is readonly [TensorDesc, ArrayBufferView] => !!p[0] && !!p[1]);
    const size = parts.reduce((a, [, d]) => a + align4(d.byteLength), 0);
    const upload = this.device.createBuffer({
      label: `${plan.uniforms.label}:upload`,
      size: Math.max(4, size),
      usage: GPUBufferUsage.COPY_SRC,
      mappedAtCreation: true,
    });
    const bytes = new Uint8Array(upload.getMappedRange());
    let offset = 0;
    for (const [t, d] of parts) {
      bytes.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), offset);
      encoder.copyBufferToBuffer(upload, offset, plan.bufferOf.get(t.id)!, 0, d.byteLength);
      offset += align4(d.byteLength);
    }
    upload.unmap();
    return upload;
  }

  /** Runs a plan once; returns each read-back tensor (shape from the plan). */
  private async run(spec: PlanSpec, data: InputData): Promise<Record<string, Tensor>> {
    const bundle = await this.planFor(spec);
    const { plan, readbacks } = bundle;
    const staging = bundle.staging!;
    this.writeInputs(bundle, data);
    const encoder = this.device.createCommandEncoder({ label: `${plan.uniforms.label}:encoder` });
    encodePlan(encoder, plan, plan.uniforms.label);
    for (const r of readbacks) {
      if (r.tensor.elements > 0)
        encoder.copyBufferToBuffer(
          plan.bufferOf.get(r.tensor.id)!,
          0,
          staging,
          r.offset,
          r.tensor.elements * 4,
        );
    }
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const out: Record<string, Tensor> = {};
    try {
      const bytes = staging.getMappedRange();
      for (const r of readbacks)
        out[r.name] = {
          shape: [...r.tensor.shape],
          data: new Float32Array(bytes.slice(r.offset, r.offset + r.tensor.elements * 4)),
        };
    } finally {
      staging.unmap();
    }
    return out;
  }
}

function align4(bytes: number): number {
  return Math.ceil(bytes / 4) * 4;
}

/** Every property of a caller's output texture that its attributes show; InputErrors name the problem. */
function checkTargetTexture(t: GPUTexture, n: number, h: number, w: number, layer: number): void {
  if (typeof t !== "object" || t === null || typeof (t as GPUTexture).createView !== "function")
    throw new InputError("texture: not a GPUTexture");
  if (t.format !== "rgba8unorm")
    throw new InputError(`texture: format is ${t.format}; it must be rgba8unorm`);
  if (t.dimension !== "2d")
    throw new InputError(
      `texture: dimension is ${t.dimension}; it must be 2d (an array of 2D layers)`,
    );
  if (t.width !== w || t.height !== h)
    throw new InputError(`texture: it is ${t.width}x${t.height}; the content images are ${w}x${h}`);
  if (!(t.usage & GPUTextureUsage.STORAGE_BINDING))
    throw new InputError(
      "texture: its usage lacks GPUTextureUsage.STORAGE_BINDING, which writing it from a compute shader needs",
    );
  if (layer + n > t.depthOrArrayLayers) {
    throw new InputError(
      `texture: it has ${t.depthOrArrayLayers} array layer(s); writing ${n} image(s) from layer ${layer} needs ${layer + n}`,
    );
  }
}

/** The device limits a texture created for the output must fit. */
function checkTextureLimits(
  device: GPUDevice,
  n: number,
  h: number,
  w: number,
  layer: number,
): void {
  if (layer !== 0)
    throw new InputError(
      "layer: only meaningful with a caller's texture (a new texture holds exactly the images)",
    );
  const { maxTextureArrayLayers, maxTextureDimension2D } = device.limits;
  if (n > maxTextureArrayLayers)
    throw new InputError(
      `${n} content images need ${n} texture layers; this device allows ${maxTextureArrayLayers}: use smaller batches`,
    );
  if (w > maxTextureDimension2D || h > maxTextureDimension2D)
    throw new InputError(
      `a ${w}x${h} texture exceeds this device's maxTextureDimension2D (${maxTextureDimension2D})`,
    );
}

function batchSpec(x: ImageRGBA[] | Tensor, what: string): BatchSpec {
  if (isTensor(x)) {
    const { n, h, w } = imageBatchDims(x, what);
    return { n, h, w, format: "f32" };
  }
  if (!Array.isArray(x) || x.length === 0)
    throw new InputError(`${what}: at least one image is needed (got none)`);
  const { width, height } = x[0]!;
  x.forEach((img, i) => {
    if (img.width !== width || img.height !== height)
      throw new InputError(
        `${what}: image ${i} is ${img.width}x${img.height}, image 0 is ${width}x${height}; all must be the same size`,
      );
    if (img.data.length !== width * height * 4)
      throw new InputError(
        `${what}: image ${i} has ${img.data.length} bytes; ${width}x${height} RGBA needs ${width * height * 4}`,
      );
  });
  if (!width || !height) throw new InputError(`${what}: images are empty`);
  return { n: x.length, h: height, w: width, format: "rgba8" };
}

function batchData(x: ImageRGBA[] | Tensor): ArrayBufferView {
  if (isTensor(x)) {
    if (!x.data.every(Number.isFinite))
      throw new InputError("input tensor holds a non-finite value");
    return x.data;
  }
  const plane = x[0]!.width * x[0]!.height * 4;
  const out = new Uint8Array(plane * x.length);
  x.forEach((img, i) => out.set(img.data, i * plane));
  return out;
}
