/**
 * The demo page in headless Chromium (WebGPU on SwiftShader), checked against the Node engine (Dawn
 * on lavapipe). The page generates a phrase in a held-out font and from glyphs drawn on its pad with
 * the mouse; the test reads back, through `window.funitDemo`, the exact pixels that went in (content
 * and reference glyphs as the page decoded or drew them) and came out, and recomputes the outputs
 * with the Node engine from the same pixels and the same weights. Also: syllables outside the
 * source atlas are reported, a style survives export → import as its 64 numbers, and a browser
 * without WebGPU gets a message instead of errors. A screenshot of the page with generated text is
 * saved to out/test-artifacts/demo-page.png.
 *
 * Tolerance: page and Node both compute in f32 from the same f16 weights, but with different
 * convolution kernels (SwiftShader gets conv2d_direct, lavapipe conv2d_subgroup) that sum in
 * different orders, so activations differ by float rounding (~1e-6 relative). Before the output is
 * rounded to 8 bits that can only move a value that sits near a rounding boundary, by one level:
 * we allow at most 1 level of 255 on any channel and expect nearly every pixel to match exactly
 * (≤ 1% differing). The class codes agree within 1e-4.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import type { Browser, Page } from "puppeteer-core";
import { Funit } from "../src/engine";
import { demoReferences, glyphOf } from "../src/glyphs";
import { loadSourceAtlas, loadUnseenAtlas, packageRoot } from "../src/node/assets";
import { encodePng } from "../src/node/images";
import { interpolateClassCodes } from "../src/style";
import type { ImageRGBA } from "../src/tensor";
import { launchChromium } from "./helpers/chromium";
import { withDevice } from "./helpers/gpu";
// @ts-expect-error: a plain .mjs helper without type declarations
import { serveDirectory } from "../scripts/static-server.mjs";

const ROOT = packageRoot();
const SCREENSHOT = join(ROOT, "out", "test-artifacts", "demo-page.png");
const PHRASE = "퓨샷 폰트";
const FONT = "Bandal";
const K = 5;
/** Largest allowed difference of one channel between the page's and Node's output, in 8-bit levels. */
const MAX_LEVELS = 1;
/** Largest allowed share of pixels that differ at all. */
const MAX_DIFFERING = 0.01;

interface PlainImage {
  width: number;
  height: number;
  data: number[];
}
interface PageRun {
  text: string;
  source: string;
  references: PlainImage[];
  code: number[];
  glyphs: { ch: string; content: PlainImage; output: PlainImage }[];
  missing: string[];
  msPerGlyph: number;
  cancelled: boolean;
}

const image = (p: PlainImage): ImageRGBA => ({
  width: p.width,
  height: p.height,
  data: Uint8Array.from(p.data),
});

let server: { url: string; close: () => Promise<void> };
let chromium: { browser: Browser; close: () => Promise<void> };
let page: Page;
let funit: Funit;
const pageErrors: string[] = [];

async function openPage(): Promise<Page> {
  const p = await chromium.browser.newPage();
  p.on("pageerror", (e) => pageErrors.push(String(e)));
  p.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(m.text());
  });
  await p.setViewport({ width: 1200, height: 860 });
  await p.goto(`${server.url}web/`);
  return p;
}

/** Presses Export and waits for its message (cleared first, so a previous one cannot answer). */
async function exportStyle(p: Page): Promise<void> {
  await p.$eval("#code-message", (el) => {
    el.textContent = "";
  });
  await p.click("#export");
  await p.waitForFunction(() => document.getElementById("code-message")!.textContent !== "");
  expect(await p.$eval("#code-message", (el) => el.textContent)).toMatch(/^exported 64 numbers/);
}

const generate = (p: Page) =>
  p.evaluate(() => (window as any).funitDemo.generate()) as Promise<PageRun>;

async function setText(p: Page, text: string): Promise<void> {
  await p.$eval(
    "#text",
    (el, t) => {
      (el as HTMLInputElement).value = t;
    },
    text,
  );
}

async function pickFont(p: Page, font: string, k: number): Promise<void> {
  await p.click("input[name=source][value=font]");
  await p.select("#font", font);
  await p.$eval(
    "#k",
    (el, v) => {
      (el as HTMLInputElement).value = String(v);
      el.dispatchEvent(new Event("input"));
    },
    k,
  );
}

/** The Node engine's outputs for the page's inputs, compared with the page's outputs. */
async function compareWithNode(
  run: PageRun,
): Promise<{ maxLevels: number; differing: number; codeErr: number; outputs: ImageRGBA[] }> {
  return withDevice(async () => {
    const code = await funit.encodeClass(run.references.map(image));
    const outputs = await funit.translate(
      run.glyphs.map((g) => image(g.content)),
      code,
    );
    let maxLevels = 0;
    let differing = 0;
    let pixels = 0;
    run.glyphs.forEach((g, i) => {
      const a = g.output.data;
      const b = outputs[i]!.data;
      expect(a.length).toBe(b.length);
      for (let p = 0; p < a.length; p += 4) {
        let d = 0;
        for (let c = 0; c < 4; c++) d = Math.max(d, Math.abs(a[p + c]! - b[p + c]!));
        maxLevels = Math.max(maxLevels, d);
        if (d > 0) differing++;
        pixels++;
      }
    });
    const codeErr = Math.max(...run.code.map((v, i) => Math.abs(v - code[i]!)));
    return { maxLevels, differing: differing / pixels, codeErr, outputs };
  });
}

/** Mean absolute difference between two sets of glyphs, in levels. */
function meanDifference(a: ImageRGBA[], b: ImageRGBA[]): number {
  let sum = 0;
  let n = 0;
  a.forEach((img, i) =>
    img.data.forEach((v, j) => {
      sum += Math.abs(v - b[i]!.data[j]!);
      n++;
    }),
  );
  return sum / n;
}

beforeAll(async () => {
  // The page loads dist/web/demo.js: build it, so this file also passes when run on its own.
  execFileSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { cwd: ROOT, stdio: "pipe" });
  server = await serveDirectory(ROOT);
  chromium = await launchChromium();
  page = await openPage();
  await page.evaluate(() => (window as any).funitDemo.ready);
  funit = await withDevice((device) =>
    Funit.create(
      device,
      new Uint8Array(readFileSync(join(ROOT, "weights/hangul64-f16.safetensors"))),
    ),
  );
}, 180_000);

afterAll(async () => {
  funit?.destroy();
  await chromium?.close();
  await server?.close();
});

describe("demo page in Chromium (WebGPU on SwiftShader)", () => {
  let fontRun: PageRun;

  it("loads the model and shows the adapter", async () => {
    const ready = await page.evaluate(() => (window as any).funitDemo.ready);
    expect(ready).toMatchObject({ ok: true, latentDim: 64 });
    expect(await page.$eval("#adapter", (el) => el.textContent)).toMatch(
      /Adapter: .*convolution kernel: (direct|tiled|subgroup)/,
    );
    expect(await page.$eval("#generate", (el) => (el as HTMLButtonElement).disabled)).toBe(false);
  });

  it(`writes '${PHRASE}' in ${FONT} (K = ${K}) as the Node engine does, and saves a screenshot`, async () => {
    await setText(page, PHRASE);
    await pickFont(page, FONT, K);
    fontRun = await generate(page);
    expect(fontRun.cancelled).toBe(false);
    expect(fontRun.missing).toEqual([]);
    expect(fontRun.glyphs.map((g) => g.ch)).toEqual(["퓨", "샷", "폰", "트"]);
    expect(fontRun.references).toHaveLength(K);

    // The page decoded the PNG atlases to the same pixels as Node's decoder.
    const source = await loadSourceAtlas();
    for (const g of fontRun.glyphs)
      expect(
        Buffer.from(image(g.content).data).equals(Buffer.from(glyphOf(source, g.ch).data)),
      ).toBe(true);
    const atlas = await loadUnseenAtlas(FONT);
    const refs = demoReferences(atlas, K);
    fontRun.references.forEach((r, i) =>
      expect(Buffer.from(image(r).data).equals(Buffer.from(refs[i]!.data))).toBe(true),
    );

    const { maxLevels, differing, codeErr } = await compareWithNode(fontRun);
    console.log(
      `${FONT}: page vs Node: class code max abs diff ${codeErr.toExponential(2)}, max ${maxLevels} level(s), ${(differing * 100).toFixed(3)}% of pixels differ; ${fontRun.msPerGlyph.toFixed(0)} ms per glyph in the page`,
    );
    expect(codeErr).toBeLessThanOrEqual(1e-4);
    expect(maxLevels).toBeLessThanOrEqual(MAX_LEVELS);
    expect(differing).toBeLessThanOrEqual(MAX_DIFFERING);

    // What the canvas shows is the generated glyphs, placed in reading order with the space a gap.
    const shown = await page.$eval("#output", (c) => {
      const canvas = c as HTMLCanvasElement;
      return {
        width: canvas.width,
        height: canvas.height,
        data: Array.from(
          canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data,
        ),
      };
    });
    expect([shown.width, shown.height]).toEqual([5 * 64, 64]);
    const cellOf = (col: number) => {
      const data: number[] = [];
      for (let y = 0; y < 64; y++)
        data.push(
          ...shown.data.slice(
            (y * shown.width + col * 64) * 4,
            (y * shown.width + col * 64 + 64) * 4,
          ),
        );
      return data;
    };
    [0, 1, 3, 4].forEach((col, i) => expect(cellOf(col)).toEqual(fontRun.glyphs[i]!.output.data));
    expect(cellOf(2).every((v) => v === 255)).toBe(true);

    rmSync(SCREENSHOT, { force: true });
    mkdirSync(join(ROOT, "out", "test-artifacts"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT as `${string}.png`, fullPage: true });
    const png = PNG.sync.read(readFileSync(SCREENSHOT));
    expect(png.width).toBeGreaterThanOrEqual(800);
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(20_000);
  });

  it("uses glyphs drawn on the pad with the mouse as the style", async () => {
    await page.click("input[name=source][value=draw]"); // shows the pad
    const pad = (await (await page.$("#pad"))!.boundingBox())!;
    // Three "glyphs" of strokes: a box, a cross and a zig-zag, in pad coordinates (0..1).
    const glyphs: [number, number][][][] = [
      [
        [
          [0.2, 0.2],
          [0.8, 0.2],
          [0.8, 0.8],
          [0.2, 0.8],
          [0.2, 0.2],
        ],
      ],
      [
        [
          [0.5, 0.1],
          [0.5, 0.9],
        ],
        [
          [0.1, 0.5],
          [0.9, 0.5],
        ],
      ],
      [
        [
          [0.1, 0.2],
          [0.9, 0.3],
          [0.1, 0.6],
          [0.9, 0.8],
        ],
      ],
    ];
    for (const strokes of glyphs) {
      for (const stroke of strokes) {
        const [x0, y0] = stroke[0]!;
        await page.mouse.move(pad.x + x0 * pad.width, pad.y + y0 * pad.height);
        await page.mouse.down();
        for (const [x, y] of stroke.slice(1))
          await page.mouse.move(pad.x + x * pad.width, pad.y + y * pad.height, { steps: 8 });
        await page.mouse.up();
      }
      await page.click("#pad-add");
    }
    expect(
      await page.$eval("input[name=source]:checked", (el) => (el as HTMLInputElement).value),
    ).toBe("draw");
    expect(await page.$$eval("#draw-refs canvas", (els) => els.length)).toBe(3);

    const run = await generate(page);
    expect(run.source).toBe("draw");
    expect(run.references).toHaveLength(3);
    for (const r of run.references) {
      const ink = r.data.filter((v, i) => i % 4 === 0 && v < 128).length;
      expect(ink).toBeGreaterThan(64 * 64 * 0.03); // the strokes are there, not a blank pad
    }
    const { maxLevels, differing, codeErr } = await compareWithNode(run);
    console.log(
      `drawn style: page vs Node: class code max abs diff ${codeErr.toExponential(2)}, max ${maxLevels} level(s), ${(differing * 100).toFixed(3)}% of pixels differ`,
    );
    expect(codeErr).toBeLessThanOrEqual(1e-4);
    expect(maxLevels).toBeLessThanOrEqual(MAX_LEVELS);
    expect(differing).toBeLessThanOrEqual(MAX_DIFFERING);

    // The drawn style really is used: the same syllables come out differently than in the font.
    expect(run.glyphs.map((g) => g.ch)).toEqual(fontRun.glyphs.map((g) => g.ch));
    expect(
      meanDifference(
        run.glyphs.map((g) => image(g.output)),
        fontRun.glyphs.map((g) => image(g.output)),
      ),
    ).toBeGreaterThan(5);
  });

  it("reports syllables outside the source atlas and non-Hangul characters, and still writes the rest", async () => {
    await setText(page, "가쀍A");
    await pickFont(page, FONT, K);
    const run = await generate(page);
    expect(run.missing).toEqual(["쀍", "A"]);
    expect(run.glyphs.map((g) => g.ch)).toEqual(["가"]);
    const message = await page.$eval("#report", (el) => ({
      text: el.textContent,
      hidden: (el as HTMLElement).hidden,
    }));
    expect(message.hidden).toBe(false);
    expect(message.text).toContain("'쀍' (U+C00D)");
    expect(message.text).toContain("'A' (U+0041)");
  });

  it("exports a style as its 64 numbers and imports it back to the same output", async () => {
    await setText(page, "퓨");
    await pickFont(page, FONT, K);
    await exportStyle(page);
    const exported = await page.$eval("#code", (el) => (el as HTMLTextAreaElement).value);
    const numbers = JSON.parse(exported) as number[];
    expect(numbers).toHaveLength(64);
    expect(Float32Array.from(numbers)).toEqual(Float32Array.from(fontRun.code));

    // Switch to another font, then import the exported text: the output is the Bandal one again.
    await pickFont(page, "hline", K);
    await page.$eval(
      "#code",
      (el, t) => {
        (el as HTMLTextAreaElement).value = t;
      },
      exported,
    );
    await page.click("#import");
    expect(
      await page.$eval("input[name=source]:checked", (el) => (el as HTMLInputElement).value),
    ).toBe("imported");
    const run = await generate(page);
    expect(run.source).toBe("imported");
    expect(run.glyphs[0]!.output.data).toEqual(fontRun.glyphs[0]!.output.data);

    // A wrong count of numbers, or not numbers at all, is refused with a message that says why.
    await page.$eval("#code", (el) => {
      (el as HTMLTextAreaElement).value = "[1, 2, 3]";
    });
    await page.click("#import");
    expect(await page.$eval("#code-message", (el) => el.textContent)).toMatch(
      /cannot import: class code has 3 numbers, the model needs 64/,
    );
    await page.$eval("#code", (el) => {
      (el as HTMLTextAreaElement).value = "bold please";
    });
    await page.click("#import");
    expect(await page.$eval("#code-message", (el) => el.textContent)).toMatch(
      /cannot import: class code is not valid JSON/,
    );
  });

  it("blends two fonts' class codes with the slider", async () => {
    await pickFont(page, FONT, K);
    await page.select("#blend-font", "hline");
    // "input" moves the slider without letting go of it (letting go regenerates the text).
    await page.$eval("#blend", (el) => {
      (el as HTMLInputElement).value = "0.25";
      el.dispatchEvent(new Event("input"));
    });
    await exportStyle(page);
    const blended = JSON.parse(
      await page.$eval("#code", (el) => (el as HTMLTextAreaElement).value),
    ) as number[];
    await page.select("#blend-font", "");

    const refsOf = async (font: string) => demoReferences(await loadUnseenAtlas(font), K);
    const expected = await withDevice(async () =>
      interpolateClassCodes(
        await funit.encodeClass(await refsOf(FONT)),
        await funit.encodeClass(await refsOf("hline")),
        0.25,
      ),
    );
    expect(blended).toHaveLength(64);
    expect(Math.max(...blended.map((v, i) => Math.abs(v - expected[i]!)))).toBeLessThanOrEqual(
      1e-4,
    );
  });

  it("takes uploaded glyph images of any size, transparent ones included, as 64×64 grey on white", async () => {
    // Two Bandal glyphs at 128×128 as black ink on a transparent background.
    const atlas = await loadUnseenAtlas(FONT);
    const originals = atlas.chars.slice(0, 2).map((ch) => glyphOf(atlas, ch));
    const dir = mkdtempSync(join(tmpdir(), "funit-upload-"));
    const files = originals.map((g, n) => {
      const big = new Uint8Array(128 * 128 * 4);
      for (let y = 0; y < 128; y++) {
        for (let x = 0; x < 128; x++)
          big[(y * 128 + x) * 4 + 3] = 255 - g.data[((y >> 1) * 64 + (x >> 1)) * 4]!;
      }
      const path = join(dir, `glyph-${n}.png`);
      writeFileSync(path, encodePng({ width: 128, height: 128, data: big }));
      return path;
    });
    await page.click("input[name=source][value=upload]");
    await (await page.$("input#upload"))!.uploadFile(...files);
    await page.waitForFunction(() => document.querySelectorAll("#upload-refs canvas").length === 2);
    rmSync(dir, { recursive: true, force: true });
    expect(
      await page.$eval("input[name=source]:checked", (el) => (el as HTMLInputElement).value),
    ).toBe("upload");

    await exportStyle(page);
    const code = JSON.parse(
      await page.$eval("#code", (el) => (el as HTMLTextAreaElement).value),
    ) as number[];
    // The page's own reference pixels, through the hook's run of one syllable.
    await setText(page, "가");
    const run = await generate(page);
    expect(run.source).toBe("upload");
    expect(run.code).toEqual(code);
    run.references.forEach((r, n) => {
      expect([r.width, r.height]).toEqual([64, 64]);
      for (let p = 0; p < r.data.length; p += 4) {
        expect(r.data[p]).toBe(r.data[p + 1]);
        expect(r.data[p]).toBe(r.data[p + 2]);
        expect(r.data[p + 3]).toBe(255);
      }
      // Scaling a 2× enlargement back down gives the glyph again, up to the canvas's filter.
      expect(meanDifference([image(r)], [originals[n]!])).toBeLessThan(10);
    });
    const { maxLevels, codeErr } = await compareWithNode(run);
    expect(codeErr).toBeLessThanOrEqual(1e-4);
    expect(maxLevels).toBeLessThanOrEqual(MAX_LEVELS);
  });

  it("tells a browser without WebGPU so, without errors", async () => {
    const p = await chromium.browser.newPage();
    const errors: string[] = [];
    p.on("pageerror", (e) => errors.push(String(e)));
    p.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await p.evaluateOnNewDocument(() => {
      delete (Navigator.prototype as { gpu?: unknown }).gpu;
    });
    await p.goto(`${server.url}web/`);
    const ready = await p.evaluate(() => (window as any).funitDemo.ready);
    expect(ready.ok).toBe(false);
    expect(ready.message).toMatch(/WebGPU is not available in this browser/);
    expect(await p.$eval("#status", (el) => el.textContent)).toMatch(/WebGPU is not available/);
    expect(await p.$eval("#generate", (el) => (el as HTMLButtonElement).disabled)).toBe(true);
    expect(errors).toEqual([]);
    await p.close();
  });

  it("logged no page errors", () => {
    expect(pageErrors).toEqual([]);
  });
});
