/**
 * The demo page's weights in headless Chromium, served over http (the Cache API needs a secure
 * context; 127.0.0.1 is one): a first visit downloads them with progress on the page and stores
 * them under the versioned cache name (deleting another version's cache), and a reload in the same
 * browser profile reads them from the cache, with no request for them, and the model still loads
 * from them (the page reaches "Ready").
 * The page's #weights line is recorded on every change by a MutationObserver installed before the
 * page's scripts run, so fast progress updates are seen even when the download takes milliseconds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "puppeteer-core";
import { packageRoot } from "../src/node/assets";
import { WEIGHTS_CACHE } from "../web/weights";
import { launchChromium } from "./helpers/chromium";
// @ts-expect-error: a plain .mjs helper without type declarations
import { serveDirectory } from "../scripts/static-server.mjs";

const ROOT = packageRoot();
const WEIGHTS = join(ROOT, "weights/hangul64-f16.safetensors");
const STALE_CACHE = "funit-weights-v0";

let server: { url: string; close: () => Promise<void> };
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
const pageErrors: string[] = [];
/** Requests for the weights file, counted over http by the browser. */
let weightsRequests = 0;

/** Every text the #weights line shows, in order, from the start of each page load. */
const weightsTexts = (p: Page) =>
  p.evaluate(() => (window as any).weightsTexts) as Promise<string[]>;

async function visit(p: Page, load: () => Promise<unknown>): Promise<string[]> {
  await load();
  await p.waitForFunction(
    () =>
      /^(Ready|The demo could not start|WebGPU)/.test(
        document.getElementById("status")!.textContent ?? "",
      ),
    { timeout: 240_000 },
  );
  expect(await p.$eval("#status", (el) => el.textContent)).toMatch(/^Ready/);
  return weightsTexts(p);
}

beforeAll(async () => {
  execFileSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { cwd: ROOT, stdio: "pipe" });
  server = await serveDirectory(ROOT);
  chromium = await launchChromium();
  page = await chromium.browser.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("request", (r) => {
    if (r.url().endsWith("/weights/hangul64-f16.safetensors")) weightsRequests++;
  });
  await page.evaluateOnNewDocument(() => {
    const texts: string[] = [];
    (window as any).weightsTexts = texts;
    const record = () => {
      const text = document.getElementById("weights")?.textContent ?? "";
      if (text && text !== texts[texts.length - 1]) texts.push(text);
    };
    new MutationObserver(record).observe(document, {
      subtree: true,
      childList: true,
      characterData: true,
    });
  });
}, 120_000);

afterAll(async () => {
  await chromium?.close();
  await server?.close();
});

describe("demo page weights: progress, then the Cache API", () => {
  it("a first visit downloads with progress and caches; a reload reads the cache", async () => {
    // another version's cache, as an older page would have left it
    await page.goto(`${server.url}web/demo.css`); // same origin, no page script
    await page.evaluate(async (name) => {
      await (await caches.open(name)).put("/stale", new Response("old"));
    }, STALE_CACHE);

    const size = statSync(WEIGHTS).size;
    const mb = (size / 1e6).toFixed(1);
    const first = await visit(page, () => page.goto(`${server.url}web/`));
    const progress = first.filter((t) => t.startsWith("Downloading the model"));
    expect(progress.length, first.join("\n")).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe(`Downloading the model: ${mb} of ${mb} MB (100%)`);
    expect(first.at(-1)).toBe(`Model: ${mb} MB downloaded, kept in the browser's cache`);
    expect(weightsRequests).toBe(1);

    const stored = await page.evaluate(async (cacheName) => {
      const cache = await caches.open(cacheName);
      const keys = await cache.keys();
      const stored = keys.length ? await (await cache.match(keys[0]!))!.arrayBuffer() : null;
      return {
        names: await caches.keys(),
        keys: keys.map((k) => k.url),
        bytes: stored?.byteLength,
      };
    }, WEIGHTS_CACHE);
    expect(stored.names).toEqual([WEIGHTS_CACHE]); // the stale version was deleted
    expect(stored.keys).toEqual([`${server.url}weights/hangul64-f16.safetensors`]);
    expect(stored.bytes).toBe(size);

    const second = await visit(page, () => page.reload());
    expect(
      second.some((t) => t.startsWith("Downloading")),
      second.join("\n"),
    ).toBe(false);
    expect(second.at(-1)).toBe(`Model: ${mb} MB from cache (${WEIGHTS_CACHE})`);
    expect(weightsRequests).toBe(1); // no request on the second visit
    expect(pageErrors).toEqual([]);
  }, 600_000);
});
