/**
 * The browser bundle (dist/browser/funit.js) in a module Worker, in headless Chromium (WebGPU on
 * SwiftShader): examples/worker/ decodes the example glyphs on the page, the worker loads the
 * shipped model and translates them, and the test checks that the page decoded the same pixels as
 * Node's decoder and that the worker's class code and glyphs equal the Node engine's (Dawn on
 * lavapipe). Tolerance, as in test/browser-demo.test.ts: both compute in f32 from the same f16
 * weights with different convolution kernels that sum in different orders, so a value near an
 * 8-bit rounding boundary can move by one level: at most 1 level on any channel and at most 1% of
 * pixels differing; class codes within 1e-4. Also: the bundle holds no image codec and no progress
 * bar (those stay behind the Node entry).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, WebWorker } from "puppeteer-core";
import { packageRoot } from "../src/node/assets";
import type { ImageRGBA } from "../src/tensor";
import { launchChromium } from "./helpers/chromium";
import { exampleRunInNode, imageDifference, type ExampleRun } from "./helpers/example-glyphs";
// @ts-expect-error: a plain .mjs helper without type declarations
import { serveDirectory } from "../scripts/static-server.mjs";

const ROOT = packageRoot();

interface PlainImage {
  width: number;
  height: number;
  data: number[];
}
type WorkerRun =
  | { ok: false; message: string }
  | {
      ok: true;
      contents: PlainImage[];
      references: PlainImage[];
      code: number[];
      outputs: PlainImage[];
    };

const image = (p: PlainImage): ImageRGBA => ({
  width: p.width,
  height: p.height,
  data: Uint8Array.from(p.data),
});

let server: { url: string; close: () => Promise<void> };
let chromium: { browser: Browser; close: () => Promise<void> };
let run: WorkerRun;
let scope: string;
let node: ExampleRun;
const pageErrors: string[] = [];

beforeAll(async () => {
  // The worker imports dist/browser/funit.js: build it, so this file also passes on its own.
  execFileSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { cwd: ROOT, stdio: "pipe" });
  server = await serveDirectory(ROOT);
  chromium = await launchChromium();
  const page = await chromium.browser.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(m.text());
  });
  const workerStarted = new Promise<WebWorker>((resolve) => page.once("workercreated", resolve));
  await page.goto(`${server.url}examples/worker/`);
  const worker = await workerStarted;
  run = (await page.evaluate(() => (window as any).funitWorker)) as WorkerRun;
  scope = await worker.evaluate(() => self.constructor.name);
  node = await exampleRunInNode();
}, 180_000);

afterAll(async () => {
  await chromium?.close();
  await server?.close();
});

it("translates in a module Worker what the Node engine computes", () => {
  if (!run.ok) throw new Error(`the worker page failed: ${run.message}`);
  expect(scope).toBe("DedicatedWorkerGlobalScope");
  // The page's decoder gave the same pixels as Node's, so both engines had the same inputs.
  run.contents.forEach((c, i) => expect(image(c).data).toEqual(node.contents[i]!.data));
  run.references.forEach((r, i) => expect(image(r).data).toEqual(node.references[i]!.data));

  const codeErr = Math.max(...run.code.map((v, i) => Math.abs(v - node.code[i]!)));
  expect(run.code).toHaveLength(node.code.length);
  expect(codeErr).toBeLessThanOrEqual(1e-4);
  expect(run.outputs).toHaveLength(node.outputs.length);
  run.outputs.forEach((o, i) => {
    const { maxLevels, differing } = imageDifference(image(o), node.outputs[i]!);
    console.log(
      `worker vs Node, glyph ${i}: max ${maxLevels} level(s), ${(differing * 100).toFixed(3)}% of pixels differ; code ${codeErr.toExponential(2)}`,
    );
    expect(maxLevels).toBeLessThanOrEqual(1);
    expect(differing).toBeLessThanOrEqual(0.01);
  });
  expect(pageErrors).toEqual([]);
});

it("keeps image codecs and the progress bar out of the browser bundle", () => {
  const bundle = readFileSync(join(ROOT, "dist/browser/funit.js"), "utf8");
  // A string literal of each Node-only library (minifiers keep them), checked to be in it first.
  const markers = [
    ["pngjs/lib/parser.js", "Invalid file signature"],
    ["jpeg-js/lib/decoder.js", "Could not recreate Huffman Table"],
    ["cli-progress/lib/options.js", "{bar}"],
  ];
  for (const [file, marker] of markers) {
    expect(readFileSync(join(ROOT, "node_modules", file!), "utf8")).toContain(marker);
    expect(bundle).not.toContain(marker);
  }
  expect(bundle).not.toMatch(/from\s*"node:|require\(/);
});
