/**
 * The demo page's engine runs in a dedicated module worker (web/engine.ts starts
 * web/engine-worker.ts): in headless Chromium the page generates 20 glyphs while the main thread
 * makes no WebGPU call at all (GPUQueue.submit, GPUDevice.createCommandEncoder and
 * GPUBuffer.mapAsync are counted on the page: 0), the glyphs arrive, and the adapter line says
 * where the engine runs. The main thread's long tasks (PerformanceObserver "longtask": tasks over
 * 50 ms) during the generation and during start-up are measured and printed (and written to
 * out/test-artifacts/demo-longtasks.json), not asserted: they are timings, and this 2-core CI
 * machine's load moves them. The page's outputs against Node's are test/browser-demo.test.ts.
 */
import { expect, it } from "vitest";
import { mkdirSync, writeFileSync } from "node:fs";
import type { Page } from "puppeteer-core";
import { withServedPage } from "./helpers/served-page";

/** 20 distinct syllables of the source atlas. */
const TEXT = "가각간갇갈갉갊감갑값갓갔강갖갗같갚갛개객";

it("generates 20 glyphs in the worker with no WebGPU call on the main thread; long tasks measured", async () => {
  // From the first script on: long tasks (buffered) and the page's own WebGPU calls.
  const watch = (page: Page) =>
    page.evaluateOnNewDocument(() => {
      const w = window as unknown as { longTasks: number[]; gpuCalls: number };
      w.longTasks = [];
      w.gpuCalls = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.longTasks.push(Math.round(e.duration));
      }).observe({ type: "longtask", buffered: true });
      for (const [proto, name] of [
        [GPUQueue.prototype, "submit"],
        [GPUDevice.prototype, "createCommandEncoder"],
        [GPUBuffer.prototype, "mapAsync"],
      ] as const) {
        const original = (proto as any)[name];
        (proto as any)[name] = function (...args: unknown[]) {
          w.gpuCalls++;
          return original.apply(this, args);
        };
      }
    });
  await withServedPage(
    "web/",
    async (page, errors) => {
      const result = (await page.evaluate(`(async () => {
      const ready = await window.funitDemo.ready;
      await new Promise((r) => setTimeout(r, 200)); // let start-up's long tasks be reported
      const startup = window.longTasks.splice(0);
      document.getElementById("text").value = ${JSON.stringify(TEXT)};
      const t0 = performance.now();
      const run = await window.funitDemo.generate();
      const ms = performance.now() - t0;
      await new Promise((r) => setTimeout(r, 200));
      return { ready, glyphs: run.glyphs.map((g) => g.ch).join(""), ms: Math.round(ms),
        generating: window.longTasks.splice(0), startup, gpuCalls: window.gpuCalls };
    })()`)) as {
        ready: { ok: boolean; adapter: string };
        glyphs: string;
        ms: number;
        generating: number[];
        startup: number[];
        gpuCalls: number;
      };
      expect(result.ready.ok).toBe(true);
      expect(result.ready.adapter).toMatch(/\(in a worker\)/);
      expect(result.glyphs).toBe(TEXT);
      expect(result.gpuCalls).toBe(0);
      expect(errors).toEqual([]);
      const figures = {
        glyphs: TEXT.length,
        generationMs: result.ms,
        longTasksWhileGenerating: result.generating,
        longTasksAtStartup: result.startup,
      };
      console.log(`demo page, engine in a worker: ${JSON.stringify(figures)}`);
      mkdirSync("out/test-artifacts", { recursive: true });
      writeFileSync("out/test-artifacts/demo-longtasks.json", JSON.stringify(figures, null, 2));
    },
    watch,
  );
}, 600_000);
