/**
 * Writing the typed text: lays the characters out in cells (rows of COLUMNS, broken at newlines),
 * shows the source font's glyph of each, encodes the current style once, then translates each
 * distinct syllable and draws it into every cell that holds it as soon as it arrives. Characters
 * outside the source atlas are reported and marked in red. A newer generation cancels an older one
 * (it stops drawing); the run's inputs and outputs are kept as the state's `lastRun`.
 */
import { describeChar, GIVEN_PAPER, GLYPH_CELL as CELL, glyphOf, tintPaper } from "../src/glyphs";
import type { Demo, RunResult } from "./state";
import { currentStyle, sourceKind } from "./style";
import { imageData, report, UserError } from "./ui";

const COLUMNS = 10;
const MISSING_PAPER = "#fde2e2";
/** CSS pixels per glyph pixel on the output canvases. */
const DISPLAY_SCALE = 1.5;

interface Cell {
  ch: string;
  col: number;
  row: number;
}

/** Output cells: one per character, rows broken at COLUMNS and at newlines. */
function layout(text: string): Cell[] {
  const cells: Cell[] = [];
  let col = 0;
  let row = 0;
  for (const ch of text) {
    if (ch === "\n") {
      row++;
      col = 0;
      continue;
    }
    if (col === COLUMNS) {
      row++;
      col = 0;
    }
    cells.push({ ch, col, row });
    col++;
  }
  return cells;
}

/** Sizes a canvas for the cells, paints it white, and marks missing characters' cells in red. */
function clearCells(
  canvas: HTMLCanvasElement,
  cells: Cell[],
  missing: string[],
): CanvasRenderingContext2D {
  canvas.width = Math.max(1, ...cells.map((c) => c.col + 1)) * CELL;
  canvas.height = Math.max(1, ...cells.map((c) => c.row + 1)) * CELL;
  // 64-pixel glyphs are small on a modern screen.
  canvas.style.width = `${canvas.width * DISPLAY_SCALE}px`;
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.font = `${CELL * 0.5}px sans-serif`;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  for (const c of cells.filter((c) => missing.includes(c.ch))) {
    ctx.fillStyle = MISSING_PAPER;
    ctx.fillRect(c.col * CELL, c.row * CELL, CELL, CELL);
    ctx.fillStyle = "#b42318";
    ctx.fillText(c.ch, c.col * CELL + CELL / 2, c.row * CELL + CELL / 2);
  }
  return ctx;
}

export async function generate(demo: Demo): Promise<RunResult> {
  const { ui, state } = demo;
  const id = ++state.runId;
  const text = ui.text.value;
  const cells = layout(text);
  const source = state.source!;
  const have = new Set(source.chars);
  const missing = [
    ...new Set(cells.map((c) => c.ch).filter((ch) => !/\s/u.test(ch) && !have.has(ch))),
  ];
  report(
    ui.report,
    missing.length
      ? "Not in the source font atlas (the 2,350 KS X 1001 syllables), left blank in red: " +
          missing.map(describeChar).join(", ")
      : "",
    "warn",
  );

  const ctx = clearCells(ui.output, cells, missing);
  const sourceCtx = clearCells(ui.source, cells, missing);
  for (const c of cells)
    if (have.has(c.ch))
      sourceCtx.putImageData(
        imageData(tintPaper(glyphOf(source, c.ch), GIVEN_PAPER)),
        c.col * CELL,
        c.row * CELL,
      );

  ui.timing.textContent = "encoding the style…";
  const style = await currentStyle(demo);
  const engine = state.engine!;
  const syllables = [...new Set(cells.map((c) => c.ch).filter((ch) => have.has(ch)))];
  const glyphs: RunResult["glyphs"] = [];
  let ms = 0;
  const result = (cancelled: boolean): RunResult => ({
    text,
    source: sourceKind(),
    references: style.references,
    blend: style.blend,
    code: style.code,
    glyphs,
    missing,
    msPerGlyph: glyphs.length ? ms / glyphs.length : 0,
    cancelled,
  });
  for (const ch of syllables) {
    if (id !== state.runId) return result(true); // a newer generation started: stop drawing over it
    const content = glyphOf(source, ch);
    const t0 = performance.now();
    const output = await engine.translate(content, style.code);
    ms += performance.now() - t0;
    glyphs.push({ ch, content, output });
    if (id !== state.runId) return result(true);
    const picture = imageData(output);
    for (const c of cells) if (c.ch === ch) ctx.putImageData(picture, c.col * CELL, c.row * CELL);
    const plural = syllables.length === 1 ? "" : "s";
    ui.timing.textContent =
      `${glyphs.length} of ${syllables.length} glyph${plural}: ` +
      `${(ms / glyphs.length).toFixed(0)} ms per glyph`;
  }
  if (!syllables.length) ui.timing.textContent = "nothing to generate";
  state.lastRun = result(false);
  return state.lastRun;
}

/** Runs a generation from the UI: errors become a message on the page, not an exception. */
export function generateFromUi(demo: Demo): Promise<RunResult | null> {
  return generate(demo).catch((e) => {
    report(
      demo.ui.report,
      e instanceof UserError ? e.message : `generation failed: ${(e as Error).message}`,
    );
    if (!(e instanceof UserError)) console.error(e);
    return null;
  });
}
