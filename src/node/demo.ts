/**
 * The few-shot font demo (`funit demo`, `npm run demo`): a Korean phrase written in each of the 8
 * fonts held out of training, each generated from only K = 5 reference glyphs of that font. The
 * phrase's syllables are cut from the source-font atlas (content), the references from the never-
 * trained last 100 cells of each held-out font's atlas (class), and the picture has one row per font:
 * its name, the 5 references on a tinted background, a blank gap, then the generated phrase; a top
 * row shows the phrase in the source font. It prints the PNG's path, a legend of the rows and the
 * inference time per glyph.
 */
import { mkdir } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import {
  composeGrid,
  demoReferences,
  describeChar,
  GIVEN_PAPER,
  GLYPH_CELL,
  glyphOf,
  missingChars,
  tintPaper,
  UNSEEN_FONTS,
  type GlyphAtlas,
} from "../glyphs";
import { type ImageRGBA } from "../tensor";
import { loadSourceAtlas, loadUnseenAtlas, packageRoot } from "./assets";
import { writeFileAtomic } from "./files";
import { encodePng } from "./images";
import { resizeBilinear } from "./resize";
import { checkContentSize, loadWeights, openEngine } from "./session";
import { InputError } from "../errors";
import { parseCommand, type CommandSpec } from "./args";
import { EXIT_OK, printCommandHelp } from "./exit-status";

/** Weights the demo uses unless --weights says otherwise, relative to the package root. */
export const DEFAULT_DEMO_WEIGHTS = "weights/hangul64-f16.safetensors";
export const DEFAULT_DEMO_TEXT = "퓨샷 폰트 생성";
export const DEFAULT_DEMO_OUT = join("out", "demo.png");

const K = 5;

/**
 * Each row's label, in Hangul: the font's Korean name, or its Latin name transliterated. The only
 * glyphs the package ships are Hangul syllables (the atlases), so the labels are drawn with the
 * source font's glyphs, with no font file or text renderer; the Latin names go in a printed legend.
 */
export const ROW_LABELS: Record<"source" | (typeof UNSEEN_FONTS)[number], string> = {
  source: "노토 산스",
  Bandal: "반달",
  NanumBarunpenR: "나눔바른펜",
  NanumBrush: "나눔붓",
  NanumPen: "나눔펜",
  NanumSquareRoundB: "나눔스퀘어라운드",
  "NotoSerifCJK-SemiBold": "노토 세리프",
  UnShinmun: "은신문",
  hline: "에이치라인",
};
/** Label glyphs are drawn at half a cell; the label column fits the longest label. */
const LABEL_CELL = GLYPH_CELL / 2;

/** A label as one strip of half-size source-font glyphs (blank for a space). */
function labelStrip(source: GlyphAtlas, label: string): (ImageRGBA | null)[] {
  return phraseCells(label).map((ch) =>
    ch === null ? null : resizeBilinear(glyphOf(source, ch), LABEL_CELL, LABEL_CELL),
  );
}

/** Copies `src` into `dst` with its top-left corner at (x, y); it must fit. */
function paste(dst: ImageRGBA, src: ImageRGBA, x: number, y: number): void {
  for (let row = 0; row < src.height; row++)
    dst.data.set(
      src.data.subarray(row * src.width * 4, (row + 1) * src.width * 4),
      ((y + row) * dst.width + x) * 4,
    );
}

/** `picture` with a label column on its left: each row's strip, centred in its row's height. */
function withRowLabels(picture: ImageRGBA, labels: (ImageRGBA | null)[][]): ImageRGBA {
  const strips = labels.map((strip) => composeGrid([strip], LABEL_CELL, LABEL_CELL));
  const margin = LABEL_CELL / 2;
  const left = Math.max(...strips.map((s) => s.width)) + 2 * margin;
  const width = left + picture.width;
  const out = { width, height: picture.height, data: new Uint8Array(width * picture.height * 4) };
  out.data.fill(255);
  paste(out, picture, left, 0);
  strips.forEach((s, r) => paste(out, s, margin, r * GLYPH_CELL + (GLYPH_CELL - LABEL_CELL) / 2));
  return out;
}

export interface DemoOptions {
  text?: string;
  /** Output PNG; default out/demo.png under the current directory (out/ is created). */
  out?: string;
  /** Weights path (relative to the current directory); default DEFAULT_DEMO_WEIGHTS in the package. */
  weights?: string;
}

export interface DemoResult {
  path: string;
  width: number;
  height: number;
  glyphs: number;
  msPerGlyph: number;
}

/** Cells of the phrase: a syllable per character, null (blank) for whitespace. */
function phraseCells(text: string): (string | null)[] {
  return [...text].map((ch) => (/\s/u.test(ch) ? null : ch));
}

function checkPhrase(text: string, source: GlyphAtlas): void {
  if (!phraseCells(text).some((c) => c !== null))
    throw new InputError("the text has no syllables to draw");
  const missing = missingChars(source, text);
  if (missing.length) {
    throw new InputError(
      "not in the source font atlas (the 2,350 KS X 1001 syllables): " +
        missing.map(describeChar).join(", "),
    );
  }
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const text = opts.text ?? DEFAULT_DEMO_TEXT;
  const outPath = opts.out ?? DEFAULT_DEMO_OUT;
  const weightsPath = opts.weights ?? join(packageRoot(), DEFAULT_DEMO_WEIGHTS);

  // Everything that can fail on bad input happens before the GPU starts.
  const source = await loadSourceAtlas();
  checkPhrase(text, source);
  const cells = phraseCells(text);
  const syllables = [...new Set(cells.filter((c): c is string => c !== null))];
  const contents = syllables.map((ch) => glyphOf(source, ch));
  const weights = await loadWeights(weightsPath);
  checkContentSize(contents[0]!, weights.hyper, `glyph cell (${GLYPH_CELL}x${GLYPH_CELL})`);
  const fonts = await Promise.all(
    UNSEEN_FONTS.map(async (font) => {
      const atlas = await loadUnseenAtlas(font);
      return demoReferences(atlas, K);
    }),
  );
  if (opts.out === undefined) await mkdir(resolve("out"), { recursive: true });

  const engine = await openEngine(weights);
  const generated: ImageRGBA[][] = [];
  let inferenceMs = 0;
  try {
    for (const references of fonts) {
      const t0 = performance.now();
      // the references are encoded in the same submit as the translation
      generated.push(await engine.funit.translate(contents, references));
      inferenceMs += performance.now() - t0;
    }
  } finally {
    engine.close();
  }

  const place = (glyphs: ImageRGBA[]) =>
    cells.map((c) => (c === null ? null : glyphs[syllables.indexOf(c)]!));
  const blank: null[] = Array<null>(K + 1).fill(null);
  const rows: (ImageRGBA | null)[][] = [
    [...blank, ...place(contents.map((g) => tintPaper(g, GIVEN_PAPER)))],
    ...fonts.map((refs, f) => [
      ...refs.map((g) => tintPaper(g, GIVEN_PAPER)),
      null,
      ...place(generated[f]!),
    ]),
  ];
  const labels = [ROW_LABELS.source, ...UNSEEN_FONTS.map((font) => ROW_LABELS[font])];
  const picture = withRowLabels(
    composeGrid(rows, GLYPH_CELL, GLYPH_CELL),
    labels.map((label) => labelStrip(source, label)),
  );
  await writeFileAtomic(outPath, encodePng(picture));

  const glyphCount = fonts.length * syllables.length;
  const result: DemoResult = {
    path: outPath,
    width: picture.width,
    height: picture.height,
    glyphs: glyphCount,
    msPerGlyph: inferenceMs / glyphCount,
  };
  const shown = isAbsolute(outPath) ? outPath : resolve(outPath);
  console.log(shown);
  console.log(
    `rows: ${["source (Noto Sans CJK KR)", ...UNSEEN_FONTS]
      .map((name, i) => `${name} ${labels[i]}`)
      .join(", ")}`,
  );
  console.log(
    `${fonts.length} fonts × ${syllables.length} syllable${syllables.length === 1 ? "" : "s"} (K = ${K} references each): ${glyphCount} glyphs in ${inferenceMs.toFixed(0)} ms, ${result.msPerGlyph.toFixed(2)} ms per glyph (class encoding included)`,
  );
  return result;
}

export const DEMO_COMMAND: CommandSpec = {
  name: "demo",
  usage: "demo [TEXT] [--out FILE] [--weights W]",
  about:
    `Renders TEXT (default "${DEFAULT_DEMO_TEXT}") in each of the 8 held-out fonts from K=5\n` +
    "reference glyphs of each: top row the source font, then one row per font (its name, the\n" +
    "references, a gap, the generated text).",
  options: {
    out: { type: "string", value: "FILE", help: `output PNG (default ${DEFAULT_DEMO_OUT})` },
    weights: {
      type: "string",
      value: "W",
      help: `generator weights (default ${DEFAULT_DEMO_WEIGHTS} in the package)`,
    },
  },
  maxPositionals: Infinity,
};

/** `funit demo [TEXT] [--out FILE] [--weights W]`. */
export async function demoCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(DEMO_COMMAND, args);
  if (values.help) return printCommandHelp(DEMO_COMMAND);
  await runDemo({
    text: positionals.length ? positionals.join(" ") : undefined,
    out: values.out as string | undefined,
    weights: values.weights as string | undefined,
  });
  return EXIT_OK;
}
