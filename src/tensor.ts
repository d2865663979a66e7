/**
 * The two data shapes that cross the public API: float tensors (NCHW, row-major Float32Array, the
 * layout PyTorch uses) and RGBA8 images (row-major, 4 bytes a pixel, as ImageData and canvas use).
 * Conversion between them follows FUNIT: x = pixel / 127.5 - 1 and pixel = (y + 1) * 127.5.
 */
import { InputError } from "./errors";
import { tensorToFloat32, type SafetensorsFile } from "./safetensors";

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export interface ImageRGBA {
  width: number;
  height: number;
  /** width × height × 4 bytes, row-major RGBA. */
  data: Uint8Array | Uint8ClampedArray;
}

/** Every floating-point tensor of a parsed safetensors file, widened to f32. */
export function floatTensors(file: SafetensorsFile): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, raw] of file.tensors)
    out.set(name, { shape: raw.shape, data: tensorToFloat32(name, raw) });
  return out;
}

/**
 * Largest of err(a[i], b[i]) over equal-length arrays; a NaN anywhere makes it NaN, so NaN never
 * passes a tolerance.
 */
function worst(a: Float32Array, b: Float32Array, err: (x: number, y: number) => number): number {
  if (a.length !== b.length)
    throw new InputError(`cannot compare ${a.length} values with ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = err(a[i]!, b[i]!);
    if (Number.isNaN(d)) return NaN;
    if (d > max) max = d;
  }
  return max;
}

/** max |a − b|. */
export function maxAbsError(a: Float32Array, b: Float32Array): number {
  return worst(a, b, (x, y) => Math.abs(x - y));
}

/** max |a − b| / (1 + |b|): absolute near zero, relative for large reference values b. */
export function maxRelError(a: Float32Array, b: Float32Array): number {
  return worst(a, b, (x, y) => Math.abs(x - y) / (1 + Math.abs(y)));
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function isTensor(x: unknown): x is Tensor {
  return (
    typeof x === "object" &&
    x !== null &&
    "shape" in x &&
    (x as Tensor).data instanceof Float32Array
  );
}

/** Checks a [N,3,H,W] tensor and returns its dims. */
export function imageBatchDims(t: Tensor, what: string): { n: number; h: number; w: number } {
  const [n, c, h, w] = t.shape;
  if (t.shape.length !== 4 || c !== 3 || !n || !h || !w) {
    throw new InputError(`${what}: expected a [N,3,H,W] tensor with N, H, W ≥ 1, got [${t.shape}]`);
  }
  if (t.data.length !== elementCount(t.shape)) {
    throw new InputError(
      `${what}: shape [${t.shape}] needs ${elementCount(t.shape)} floats, ` +
        `data has ${t.data.length}`,
    );
  }
  return { n, h, w };
}

/**
 * Checks that images are all the same size, with 4 bytes a pixel; returns that size. InputErrors
 * name the image and what is wrong.
 */
export function checkImageBatch(
  images: readonly ImageRGBA[],
  what: string,
): { width: number; height: number } {
  if (!Array.isArray(images) || images.length === 0)
    throw new InputError(`${what}: at least one image is needed (got none)`);
  const { width, height } = images[0]!;
  images.forEach((img, i) => {
    if (img.width !== width || img.height !== height)
      throw new InputError(
        `${what}: image ${i} is ${img.width}x${img.height}, image 0 is ${width}x${height}; ` +
          "all must be the same size",
      );
    if (img.data.length !== width * height * 4)
      throw new InputError(
        `${what}: image ${i} has ${img.data.length} bytes; ` +
          `${width}x${height} RGBA needs ${width * height * 4}`,
      );
  });
  if (!width || !height) throw new InputError(`${what}: images are empty`);
  return { width, height };
}

/** Packs RGBA8 images (all the same size) into a [N,3,H,W] tensor in [-1, 1]; alpha is ignored. */
export function imagesToTensor(images: ImageRGBA[], what: string): Tensor {
  const { width, height } = checkImageBatch(images, what);
  const plane = width * height;
  const data = new Float32Array(images.length * 3 * plane);
  images.forEach((img, n) => {
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) data[(n * 3 + c) * plane + p] = img.data[p * 4 + c]! / 127.5 - 1;
    }
  });
  return { shape: [images.length, 3, height, width], data };
}

/**
 * Cuts n RGBA8 images of w×h out of a batch's packed bytes (a plan's RGBA8 output, one u32 a
 * pixel), each with its own copy, so the source (a mapped range, say) may go right after.
 */
export function rgbaImages(bytes: ArrayBufferView, n: number, h: number, w: number): ImageRGBA[] {
  const rgba = new Uint8ClampedArray(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const plane = h * w * 4;
  return Array.from({ length: n }, (_, i) => ({
    width: w,
    height: h,
    data: rgba.slice(i * plane, (i + 1) * plane),
  }));
}

/** Unpacks a [N,3,H,W] tensor in [-1, 1] into opaque RGBA8 images (rounded, clamped). */
export function tensorToImages(t: Tensor): ImageRGBA[] {
  const { n, h, w } = imageBatchDims(t, "tensorToImages");
  const plane = h * w;
  const out: ImageRGBA[] = [];
  for (let i = 0; i < n; i++) {
    const data = new Uint8ClampedArray(plane * 4);
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++)
        data[p * 4 + c] = Math.round((t.data[(i * 3 + c) * plane + p]! + 1) * 127.5);
      data[p * 4 + 3] = 255;
    }
    out.push({ width: w, height: h, data });
  }
  return out;
}
