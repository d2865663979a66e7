/**
 * `funit font`: makes an installable font in a held-out font's style (its K = 5 demo references) or
 * in the style of the user's glyph images. Everything that can be wrong on input (arguments, the
 * character set, the output paths, images, weights) fails before the GPU starts; the glyphs are then
 * generated in batches and traced, with a progress bar (glyphs/s, ETA) on a terminal, and the OTF
 * (and WOFF2) are written through temp files and renames only at the end, so a failed or
 * interrupted run (Ctrl-C aborts between glyphs) leaves no file behind.
 */
import { stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import cliProgress from "cli-progress";
import { GLYPH_CELL, UNSEEN_FONTS, demoReferences } from "../glyphs";
import { type ImageRGBA } from "../tensor";
import { InputError, UsageError } from "../errors";
import { fontChars } from "../font/chars";
import { DEFAULT_FONT_BATCH, generateFont, type FontProgress } from "../font/generate";
import { helpText, parseCommand, positiveInteger, requireString, type CommandSpec } from "./args";
import { loadAllHangulAtlas, loadSourceAtlas, loadUnseenAtlas, packageRoot } from "./assets";
import { DEFAULT_DEMO_WEIGHTS } from "./demo";
import { flattenOnWhite, readImageFile, resizeBilinear, writeFilesAtomic } from "./images";
import { checkContentSize, loadWeights, openEngine } from "./session";

export const FONT_COMMAND: CommandSpec = {
  name: "font",
  usage:
    "font (--style-font NAME | --class G1.png …) --out F.otf [--woff2 F.woff2]\n" +
    '[--chars ks|all|TEXT] [--name "Family"] [--weights W] [--batch N]',
  about:
    "Writes every requested Hangul syllable in one style and packages them as an OpenType font.",
  options: {
    "style-font": {
      type: "string",
      value: "NAME",
      help:
        `a held-out font's K = 5 reference glyphs: ${UNSEEN_FONTS.slice(0, 3).join(", ")},\n` +
        UNSEEN_FONTS.slice(3).join(", "),
    },
    class: {
      type: "string",
      multiple: true,
      value: "G1.png …",
      help: "your own glyph images instead (PNG or JPEG, any size: scaled to 64×64)",
    },
    out: { type: "string", value: "F.otf", help: "the OpenType (CFF) font to write" },
    woff2: { type: "string", value: "F", help: "also write it as WOFF2, for web pages" },
    chars: {
      type: "string",
      value: "SET",
      help:
        "ks: the 2,350 KS X 1001 syllables (default); all: the 11,172 modern syllables\n" +
        "U+AC00–U+D7A3; any other text: its distinct syllables",
    },
    name: {
      type: "string",
      value: "FAMILY",
      help: 'family name (default "Funit <font>" or "Funit Custom")',
    },
    weights: {
      type: "string",
      value: "W",
      help: "generator weights (default weights/hangul64-f16.safetensors in the package)",
    },
    batch: {
      type: "string",
      value: "N",
      help: `glyphs per GPU submit (default ${DEFAULT_FONT_BATCH})`,
    },
  },
  notes: "Ctrl-C stops the run and writes nothing.",
};

const K = 5;

async function checkWritable(path: string): Promise<void> {
  const dir = dirname(path);
  if (!(await stat(dir).catch(() => null))?.isDirectory())
    throw new InputError(`cannot write ${path}: directory ${dir} does not exist`);
  if ((await stat(path).catch(() => null))?.isDirectory())
    throw new InputError(`cannot write ${path}: it is a directory`);
}

async function classImages(paths: string[]): Promise<ImageRGBA[]> {
  const images = await Promise.all(paths.map(readImageFile));
  return images.map((img) => resizeBilinear(flattenOnWhite(img), GLYPH_CELL, GLYPH_CELL));
}

function progressBar(): { update(p: FontProgress): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format:
        "font |{bar}| {value}/{total} glyphs | {speed} glyphs/s | ETA {eta_formatted} {phase}",
      hideCursor: true,
      etaBuffer: 64,
    },
    cliProgress.Presets.shades_classic,
  );
  const t0 = performance.now();
  let started = false;
  return {
    update(p) {
      if (p.phase === "generate") {
        const speed = (p.done / ((performance.now() - t0) / 1000)).toFixed(1);
        if (!started) bar.start(p.total, 0, { speed, phase: "" });
        started = true;
        bar.update(p.done, { speed, phase: "" });
      } else if (started) bar.update({ phase: p.phase === "write" ? "writing" : "WOFF2" });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export async function fontCommand(args: string[]): Promise<number> {
  const { values } = parseCommand(FONT_COMMAND, args);
  if (values.help) {
    console.log(helpText(FONT_COMMAND));
    return 0;
  }
  const styleFont = values["style-font"] as string | undefined;
  const classPaths = (values.class as string[] | undefined) ?? [];
  if ((styleFont === undefined) === (classPaths.length === 0))
    throw new UsageError("give either --style-font NAME or --class G1.png …, not both");
  if (styleFont !== undefined && !(UNSEEN_FONTS as readonly string[]).includes(styleFont))
    throw new UsageError(`--style-font '${styleFont}' is not one of ${UNSEEN_FONTS.join(", ")}`);
  const outPath = requireString(values, "out");
  const woff2Path = values.woff2 as string | undefined;
  if (woff2Path === outPath) throw new UsageError("--out and --woff2 are the same file");
  const batch =
    values.batch === undefined
      ? DEFAULT_FONT_BATCH
      : positiveInteger("batch", values.batch as string);
  const family = (values.name as string | undefined) ?? `Funit ${styleFont ?? "Custom"}`;

  // every input check before the GPU starts
  await Promise.all([outPath, woff2Path].filter((p) => p !== undefined).map(checkWritable));
  const ks = await loadSourceAtlas();
  const chars = fontChars((values.chars as string | undefined) ?? "ks", ks.chars);
  const ksSet = new Set(ks.chars);
  const source = chars.every((ch) => ksSet.has(ch)) ? ks : await loadAllHangulAtlas();
  const style =
    styleFont !== undefined
      ? demoReferences(await loadUnseenAtlas(styleFont), K)
      : await classImages(classPaths);
  const weights = await loadWeights(
    (values.weights as string | undefined) ?? join(packageRoot(), DEFAULT_DEMO_WEIGHTS),
  );
  checkContentSize(style[0]!, weights.hyper, `glyph cell (${GLYPH_CELL}x${GLYPH_CELL})`);

  const abort = new AbortController();
  const onSigint = () => abort.abort(new Error("interrupted; nothing written"));
  process.once("SIGINT", onSigint);
  console.error(
    `funit font: ${chars.length} glyphs, ${batch} a batch, in the style of ` +
      (styleFont ?? `${style.length} glyph image${style.length === 1 ? "" : "s"}`),
  );
  const bar = progressBar();
  const engine = await openEngine(weights).catch((e) => {
    process.off("SIGINT", onSigint);
    throw e;
  });
  try {
    const result = await generateFont(engine.funit, style, source, chars, {
      names: { family },
      woff2: woff2Path !== undefined,
      batchSize: batch,
      signal: abort.signal,
      onProgress: (p) => bar.update(p),
    });
    bar.stop();
    abort.signal.throwIfAborted();
    await writeFilesAtomic([
      { path: outPath, bytes: result.otf },
      ...(woff2Path ? [{ path: woff2Path, bytes: result.woff2! }] : []),
    ]);
    const t = result.timings;
    const s = (ms: number) => (ms / 1000).toFixed(1);
    console.log(outPath + (woff2Path ? `\n${woff2Path}` : ""));
    console.log(
      `${result.glyphs} glyphs of "${family}" in ${s(t.totalMs)} s ` +
        `(${((result.glyphs * 1000) / t.totalMs).toFixed(1)} glyphs/s; waiting for the GPU ` +
        `${s(t.gpuWaitMs)} s, tracing ${s(t.traceMs)} s, OTF ${s(t.writeMs)} s, ` +
        `WOFF2 ${s(t.woff2Ms)} s); OTF ${result.otf.length} bytes` +
        (result.woff2 ? `, WOFF2 ${result.woff2.length} bytes` : "") +
        `; median ${result.medianPoints} points a glyph`,
    );
    return 0;
  } catch (e) {
    // the abort's reason, not a DOMException, so the CLI reports it like any input error
    if (abort.signal.aborted) throw abort.signal.reason;
    throw e;
  } finally {
    bar.stop();
    process.off("SIGINT", onSigint);
    engine.close();
  }
}
