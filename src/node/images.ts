/**
 * Image files for the Node CLI: PNG (pngjs) and JPEG (jpeg-js) bytes decoded to RGBA8 images, the
 * format told apart by its magic bytes rather than by the file's extension; alpha flattened onto
 * white; a resize that reproduces PIL's BILINEAR resample bit for bit (what torchvision's Resize does
 * to the PIL images of the NVlabs test script, antialiasing included when downscaling); PNG encoding;
 * and an atomic file write (temp file in the same directory, then rename) so that a failed command
 * never leaves a partial output behind.
 */
import { randomBytes } from "node:crypto";
import { readFile, rename, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { type ImageRGBA } from "../tensor";
import { InputError } from "../errors";

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

/** Images larger than this are refused before decoding: far beyond any FUNIT input, and a guard against decompression bombs. */
const MAX_PIXELS = 64 * 1024 * 1024;

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

export type ImageFormat = "png" | "jpeg";

/** The format named by the leading bytes, or null for anything else. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (startsWith(bytes, PNG_MAGIC)) return "png";
  if (startsWith(bytes, JPEG_MAGIC)) return "jpeg";
  return null;
}

/**
 * Decodes PNG or JPEG bytes to straight-alpha RGBA8. Grey, palette and 16-bit PNGs come out as RGBA8
 * with R = G = B for grey; JPEGs come out opaque. `what` names the source in error messages.
 */
export function decodeImage(bytes: Uint8Array, what: string): ImageRGBA {
  const format = sniffImageFormat(bytes);
  if (format === null)
    throw new InputError(`${what}: not a PNG or JPEG file (unrecognised leading bytes)`);
  let image: ImageRGBA;
  try {
    if (format === "png") {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      image = {
        width: png.width,
        height: png.height,
        data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength),
      };
    } else {
      // tolerantDecoding off: a truncated JPEG must be an error, not an image with grey blocks.
      const decoded = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        tolerantDecoding: false,
        maxResolutionInMP: MAX_PIXELS / 1e6,
      });
      image = { width: decoded.width, height: decoded.height, data: decoded.data };
    }
  } catch (e) {
    throw new InputError(
      `${what}: corrupt or truncated ${format.toUpperCase()} data (${(e as Error).message})`,
    );
  }
  if (
    !(image.width > 0 && image.height > 0) ||
    image.data.length !== image.width * image.height * 4
  ) {
    throw new InputError(
      `${what}: ${format.toUpperCase()} decoded to an unusable ${image.width}x${image.height} image`,
    );
  }
  return image;
}

/** Reads a whole file; a failure is an InputError such as "cannot read image a.png: no such file". */
export async function readInputFile(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new InputError(`cannot read ${what} ${path}: ${describeFsError(e)}`);
  }
}

/** Reads and decodes an image file; every failure (missing, unreadable, corrupt) is an InputError naming the path. */
export async function readImageFile(path: string): Promise<ImageRGBA> {
  return decodeImage(await readInputFile(path, "image"), path);
}

/** Short reason for a file-system error ("no such file", "is a directory", …) without the stack. */
export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EISDIR":
      return "is a directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    default:
      return (e as Error).message;
  }
}

/**
 * Composites straight alpha onto white and returns an opaque copy. FUNIT inputs are RGB; glyph PNGs
 * often carry ink on a transparent background whose hidden colour is black, so white is the backdrop
 * that keeps them meaningful. Opaque images come back unchanged (same values as PIL's convert("RGB")).
 */
export function flattenOnWhite(img: ImageRGBA): ImageRGBA {
  const out = new Uint8Array(img.data.length);
  for (let p = 0; p < img.data.length; p += 4) {
    const a = img.data[p + 3]!;
    for (let c = 0; c < 3; c++)
      out[p + c] = Math.round((img.data[p + c]! * a + 255 * (255 - a)) / 255);
    out[p + 3] = 255;
  }
  return { width: img.width, height: img.height, data: out };
}

// --- PIL BILINEAR resample -------------------------------------------------------------------------
// PIL resizes in two separable passes (horizontal, then vertical), each with a triangle filter whose
// support grows with the downscale factor (that is the antialiasing), and 8-bit fixed-point weights
// with 22 fractional bits; the intermediate image is rounded to 8 bits. Each step below mirrors
// precompute_coeffs / normalize_coeffs_8bpc / ImagingResample{Horizontal,Vertical}_8bpc in
// Pillow's src/libImaging/Resample.c so the results agree exactly, not just closely.

const PRECISION_BITS = 32 - 8 - 2;

interface Coefficients {
  /** First input index used by each output index. */
  start: Int32Array;
  /** Number of input indices used by each output index. */
  count: Int32Array;
  /** Fixed-point weights, `taps` slots per output index. */
  weights: Int32Array;
  taps: number;
}

function bilinearCoefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 1.0 * filterScale; // the triangle filter's support is 1, widened when shrinking
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const real = new Float64Array(taps);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), inSize) - lo;
    let total = 0;
    for (let t = 0; t < n; t++) {
      const x = Math.abs((t + lo - center + 0.5) / filterScale);
      real[t] = x < 1 ? 1 - x : 0;
      total += real[t]!;
    }
    for (let t = 0; t < n; t++) {
      const w = total !== 0 ? real[t]! / total : real[t]!;
      weights[o * taps + t] = Math.trunc(
        w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS),
      );
    }
    start[o] = lo;
    count[o] = n;
  }
  return { start, count, weights, taps };
}

function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** One separable pass, along x (horizontal) or along y, over all 4 channels; rounds to 8 bits as PIL does. */
function resamplePass(src: ImageRGBA, outW: number, outH: number, horizontal: boolean): ImageRGBA {
  const co = horizontal
    ? bilinearCoefficients(src.width, outW)
    : bilinearCoefficients(src.height, outH);
  const out = new Uint8Array(outW * outH * 4);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const o = horizontal ? x : y;
      const lo = co.start[o]!,
        n = co.count[o]!,
        base = o * co.taps;
      for (let c = 0; c < 4; c++) {
        let acc = half;
        for (let t = 0; t < n; t++) {
          const sx = horizontal ? lo + t : x;
          const sy = horizontal ? y : lo + t;
          acc += src.data[(sy * src.width + sx) * 4 + c]! * co.weights[base + t]!;
        }
        out[(y * outW + x) * 4 + c] = clip8(acc);
      }
    }
  }
  return { width: outW, height: outH, data: out };
}

/**
 * Resizes to width × height like PIL's Image.resize(size, BILINEAR) on an 8-bit image: every channel
 * independently (straight alpha; flatten first for PIL's RGB behaviour). Same size returns a copy.
 */
export function resizeBilinear(img: ImageRGBA, width: number, height: number): ImageRGBA {
  if (!(Number.isSafeInteger(width) && Number.isSafeInteger(height) && width > 0 && height > 0)) {
    throw new InputError(`resize: target size ${width}x${height} is not a positive integer size`);
  }
  let cur: ImageRGBA = { width: img.width, height: img.height, data: new Uint8Array(img.data) };
  if (width !== img.width) cur = resamplePass(cur, width, cur.height, true);
  if (height !== img.height) cur = resamplePass(cur, cur.width, height, false);
  return cur;
}

// --- output ----------------------------------------------------------------------------------------

/** Encodes as PNG: 8-bit RGB when every pixel is opaque (smaller), RGBA otherwise. */
export function encodePng(img: ImageRGBA): Uint8Array {
  let opaque = true;
  for (let p = 3; p < img.data.length && opaque; p += 4) opaque = img.data[p] === 255;
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  const buffer = PNG.sync.write(png, {
    colorType: opaque ? 2 : 6,
    inputColorType: 6,
    inputHasAlpha: true,
  });
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function tempPathFor(path: string): string {
  return join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`,
  );
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

/**
 * Writes bytes to path atomically: into a temp file beside it, then renamed over it, so readers see
 * the old file or the complete new one. On failure the temp file is removed and nothing is left.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await writeFilesAtomic([{ path, bytes }]);
}

/**
 * Writes several files all-or-nothing (as far as a file system allows): every temp file is written
 * first; only when all succeeded are they renamed into place. If a rename fails, the files already
 * renamed are removed again, so an error leaves no output at all.
 */
export async function writeFilesAtomic(
  files: { path: string; bytes: Uint8Array }[],
): Promise<void> {
  const temps = files.map((f) => tempPathFor(f.path));
  const renamed: string[] = [];
  try {
    for (let i = 0; i < files.length; i++) {
      try {
        await writeFile(temps[i]!, files[i]!.bytes, { flag: "wx" });
      } catch (e) {
        const why =
          (e as NodeJS.ErrnoException).code === "ENOENT"
            ? `directory ${dirname(files[i]!.path)} does not exist`
            : describeFsError(e);
        throw new InputError(`cannot write ${files[i]!.path}: ${why}`);
      }
    }
    for (let i = 0; i < files.length; i++) {
      try {
        await rename(temps[i]!, files[i]!.path);
      } catch (e) {
        throw new InputError(`cannot write ${files[i]!.path}: ${describeFsError(e)}`);
      }
      renamed.push(files[i]!.path);
    }
  } catch (e) {
    await Promise.all([...temps, ...renamed].map(removeQuietly));
    throw e;
  }
}
