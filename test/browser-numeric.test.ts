/**
 * The portable numeric tests (every kernel against its reference, the whole generator on tiny-a and
 * one Hangul case with each convolution kernel, at the same tolerances as in Node) inside a page of
 * Debian's headless Chromium, on its WebGPU (SwiftShader: no subgroups of 8, so the subgroup
 * convolution must be refused there). The repo root is served over http by
 * scripts/static-server.mjs, test/browser/numeric.html runs dist/test/browser-numeric.js (built by
 * scripts/build.mjs; `npm test` builds first), and each result it publishes becomes one test here.
 * SwiftShader is slow, so the Hangul case translates 2 of its 8 content images (with all 5 class
 * images); Node and Deno check the whole batch.
 */
import { fileURLToPath } from "node:url";
import { launchChromium } from "./helpers/chromium";
import { describeRuntimeResults, type RuntimeRun } from "./helpers/runtime-results";
// @ts-expect-error: a plain .mjs helper without type declarations
import { serveDirectory } from "../scripts/static-server.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const HANGUL_CONTENT = 2;
const WAIT_MS = 240_000;

interface PageState {
  adapter?: RuntimeRun["adapter"];
  results?: RuntimeRun["results"];
  fatal?: string;
}
interface PageWindow {
  __adapter?: unknown;
  __results?: unknown;
  __fatal?: string;
}

async function runInChromium(): Promise<RuntimeRun> {
  const server: { url: string; close(): Promise<void> } = await serveDirectory(ROOT);
  const errors: string[] = [];
  try {
    const chromium = await launchChromium();
    try {
      const page = await chromium.browser.newPage();
      page.on("pageerror", (e) => errors.push(`page error: ${e}`));
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(`console.error: ${m.text()}`);
      });
      page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
      await page.goto(`${server.url}test/browser/numeric.html?hangul=${HANGUL_CONTENT}`);
      await page
        .waitForFunction(
          () => {
            const w = window as unknown as PageWindow;
            return w.__results !== undefined || w.__fatal !== undefined;
          },
          { timeout: WAIT_MS, polling: 500 },
        )
        .catch(() => undefined);
      const state: PageState = await page.evaluate(() => {
        const w = window as unknown as PageWindow;
        return { adapter: w.__adapter, results: w.__results, fatal: w.__fatal } as PageState;
      });
      const fatal =
        state.fatal ??
        (state.results ? undefined : `the page published no results within ${WAIT_MS / 1000} s`);
      return { adapter: state.adapter, results: state.results, fatal, errors };
    } finally {
      await chromium.close();
    }
  } catch (e) {
    return { fatal: `Chromium: ${e instanceof Error ? e.message : String(e)}`, errors };
  } finally {
    await server.close();
  }
}

// Run at collection, so that each result the page publishes is a test of its own.
const run = await runInChromium();
describeRuntimeResults("numeric tests in Chromium (WebGPU on SwiftShader)", run, {
  hangulContent: HANGUL_CONTENT,
});
