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

/** The path of a file shipped in the package (`weights/…`, `assets/…`). */
export function shippedAssetPath(path: string): string {
  return join(packageRoot(), path);
}

/**
 * A glyph atlas read from files in `dir` (the shipped assets/glyphs/ by default), checked by
 * makeAtlas. The package's own atlases (up to 6400×7168) are not user input: they are bounded by
 * their files, not by LIMITS.maxImagePixels.
 */
export async function readAtlas(
  { image, chars, perRow, label }: AtlasFiles,
  dir: string = glyphsDir(),
): Promise<GlyphAtlas> {
  const [imageBytes, charBytes] = await Promise.all([
    readAsset(join(dir, image)),
    readAsset(join(dir, chars)),
  ]);
  const list = parseCharList(new TextDecoder().decode(charBytes), chars);
  const atlas = decodeImage(imageBytes, image, Number.POSITIVE_INFINITY);
  return makeAtlas(atlas, list, GLYPH_CELL, perRow, label);
}

/** All 2,350 KS X 1001 syllables in the source (content) font, Noto Sans CJK KR Regular. */
export function loadSourceAtlas(): Promise<GlyphAtlas> {
  return readAtlas(SOURCE_ATLAS);
}

/** 600 syllables of one held-out font; the last 100 were never seen in training. */
export function loadUnseenAtlas(font: string): Promise<GlyphAtlas> {
  return readAtlas(unseenAtlasFiles(font));
}

/**
 * All 11,172 modern Hangul syllables in the source font (the KS X 1001 cells equal
 * loadSourceAtlas's).
 */
export function loadAllHangulAtlas(): Promise<GlyphAtlas> {
  return readAtlas(ALL_HANGUL_ATLAS);
}
