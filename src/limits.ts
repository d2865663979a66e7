/**
 * Every limit on input size, in one place: the fixed ones (pixels per image, `--size`, the bytes
 * and values a checkpoint or safetensors header may hold) and the ones that follow from a device's
 * GPUSupportedLimits (how many images of a size one call can take, whether a model's largest layer
 * fits a storage binding). The device-derived checks are pure functions of the hyperparameters, the
 * limits and the image sizes, so the CLI runs them before decoding anything or opening a device,
 * and the engine can run the same ones on its own device. A refusal is an InputError naming the
 * limit it hit (`limit maxImagePixels = 4194304`), so the message says which number to change or
 * respect.
 */
import { InputError } from "./errors";
import { contentChannels, expectedTensors, type FunitHyper } from "./hyper";
import { winogradTiles } from "./ops/winograd";

const MiB = 1024 * 1024;

/** The fixed limits. Each is far above what FUNIT needs and low enough to keep memory bounded. */
export const LIMITS = {
  /**
   * Pixels of one decoded input image (2048², 4 MP; FUNIT runs at 64 to 256 pixels a side).
   * Decoding costs about 28 bytes a pixel with pngjs and 47 with jpeg-js (measured at 4096²: 530
   * and 845 MB peak RSS), so a tiny file whose header claims the limit still decodes within 300 MB.
   */
  maxImagePixels: 2048 * 2048,
  /** Bytes of one input image file. */
  maxImageFileBytes: 64 * MiB,
  /**
   * `--size S`: the side an input is resized to (S² ≤ maxImagePixels). The device is often tighter.
   */
  maxSize: 2048,
  /** Pixels of all the images of one CLI call after resizing (content and class summed). */
  maxBatchPixels: 4096 * 4096,
  /**
   * Bytes of a weights (or verify's expected) safetensors file, read whole: the NVlabs animals
   * generator is 120 MB in f32, the shipped hangul64 model 11 MB in f16.
   */
  maxWeightsFileBytes: 256 * MiB,
  /** Bytes of a checkpoint's pickle (state-dict pickles are KiB; the tensors are not in them). */
  maxPickleBytes: 8 * MiB,
  /**
   * Values one pickle may push (GET and DUP included). The fixture checkpoints need 2,417
   * (hangul64) to 3,875 (tiny-b, legacy format); 100,000 leaves 25× room and bounds the unpickled
   * objects to a few tens of MB (an empty dict costs about 200 bytes).
   */
  maxPickleObjects: 100_000,
  /** Bytes of a safetensors JSON header (the models here have a few KiB). */
  maxSafetensorsHeaderBytes: 8 * MiB,
  /** Bytes of a zip checkpoint's central directory (one record per storage: KiB). */
  maxZipCentralDirectoryBytes: 8 * MiB,
  /**
   * A strided tensor view may span at most this many times its element count (plus 1024 elements)
   * of its storage: parameters are contiguous or transposed (span = count); a view that touches one
   * element in a million would make the converter read gigabytes for nothing.
   */
  maxViewSpanRatio: 4,
  /** Bytes the converter reads from a checkpoint at once (strided views are gathered in pieces). */
  readChunkBytes: 16 * MiB,
} as const;

export type LimitName = keyof typeof LIMITS;

/** "… (limit maxImagePixels = 16777216)": the tail every refusal of a fixed limit ends with. */
export function limitText(name: LimitName | keyof GPUSupportedLimits, value: number): string {
  return `limit ${name} = ${value}`;
}

/** Throws an InputError `${what} is ${value}, more than ${limit}` unless value ≤ LIMITS[name]. */
export function checkLimit(name: LimitName, value: number, what: string): void {
  if (!(value <= LIMITS[name]))
    throw new InputError(`${what} is ${value}, too large (${limitText(name, LIMITS[name])})`);
}

/** Checks width × height of one image against maxImagePixels; says "too large" when refused. */
export function checkImagePixels(width: number, height: number, what: string): void {
  const pixels = width * height;
  if (!(pixels <= LIMITS.maxImagePixels))
    throw new InputError(
      `${what} is ${width}x${height} = ${pixels} pixels: too large ` +
        `(${limitText("maxImagePixels", LIMITS.maxImagePixels)})`,
    );
}

/**
 * Checks `--size S`: within maxSize, and a multiple of 2^n_downs_content so the model can take it.
 */
export function checkResizeSide(size: number, hyper: FunitHyper): void {
  checkLimit("maxSize", size, "--size");
  const m = 2 ** hyper.n_downs_content;
  if (size % m !== 0)
    throw new InputError(
      `--size ${size} is not a multiple of ${m}: this model halves the content image ` +
        `n_downs_content = ${hyper.n_downs_content} times (try --size ${Math.max(m, size - (size % m))})`,
    );
}

/**
 * The device limits the checks below read (a GPUDevice's or GPUAdapter's `limits` has them all).
 */
export type FunitDeviceLimits = Pick<
  GPUSupportedLimits,
  | "maxStorageBufferBindingSize"
  | "maxBufferSize"
  | "maxComputeWorkgroupsPerDimension"
  | "maxTextureArrayLayers"
  | "maxTextureDimension2D"
>;

/** One call's inputs: N content images of one size, K class images of one size. */
export interface CallShape {
  n: number;
  contentWidth: number;
  contentHeight: number;
  k: number;
  classWidth: number;
  classHeight: number;
  /** The output goes to a texture array (one layer per content image) instead of a readback. */
  textureOutput?: boolean;
  /**
   * The engine runs Winograd convolutions (KernelChoice.winogradWeights, the subgroup path), whose
   * intermediates can outgrow the largest activation (winogradIntermediateBytes). Without it the
   * plan's compile still refuses them (an InputError naming maxStorageBufferBindingSize).
   */
  winograd?: boolean;
}

/**
 * Bytes of the largest activation one call binds, in f32 (the f16 path needs half as much, so this
 * is an upper bound there): the first convolution of each encoder and the decoder's last upsampling
 * write [images, max(nf, 3), H, W]; every other layer trades channels for pixels and is smaller.
 */
export function largestActivationBytes(hyper: FunitHyper, shape: CallShape): number {
  const channels = Math.max(hyper.nf, 3);
  return (
    4 *
    channels *
    Math.max(
      shape.n * shape.contentWidth * shape.contentHeight,
      shape.k * shape.classWidth * shape.classHeight,
    )
  );
}

/**
 * Bytes of the largest Winograd intermediate a call binds (src/ops/winograd.ts, the subgroup path),
 * in f32: V [36][cin][tiles] and M [36][cout][tiles], tiles as winogradTiles counts them, of the
 * residual blocks' 3×3 convolutions (tiles of the content code's map, cin = cout = its channels)
 * and of the decoder's upsampling 5×5 convolutions (tiles of each stored input, channels halving
 * per layer, M of the four phase filters: 4·cout), and of the content encoder's stride-2 4×4
 * convolutions of even inputs (V [25][4·cin][tiles] of the input's phases, F(4×4, 2×2), tiles of
 * the output). The last upsampling layer's M is about 2.25× the first layer's activation, the
 * first stride-2 layer's V about 1.6×.
 */
export function winogradIntermediateBytes(hyper: FunitHyper, shape: CallShape): number {
  let h = shape.contentHeight,
    w = shape.contentWidth;
  const floats = (cin: number, cout: number, th: number, tw: number, positions = 36) =>
    positions * Math.max(cin, cout) * winogradTiles(shape.n, th, tw).tilesPad;
  let largest = 0;
  for (let i = 0, c = hyper.nf; i < hyper.n_downs_content; i++, c *= 2) {
    if (h % 2 === 0 && w % 2 === 0)
      largest = Math.max(largest, floats(4 * c, 2 * c, h / 2, w / 2, 25));
    h = Math.floor(h / 2);
    w = Math.floor(w / 2);
  }
  let c = contentChannels(hyper);
  largest = Math.max(largest, floats(c, c, h, w));
  for (let u = 0; u < hyper.n_downs_content; u++, c /= 2, h *= 2, w *= 2)
    largest = Math.max(largest, floats(c, 4 * (c / 2), h, w));
  return 4 * largest;
}

/** The largest weight tensor of the model in f32 bytes, and its name (phase filters excluded). */
export function largestWeight(hyper: FunitHyper): { name: string; bytes: number } {
  let largest = { name: "", bytes: 0 };
  for (const [name, dims] of expectedTensors(hyper)) {
    const bytes = 4 * dims.reduce((a, b) => a * b, 1);
    if (bytes > largest.bytes) largest = { name, bytes };
  }
  return largest;
}

/**
 * Refuses (InputError) a model whose largest weight tensor cannot be bound on a device with these
 * limits. Counted in f32: the f16 path stores convolution weights in half the bytes, and CPU
 * adapters add phase filters to the 5×5 layers, so the engine checks the exact bytes again at
 * upload.
 */
export function checkWeightsFit(hyper: FunitHyper, limits: FunitDeviceLimits): void {
  const { name, bytes } = largestWeight(hyper);
  if (bytes > limits.maxStorageBufferBindingSize)
    throw new InputError(
      `weight ${name} needs ${bytes} bytes, more than this device can bind ` +
        `(${limitText("maxStorageBufferBindingSize", limits.maxStorageBufferBindingSize)})`,
    );
}

/**
 * Refuses (InputError) a call the device cannot run, before anything is decoded or uploaded: the
 * largest activation (or Winograd intermediate) against maxStorageBufferBindingSize and maxBufferSize, the per-image
 * normalisation dispatch (one workgroup per image and channel) against
 * maxComputeWorkgroupsPerDimension, and for a texture output the layers and side against
 * maxTextureArrayLayers and maxTextureDimension2D. The message says how many images would fit.
 */
export function checkCallFits(
  hyper: FunitHyper,
  limits: FunitDeviceLimits,
  shape: CallShape,
): void {
  const images = Math.max(shape.n, shape.k);
  const activation = Math.max(
    largestActivationBytes(hyper, shape),
    shape.winograd ? winogradIntermediateBytes(hyper, shape) : 0,
  );
  const binding = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const bindingName =
    limits.maxStorageBufferBindingSize <= limits.maxBufferSize
      ? "maxStorageBufferBindingSize"
      : "maxBufferSize";
  if (activation > binding) {
    const perImage = activation / images;
    const fit = Math.floor(binding / perImage);
    throw new InputError(
      `${shape.n} content and ${shape.k} class images of ` +
        `${shape.contentWidth}x${shape.contentHeight} and ${shape.classWidth}x${shape.classHeight} ` +
        `need a ${activation}-byte activation buffer, more than this device can bind ` +
        `(${limitText(bindingName, binding)}); ` +
        (fit > 0
          ? `at most ${fit} images of these sizes fit: use smaller batches`
          : `even one image of this size is too large: use a smaller --size`),
    );
  }
  const planes = shape.n * contentChannels(hyper);
  if (planes > limits.maxComputeWorkgroupsPerDimension)
    throw new InputError(
      `${shape.n} content images × ${contentChannels(hyper)} channels = ${planes} normalisation ` +
        `workgroups, more than this device dispatches ` +
        `(${limitText("maxComputeWorkgroupsPerDimension", limits.maxComputeWorkgroupsPerDimension)}); ` +
        `at most ${Math.floor(limits.maxComputeWorkgroupsPerDimension / contentChannels(hyper))} ` +
        `content images a call`,
    );
  if (shape.textureOutput) {
    if (shape.n > limits.maxTextureArrayLayers)
      throw new InputError(
        `${shape.n} content images need ${shape.n} texture layers, more than this device allows ` +
          `(${limitText("maxTextureArrayLayers", limits.maxTextureArrayLayers)}): use smaller batches`,
      );
    const side = Math.max(shape.contentWidth, shape.contentHeight);
    if (side > limits.maxTextureDimension2D)
      throw new InputError(
        `a ${shape.contentWidth}x${shape.contentHeight} texture is larger than this device allows ` +
          `(${limitText("maxTextureDimension2D", limits.maxTextureDimension2D)})`,
      );
  }
}
