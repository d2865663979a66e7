/**
 * The Node seam's waits on Dawn: Dawn's event polling, which it schedules through the global
 * setImmediate with a native callback, runs from a timer instead (pollDawnEventsByTimer), so a
 * wait no longer busy-polls the JS thread, and can be turned off again; every other setImmediate
 * call keeps Node's behaviour (its handle, its arguments, its promisified form); and Dawn's
 * promises still complete.
 */
import { describe, expect, it } from "vitest";
import { promisify } from "node:util";
import { DAWN_POLL_MS, getNodeGPU, pollDawnEventsByTimer } from "../src/node/gpu";
import { withDevice } from "./helpers/gpu";

describe("Dawn's event polling through a timer", () => {
  it("wraps setImmediate once; a native callback without arguments goes to a timer", () => {
    getNodeGPU();
    const wrapped = globalThis.setImmediate;
    pollDawnEventsByTimer();
    expect(globalThis.setImmediate).toBe(wrapped);
    // Math.random stands for Dawn's callback: a native function, passed with no arguments
    const handle = setImmediate(Math.random as () => void) as unknown;
    expect((handle as object).constructor.name).toBe("Timeout");
    clearTimeout(handle as NodeJS.Timeout);
    // off puts Node's own back (the bench's comparison), on wraps it again
    pollDawnEventsByTimer(false);
    expect(globalThis.setImmediate).not.toBe(wrapped);
    const immediate = setImmediate(Math.random as () => void);
    expect(immediate.constructor.name).toBe("Immediate");
    clearImmediate(immediate);
    pollDawnEventsByTimer();
    const again = setImmediate(Math.random as () => void) as unknown;
    expect((again as object).constructor.name).toBe("Timeout");
    clearTimeout(again as NodeJS.Timeout);
  });

  it("leaves every other setImmediate call to Node: handle, arguments, promisify", async () => {
    getNodeGPU();
    const handle = setImmediate(() => undefined);
    expect(handle.constructor.name).toBe("Immediate");
    clearImmediate(handle);
    const native = setImmediate(Math.max as (...numbers: number[]) => void, 1, 2);
    expect(native.constructor.name).toBe("Immediate");
    clearImmediate(native);
    const args = await new Promise((resolve) => setImmediate((a, b) => resolve([a, b]), 1, "x"));
    expect(args).toEqual([1, "x"]);
    expect(await promisify(setImmediate)("value")).toBe("value");
  });

  it("Dawn's mapAsync completes, its polls scheduled on the timer", async () => {
    await withDevice(async (device) => {
      // a poll Dawn queued earlier runs first and, with nothing pending, schedules no other
      await new Promise((resolve) => setTimeout(resolve, 20));
      const realSetTimeout = globalThis.setTimeout;
      let dawnPolls = 0;
      globalThis.setTimeout = ((callback: () => void, ms?: number, ...args: unknown[]) => {
        if (ms === DAWN_POLL_MS && String(callback).includes("[native code]")) dawnPolls++;
        return realSetTimeout(callback, ms, ...args);
      }) as typeof setTimeout;
      const values = Float32Array.from({ length: 1024 }, (_, i) => i * 0.5);
      const source = device.createBuffer({
        label: "test:poll-source",
        size: values.byteLength,
        usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      const readback = device.createBuffer({
        label: "test:poll-readback",
        size: values.byteLength,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      try {
        device.queue.writeBuffer(source, 0, values);
        const encoder = device.createCommandEncoder({ label: "test:poll" });
        encoder.copyBufferToBuffer(source, 0, readback, 0, values.byteLength);
        device.queue.submit([encoder.finish()]);
        await readback.mapAsync(GPUMapMode.READ);
        expect(new Float32Array(readback.getMappedRange().slice(0))).toEqual(values);
        readback.unmap();
      } finally {
        globalThis.setTimeout = realSetTimeout;
        source.destroy();
        readback.destroy();
      }
      expect(dawnPolls).toBeGreaterThan(0);
    });
  });
});
