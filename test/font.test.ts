/**
 * The font library without a GPU: potrace's path data parsed to absolute commands, the tracer on
 * a synthetic ring (two contours, opposite windings, so the hole stays a hole under nonzero fill),
 * upsampling before thresholding (smoother, so fewer corner points than tracing the raw bitmap
 * would give is not assumed: only that the ink stays where it was), the --chars sets and their
 * refusals, the request checks, the 11,172 atlas against the 2,350 one (the KS X 1001 cells
 * pixel-identical), and fontFromGlyphs on source-font cells: progress, abort, and a font that
 * opentype.js's own parser reads back with every syllable mapped.
 */
import { describe, expect, it } from "vitest";
import { parse as parseFont } from "opentype.js/dist/opentype.mjs";
import { cutCell, glyphOf } from "../src/glyphs";
import { InputError } from "../src/errors";
import { loadAllHangulAtlas, loadSourceAtlas } from "../src/node/assets";
import {
  checkFontRequest,
  createTracer,
  fontChars,
  DEFAULT_FONT_BATCH,
  fontFromGlyphs,
  generateFont,
  postScriptName,
  upsampleThreshold,
  type OutlineCommand,
} from "../src/font";
import { parsePotracePath } from "../src/font/trace";
import { type ImageRGBA } from "../src/tensor";

/** A dark ring (outer radius r1, hole radius r0) on white. */
function ring(size: number, r0: number, r1: number): ImageRGBA {
  const data = new Uint8Array(size * size * 4).fill(255);
  const c = size / 2;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x + 0.5 - c, y + 0.5 - c);
      if (d >= r0 && d <= r1) data.fill(20, (y * size + x) * 4, (y * size + x) * 4 + 3);
    }
  return { width: size, height: size, data };
}

/** Contours of a command list, each as its on-curve points. */
function contours(commands: OutlineCommand[]): [number, number][][] {
  const out: [number, number][][] = [];
  for (const c of commands) {
    if (c.type === "M") out.push([[c.x, c.y]]);
    else if (c.type === "L" || c.type === "C") out[out.length - 1]!.push([c.x, c.y]);
  }
  return out;
}

function signedArea(points: [number, number][]): number {
  let a = 0;
  for (let i = 0; i < points.length; i++) {
    const [x0, y0] = points[i]!;
    const [x1, y1] = points[(i + 1) % points.length]!;
    a += x0 * y1 - x1 * y0;
  }
  return a / 2;
}

describe("potrace path data", () => {
  it("resolves relative segments, repeated command letters and a move after a close", () => {
    const cmds = parsePotracePath("M10 20 c1 2 3 4 5 6 1 1 2 2 3 3 l-4 0 z m5 5 l1 0 1 1z", 0.5);
    expect(cmds).toEqual([
      { type: "M", x: 5, y: 10 },
      { type: "C", x1: 5.5, y1: 11, x2: 6.5, y2: 12, x: 7.5, y: 13 },
      { type: "C", x1: 8, y1: 13.5, x2: 8.5, y2: 14, x: 9, y: 14.5 },
      { type: "L", x: 7, y: 14.5 },
      { type: "Z" },
      // after z the current point is the subpath's start (10, 20), so m5 5 lands on (15, 25)
      { type: "M", x: 7.5, y: 12.5 },
      { type: "L", x: 8, y: 12.5 },
      { type: "L", x: 8.5, y: 13 },
      { type: "Z" },
    ]);
  });

  it("refuses what potrace does not write", () => {
    expect(() => parsePotracePath("M1 2 q1 2 3 4", 1)).toThrow(/unexpected token 'q'/);
    expect(() => parsePotracePath("M1 2 c1 2 3", 1)).toThrow(/truncated/);
  });
});

describe("tracing", () => {
  it("upsamples before thresholding and keeps the ink where it was", () => {
    const img = ring(16, 3, 6);
    const up = upsampleThreshold(img, 4, 128);
    expect([up.width, up.height]).toEqual([64, 64]);
    for (let p = 0; p < up.data.length; p += 4) expect([0, 255]).toContain(up.data[p]);
    const ink = (x: number, y: number) => up.data[(y * 64 + x) * 4] === 0;
    expect(ink(32, 32)).toBe(false); // the hole
    expect(ink(32, 32 + 18)).toBe(true); // the ring, radius 4.5 px × 4
    expect(ink(2, 2)).toBe(false);
  });

  it("upsamples exactly as blending the four nearest cell pixels (bilinear) would", () => {
    // the plain formula: each output pixel blends four cell pixels, then the threshold
    const reference = (img: ImageRGBA, factor: number, x: number, y: number) => {
      const { width: w, height: h, data } = img;
      const lum = (i: number, j: number) => {
        const p = (j * w + i) * 4;
        return 0.299 * data[p]! + 0.587 * data[p + 1]! + 0.114 * data[p + 2]!;
      };
      const sx = Math.min(Math.max((x + 0.5) / factor - 0.5, 0), w - 1);
      const sy = Math.min(Math.max((y + 0.5) / factor - 0.5, 0), h - 1);
      const [x0, y0] = [Math.floor(sx), Math.floor(sy)];
      const [x1, y1] = [Math.min(x0 + 1, w - 1), Math.min(y0 + 1, h - 1)];
      const [fx, fy] = [sx - x0, sy - y0];
      const top = lum(x0, y0) * (1 - fx) + lum(x1, y0) * fx;
      const bottom = lum(x0, y1) * (1 - fx) + lum(x1, y1) * fx;
      return top * (1 - fy) + bottom * fy;
    };
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 255;
    for (const [w, h, factor] of [
      [16, 16, 4],
      [9, 13, 3],
      [7, 5, 1],
      [12, 8, 5],
    ] as const) {
      // noise, and a blurred disc (long runs of paper and of ink, as glyphs have)
      const noise = Uint8Array.from({ length: w * h * 4 }, random);
      const disc = ring(Math.max(w, h), 0, Math.max(w, h) / 3).data.slice(0, w * h * 4);
      for (const data of [noise, disc]) {
        const img = { width: w, height: h, data };
        const threshold = 100 + random() / 4;
        const up = upsampleThreshold(img, factor, threshold);
        expect([up.width, up.height]).toEqual([w * factor, h * factor]);
        let compared = 0;
        for (let y = 0; y < h * factor; y++)
          for (let x = 0; x < w * factor; x++) {
            const v = reference(img, factor, x, y);
            const p = (y * w * factor + x) * 4;
            expect(up.data[p + 3]).toBe(255);
            expect(up.data[p + 1]).toBe(up.data[p]);
            // float rounding may differ right at the threshold only
            if (Math.abs(v - threshold) < 1e-3) continue;
            expect(up.data[p], `${w}x${h} x${factor} at ${x},${y}`).toBe(v < threshold ? 0 : 255);
            compared++;
          }
        expect(compared).toBeGreaterThan(0.99 * w * h * factor * factor);
      }
    }
  });

  it("joins curves within the curve tolerance: fewer points for a larger one", async () => {
    // source-font glyphs: strokes and corners, whose upsampled edges potrace follows closely at 0
    const source = await loadSourceAtlas();
    const cells = [0, 500, 1000, 1500, 2000].map((i) => cutCell(source, i));
    const points = await Promise.all(
      [0, 0.25, 2].map(async (curveTolerance) => {
        const tracer = await createTracer({ curveTolerance });
        let sum = 0;
        for (const cell of cells) sum += (await tracer.trace(cell)).points;
        return sum;
      }),
    );
    expect(points[1]).toBeLessThan(points[0]!);
    expect(points[2]).toBeLessThan(points[1]!);
    await expect(createTracer({ curveTolerance: -1 })).rejects.toThrow(/curveTolerance/);
  });

  it("traces a ring as an outer contour and a hole wound the other way", async () => {
    const tracer = await createTracer();
    const { commands, points } = await tracer.trace(ring(64, 10, 24));
    const cs = contours(commands);
    expect(cs).toHaveLength(2);
    const areas = cs.map(signedArea).sort((a, b) => Math.abs(b) - Math.abs(a));
    expect(Math.sign(areas[0]!)).toBe(-Math.sign(areas[1]!));
    // areas in cell pixels: π r², within the pixelation of the disc
    expect(Math.abs(areas[0]!)).toBeCloseTo(Math.PI * 24 * 24, -2);
    expect(Math.abs(areas[1]!)).toBeCloseTo(Math.PI * 10 * 10, -2);
    expect(points).toBe(
      commands.reduce((n, c) => n + (c.type === "C" ? 3 : c.type === "Z" ? 0 : 1), 0),
    );
    for (const c of commands) if (c.type !== "Z") expect(c.y).toBeGreaterThanOrEqual(0);
  });

  it("refuses bad options before loading anything", async () => {
    await expect(createTracer({ upsample: 0 })).rejects.toThrow(InputError);
    await expect(createTracer({ threshold: 300 })).rejects.toThrow(/threshold/);
  });
});

describe("character sets", () => {
  const ks = ["가", "각"];
  it("ks, all and a text's distinct syllables", () => {
    expect(fontChars("ks", ks)).toEqual(ks);
    const all = fontChars("all", ks);
    expect(all).toHaveLength(11172);
    expect(all[0]).toBe("\uac00");
    expect(all[11171]).toBe("\ud7a3");
    expect(fontChars("퓨샷 폰트 퓨샷", ks)).toEqual(["퓨", "샷", "폰", "트"]);
  });
  it("names what is not a syllable", () => {
    expect(() => fontChars("가a나", ks)).toThrow(/'a' \(U\+0061\)/);
    expect(() => fontChars("ㄱ", ks)).toThrow(/U\+3131/);
    expect(() => fontChars("  ", ks)).toThrow(InputError);
  });
  it("checks the request", () => {
    expect(() => checkFontRequest({ family: " " }, ["가"])).toThrow(/family name is empty/);
    expect(() => checkFontRequest({ family: "F" }, [])).toThrow(/no characters/);
    expect(() => checkFontRequest({ family: "F" }, ["가", "가"])).toThrow(/twice/);
    expect(postScriptName("퓨샷 Font 1")).toBe("Font1-Regular");
    expect(postScriptName("퓨샷")).toBe("FunitFont-Regular");
  });
});

describe("the 11,172-syllable atlas", () => {
  it("holds U+AC00..U+D7A3 in order, its KS X 1001 cells equal to the 2,350 atlas's", async () => {
    const [ks, all] = await Promise.all([loadSourceAtlas(), loadAllHangulAtlas()]);
    expect(all.chars).toEqual(fontChars("all", []));
    const index = new Map(all.chars.map((ch, i) => [ch, i]));
    for (let i = 0; i < ks.chars.length; i++) {
      const a = cutCell(ks, i);
      const b = cutCell(all, index.get(ks.chars[i]!)!);
      expect(Buffer.compare(Buffer.from(a.data), Buffer.from(b.data)), ks.chars[i]).toBe(0);
    }
  });
});

describe("fontFromGlyphs", () => {
  const text = "퓨샷폰트생성가나다";
  it("writes a font that a parser reads back, with progress", async () => {
    const source = await loadSourceAtlas();
    const glyphs = [...text].map((char) => ({ char, image: glyphOf(source, char) }));
    const phases: string[] = [];
    const result = await fontFromGlyphs(glyphs, {
      names: { family: "Funit Test" },
      onProgress: (p) => phases.push(`${p.phase} ${p.done}/${p.total}`),
    });
    expect(phases).toEqual(["trace 9/9", "write 0/1", "write 1/1", "woff2 0/1", "woff2 1/1"]);
    expect(result.glyphs).toBe(9);
    expect(result.medianPoints).toBeGreaterThan(10);
    expect([...result.woff2!.subarray(0, 4)]).toEqual([0x77, 0x4f, 0x46, 0x32]); // "wOF2"
    const font = parseFont(result.otf.slice().buffer);
    expect(font.unitsPerEm).toBe(1000);
    for (const ch of text) {
      const g = font.charToGlyph(ch);
      expect(g.index, ch).toBeGreaterThan(1);
      expect(g.advanceWidth).toBe(1000);
      expect(g.path.commands.length, ch).toBeGreaterThan(4);
    }
  });

  it("stops at an abort between glyphs and returns nothing", async () => {
    const source = await loadSourceAtlas();
    const glyphs = source.chars
      .slice(0, 130)
      .map((char) => ({ char, image: glyphOf(source, char) }));
    const abort = new AbortController();
    let calls = 0;
    const run = fontFromGlyphs(glyphs, {
      names: { family: "Funit Test" },
      signal: abort.signal,
      onProgress: () => {
        calls++;
        abort.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: "AbortError" });
    expect(calls).toBe(1);
  });

  it("refuses a glyph with no ink", async () => {
    const blank = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 4).fill(255) };
    await expect(
      fontFromGlyphs([{ char: "가", image: blank }], { names: { family: "F" } }),
    ).rejects.toThrow(/'가' \(U\+AC00\) has no ink/);
  });
});

describe("generateFont's batches", () => {
  /** An engine that records each translation's batch and returns the content cells unchanged. */
  function recordingEngine(sizes: number[]) {
    return {
      encodeClass: async () => new Float32Array(64),
      translate: async (contents: ImageRGBA[]) => {
        sizes.push(contents.length);
        return contents;
      },
    };
  }

  it("translates a short text as one batch of its own size, a long one in full batches", async () => {
    const source = await loadSourceAtlas();
    const sizes: number[] = [];
    const engine = recordingEngine(sizes);
    const names = { family: "Funit Test" };
    await generateFont(engine, new Float32Array(64), source, [..."가나다"], {
      names,
      woff2: false,
    });
    expect(sizes).toEqual([3]);
    sizes.length = 0;
    const many = source.chars.slice(0, DEFAULT_FONT_BATCH + 5);
    const result = await generateFont(engine, new Float32Array(64), source, many, {
      names,
      woff2: false,
    });
    // the last batch is padded to the full size, so one plan serves every batch
    expect(sizes).toEqual([DEFAULT_FONT_BATCH, DEFAULT_FONT_BATCH]);
    expect(result.glyphs).toBe(many.length);
  });
});
