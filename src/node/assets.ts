/**
 * Node-side loading of the package's own files: the glyph atlases in assets/glyphs/ and the default
 * demo weights. Paths are resolved from the package root, found by walking up from this module's
 * location to the funit-webgpu package.json, so the same code works bundled in dist/cli.js, from
 * src/ under vitest, and from any current directory.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeAtlas, parseCharList, type GlyphAtlas } from "../glyphs";
import { decodeImage, readInputFile } from "./images";

/** Atlas cell size in pixels (the hangul64 model's image size). */
export const GLYPH_CELL = 64;

/** The 8 fonts held out of training, as named in assets/glyphs/unseen-<Font>-600.png. */
export const UNSEEN_FONTS = [
  "Bandal", "NanumBarunpenR", "NanumBrush", "NanumPen", "NanumSquareRoundB", "NotoSerifCJK-SemiBold", "UnShinmun", "hline",
] as const;

const SOURCE_ATLAS = { file: "source-NotoSansCJKkr-Regular-2350.png", chars: "ks-x-1001.txt", perRow: 50 };
const UNSEEN_ATLAS = { chars: "chars-600.txt", perRow: 25 };

let cachedRoot: string | undefined;

/** The directory holding funit-webgpu's package.json, searched upwards from this module. */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, "utf8")).name === "funit-webgpu") return (cachedRoot = dir);
      } catch {
        // an unreadable package.json of some other package: keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find the funit-webgpu package root above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export function glyphsDir(): string {
  return join(packageRoot(), "assets", "glyphs");
}

const readAsset = (path: string) => readInputFile(path, "glyph asset");

async function loadAtlas(imageFile: string, charsFile: string, perRow: number, label: string): Promise<GlyphAtlas> {
  const [imageBytes, charBytes] = await Promise.all([readAsset(join(glyphsDir(), imageFile)), readAsset(join(glyphsDir(), charsFile))]);
  const chars = parseCharList(new TextDecoder().decode(charBytes), charsFile);
  return makeAtlas(decodeImage(imageBytes, imageFile), chars, GLYPH_CELL, perRow, label);
}

/** All 2,350 KS X 1001 syllables in the source (content) font, Noto Sans CJK KR Regular. */
export function loadSourceAtlas(): Promise<GlyphAtlas> {
  return loadAtlas(SOURCE_ATLAS.file, SOURCE_ATLAS.chars, SOURCE_ATLAS.perRow, "source font atlas (Noto Sans CJK KR Regular)");
}

/** 600 syllables of one held-out font; the last 100 were never seen in training. */
export function loadUnseenAtlas(font: string): Promise<GlyphAtlas> {
  return loadAtlas(`unseen-${font}-600.png`, UNSEEN_ATLAS.chars, UNSEEN_ATLAS.perRow, `${font} atlas`);
}
