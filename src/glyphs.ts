/**
 * Glyph atlases: one image holding fixed-size cells in reading order (left to right, top to bottom)
 * plus the list of characters those cells show. Pure functions over RGBA images and strings, with
 * no Node built-ins, so a browser can run the same few-shot font demo: parse the character list,
 * cut a cell, look a syllable up (a missing one is an error that names it), and compose a grid of
 * cells into one picture. Also the facts of the shipped atlases in assets/glyphs/ (files, fonts,
 * which cells were never trained, the demos' reference syllables), shared by the CLI demo and the
 * page.
 */
import { type ImageRGBA } from "./tensor";
import { InputError } from "./errors";

export interface GlyphAtlas {
  image: ImageRGBA;
  /** Characters in cell order. */
  chars: string[];
  /** Cell edge in pixels (cells are square). */
  cell: number;
  /** Cells per atlas row. */
  perRow: number;
  /** What the atlas is, for error messages ("source font atlas", …). */
  label: string;
}

/**
 * Splits a character list file into characters. Accepts one long line or one character per line:
 * all whitespace is ignored. Characters are code points, so a syllable is never split in halves.
 */
export function parseCharList(text: string, what: string): string[] {
  const chars = [...text].filter((ch) => !/\s/u.test(ch));
  const seen = new Set<string>();
  for (const ch of chars) {
    if (seen.has(ch)) throw new InputError(`${what}: character '${ch}' appears twice`);
    seen.add(ch);
  }
  return chars;
}

/** Builds an atlas after checking that the image holds a cell for every character. */
export function makeAtlas(
  image: ImageRGBA,
  chars: string[],
  cell: number,
  perRow: number,
  label: string,
): GlyphAtlas {
  const rows = Math.ceil(chars.length / perRow);
  if (image.width < perRow * cell || image.height < rows * cell) {
    throw new InputError(
      `${label}: image is ${image.width}x${image.height}, but ${chars.length} cells of ` +
        `${cell}px, ${perRow} a row, need ${perRow * cell}x${rows * cell}`,
    );
  }
  return { image, chars, cell, perRow, label };
}

/** Copies cell i (0-based, reading order) out of the atlas. */
export function cutCell(atlas: GlyphAtlas, i: number): ImageRGBA {
  if (!Number.isSafeInteger(i) || i < 0 || i >= atlas.chars.length) {
    throw new InputError(`${atlas.label}: cell ${i} out of range (0..${atlas.chars.length - 1})`);
  }
  const { cell, image } = atlas;
  const x0 = (i % atlas.perRow) * cell;
  const y0 = Math.floor(i / atlas.perRow) * cell;
  const data = new Uint8Array(cell * cell * 4);
  for (let y = 0; y < cell; y++) {
    const from = ((y0 + y) * image.width + x0) * 4;
    data.set(image.data.subarray(from, from + cell * 4), y * cell * 4);
  }
  return { width: cell, height: cell, data };
}

/** "'퓨' (U+D4E8)": a character as it reads plus its code point, for messages about missing ones. */
export function describeChar(ch: string): string {
  return `'${ch}' (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")})`;
}

/** Characters of `text` (whitespace excluded) that the atlas lacks, each once, in text order. */
export function missingChars(atlas: GlyphAtlas, text: string): string[] {
  const have = new Set(atlas.chars);
  return [...new Set([...text].filter((ch) => !/\s/u.test(ch) && !have.has(ch)))];
}

/** The glyph of one character; an InputError naming the character when the atlas lacks it. */
export function glyphOf(atlas: GlyphAtlas, ch: string): ImageRGBA {
  const i = atlas.chars.indexOf(ch);
  if (i < 0) throw new InputError(`${atlas.label} has no glyph for ${describeChar(ch)}`);
  return cutCell(atlas, i);
}

/**
 * Multiplies every pixel by a background colour: white paper becomes that colour, black ink stays
 * black. Used to set reference and source glyphs apart from generated ones in the demo picture.
 */
export function tintPaper(img: ImageRGBA, rgb: [number, number, number]): ImageRGBA {
  const data = new Uint8Array(img.data.length);
  for (let p = 0; p < img.data.length; p += 4) {
    for (let c = 0; c < 3; c++) data[p + c] = Math.round((img.data[p + c]! * rgb[c]!) / 255);
    data[p + 3] = img.data[p + 3]!;
  }
  return { width: img.width, height: img.height, data };
}

/**
 * Lays cells out in a grid of rows (rows may differ in length); null is a blank cell. All cells
 * share one size, given explicitly so that a grid of blanks still has one. The rest is white.
 */
export function composeGrid(
  rows: (ImageRGBA | null)[][],
  cellWidth: number,
  cellHeight: number,
): ImageRGBA {
  const cols = Math.max(0, ...rows.map((r) => r.length));
  const width = cols * cellWidth;
  const height = rows.length * cellHeight;
  const data = new Uint8Array(width * height * 4).fill(255);
  rows.forEach((row, r) => {
    row.forEach((img, c) => {
      if (img === null) return;
      if (img.width !== cellWidth || img.height !== cellHeight) {
        throw new InputError(
          `composeGrid: cell (${r}, ${c}) is ${img.width}x${img.height}, ` +
            `expected ${cellWidth}x${cellHeight}`,
        );
      }
      for (let y = 0; y < cellHeight; y++) {
        const from = y * cellWidth * 4;
        data.set(
          img.data.subarray(from, from + cellWidth * 4),
          ((r * cellHeight + y) * width + c * cellWidth) * 4,
        );
      }
    });
  });
  return { width, height, data };
}

/** Cell size of the shipped atlases in assets/glyphs/ (the hangul64 model's image size). */
export const GLYPH_CELL = 64;

/** A shipped atlas: its image and character-list files in assets/glyphs/, cells a row, a label. */
export interface AtlasFiles {
  image: string;
  chars: string;
  perRow: number;
  label: string;
}

/** All 2,350 KS X 1001 syllables in the source (content) font, Noto Sans CJK KR Regular. */
export const SOURCE_ATLAS: AtlasFiles = {
  image: "source-NotoSansCJKkr-Regular-2350.png",
  chars: "ks-x-1001.txt",
  perRow: 50,
  label: "source font atlas (Noto Sans CJK KR Regular)",
};

/**
 * All 11,172 modern Hangul syllables (U+AC00–U+D7A3, code-point order, 100 cells a row) in the same
 * source font, rendered like SOURCE_ATLAS: its KS X 1001 cells are pixel-identical to those.
 */
export const ALL_HANGUL_ATLAS: AtlasFiles = {
  image: "source-NotoSansCJKkr-Regular-11172.png",
  chars: "hangul-11172.txt",
  perRow: 100,
  label: "all-syllables source font atlas (Noto Sans CJK KR Regular)",
};

/** The 8 fonts held out of training, as named in assets/glyphs/unseen-<Font>-600.png. */
export const UNSEEN_FONTS = [
  "Bandal",
  "NanumBarunpenR",
  "NanumBrush",
  "NanumPen",
  "NanumSquareRoundB",
  "NotoSerifCJK-SemiBold",
  "UnShinmun",
  "hline",
] as const;

/** 600 syllables of one held-out font; the last NEVER_TRAINED were never seen in training. */
export function unseenAtlasFiles(font: string): AtlasFiles {
  return {
    image: `unseen-${font}-600.png`,
    chars: "chars-600.txt",
    perRow: 25,
    label: `${font} atlas`,
  };
}

/** The last cells of each held-out atlas that were never used in training. */
export const NEVER_TRAINED = 100;

/** The reference glyphs the PyTorch reference files used (all among the never-trained last 100). */
export const PREFERRED_REFERENCES = "쿤쿳퀄퀴큄";

/** Pale paper for glyphs that are given rather than generated (source text, references). */
export const GIVEN_PAPER: [number, number, number] = [232, 238, 248];

/** The K reference glyphs the demos (CLI and page) take from a held-out font's atlas. */
export function demoReferences(atlas: GlyphAtlas, k: number): ImageRGBA[] {
  return pickReferenceChars(atlas.chars, PREFERRED_REFERENCES, NEVER_TRAINED, k).map((ch) =>
    glyphOf(atlas, ch),
  );
}

/**
 * The K reference characters of a held-out font: `preferred` when every one of them is among the
 * last `heldOut` characters of the list (never used in training), else the first K of those.
 */
export function pickReferenceChars(
  chars: string[],
  preferred: string,
  heldOut: number,
  k: number,
): string[] {
  const neverSeen = chars.slice(Math.max(0, chars.length - heldOut));
  const wanted = [...preferred];
  if (wanted.length === k && wanted.every((ch) => neverSeen.includes(ch))) return wanted;
  if (neverSeen.length < k)
    throw new InputError(
      `only ${neverSeen.length} held-out characters, ${k} reference glyphs needed`,
    );
  return neverSeen.slice(0, k);
}
