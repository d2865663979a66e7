/**
 * The font throughput case (`npm run bench -- --case font`): the engine writes a held-out font's
 * style into KS X 1001 syllables with generateFont, whose style is encoded once and whose batches
 * are traced while the GPU runs the next one, for each batch size asked (default 8, 16, 32); beside
 * it the same batches through the engine alone, so the overlap shows: if tracing and writing hid
 * fully behind the GPU, the font would take no longer than the engine alone. It reports glyphs/s
 * and the split between waiting for the GPU, tracing, writing the OTF and encoding the WOFF2, and
 * checks the outputs: every batch size gives the same bitmaps (within 2 levels of 255) and the
 * font maps every requested syllable to a glyph with an outline (opentype.js reads it back).
 *
 *   node dist/bench/bench.js --case font [--glyphs N|ks] [--batch 8,16,32] [--style-font F] [--json]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse as parseFont } from "opentype.js/dist/opentype.mjs";
import { Funit } from "../src/engine";
import { cutCell, demoReferences, UNSEEN_FONTS } from "../src/glyphs";
import { type ImageRGBA } from "../src/tensor";
import { generateFont, type FontTimings } from "../src/font";
import { getNodeDevice } from "../src/node/gpu";
import { loadSourceAtlas, loadUnseenAtlas, packageRoot } from "../src/node/assets";
import { sizeList } from "./options";

interface FontCaseResult {
  batch: number;
  glyphs: number;
  /** The engine alone: the same batches translated back to back, nothing traced. */
  engineOnlyMs: number;
  timings: FontTimings;
  glyphsPerSecond: number;
  otfBytes: number;
  woff2Bytes: number;
  medianPoints: number;
  /** Largest difference of a bitmap from the first batch size's, in levels of 255. */
  maxDiffFromFirst: number;
}

function maxDiff(a: ImageRGBA[], b: ImageRGBA[]): number {
  let d = 0;
  a.forEach((img, i) =>
    img.data.forEach((v, p) => (d = Math.max(d, Math.abs(v - b[i]!.data[p]!)))),
  );
  return d;
}

export async function runFontBench(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      glyphs: { type: "string", default: "256" },
      batch: { type: "string", default: "8,16,32" },
      "style-font": { type: "string", default: "Bandal" },
      json: { type: "boolean", default: false },
    },
  });
  const font = values["style-font"]!;
  if (!(UNSEEN_FONTS as readonly string[]).includes(font))
    throw new Error(`--style-font ${font}: use one of ${UNSEEN_FONTS.join(", ")}`);
  const batches = sizeList("batch", values.batch!, "8,16,32");
  const source = await loadSourceAtlas();
  const count = values.glyphs === "ks" ? source.chars.length : Number(values.glyphs);
  if (!Number.isInteger(count) || count < 1 || count > source.chars.length)
    throw new Error(`--glyphs ${values.glyphs}: use 1..${source.chars.length} or ks`);
  const chars = source.chars.slice(0, count);
  const style = demoReferences(await loadUnseenAtlas(font), 5);
  const weights = readFileSync(join(packageRoot(), "weights/hangul64-f16.safetensors"));

  const device = await getNodeDevice();
  const t0 = performance.now();
  const funit = await Funit.create(device, new Uint8Array(weights));
  const loadMs = performance.now() - t0;
  const code = await funit.encodeClass(style);
  const results: FontCaseResult[] = [];
  let first: ImageRGBA[] | undefined;
  let ok = true;
  try {
    for (const batch of batches) {
      const cells = (i: number) =>
        chars.slice(i, i + batch).map((ch) => cutCell(source, source.chars.indexOf(ch)));
      // the plan for this batch size is built before anything is timed
      await funit.translate(cells(0), code);
      const te = performance.now();
      for (let i = 0; i < count; i += batch) {
        const part = cells(i);
        while (part.length < batch) part.push(part[part.length - 1]!);
        await funit.translate(part, code);
      }
      const engineOnlyMs = performance.now() - te;

      const bitmaps: ImageRGBA[] = [];
      const made = await generateFont(funit, code, source, chars, {
        names: { family: `Funit ${font}` },
        batchSize: batch,
        onGlyphs: (_, images) => bitmaps.push(...images),
      });
      const maxDiffFromFirst = first ? maxDiff(bitmaps, first) : 0;
      first ??= bitmaps;
      const parsed = parseFont(made.otf.slice().buffer);
      const unmapped = chars.filter((ch) => {
        const g = parsed.charToGlyph(ch);
        return g.index < 2 || g.path.commands.length === 0;
      });
      if (unmapped.length || maxDiffFromFirst > 2) ok = false;
      results.push({
        batch,
        glyphs: made.glyphs,
        engineOnlyMs,
        timings: made.timings,
        glyphsPerSecond: (made.glyphs * 1000) / made.timings.totalMs,
        otfBytes: made.otf.length,
        woff2Bytes: made.woff2?.length ?? 0,
        medianPoints: made.medianPoints,
        maxDiffFromFirst,
      });
    }
  } finally {
    funit.destroy();
    device.destroy();
  }

  if (values.json) console.log(JSON.stringify({ font, loadMs, results, ok }));
  else {
    const s = (ms: number) => (ms / 1000).toFixed(1).padStart(6);
    console.log(`font case: ${count} KS X 1001 syllables in ${font}'s style (K = 5)`);
    console.log(`model load and pipelines ${s(loadMs)} s (not counted below)`);
    console.log(
      "batch  engine alone  font total  glyphs/s   GPU wait   tracing  OTF write  WOFF2" +
        "   OTF bytes  WOFF2 bytes  median pts  max diff",
    );
    for (const r of results) {
      const t = r.timings;
      console.log(
        `${String(r.batch).padStart(5)}  ${s(r.engineOnlyMs)} s    ${s(t.totalMs)} s ` +
          `${r.glyphsPerSecond.toFixed(1).padStart(8)}  ${s(t.gpuWaitMs)} s  ${s(t.traceMs)} s ` +
          `${s(t.writeMs)} s  ${s(t.woff2Ms)} s ${String(r.otfBytes).padStart(10)} ` +
          `${String(r.woff2Bytes).padStart(12)} ${String(r.medianPoints).padStart(11)} ` +
          `${String(r.maxDiffFromFirst).padStart(9)}`,
      );
    }
    console.log(ok ? "outputs checked: ok" : "outputs checked: FAILED");
  }
  return ok ? 0 : 1;
}
