/**
 * The generated font checked by tools we did not write. The engine (hangul64 weights, a held-out
 * font's K = 5 references) writes 200 KS X 1001 syllables spread over the list; the font is then
 * judged by ots-sanitize (the sanitizer browsers run on web fonts) on the OTF and the WOFF2, by
 * fontTools (both open, every requested code point maps to a glyph with an outline, the metrics and
 * names the writer promises, no invented licence), by FreeType through Pillow (each glyph rendered
 * at the cell's scale, 64 px/em, matches the engine's bitmap of that syllable: ink IoU ≥ 0.85 for
 * every one of the 200), and by headless Chromium (the WOFF2 loaded through FontFace draws text
 * whose ink lies where the engine's glyphs' ink lies). Needs Debian's opentype-sanitizer,
 * python3-fonttools and python3-pil (.ci/install-system); FUNIT_PYTHON picks the interpreter.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Funit } from "../src/engine";
import { composeGrid, demoReferences, GLYPH_CELL } from "../src/glyphs";
import { encodePng } from "../src/node/images";
import { loadSourceAtlas, loadUnseenAtlas, packageRoot } from "../src/node/assets";
import { generateFont, HANGUL64_METRICS, type FontResult } from "../src/font";
import { type ImageRGBA } from "../src/tensor";
import { withDevice } from "./helpers/gpu";
import { launchChromium } from "./helpers/chromium";

const PYTHON = process.env.FUNIT_PYTHON ?? "/usr/bin/python3";
const FAMILY = "Funit Tools Test";
const SAMPLE = 200;
const PER_ROW = 20;
const MIN_IOU = 0.85;

let dir: string;
let chars: string[];
let engineGlyphs: Map<string, ImageRGBA>;
let result: FontResult;
let otfPath: string;
let woff2Path: string;
let bitmapsPath: string;

/** Ink (luminance < 128) intersection over union of two same-size RGBA images. */
function inkIoU(a: ImageRGBA, b: ImageRGBA): number {
  let inter = 0;
  let union = 0;
  for (let p = 0; p < a.data.length; p += 4) {
    const ia = a.data[p]! + a.data[p + 1]! + a.data[p + 2]! < 3 * 128;
    const ib = b.data[p]! + b.data[p + 1]! + b.data[p + 2]! < 3 * 128;
    if (ia && ib) inter++;
    if (ia || ib) union++;
  }
  return union === 0 ? 0 : inter / union;
}

function python(script: string, ...args: string[]): unknown {
  const out = execFileSync(PYTHON, ["-c", script, ...args], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  return JSON.parse(out);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "funit-font-"));
  const [source, unseen] = await Promise.all([loadSourceAtlas(), loadUnseenAtlas("NanumPen")]);
  const step = Math.floor(source.chars.length / SAMPLE);
  chars = Array.from({ length: SAMPLE }, (_, i) => source.chars[i * step]!);
  const weights = new Uint8Array(
    readFileSync(join(packageRoot(), "weights/hangul64-f16.safetensors")),
  );
  engineGlyphs = new Map();
  result = await withDevice(async (device) => {
    const funit = await Funit.create(device, weights);
    try {
      return await generateFont(funit, demoReferences(unseen, 5), source, chars, {
        names: { family: FAMILY },
        onGlyphs: (cs, images) => cs.forEach((ch, i) => engineGlyphs.set(ch, images[i]!)),
      });
    } finally {
      funit.destroy();
    }
  });
  otfPath = join(dir, "test.otf");
  woff2Path = join(dir, "test.woff2");
  bitmapsPath = join(dir, "bitmaps.png");
  writeFileSync(otfPath, result.otf);
  writeFileSync(woff2Path, result.woff2!);
  const rows: ImageRGBA[][] = [];
  chars.forEach((ch, i) => (rows[Math.floor(i / PER_ROW)] ??= []).push(engineGlyphs.get(ch)!));
  writeFileSync(bitmapsPath, encodePng(composeGrid(rows, GLYPH_CELL, GLYPH_CELL)));
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a generated font, checked by other tools", () => {
  it("ots-sanitize accepts the OTF and the WOFF2", () => {
    for (const path of [otfPath, woff2Path]) {
      const r = spawnSync("ots-sanitize", [path], { encoding: "utf8" });
      expect(r.status, `${path}: ${r.stdout}${r.stderr}`).toBe(0);
    }
  });

  it("fontTools opens both; every code point maps to a glyph with an outline", () => {
    const report = python(
      `
import json, sys
from fontTools.ttLib import TTFont
from fontTools.pens.boundsPen import BoundsPen
out = {}
for path in sys.argv[2:]:
    f = TTFont(path)
    cmap = f.getBestCmap()
    gs = f.getGlyphSet()
    empty, advances = [], set()
    for cp in json.loads(sys.argv[1]):
        name = cmap.get(cp)
        pen = BoundsPen(gs)
        if name is None:
            empty.append(cp); continue
        gs[name].draw(pen)
        if pen.bounds is None: empty.append(cp)
        advances.add(f["hmtx"][name][0])
    names = {n.nameID: n.toUnicode() for n in f["name"].names if n.platformID == 3}
    out[path] = dict(
        tables=sorted(f.keys()), unitsPerEm=f["head"].unitsPerEm,
        ascent=f["hhea"].ascent, descent=f["hhea"].descent,
        typo=[f["OS/2"].sTypoAscender, f["OS/2"].sTypoDescender],
        win=[f["OS/2"].usWinAscent, f["OS/2"].usWinDescent],
        glyphOrder=f.getGlyphOrder()[:2], space=cmap.get(32), empty=empty,
        advances=sorted(advances), names=names)
print(json.dumps(out))
`,
      JSON.stringify(chars.map((ch) => ch.codePointAt(0))),
      otfPath,
      woff2Path,
    ) as Record<string, Record<string, unknown>>;
    const ascender = HANGUL64_METRICS.baseline * (1000 / HANGUL64_METRICS.cell);
    for (const path of [otfPath, woff2Path]) {
      const f = report[path]!;
      expect(f.empty, path).toEqual([]);
      expect(f.tables).toEqual(
        expect.arrayContaining(["CFF ", "OS/2", "cmap", "head", "hhea", "hmtx", "name", "post"]),
      );
      expect(f.unitsPerEm).toBe(1000);
      expect(f.ascent).toBe(Math.round(ascender));
      expect((f.ascent as number) - (f.descent as number)).toBe(1000);
      expect(f.typo).toEqual([f.ascent, f.descent]);
      expect(f.win).toEqual([f.ascent, -(f.descent as number)]);
      expect(f.glyphOrder).toEqual([".notdef", "space"]);
      expect(f.space).toBe("space");
      expect(f.advances).toEqual([1000]);
      const names = f.names as Record<string, string>;
      expect(names["1"]).toBe(FAMILY);
      expect(names["5"]).toMatch(/^Version \d+\.\d+/);
      for (const id of ["0", "7", "8", "9", "10", "11", "12", "13", "14"])
        expect(names[id], `name ID ${id}`).toBeUndefined();
    }
  });

  it("FreeType renders each glyph at 64 px/em where the engine's bitmap has its ink", () => {
    const renders = python(
      `
import json, sys
from PIL import Image, ImageDraw, ImageFont
font = ImageFont.truetype(sys.argv[1], ${GLYPH_CELL})
out = []
for ch in json.loads(sys.argv[2]):
    im = Image.new("L", (${GLYPH_CELL}, ${GLYPH_CELL}), 255)
    ImageDraw.Draw(im).text((0, ${HANGUL64_METRICS.baseline}), ch, font=font, fill=0, anchor="ls")
    out.append(im.tobytes().hex())
print(json.dumps(out))
`,
      otfPath,
      JSON.stringify(chars),
    ) as string[];
    const ious = renders.map((hex, i) => {
      const grey = Buffer.from(hex, "hex");
      const data = new Uint8Array(grey.length * 4);
      grey.forEach((v, p) => data.fill(v, p * 4, p * 4 + 3));
      return inkIoU({ width: GLYPH_CELL, height: GLYPH_CELL, data }, engineGlyphs.get(chars[i]!)!);
    });
    expect(ious).toHaveLength(SAMPLE);
    const worst = Math.min(...ious);
    expect(worst, `worst ${chars[ious.indexOf(worst)]}`).toBeGreaterThanOrEqual(MIN_IOU);
  });

  it("Chromium draws the WOFF2, loaded through FontFace, where the engine's glyphs have ink", async () => {
    const shown = chars.slice(0, 12);
    const { browser, close } = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setContent("<canvas></canvas>");
      const drawn = await page.evaluate(
        async (b64: string, text: string[], family: string, cell: number, baseline: number) => {
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const face = new FontFace(family, bytes);
          await face.load();
          // lib.dom types FontFaceSet without its set-like add()
          (document.fonts as unknown as Set<FontFace>).add(face);
          const canvas = document.querySelector("canvas")!;
          canvas.width = cell * text.length;
          canvas.height = cell;
          const ctx = canvas.getContext("2d")!;
          ctx.fillStyle = "#fff";
          ctx.fillRect(0, 0, canvas.width, canvas.height);
          ctx.fillStyle = "#000";
          ctx.font = `${cell}px "${family}"`;
          ctx.textBaseline = "alphabetic";
          text.forEach((ch, i) => ctx.fillText(ch, i * cell, baseline));
          const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
          return { status: face.status, used: document.fonts.check(ctx.font), data: [...data] };
        },
        Buffer.from(result.woff2!).toString("base64"),
        shown,
        FAMILY,
        GLYPH_CELL,
        HANGUL64_METRICS.baseline,
      );
      expect(drawn.status).toBe("loaded");
      expect(drawn.used).toBe(true);
      const width = GLYPH_CELL * shown.length;
      shown.forEach((ch, i) => {
        const data = new Uint8Array(GLYPH_CELL * GLYPH_CELL * 4);
        for (let y = 0; y < GLYPH_CELL; y++)
          for (let x = 0; x < GLYPH_CELL * 4; x++)
            data[y * GLYPH_CELL * 4 + x] = drawn.data[(y * width + i * GLYPH_CELL) * 4 + x]!;
        const cell = { width: GLYPH_CELL, height: GLYPH_CELL, data };
        expect(inkIoU(cell, engineGlyphs.get(ch)!), ch).toBeGreaterThanOrEqual(MIN_IOU);
      });
    } finally {
      await close();
    }
  }, 120_000);

  it("reports the generation's figures", () => {
    expect(result.glyphs).toBe(SAMPLE);
    expect(result.medianPoints).toBeGreaterThan(0);
    expect(result.timings.totalMs).toBeGreaterThanOrEqual(
      result.timings.gpuWaitMs + result.timings.traceMs,
    );
  });
});
