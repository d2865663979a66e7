/**
 * The steps every GPU command of the CLI shares: reading and checking a weights file on the CPU (so
 * a missing or malformed file fails before any device start-up), checking a translate call's images
 * against every limit before any is decoded (sizes from their headers; the device's limits from its
 * adapter, without opening a device), decoding them one at a time, and opening the engine on a Node
 * WebGPU device with one close() that releases both.
 */
import { Funit } from "../engine";
import type { FunitHyper } from "../hyper";
import {
  checkCallFits,
  checkLimit,
  checkResizeSide,
  checkWeightsFit,
  type CallShape,
  type FunitDeviceLimits,
} from "../limits";
import { type ImageRGBA } from "../tensor";
import { readGeneratorWeights, type GeneratorWeights } from "../weights";
import { getNodeDevice, getNodeGPU } from "./gpu";
import {
  checkedImageHeader,
  decodeImage,
  flattenOnWhite,
  readImageFile,
  readImageFileHeader,
  readInputFile,
  resizeBilinear,
  type ImageHeader,
} from "./images";
import { readStdin, STDIN_NAME } from "./stdio";
import { DeviceError, InputError } from "../errors";

export interface LoadedWeights {
  path: string;
  hyper: FunitHyper;
  /** The checked tensors, handed to the engine as they are (the file is parsed once). */
  weights: GeneratorWeights;
}

/**
 * Reads and checks a weights file on the CPU: a missing, malformed or non-FUNIT file fails here,
 * before any GPU work.
 */
export async function loadWeights(path: string): Promise<LoadedWeights> {
  const bytes = await readInputFile(path, "weights file", "maxWeightsFileBytes");
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

/**
 * Throws unless height and width are multiples of 2^n_downs_content (the content encoder halves
 * them that often).
 */
export function checkContentSize(
  img: { width: number; height: number },
  hyper: FunitHyper,
  what: string,
): void {
  const m = 2 ** hyper.n_downs_content;
  if (img.width % m !== 0 || img.height % m !== 0) {
    throw new InputError(
      `${what} is ${img.width}x${img.height}: this model needs height and width to be multiples ` +
        `of ${m} (2^n_downs_content, n_downs_content = ${hyper.n_downs_content}); ` +
        `pass --size S (a multiple of ${m}) to resize`,
    );
  }
}

/**
 * The limits an engine device opened here will have, read from the adapter without opening a
 * device: requestFunitDevice asks for the adapter's storage-buffer limits and leaves the others at
 * WebGPU's defaults (the spec's guaranteed minimums), so those are the numbers a call must fit.
 */
export async function nodeDeviceLimits(): Promise<FunitDeviceLimits> {
  const adapter = await getNodeGPU().requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new DeviceError("no WebGPU adapter was found");
  return {
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
    maxComputeWorkgroupsPerDimension: 65535,
    maxTextureArrayLayers: 256,
    maxTextureDimension2D: 8192,
  };
}

/** Every image of one kind has the header size of the first, unless they are all resized. */
function checkSameSize(headers: ImageHeader[], paths: string[], what: string): void {
  const first = headers[0]!;
  headers.forEach((h, i) => {
    if (h.width !== first.width || h.height !== first.height) {
      throw new InputError(
        `${what} images must all be the same size: ${paths[0]} is ${first.width}x${first.height}, ` +
          `${paths[i]} is ${h.width}x${h.height} (pass --size S to resize)`,
      );
    }
  });
}

/** The path `-` is an image on stdin. */
const STDIN_PATH = "-";

async function readHeaders(paths: string[]): Promise<ImageHeader[]> {
  const headers: ImageHeader[] = [];
  for (const p of paths) {
    // one file open at a time
    headers.push(
      p === STDIN_PATH
        ? checkedImageHeader(await readStdin(), STDIN_NAME)
        : await readImageFileHeader(p),
    );
  }
  return headers;
}

/**
 * Checks a translate call against every limit before any image is decoded: `--size` (bound and
 * multiple of 2^n_downs_content), each file's size and pixel count from its header, equal sizes,
 * the pixels of the whole call, and then (asking `deviceLimits` only when all that passed) the
 * model's largest weight and the call's largest activation against the device. Returns the shape.
 */
export async function checkTranslateCall(
  hyper: FunitHyper,
  contentPaths: string[],
  classPaths: string[],
  size: number | undefined,
  deviceLimits: () => Promise<FunitDeviceLimits>,
): Promise<CallShape> {
  if (size !== undefined) checkResizeSide(size, hyper);
  const contentHeaders = await readHeaders(contentPaths);
  const classHeaders = await readHeaders(classPaths);
  if (size === undefined) {
    checkSameSize(contentHeaders, contentPaths, "content");
    checkSameSize(classHeaders, classPaths, "class");
    checkContentSize(contentHeaders[0]!, hyper, `content image ${contentPaths[0]}`);
  }
  const content = size === undefined ? contentHeaders[0]! : { width: size, height: size };
  const cls = size === undefined ? classHeaders[0]! : { width: size, height: size };
  const shape: CallShape = {
    n: contentPaths.length,
    contentWidth: content.width,
    contentHeight: content.height,
    k: classPaths.length,
    classWidth: cls.width,
    classHeight: cls.height,
  };
  checkLimit(
    "maxBatchPixels",
    shape.n * content.width * content.height + shape.k * cls.width * cls.height,
    `the pixels of ${shape.n} content and ${shape.k} class images`,
  );
  const limits = await deviceLimits();
  checkWeightsFit(hyper, limits);
  checkCallFits(hyper, limits, shape);
  return shape;
}

/**
 * Decodes, flattens and (with `size`) resizes images one at a time, so one full-size decode is
 * alive at once. The path `-` is the image on stdin.
 */
export async function loadInputImages(
  paths: string[],
  size: number | undefined,
): Promise<ImageRGBA[]> {
  const images: ImageRGBA[] = [];
  for (const p of paths) {
    const image =
      p === STDIN_PATH ? decodeImage(await readStdin(), STDIN_NAME) : await readImageFile(p);
    const rgb = flattenOnWhite(image);
    images.push(size === undefined ? rgb : resizeBilinear(rgb, size, size));
  }
  return images;
}
