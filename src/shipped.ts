/**
 * The package's shipped files from any runtime: `shippedAssetUrl(path)` locates the model
 * (weights/hangul64-f16.safetensors) and the glyph atlases (assets/glyphs/) next to the running
 * module, and `fetchAtlas` loads an atlas with fetch (http(s) in browsers; file: URLs too in Deno).
 * The image is decoded by the caller's decoder, or by default with the platform's
 * createImageBitmap and an OffscreenCanvas (browsers and workers), exactly as stored: no colour
 * management, no premultiplication. Node's file-based loader is readAtlas in src/node/assets.ts.
 */
import { InputError } from "./errors";
import { GLYPH_CELL, makeAtlas, parseCharList, type AtlasFiles, type GlyphAtlas } from "./glyphs";
import type { ImageRGBA } from "./tensor";

/** The shipped model (a safetensors file), as a path for shippedAssetUrl. */
export const SHIPPED_MODEL = "weights/hangul64-f16.safetensors";

/** The folder of the shipped glyph atlases, as a path for shippedAssetUrl. */
export const SHIPPED_GLYPHS = "assets/glyphs/";

/**
 * The URL of a file shipped in the package (`weights/…`, `assets/…`), found from this module's
 * own URL: the package's dist/ (Node, Deno, JSR, a CDN), dist/browser/ or src/. A bundler that
 * copies this code into a bundle of its own moves it away from those files: then serve weights/
 * and assets/ yourself and pass their URLs instead.
 */
export function shippedAssetUrl(path: string): URL {
  const here = new URL(".", import.meta.url).href;
  return new URL(path, here.replace(/(dist\/(browser\/)?|src\/)$/, ""));
}

/** Turns an image file's bytes into RGBA pixels (PNG at least). */
export type ImageDecoder = (bytes: Uint8Array, name: string) => ImageRGBA | Promise<ImageRGBA>;

export interface FetchAtlasOptions {
  /** Folder URL the atlas files are in; the shipped atlases by default. */
  base?: string | URL;
  /** The image decoder; by default createImageBitmap and an OffscreenCanvas (browsers). */
  decode?: ImageDecoder;
  signal?: AbortSignal;
}

/** An atlas (image and character list) fetched from `base`, checked by makeAtlas. */
export async function fetchAtlas(
  files: AtlasFiles,
  options: FetchAtlasOptions = {},
): Promise<GlyphAtlas> {
  const decode = options.decode ?? decodeWithCanvas;
  if (!options.decode && typeof OffscreenCanvas === "undefined")
    throw new InputError(
      "fetchAtlas: this runtime has no OffscreenCanvas to decode images: pass options.decode " +
        "(in Node and Deno, decodeImage from funit-webgpu/node)",
    );
  const base = new URL(options.base ?? shippedAssetUrl(SHIPPED_GLYPHS), globalThis.location?.href);
  const get = async (name: string) => {
    const url = new URL(name, base);
    const response = await fetch(url, { signal: options.signal });
    if (!response.ok) throw new InputError(`cannot load ${url}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  };
  const [imageBytes, charBytes] = await Promise.all([get(files.image), get(files.chars)]);
  const chars = parseCharList(new TextDecoder().decode(charBytes), files.chars);
  const image = await decode(imageBytes, files.image);
  return makeAtlas(image, chars, GLYPH_CELL, files.perRow, files.label);
}

/** Decodes an image file with the platform's own decoder, exactly as stored. */
export async function decodeWithCanvas(bytes: Uint8Array): Promise<ImageRGBA> {
  const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), {
    colorSpaceConversion: "none",
    premultiplyAlpha: "none",
  });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
