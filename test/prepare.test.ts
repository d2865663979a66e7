/**
 * Prepared shapes (src/prepare.ts): after `funit.prepare(shape)`, or `Funit.create(…, { prepare })`,
 * the first calls of that shape create no pipeline: translate from a code, encodeClass and
 * translate from class images, and a texture job of the shape. Each
 * scenario runs on a fresh device (pipelines are cached per device), and the control, the same
 * first call without prepare on a fresh device, does create pipelines, so the count can fail.
 * Pipelines are counted by wrapping device.createComputePipeline and createComputePipelineAsync.
 * The engines run the tiled convolution, whose tile (a pipeline constant) follows a layer's pixel
 * count: with lavapipe's own choice (conv2d_subgroup) no pipeline depends on the shape at all, and
 * the load-time warm-up already covers every call.
 * Bad shapes are InputErrors before anything is built.
 */
import { afterAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { Funit } from "../src/engine";
import { InputError } from "../src/errors";
import { getNodeDevice } from "../src/node/gpu";
import type { PrepareShape } from "../src/prepare";
import type { ImageRGBA } from "../src/tensor";
import { withErrorScopes } from "./portable/runner";

const HANGUL = new Uint8Array(readFileSync("weights/hangul64-f16.safetensors"));
/** Contents 4×64×64: the content layers' tiles differ from the load-time warm-up's (1×64×64). */
const N = 4,
  K = 1,
  H = 64,
  W = 64;
/** The tiled convolution's tile follows a layer's pixel count (lavapipe's auto kernel does not). */
const OPTIONS = { conv: "tiled" } as const;
const SHAPE: PrepareShape = {
  contents: { n: N, height: H, width: W },
  classImages: { k: K, height: H, width: W },
};

const devices: GPUDevice[] = [];
afterAll(() => devices.forEach((d) => d.destroy()));

/** A fresh device (an empty pipeline cache) that counts the pipelines created on it. */
async function countingDevice(): Promise<{ device: GPUDevice; created: () => number }> {
  const device = await getNodeDevice();
  devices.push(device);
  let created = 0;
  const sync = device.createComputePipeline.bind(device);
  const async = device.createComputePipelineAsync.bind(device);
  device.createComputePipeline = (desc) => (created++, sync(desc));
  device.createComputePipelineAsync = (desc) => (created++, async(desc));
  return { device, created: () => created };
}

function images(n: number, seed: number): ImageRGBA[] {
  return Array.from({ length: n }, (_, i) => ({
    width: W,
    height: H,
    data: new Uint8Array(W * H * 4).map((_, p) =>
      p % 4 === 3 ? 255 : (p * 31 + i * 7 + seed) & 255,
    ),
  }));
}

/**
 * First calls of SHAPE (`all`: every kind; else translate() alone): pipelines created during them.
 * Only a few calls, each a 4-image translation on lavapipe: seconds apiece.
 */
async function firstCalls(funit: Funit, created: () => number, all: boolean): Promise<number> {
  const before = created();
  const contents = images(N, 1);
  const classImages = images(K, 2);
  const code = new Float32Array(funit.hyper.latent_dim).fill(0.1);
  await funit.translate(contents, code);
  if (all) {
    await funit.encodeClass(classImages);
    await funit.translate(contents, classImages);
    const job = funit.createJob(contents, code, { texture: true });
    await job.ready;
    const encoder = funit.device.createCommandEncoder();
    while (!job.encode(encoder, { maxDispatches: 8 }));
    funit.device.queue.submit([encoder.finish()]);
    (await job.result()).destroy();
  }
  return created() - before;
}

describe("prepared shapes", () => {
  it("control: without prepare, the first calls of a new shape create pipelines", async () => {
    const { device, created } = await countingDevice();
    const funit = await Funit.create(device, HANGUL, OPTIONS);
    expect(await withErrorScopes(device, () => firstCalls(funit, created, false))).toBeGreaterThan(
      0,
    );
    funit.dispose();
  });

  it("after funit.prepare(shape), the first calls create no pipeline", async () => {
    const { device, created } = await countingDevice();
    const funit = await Funit.create(device, HANGUL, OPTIONS);
    await funit.prepare(SHAPE);
    expect(await withErrorScopes(device, () => firstCalls(funit, created, true))).toBe(0);
    funit.dispose();
  });

  it("Funit.create(…, { prepare }) does it at load", async () => {
    const { device, created } = await countingDevice();
    const funit = await Funit.create(device, HANGUL, { ...OPTIONS, prepare: [SHAPE] });
    expect(created()).toBeGreaterThan(0);
    expect(await withErrorScopes(device, () => firstCalls(funit, created, false))).toBe(0);
    funit.dispose();
  });

  it("bad shapes are InputErrors naming the field, and Funit.create refuses them", async () => {
    const { device } = await countingDevice();
    const funit = await Funit.create(device, HANGUL, OPTIONS);
    const bad = (shape: unknown) => funit.prepare(shape as PrepareShape);
    await expect(bad({})).rejects.toThrow(/needs contents/);
    await expect(bad({ contents: { n: 0, height: 64, width: 64 } })).rejects.toThrow(
      /contents.n must be a whole number ≥ 1, got 0/,
    );
    await expect(bad({ contents: { n: 1, height: 62, width: 64 } })).rejects.toThrow(
      /divisible by/,
    );
    await expect(
      bad({ contents: { n: 1, height: 64, width: 64 }, classImages: { k: 2, height: 64 } }),
    ).rejects.toThrow(/classImages.width must be a whole number/);
    await expect(bad({ contents: { n: 1.5, height: 64, width: 64 } })).rejects.toBeInstanceOf(
      InputError,
    );
    funit.dispose();
    await expect(
      Funit.create(device, HANGUL, { prepare: [{ contents: { n: 1, height: 7, width: 64 } }] }),
    ).rejects.toBeInstanceOf(InputError);
  });
});
