/**
 * The engine under faults, each case on a device of its own (Dawn on lavapipe): calls queued or
 * running when the engine is disposed reject with EngineDisposedError and leave no GPU buffer
 * behind (counted by wrapping the device's createBuffer and each buffer's destroy); a lost device
 * makes pending and later calls, and Funit.create, reject with DeviceLostError and the loss
 * reason; with a device provider the engine moves to a new device and the interrupted call
 * returns what it returns on a healthy device; a caller reusing its buffers after a call returned
 * its promise does not change that call's result; an aborted signal runs nothing; batches beyond
 * the device's limits are refused before any GPU work. The loss is made deterministic by
 * destroying the device right after the engine's submit (a wrapped queue.submit).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { Funit } from "../src/engine";
import { DeviceLostError, EngineDisposedError, InputError } from "../src/errors";
import { getNodeDevice } from "../src/node/gpu";
import type { ImageRGBA, Tensor } from "../src/tensor";
import { readTensors } from "./helpers/fixtures";

const TINY = new Uint8Array(readFileSync("test/fixtures/tiny-a/gen_test.safetensors"));
const { tensors } = readTensors("test/fixtures/tiny-a/expected.safetensors");
const CONTENT = tensors.get("content")!;
const CLASS_IMAGES = tensors.get("class_images")!;
const CODE = new Float32Array(16).map((_, i) => Math.sin(i));

/** A fresh device whose buffers and submits are counted; `afterSubmit` runs after each submit. */
async function countedDevice() {
  const errors: string[] = [];
  const device = await getNodeDevice({ onError: (m) => errors.push(m) });
  const live = new Set<GPUBuffer>();
  let created = 0;
  let submits = 0;
  const createBuffer = device.createBuffer.bind(device);
  device.createBuffer = (desc: GPUBufferDescriptor) => {
    const b = createBuffer(desc);
    created++;
    live.add(b);
    const destroy = b.destroy.bind(b);
    b.destroy = () => {
      live.delete(b);
      destroy();
    };
    return b;
  };
  const queue = device.queue;
  const submit = queue.submit.bind(queue);
  const counted = {
    device,
    errors,
    live,
    created: () => created,
    submits: () => submits,
    afterSubmit: undefined as (() => void) | undefined,
  };
  queue.submit = (buffers: Iterable<GPUCommandBuffer>) => {
    submit(buffers);
    submits++;
    counted.afterSubmit?.();
  };
  return counted;
}

/** Buffers an engine left behind; the device's one 16-byte placeholder binding is shared by every
 * engine on it (src/runtime/graph.ts, cached per device like the pipelines), not an engine's. */
const leftBehind = (live: Set<GPUBuffer>) =>
  [...live].map((b) => b.label).filter((l) => l !== "funit:unused-binding");

/** Lets every queued microtask and GPU callback run (the engine frees plans asynchronously). */
const settle = () => new Promise((r) => setTimeout(r, 50));

function images(n: number, size: number, seed: number): ImageRGBA[] {
  return Array.from({ length: n }, (_, i) => ({
    width: size,
    height: size,
    data: Uint8Array.from({ length: size * size * 4 }, (_, j) => (j * 7 + i * 13 + seed) & 255),
  }));
}

describe("dispose", () => {
  it("rejects calls queued before it with EngineDisposedError, runs none and frees every buffer", async () => {
    const d = await countedDevice();
    const engine = await Funit.create(d.device, TINY);
    const warm = await engine.translateTensor(CONTENT, CODE);
    expect(warm.data.some((v) => v !== 0)).toBe(true);
    const submitsBefore = d.submits();
    const queued = [
      engine.translateTensor(CONTENT, CODE),
      engine.translate(images(2, 16, 1), images(3, 16, 2)), // a new shape: a plan not built yet
      engine.encodeClass(images(2, 24, 3)),
      engine.translateToTexture(CONTENT, CODE),
    ];
    engine.dispose();
    for (const p of queued) await expect(p).rejects.toThrow(EngineDisposedError);
    await expect(engine.translateTensor(CONTENT, CODE)).rejects.toThrow(/engine was disposed/);
    engine.destroy(); // the alias, twice: harmless
    await settle();
    expect(d.submits()).toBe(submitsBefore); // none of the queued calls ran
    expect(leftBehind(d.live)).toEqual([]); // weights, plans, staging: all freed
    expect(d.errors).toEqual([]);
    d.device.destroy();
  });

  it("during a running call: the call rejects with EngineDisposedError and nothing is left", async () => {
    const d = await countedDevice();
    const engine = await Funit.create(d.device, TINY);
    d.afterSubmit = () => engine[Symbol.dispose]();
    await expect(engine.translate(images(1, 32, 4), CODE)).rejects.toThrow(EngineDisposedError);
    await settle();
    expect(leftBehind(d.live)).toEqual([]);
    d.device.destroy();
  });
});

describe("device loss without a provider", () => {
  it("rejects the running and queued calls, later calls and Funit.create with DeviceLostError", async () => {
    const d = await countedDevice();
    const engine = await Funit.create(d.device, TINY);
    await engine.translateTensor(CONTENT, CODE);
    d.afterSubmit = () => d.device.destroy();
    const running = engine.translateTensor(CONTENT, CODE);
    const queued = engine.encodeClass(images(2, 16, 5));
    for (const p of [running, queued]) {
      const e = await p.catch((e: unknown) => e);
      expect(e).toBeInstanceOf(DeviceLostError);
      expect((e as DeviceLostError).reason).toBe("destroyed");
      expect((e as Error).message).toMatch(/device was lost \(destroyed\)/);
    }
    await expect(engine.translate(images(1, 16, 6), CODE)).rejects.toThrow(DeviceLostError);
    await expect(Funit.create(d.device, TINY)).rejects.toThrow(DeviceLostError);
    engine.dispose();
  });
});

describe("device loss with a provider", () => {
  let devices: Awaited<ReturnType<typeof countedDevice>>[];
  let engine: Funit;
  let reference: Tensor;
  const provider = async () => {
    const d = await countedDevice();
    devices.push(d);
    return d.device;
  };
  beforeAll(async () => {
    devices = [];
    engine = await Funit.create(provider, TINY);
    reference = await engine.translateTensor(CONTENT, CLASS_IMAGES);
  });
  afterAll(() => {
    engine?.dispose();
    for (const d of devices) d.device.destroy();
  });

  it("moves to a new device, uploads the weights again and retries the interrupted call", async () => {
    expect(devices).toHaveLength(1);
    devices[0]!.afterSubmit = () => devices[0]!.device.destroy();
    const during = engine.translateTensor(CONTENT, CLASS_IMAGES);
    const queued = engine.translateTensor(CONTENT, CLASS_IMAGES);
    expect((await during).data).toEqual(reference.data);
    expect((await queued).data).toEqual(reference.data);
    expect(devices).toHaveLength(2);
    expect(engine.device).toBe(devices[1]!.device);
    expect(devices[1]!.errors).toEqual([]);
  });

  it("recovers from a loss while idle at the next call", async () => {
    const before = devices.length;
    devices.at(-1)!.device.destroy();
    await settle();
    expect((await engine.translateTensor(CONTENT, CLASS_IMAGES)).data).toEqual(reference.data);
    expect(devices).toHaveLength(before + 1);
  });

  it("retries once only: a second loss during the retry is a DeviceLostError", async () => {
    const loseAtSubmit = async () => {
      const d = await countedDevice();
      devices.push(d);
      d.afterSubmit = () => d.device.destroy();
      return d.device;
    };
    const fragile = await Funit.create(loseAtSubmit, TINY);
    await expect(fragile.translateTensor(CONTENT, CODE)).rejects.toThrow(DeviceLostError);
    fragile.dispose();
  });

  it("a provider that fails is a DeviceLostError that says so", async () => {
    let calls = 0;
    const once = async () => {
      if (calls++ > 0) throw new Error("no adapter today");
      return provider();
    };
    const e = await Funit.create(once, TINY);
    devices.at(-1)!.device.destroy();
    await expect(e.encodeClass(images(1, 16, 7))).rejects.toThrow(
      /device was lost \(destroyed\).*the device provider failed: no adapter today/,
    );
    e.dispose();
  });
});

describe("inputs are taken when the call is made", () => {
  let engine: Funit;
  beforeAll(async () => {
    engine = await Funit.create(await getNodeDevice(), TINY);
  });
  afterAll(() => engine?.dispose());

  it("a caller reusing its image, tensor and code buffers does not change queued calls", async () => {
    const contents = images(2, 32, 8);
    const style = images(2, 32, 9);
    const tensor: Tensor = { shape: CONTENT.shape, data: CONTENT.data.slice() };
    const code = CODE.slice();
    const expected = await Promise.all([
      engine.translate(images(2, 32, 8), images(2, 32, 9)),
      engine.translateTensor(CONTENT, CODE),
    ]);
    const pending = [engine.translate(contents, style), engine.translateTensor(tensor, code)];
    for (const img of [...contents, ...style]) img.data.fill(255);
    tensor.data.fill(0.5);
    code.fill(3);
    const [rgba, out] = await Promise.all(pending);
    expect(rgba).toEqual(expected[0]);
    expect((out as Tensor).data).toEqual(expected[1].data);
  });
});

describe("abort signals", () => {
  it("an aborted call rejects with the signal's reason and runs nothing", async () => {
    const d = await countedDevice();
    const engine = await Funit.create(d.device, TINY);
    const before = { submits: d.submits(), created: d.created() };
    const aborted = AbortSignal.abort(new Error("not needed any more"));
    await expect(engine.translate(images(1, 16, 1), CODE, { signal: aborted })).rejects.toThrow(
      "not needed any more",
    );
    // aborted while waiting behind another call: rejects at once, and never starts
    const controller = new AbortController();
    const first = engine.translateTensor(CONTENT, CODE);
    const second = engine.encodeClass(images(2, 24, 2), { signal: controller.signal });
    controller.abort();
    await expect(second).rejects.toThrow(/abort/i);
    await first;
    await settle();
    expect(d.submits()).toBe(before.submits + 1); // the first call's only
    const plans = await engine.activationBytes();
    const again = await Funit.create(d.device, TINY);
    await again.translateTensor(CONTENT, CODE);
    expect(plans).toBe(await again.activationBytes()); // no plan for the aborted calls' shapes
    engine.dispose();
    again.dispose();
    d.device.destroy();
  });
});

describe("device limits at call time", () => {
  it("refuses a batch the device cannot dispatch before any GPU work, naming the limit", async () => {
    const d = await countedDevice();
    const engine = await Funit.create(d.device, TINY);
    const before = { submits: d.submits(), created: d.created() };
    const n = 10_000;
    const many: Tensor = { shape: [n, 3, 8, 8], data: new Float32Array(n * 3 * 64) };
    await expect(engine.translateTensor(many, CODE)).rejects.toThrow(InputError);
    await expect(engine.translateTensor(many, CODE)).rejects.toThrow(
      /limit maxComputeWorkgroupsPerDimension = \d+/,
    );
    expect({ submits: d.submits(), created: d.created() }).toEqual(before);
    engine.dispose();
    d.device.destroy();
  });
});
