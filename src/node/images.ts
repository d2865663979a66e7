/**
 * Image files for the Node CLI: PNG (pngjs) and JPEG (jpeg-js) bytes decoded to RGBA8 images, the
 * format told apart by its magic bytes rather than by the file's extension; the size read from the
 * header (PNG IHDR, JPEG SOF) and checked against LIMITS.maxImagePixels before anything is decoded,
 * so a small file claiming a huge image costs nothing; alpha flattened onto white; and PNG
 * encoding. The PIL-exact resize is in src/node/resize.ts and the atomic file writes in
 * src/node/files.ts; both are re-exported here for callers that take every image step from this
 * module.
 */
import { open } from "node:fs/promises";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { type ImageRGBA } from "../tensor";
import { InputError } from "../errors";
import { checkImagePixels, LIMITS, limitText } from "../limits";
import { describeFsError, readInputFile } from "./files";

export { resizeBilinear } from "./resize";
export {
  checkOutputPath,
  checkOutputTarget,
  describeFsError,
  readInputFile,
  writeFileAtomic,
  writeFilesAtomic,
} from "./files";

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
      `${what}: ${format.toUpperCase()} decoded to an unusable ` +
        `${image.width}x${image.height} image`,
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
      `${what}: ${format.toUpperCase()} header declares an empty ` +
        `${header.width}x${header.height} image`,
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
 * Reads and decodes an image file; every failure (missing, unreadable, corrupt) is an InputError
 * naming the path.
 */
export async function readImageFile(path: string): Promise<ImageRGBA> {
  return decodeImage(await readInputFile(path, "image", "maxImageFileBytes"), path);
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

// --- output --------------------------------------------------------------------------------------

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
