/**
 * Node-side loading of the package's own files: the glyph atlases in assets/glyphs/ and the default
 * demo weights. Paths are resolved from the package root, found by walking up from this module's
 * location to the funit-webgpu package.json, so the same code works bundled in dist/cli.js, from
 * src/ under vitest, and from any current directory.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  GLYPH_CELL,
  makeAtlas,
  parseCharList,
  SOURCE_ATLAS,
  ALL_HANGUL_ATLAS,
  unseenAtlasFiles,
  type AtlasFiles,
  type GlyphAtlas,
} from "../glyphs";
import { PNG } from "pngjs";
import { decodeImage, readInputFile } from "./images";

let cachedRoot: string | undefined;

/** The directory holding funit-webgpu's package.json, searched upwards from this module. */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, "utf8")).name === "funit-webgpu")
          return (cachedRoot = dir);
      } catch {
        // an unreadable package.json of some other package: keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(
        "cannot find the funit-webgpu package root above " + fileURLToPath(import.meta.url),
      );
    dir = parent;
  }
}

export function glyphsDir(): string {
  return join(packageRoot(), "assets", "glyphs");
}

const readAsset = (path: string) => readInputFile(path, "glyph asset");

async function loadAtlas({ image, chars, perRow, label }: AtlasFiles): Promise<GlyphAtlas> {
  const [imageBytes, charBytes] = await Promise.all([
    readAsset(join(glyphsDir(), image)),
    readAsset(join(glyphsDir(), chars)),
  ]);
  const list = parseCharList(new TextDecoder().decode(charBytes), chars);
  // The package's own atlases (up to 3200×3008) are not user input: bounded by their file, not by
  // LIMITS.maxImagePixels.
  const atlas = decodeImage(imageBytes, image, Number.POSITIVE_INFINITY);
  return makeAtlas(atlas, list, GLYPH_CELL, perRow, label);
}

/** All 2,350 KS X 1001 syllables in the source (content) font, Noto Sans CJK KR Regular. */
export function loadSourceAtlas(): Promise<GlyphAtlas> {
  return loadAtlas(SOURCE_ATLAS);
}

/** 600 syllables of one held-out font; the last 100 were never seen in training. */
export function loadUnseenAtlas(font: string): Promise<GlyphAtlas> {
  return loadAtlas(unseenAtlasFiles(font));
}

/**
 * All 11,172 modern Hangul syllables in the source font (the KS X 1001 cells equal loadSourceAtlas's).
 * The 6400×7168 image is ours, not user input, so it is decoded by pngjs directly: the size limit
 * that guards user images would refuse it.
 */
export async function loadAllHangulAtlas(): Promise<GlyphAtlas> {
  const { image, chars, perRow, label } = ALL_HANGUL_ATLAS;
  const [imageBytes, charBytes] = await Promise.all([
    readAsset(join(glyphsDir(), image)),
    readAsset(join(glyphsDir(), chars)),
  ]);
  const png = PNG.sync.read(Buffer.from(imageBytes));
  const list = parseCharList(new TextDecoder().decode(charBytes), chars);
  const rgba = { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer) };
  return makeAtlas(rgba, list, GLYPH_CELL, perRow, label);
}
