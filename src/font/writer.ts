/**
 * Outlines to font files: an OpenType (CFF) font written by opentype.js and its WOFF2 by wawoff2
 * (Google's woff2 encoder in WebAssembly). The 64×64 cell becomes the 1000-unit em square: one
 * advance width for every syllable, the baseline at the row under the source font's lowest ink, so
 * ascender and descender are the cell's top and bottom edges and a renderer at 64 px/em draws each
 * glyph where the engine's bitmap has it. The font holds .notdef, space and the syllables, with
 * cmap, hmtx, name (family, version; no licence is invented), OS/2 and post tables.
 */
/// <reference path="./vendor.d.ts" />
// the ES module build: the package's main entry is a UMD bundle whose names Node cannot import
import { Font, Glyph, Path } from "opentype.js/dist/opentype.mjs";
import { InputError } from "../errors";
import { importEmscripten } from "./emscripten";
import { type GlyphOutline } from "./trace";

export const UNITS_PER_EM = 1000;

/** Where glyphs sit in their cell: its edge and the baseline, in pixels from the top. */
export interface CellMetrics {
  cell: number;
  baseline: number;
}

/**
 * The hangul64 atlases: the source font's ink spans rows 11–59 of the 64-pixel cell (Hangul has no
 * descenders), so the baseline is row 60; ascender 937.5 and descender −62.5 round to 938 and −62.
 */
export const HANGUL64_METRICS: CellMetrics = { cell: 64, baseline: 60 };

/** Advance of the space: a quarter em, as CJK fonts commonly give their Latin space. */
export const SPACE_ADVANCE = UNITS_PER_EM / 4;

export interface FontNames {
  /** Family name, as the name table and CSS see it. */
  family: string;
  /** Version string (name ID 5); default "Version 1.000". */
  version?: string;
}

export interface TracedGlyph {
  char: string;
  outline: GlyphOutline;
}

/** What a writer can check before any GPU or tracing work: the name and the characters. */
export function checkFontRequest(names: FontNames, chars: string[]): void {
  if (!names.family.trim()) throw new InputError("font: the family name is empty");
  if (names.family.length > 63)
    throw new InputError(`font: the family name is ${names.family.length} characters, 63 at most`);
  if (chars.length === 0) throw new InputError("font: no characters to put in the font");
  if (chars.length > 65000)
    throw new InputError(`font: ${chars.length} characters, more than a font's 65,000 glyphs`);
  const seen = new Set<string>();
  for (const ch of chars) {
    const cp = ch.codePointAt(0)!;
    if ([...ch].length !== 1 || cp === 0x20)
      throw new InputError(`font: '${ch}' is not one character other than space`);
    if (seen.has(ch)) throw new InputError(`font: '${ch}' appears twice`);
    seen.add(ch);
  }
}

/** Cell pixels (y up from the cell's bottom) to font units (y up from the baseline). */
function toFontPath(outline: GlyphOutline, metrics: CellMetrics): Path {
  const s = UNITS_PER_EM / metrics.cell;
  const dy = metrics.cell - metrics.baseline;
  const X = (x: number) => Math.round(x * s);
  const Y = (y: number) => Math.round((y - dy) * s);
  const path = new Path();
  for (const c of outline.commands) {
    if (c.type === "M") path.moveTo(X(c.x), Y(c.y));
    else if (c.type === "L") path.lineTo(X(c.x), Y(c.y));
    else if (c.type === "C") path.bezierCurveTo(X(c.x1), Y(c.y1), X(c.x2), Y(c.y2), X(c.x), Y(c.y));
    else path.close();
  }
  return path;
}

/** The conventional .notdef: a hollow box inside the em. */
function notdefPath(ascender: number, descender: number): Path {
  const p = new Path();
  const box = (x0: number, y0: number, x1: number, y1: number, clockwise: boolean) => {
    p.moveTo(x0, y0);
    if (clockwise) [p.lineTo(x0, y1), p.lineTo(x1, y1), p.lineTo(x1, y0)];
    else [p.lineTo(x1, y0), p.lineTo(x1, y1), p.lineTo(x0, y1)];
    p.close();
  };
  box(100, descender + 50, 900, ascender - 50, false);
  box(150, descender + 100, 850, ascender - 100, true);
  return p;
}

function glyphName(ch: string): string {
  const cp = ch.codePointAt(0)!;
  return cp <= 0xffff
    ? `uni${cp.toString(16).toUpperCase().padStart(4, "0")}`
    : `u${cp.toString(16).toUpperCase()}`;
}

/** PostScript names are printable ASCII without spaces; a Korean family name keeps none of it. */
export function postScriptName(family: string): string {
  const ascii = family.replace(/[^A-Za-z0-9-]/g, "").slice(0, 50);
  return `${ascii || "FunitFont"}-Regular`;
}

/** Writes the OpenType (CFF) font; glyphs go in code-point order. */
export function writeOpenType(
  glyphs: TracedGlyph[],
  names: FontNames,
  metrics: CellMetrics = HANGUL64_METRICS,
): Uint8Array {
  checkFontRequest(
    names,
    glyphs.map((g) => g.char),
  );
  const s = UNITS_PER_EM / metrics.cell;
  const ascender = Math.round(metrics.baseline * s);
  const descender = ascender - UNITS_PER_EM;
  const sorted = [...glyphs].sort((a, b) => a.char.codePointAt(0)! - b.char.codePointAt(0)!);
  const font = new Font({
    familyName: names.family,
    styleName: "Regular",
    version: names.version ?? "Version 1.000",
    unitsPerEm: UNITS_PER_EM,
    ascender,
    descender,
    postScriptName: postScriptName(names.family),
    weightClass: 400,
    // opentype.js takes the Windows clipping box from the ink; the em box keeps it the cell's
    tables: { os2: { usWinAscent: ascender, usWinDescent: -descender } },
    glyphs: [
      new Glyph({
        name: ".notdef",
        advanceWidth: UNITS_PER_EM,
        path: notdefPath(ascender, descender),
      }),
      new Glyph({ name: "space", unicode: 0x20, advanceWidth: SPACE_ADVANCE, path: new Path() }),
      ...sorted.map(
        (g) =>
          new Glyph({
            name: glyphName(g.char),
            unicode: g.char.codePointAt(0)!,
            advanceWidth: UNITS_PER_EM,
            path: toFontPath(g.outline, metrics),
          }),
      ),
    ],
  });
  // opentype.js fills every name it knows with " "; a record we have nothing for is dropped,
  // so the font claims no licence, designer or copyright it was never given.
  const version = names.version ?? "Version 1.000";
  for (const platform of Object.values(font.names)) {
    platform.uniqueID = { en: `${names.family} Regular; ${version}` };
    for (const [key, value] of Object.entries(platform)) {
      if (Object.values(value).every((v) => v.trim() === "")) delete platform[key];
    }
  }
  return new Uint8Array(font.toArrayBuffer());
}

/** WOFF2 of an OpenType font (wawoff2; its wasm is inlined in the module, loaded on first use). */
export async function encodeWoff2(otf: Uint8Array): Promise<Uint8Array> {
  // the encoder alone: the package's index also loads the 300 KiB decoder
  const { default: compress } = await importEmscripten(() => import("wawoff2/compress.js"));
  return new Uint8Array(await compress(otf));
}
