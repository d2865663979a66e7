/**
 * Device-loss recovery in headless Chromium (WebGPU on SwiftShader), with the browser bundle
 * (dist/browser/funit.js) imported into a page served from the repo: an engine created with a
 * device provider loads the tiny-a model from a URL, translates, has its device destroyed right
 * after the engine's submit (a wrapped queue.submit) and must return the same pixels from a new
 * device; an engine created with a plain device must reject with DeviceLostError and the reason.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { Browser } from "puppeteer-core";
import { packageRoot } from "../src/node/assets";
import { launchChromium } from "./helpers/chromium";
// @ts-expect-error: a plain .mjs helper without type declarations
import { serveDirectory } from "../scripts/static-server.mjs";

const ROOT = packageRoot();

interface PageRun {
  same: boolean;
  nonzero: boolean;
  devices: number;
  onNewDevice: boolean;
  lost: { name: string; reason: string; message: string } | null;
}

/** What the page runs: the engine with a provider, then one on a plain device. */
const PAGE_RUN = `
    const { Funit, requestFunitDevice } = await import("/dist/browser/funit.js");
    const weights = "/test/fixtures/tiny-a/gen_test.safetensors";
    const devices = [];
    const provider = async () => {
      const d = await requestFunitDevice(navigator.gpu, { onError: () => {} });
      devices.push(d);
      return d;
    };
    const image = {
      width: 32,
      height: 32,
      data: Uint8Array.from({ length: 32 * 32 * 4 }, (_, j) => (j * 7) & 255),
    };
    const code = new Float32Array(16).map((_, i) => Math.sin(i));
    const engine = await Funit.create(provider, weights);
    const [before] = await engine.translate([image], code);
    const first = devices[0];
    const queue = first.queue;
    const submit = queue.submit.bind(queue);
    queue.submit = (buffers) => {
      submit(buffers);
      first.destroy();
    };
    const [after] = await engine.translate([image], code);
    const onNewDevice = engine.device === devices[1];
    engine.dispose();

    const plainDevice = await requestFunitDevice(navigator.gpu, { onError: () => {} });
    const plain = await Funit.create(plainDevice, weights);
    plainDevice.destroy();
    let lost = null;
    try {
      await plain.translate([image], code);
    } catch (e) {
      lost = { name: e.name, reason: e.reason, message: e.message };
    }
    return {
      same:
        before.data.length === after.data.length &&
        before.data.every((v, i) => v === after.data[i]),
      nonzero: before.data.some((v) => v !== 0),
      devices: devices.length,
      onNewDevice,
      lost,
    };
`;

let server: { url: string; close: () => Promise<void> };
let chromium: { browser: Browser; close: () => Promise<void> };
let run: PageRun;
const pageErrors: string[] = [];

beforeAll(async () => {
  execFileSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { cwd: ROOT, stdio: "pipe" });
  server = await serveDirectory(ROOT);
  chromium = await launchChromium();
  const page = await chromium.browser.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.goto(`${server.url}package.json`); // any page of the server's origin
  // a string, so that the test runner's transform leaves its dynamic import() alone
  run = (await page.evaluate(`(async () => {${PAGE_RUN}})()`)) as PageRun;
}, 180_000);

afterAll(async () => {
  await chromium?.close();
  await server?.close();
});

it("an engine with a device provider recovers from a loss during a run in Chromium", () => {
  expect(run.nonzero).toBe(true);
  expect(run.same).toBe(true);
  expect(run.devices).toBe(2);
  expect(run.onNewDevice).toBe(true);
  expect(pageErrors).toEqual([]);
});

it("an engine on a plain device rejects with DeviceLostError and the reason", () => {
  expect(run.lost).toMatchObject({ name: "DeviceLostError", reason: "destroyed" });
  expect(run.lost!.message).toMatch(/device was lost \(destroyed\)/);
});
