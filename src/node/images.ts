/**
 * Image files for the Node CLI: PNG (pngjs) and JPEG (jpeg-js) bytes decoded to RGBA8 images, the
 * format told apart by its magic bytes rather than by the file's extension; the size read from the
 * header (PNG IHDR, JPEG SOF) and checked against LIMITS.maxImagePixels before anything is decoded,
 * so a small file claiming a huge image costs nothing; alpha flattened onto white; a resize that
 * reproduces PIL's BILINEAR resample bit for bit (what torchvision's Resize does to the PIL images
 * of the NVlabs test script, antialiasing included when downscaling); PNG encoding; and an atomic
 * file write (temp file in the same directory, then rename) that refuses to replace anything but a
 * regular file, so that a failed command never leaves a partial output behind.
 */
import { randomBytes } from "node:crypto";
import { lstat, open, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { type ImageRGBA } from "../tensor";
import { InputError } from "../errors";
import { checkImagePixels, LIMITS, limitText } from "../limits";

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

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

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
}

/** JPEG start-of-frame markers (baseline, progressive, lossless, …): they carry the image size. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * The format and size an image's header declares, without decoding: the PNG IHDR chunk (always
 * first), or the first JPEG start-of-frame segment (found by walking the segments before it).
 * Null when the bytes are not a PNG or JPEG or end before the size.
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader | null {
  const format = sniffImageFormat(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === "png") {
    if (bytes.byteLength < 24 || view.getUint32(8) !== 13 || view.getUint32(12) !== 0x49484452)
      return null; // "IHDR"
    return { format, width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (format !== "jpeg") return null;
  let at = 2;
  while (at + 4 <= bytes.byteLength) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // image ends or scan starts before a size
    const length = view.getUint16(at + 2);
    if (length < 2) return null;
    if (isStartOfFrame(marker)) {
      if (at + 9 > bytes.byteLength) return null;
      return { format, height: view.getUint16(at + 5), width: view.getUint16(at + 7) };
    }
    at += 2 + length;
  }
  return null;
}

/**
 * Decodes PNG or JPEG bytes to straight-alpha RGBA8, refusing above `maxPixels` (by default
 * LIMITS.maxImagePixels, for user input) before decoding. Grey, palette and 16-bit PNGs come out as
 * RGBA8 with R = G = B for grey; JPEGs come out opaque. `what` names the source in error messages.
 */
export function decodeImage(
  bytes: Uint8Array,
  what: string,
  maxPixels: number = LIMITS.maxImagePixels,
): ImageRGBA {
  const header = checkedImageHeader(bytes, what, maxPixels);
  const format = header.format;
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
        // A backstop only: the header's size was checked against maxPixels above.
        maxResolutionInMP: maxPixels / 1e6,
      });
      image = { width: decoded.width, height: decoded.height, data: decoded.data };
    }
  } catch (e) {
    const message = (e as Error).message;
    if (/maxResolutionInMP|maxMemoryUsageInMB/.test(message))
      throw new InputError(`${what}: ${format.toUpperCase()} image too large (${message})`);
    throw new InputError(`${what}: corrupt or truncated ${format.toUpperCase()} data (${message})`);
  }
  if (
    image.width !== header.width ||
    image.height !== header.height ||
    image.data.length !== image.width * image.height * 4
  ) {
    throw new InputError(
      `${what}: ${format.toUpperCase()} decoded to an unusable ${image.width}x${image.height} image`,
    );
  }
  return image;
}

/**
 * The header of an image's bytes, refused (InputError) when missing, empty or above maxImagePixels.
 */
export function checkedImageHeader(
  bytes: Uint8Array,
  what: string,
  maxPixels: number = LIMITS.maxImagePixels,
): ImageHeader {
  const format = sniffImageFormat(bytes);
  if (format === null)
    throw new InputError(`${what}: not a PNG or JPEG file (unrecognised leading bytes)`);
  const header = readImageHeader(bytes);
  if (!header)
    throw new InputError(
      `${what}: corrupt or truncated ${format.toUpperCase()} data (no image size in its header)`,
    );
  if (!(header.width > 0 && header.height > 0))
    throw new InputError(
      `${what}: ${format.toUpperCase()} header declares an empty ${header.width}x${header.height} image`,
    );
  if (maxPixels === LIMITS.maxImagePixels)
    checkImagePixels(header.width, header.height, `${what}: ${format.toUpperCase()} image`);
  else if (header.width * header.height > maxPixels)
    throw new InputError(
      `${what}: ${header.width}x${header.height} image: too large (${maxPixels} pixels at most)`,
    );
  return header;
}

/**
 * Bytes read to find an image's size: PNG needs 24; a JPEG's frame header follows its EXIF/ICC
 * data.
 */
const HEADER_PROBE_BYTES = 256 * 1024;

/**
 * An image file's header (format and size) from its first bytes, checked like decodeImage checks
 * it, without reading or decoding the rest: the CLI checks every input's size this way before it
 * decodes any. The file must be within LIMITS.maxImageFileBytes.
 */
export async function readImageFileHeader(path: string): Promise<ImageHeader> {
  let prefix: Uint8Array;
  let size: number;
  try {
    const handle = await open(path, "r");
    try {
      size = (await handle.stat()).size;
      checkImageFileSize(size, path);
      const want = Math.min(size, HEADER_PROBE_BYTES);
      prefix = new Uint8Array(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await handle.read(prefix, got, want - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      prefix = prefix.subarray(0, got);
    } finally {
      await handle.close();
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read image ${path}: ${describeFsError(e)}`);
  }
  // A JPEG whose frame header lies past the probe (large metadata segments): read it all.
  if (size > prefix.byteLength && sniffImageFormat(prefix) === "jpeg" && !readImageHeader(prefix))
    prefix = await readInputFile(path, "image", "maxImageFileBytes");
  return checkedImageHeader(prefix, path);
}

function checkImageFileSize(size: number, path: string): void {
  if (size > LIMITS.maxImageFileBytes)
    throw new InputError(
      `image ${path} is ${size} bytes: too large ` +
        `(${limitText("maxImageFileBytes", LIMITS.maxImageFileBytes)})`,
    );
}

/**
 * Reads a whole file; a failure is an InputError such as "cannot read image a.png: no such file".
 * With `limit`, a file larger than LIMITS[limit] bytes is refused from its size, before reading.
 */
export async function readInputFile(
  path: string,
  what: string,
  limit?: "maxImageFileBytes" | "maxWeightsFileBytes",
): Promise<Uint8Array> {
  try {
    if (limit) {
      const { size } = await stat(path);
      if (size > LIMITS[limit])
        throw new InputError(
          `${what} ${path} is ${size} bytes: too large (${limitText(limit, LIMITS[limit])})`,
        );
    }
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read ${what} ${path}: ${describeFsError(e)}`);
  }
}

/**
 * Reads and decodes an image file; every failure (missing, unreadable, corrupt) is an InputError
 * naming the path.
 */
export async function readImageFile(path: string): Promise<ImageRGBA> {
  return decodeImage(await readInputFile(path, "image", "maxImageFileBytes"), path);
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
 * often carry ink on a transparent background whose hidden colour is black, so white is the
 * backdrop that keeps them meaningful. Opaque images come back unchanged (same values as PIL's
 * convert("RGB")).
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

/**
 * One separable pass, along x (horizontal) or along y, over all 4 channels; rounds to 8 bits as PIL
 * does.
 */
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
 * Resizes to width × height like PIL's Image.resize(size, BILINEAR) on an 8-bit image: every
 * channel independently (straight alpha; flatten first for PIL's RGB behaviour). Same size returns
 * a copy.
 */
export function resizeBilinear(img: ImageRGBA, width: number, height: number): ImageRGBA {
  if (!(Number.isSafeInteger(width) && Number.isSafeInteger(height) && width > 0 && height > 0)) {
    throw new InputError(`resize: target size ${width}x${height} is not a positive integer size`);
  }
  // Each pass makes a new image: the input is copied only when no pass runs (a large input is not
  // held twice while it is being shrunk).
  let cur = img;
  if (width !== img.width) cur = resamplePass(cur, width, cur.height, true);
  if (height !== img.height) cur = resamplePass(cur, cur.width, height, false);
  return cur === img ? { width, height, data: new Uint8Array(img.data) } : cur;
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
 * Refuses (InputError naming the path) an existing output that is not a regular file: renaming over
 * a device node, FIFO, socket or symlink would replace it, not write into it. A missing path is
 * fine.
 */
export async function checkOutputTarget(path: string): Promise<void> {
  const st = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return null;
    throw new InputError(`cannot write ${path}: ${describeFsError(e)}`);
  });
  if (!st || st.isFile()) return;
  const kind = st.isDirectory()
    ? "a directory"
    : st.isCharacterDevice()
      ? "a character device"
      : st.isBlockDevice()
        ? "a block device"
        : st.isFIFO()
          ? "a FIFO"
          : st.isSocket()
            ? "a socket"
            : st.isSymbolicLink()
              ? "a symbolic link"
              : "not a file";
  throw new InputError(`cannot write ${path}: it exists and is ${kind}, not a regular file`);
}

/**
 * Fails early (InputError) when an output cannot be written: its directory must exist, and the path
 * must be missing or a regular file.
 */
export async function checkOutputPath(path: string): Promise<void> {
  const dir = dirname(path);
  const dirStat = await stat(dir).catch(() => null);
  if (!dirStat?.isDirectory())
    throw new InputError(`cannot write ${path}: directory ${dir} does not exist`);
  await checkOutputTarget(path);
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
      await checkOutputTarget(files[i]!.path); // again: it may have appeared since the command began
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
