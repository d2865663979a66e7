/**
 * Translation jobs (src/job.ts): a translation recorded a few dispatches at a time into the
 * caller's encoders equals translate() bit for bit (tolerance 0: the same plan, the same kernels,
 * only the passes are split) for maxDispatches 1, 2, 3, 7 and all, for the shipped Hangul model
 * (class code style) and tiny-b (class images, non-square 40×48); several jobs interleaved in the
 * same encoders, with translate() calls between them, each get their own result (a shared buffer
 * would mix them up); texture jobs write translate()'s bytes into a new or the caller's texture;
 * a cancelled job rejects, records nothing more and gives its plan back (the next job of its shape
 * creates no activation buffer), and destroy() frees the plans of jobs still in flight; bad
 * options are InputErrors before any GPU work.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { Funit } from "../src/engine";
import { EngineDisposedError, InputError } from "../src/errors";
import type { TranslationJob } from "../src/job";
import { readImageFile } from "../src/node/images";
import { tensorToImages, type ImageRGBA } from "../src/tensor";
import { readTensors } from "./helpers/fixtures";
import { withDevice } from "./helpers/gpu";

const HANGUL = new Uint8Array(readFileSync("weights/hangul64-f16.safetensors"));
const TINY_B = new Uint8Array(readFileSync("test/fixtures/tiny-b/gen_test.safetensors"));

/** Runs a job to its end, one encoder and one submit per slice; returns its result and slices. */
async function runJob<T extends ImageRGBA[] | GPUTexture>(
  device: GPUDevice,
  job: TranslationJob<T>,
  maxDispatches: number,
): Promise<{ result: T; slices: number; progress: number[] }> {
  await job.ready;
  const progress: number[] = [];
  let slices = 0;
  for (let done = false; !done; slices++) {
    const encoder = device.createCommandEncoder({ label: "test:frame" });
    done = job.encode(encoder, { maxDispatches });
    device.queue.submit([encoder.finish()]);
    progress.push(job.progress);
  }
  return { result: await job.result(), slices, progress };
}

function sameBytes(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  return a.length === b.length && Array.prototype.every.call(a, (v: number, i) => v === b[i]);
}

function expectSameImages(got: ImageRGBA[], want: ImageRGBA[]): void {
  expect(got.length).toBe(want.length);
  got.forEach((img, i) => {
    expect([img.width, img.height]).toEqual([want[i]!.width, want[i]!.height]);
    expect(sameBytes(img.data, want[i]!.data)).toBe(true);
  });
}

/** Layer `layer` of an rgba8unorm texture as tightly packed RGBA bytes. */
async function readLayer(device: GPUDevice, texture: GPUTexture, layer: number) {
  const { width, height } = texture;
  const bytesPerRow = Math.ceil((width * 4) / 256) * 256;
  const buffer = device.createBuffer({
    label: "test:texture-readback",
    size: bytesPerRow * height,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder({ label: "test:texture-readback" });
  encoder.copyTextureToBuffer(
    { texture, origin: [0, 0, layer] },
    { buffer, bytesPerRow, rowsPerImage: height },
    [width, height, 1],
  );
  device.queue.submit([encoder.finish()]);
  await buffer.mapAsync(GPUMapMode.READ);
  const padded = new Uint8Array(buffer.getMappedRange().slice(0));
  buffer.destroy();
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    out.set(padded.subarray(y * bytesPerRow, y * bytesPerRow + width * 4), y * width * 4);
  return out;
}

describe("Hangul model: class code style", () => {
  let funit: Funit;
  let contents: ImageRGBA[];
  let code: Float32Array;
  let other: Float32Array;
  let want: ImageRGBA[];
  beforeAll(async () => {
    await withDevice(async (device) => {
      funit = await Funit.create(device, HANGUL, { label: "job-test" });
      const refs = await Promise.all(
        [0, 1, 2, 3, 4].map((i) => readImageFile(`examples/glyphs/ref-${i}.png`)),
      );
      contents = await Promise.all(
        ["content-0", "content-1"].map((n) => readImageFile(`examples/glyphs/${n}.png`)),
      );
      code = await funit.encodeClass(refs);
      other = await funit.encodeClass(contents);
      want = await funit.translate(contents, code);
    });
  });
  afterAll(() => funit?.destroy());

  it("sliced output equals translate() bit for bit for maxDispatches 1, 2, 3, 7 and all", async () => {
    await withDevice(async (device) => {
      const whole = await runJob(device, funit.createJob(contents, code), 1e9);
      expect(whole.slices).toBe(1);
      expectSameImages(whole.result, want);
      const total = (await runJob(device, funit.createJob(contents, code), 1)).slices;
      expect(total).toBeGreaterThan(20); // one slice per dispatch
      for (const maxDispatches of [1, 2, 3, 7, total]) {
        const run = await runJob(device, funit.createJob(contents, code), maxDispatches);
        expect(run.slices).toBe(Math.ceil(total / maxDispatches));
        expectSameImages(run.result, want);
        // progress rises by maxDispatches / total a slice and ends at 1
        expect(run.progress.at(-1)).toBe(1);
        run.progress.forEach((p, i) =>
          expect(p).toBeCloseTo(Math.min(total, (i + 1) * maxDispatches) / total, 12),
        );
      }
    });
  });

  it("several jobs in flight, interleaved in the same encoders beside translate(), each get their own result", async () => {
    await withDevice(async (device) => {
      const wantOther = await funit.translate(contents, other);
      const wantSwapped = await funit.translate([contents[1]!, contents[0]!], code);
      const jobs = [
        { job: funit.createJob(contents, code), want, max: 3 },
        { job: funit.createJob(contents, other), want: wantOther, max: 5 },
        { job: funit.createJob([contents[1]!, contents[0]!], code), want: wantSwapped, max: 2 },
      ];
      await Promise.all(jobs.map((j) => j.job.ready));
      let frame = 0;
      while (jobs.some((j) => j.job.progress < 1)) {
        const encoder = device.createCommandEncoder({ label: "test:frame" });
        for (const j of jobs)
          if (j.job.progress < 1) j.job.encode(encoder, { maxDispatches: j.max });
        device.queue.submit([encoder.finish()]);
        // an ordinary call between frames uses the plan cache, not the jobs' plans
        if (frame++ === 4) expectSameImages(await funit.translate(contents, other), wantOther);
      }
      for (const j of jobs) expectSameImages(await j.job.result(), j.want);
    });
  });

  it("texture jobs: a new texture, and layers of the caller's texture, hold translate()'s bytes", async () => {
    await withDevice(async (device) => {
      const made = await runJob(device, funit.createJob(contents, code, { texture: true }), 4);
      expect([made.result.width, made.result.height, made.result.depthOrArrayLayers]).toEqual([
        64, 64, 2,
      ]);
      for (const l of [0, 1])
        expect(sameBytes(await readLayer(device, made.result, l), want[l]!.data)).toBe(true);
      made.result.destroy();

      const texture = device.createTexture({
        label: "test:atlas",
        format: "rgba8unorm",
        size: [64, 64, 4],
        usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_SRC,
      });
      const job = funit.createJob(contents.slice(1), code, { texture, layer: 2 });
      const run = await runJob(device, job, 6);
      expect(run.result).toBe(texture);
      expect(sameBytes(await readLayer(device, texture, 2), want[1]!.data)).toBe(true);
      expect(Math.max(...(await readLayer(device, texture, 1)))).toBe(0); // untouched
      texture.destroy();
    });
  });

  it("a cancelled job records nothing more, rejects, and gives its plan back", async () => {
    await withDevice(async (device) => {
      const shape = [contents[0]!]; // a batch of 1: a job shape of its own in this file
      const jobBuffers = () => {
        let made = 0;
        const createBuffer = device.createBuffer;
        device.createBuffer = function (desc: GPUBufferDescriptor) {
          if (desc.label?.includes(":job") && desc.label.includes("activations")) made++;
          return createBuffer.call(this, desc);
        };
        return () => {
          device.createBuffer = createBuffer;
          return made;
        };
      };
      let stop = jobBuffers();
      const job = funit.createJob(shape, code);
      await job.ready;
      expect(stop()).toBeGreaterThan(0); // the first job of a shape compiles its own plan
      const encoder = device.createCommandEncoder({ label: "test:frame" });
      expect(job.encode(encoder, { maxDispatches: 5 })).toBe(false);
      device.queue.submit([encoder.finish()]);
      expect(job.progress).toBeGreaterThan(0);
      job.cancel();
      expect(() => job.encode(device.createCommandEncoder(), { maxDispatches: 1 })).toThrow(
        InputError,
      );
      await expect(job.result()).rejects.toThrow(/cancelled/);
      await device.queue.onSubmittedWorkDone();
      await new Promise((r) => setTimeout(r, 0));

      stop = jobBuffers();
      const next = funit.createJob(shape, code);
      const run = await runJob(device, next, 8);
      expect(stop()).toBe(0); // the cancelled job's plan, reused
      expectSameImages(run.result, want.slice(0, 1));
    });
  });

  it("bad options are InputErrors, before any GPU work", async () => {
    await withDevice(async (device) => {
      expect(() => funit.createJob([], code)).toThrow(InputError);
      expect(() => funit.createJob(contents, new Float32Array(3))).toThrow(/latent_dim/);
      expect(() => funit.createJob(contents, code, { layer: 1 })).toThrow(
        /only meaningful with a texture output/,
      );
      expect(() => funit.createJob(contents, code, { texture: {} as GPUTexture })).toThrow(
        /not a GPUTexture/,
      );
      const job = funit.createJob(contents, code);
      await job.ready;
      await expect(job.result()).rejects.toThrow(/dispatches are not encoded yet/);
      const encoder = device.createCommandEncoder();
      for (const bad of [0, -1, 1.5, NaN])
        expect(() => job.encode(encoder, { maxDispatches: bad })).toThrow(
          /maxDispatches must be a whole number/,
        );
      expect(job.progress).toBe(0);
      job.cancel();
      encoder.finish();
    });
  });
});

describe("tiny-b: class images style, non-square 40x48", () => {
  it("sliced output equals translate() bit for bit; destroy() frees the plans of jobs in flight", async () => {
    const { tensors } = readTensors("test/fixtures/tiny-b/expected.safetensors");
    const contents = tensorToImages(tensors.get("content")!);
    const classImages = tensors.get("class_images")!;
    await withDevice(async (device) => {
      const funit = await Funit.create(device, TINY_B);
      const want = await funit.translate(contents, classImages);
      for (const maxDispatches of [1, 2, 3, 7, 1000]) {
        const run = await runJob(device, funit.createJob(contents, classImages), maxDispatches);
        expectSameImages(run.result, want);
      }
      const destroyed: string[] = [];
      const inFlight = funit.createJob(contents, classImages);
      await inFlight.ready;
      const encoder = device.createCommandEncoder();
      inFlight.encode(encoder, { maxDispatches: 2 });
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      const proto = Object.getPrototypeOf(device.createBuffer({ size: 4, usage: 8 }));
      const destroy = proto.destroy;
      proto.destroy = function (this: GPUBuffer) {
        destroyed.push(this.label);
        return destroy.call(this);
      };
      try {
        funit.destroy();
      } finally {
        proto.destroy = destroy;
      }
      expect(destroyed.filter((l) => /:job.*activations/.test(l)).length).toBeGreaterThan(0);
      expect(() => inFlight.encode(device.createCommandEncoder(), { maxDispatches: 2 })).toThrow(
        EngineDisposedError,
      );
      expect(() => funit.createJob(contents, classImages)).toThrow(EngineDisposedError);
    });
  });
});
