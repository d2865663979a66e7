/**
 * A page of this repository in headless Chromium: builds dist/ (the pages import its bundles),
 * serves the repository root over http, opens `path` and collects the page's errors (uncaught
 * exceptions and console.error lines) while `body` runs; everything is closed afterwards.
 */
import { execFileSync } from "node:child_process";
import type { Page } from "puppeteer-core";
import { launchChromium } from "./chromium";
// @ts-expect-error: a plain .mjs helper without type declarations
import { serveDirectory } from "../../scripts/static-server.mjs";

export async function withServedPage<T>(
  path: string,
  body: (page: Page, errors: string[]) => Promise<T>,
  beforeLoad?: (page: Page) => Promise<unknown>,
): Promise<T> {
  execFileSync(process.execPath, ["scripts/build.mjs"]);
  const server: { url: string; close: () => Promise<void> } = await serveDirectory(process.cwd());
  const { browser, close } = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await beforeLoad?.(page);
    await page.goto(`${server.url}${path}`);
    return await body(page, errors);
  } finally {
    await close();
    await server.close();
  }
}
