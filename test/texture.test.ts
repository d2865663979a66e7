/**
 * GPU-resident output: translateToTexture and encodeTranslationToTexture write, layer by layer,
 * exactly the RGBA bytes translate() returns (same plan math, so the tolerance is 0), for the
 * shipped Hangul model (class code style, 3 layers) and tiny-b (class images, non-square 40×48);
 * a caller's texture is checked (format, dimension, size, usage, layers, device) with an InputError
 * before anything is written; nothing is read back (no MAP_READ buffer, no mapAsync); and the
 * example's render pass (examples/texture/draw.js) draws those pixels, in Node and in headless
 * Chromium (SwiftShader: no shader-f16, 256 invocations a workgroup). Textures are read here with
 * copyTextureToBuffer, in the test only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Funit } from "../src/engine";
import { getNodeDevice } from "../src/node/gpu";
import { readImageFile } from "../src/node/images";
import { compile, Graph } from "../src/runtime/graph";
import { encodePlan } from "../src/runtime/run";
import { imagesToTexture } from "../src/ops/images";
import { tensorToImages, type ImageRGBA } from "../src/tensor";
import { drawGlyphLayers } from "../examples/texture/draw.js";
import { sharedDevice, withDevice } from "./helpers/gpu";
import { readTensors } from "./helpers/fixtures";
import { launchChromium } from "./helpers/chromium";
// @ts-expect-error: a plain .mjs helper without type declarations
import { serveDirectory } from "../scripts/static-server.mjs";
import { InputError } from "../src/errors";

const HANGUL = new Uint8Array(readFileSync("weights/hangul64-f16.safetensors"));
const TINY_B = new Uint8Array(readFileSync("test/fixtures/tiny-b/gen_test.safetensors"));

/** Every layer of a 2D-array rgba8unorm texture as tightly packed RGBA bytes (rows padded to 256 for the copy). */
async function readLayers(device: GPUDevice, texture: GPUTexture): Promise<Uint8Array[]> {
  const { width, height, depthOrArrayLayers: layers } = texture;
  const bytesPerRow = Math.ceil((width * 4) / 256) * 256;
  const buffer = device.createBuffer({
    label: "test:texture-readback",
    size: bytesPerRow * height * layers,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder({ label: "test:texture-readback" });
  encoder.copyTextureToBuffer({ texture }, { buffer, bytesPerRow, rowsPerImage: height }, [
    width,
    height,
    layers,
  ]);
  device.queue.submit([encoder.finish()]);
  await buffer.mapAsync(GPUMapMode.READ);
  const padded = new Uint8Array(buffer.getMappedRange().slice(0));
  buffer.destroy();
  return Array.from({ length: layers }, (_, l) => {
    const out = new Uint8Array(width * height * 4);
    for (let y = 0; y < height; y++)
      out.set(
        padded.subarray((l * height + y) * bytesPerRow, (l * height + y) * bytesPerRow + width * 4),
        y * width * 4,
      );
    return out;
  });
}

/** A texture filled with a recognisable pattern (so that "nothing was written" can be checked). */
function patterned(
  device: GPUDevice,
  width: number,
  height: number,
  layers: number,
  extraUsage = 0,
): { texture: GPUTexture; bytes: Uint8Array } {
  const texture = device.createTexture({
    label: "test:patterned",
    format: "rgba8unorm",
    size: [width, height, layers],
    usage:
      GPUTextureUsage.STORAGE_BINDING |
      GPUTextureUsage.COPY_SRC |
      GPUTextureUsage.COPY_DST |
      extraUsage,
  });
  const bytes = new Uint8Array(width * height * 4 * layers).map((_, i) => (i * 37 + 11) & 0xff);
  device.queue.writeTexture({ texture }, bytes, { bytesPerRow: width * 4, rowsPerImage: height }, [
    width,
    height,
    layers,
  ]);
  return { texture, bytes };
}

function layerOf(bytes: Uint8Array, width: number, height: number, layer: number): Uint8Array {
  return bytes.subarray(layer * width * height * 4, (layer + 1) * width * height * 4);
}

/** max |a − b| over bytes. */
function maxByteDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe("Hangul model: class code style", () => {
  let funit: Funit;
  let contents: ImageRGBA[];
  let code: Float32Array;
  let want: ImageRGBA[];
  beforeAll(async () => {
    await withDevice(async (device) => {
      funit = await Funit.create(device, HANGUL, { label: "texture-test" });
      const refs = await Promise.all(
        [0, 1, 2, 3, 4].map((i) => readImageFile(`examples/glyphs/ref-${i}.png`)),
      );
      contents = await Promise.all(
        ["content-0", "content-1", "ref-0"].map((n) => readImageFile(`examples/glyphs/${n}.png`)),
      );
      code = await funit.encodeClass(refs);
      want = await funit.translate(contents, code);
    });
  });
  afterAll(() => funit?.destroy());

  it("a new texture: rgba8unorm, one layer per image, exactly translate()'s bytes, nothing read back", async () => {
    const device = await sharedDevice();
    // Count every read-back the call could make: MAP_READ buffers created and buffers mapped.
    let mapReadBuffers = 0,
      maps = 0;
    const createBuffer = device.createBuffer;
    const probe = device.createBuffer({
      label: "test:probe",
      size: 16,
      usage: GPUBufferUsage.COPY_DST,
    });
    const proto = Object.getPrototypeOf(probe);
    probe.destroy();
    const mapAsync = proto.mapAsync;
    device.createBuffer = function (desc: GPUBufferDescriptor) {
      if (desc.usage & GPUBufferUsage.MAP_READ) mapReadBuffers++;
      return createBuffer.call(this, desc);
    };
    proto.mapAsync = function (...args: unknown[]) {
      maps++;
      return mapAsync.apply(this, args);
    };
    let texture: GPUTexture;
    try {
      // A fresh shape (batch of 3 from a code) builds its plan in this call: that must not read back either.
      texture = await withDevice(() => funit.translateToTexture(contents, code));
    } finally {
      device.createBuffer = createBuffer;
      proto.mapAsync = mapAsync;
    }
    expect({ mapReadBuffers, maps }).toEqual({ mapReadBuffers: 0, maps: 0 });
    expect([
      texture.format,
      texture.dimension,
      texture.width,
      texture.height,
      texture.depthOrArrayLayers,
    ]).toEqual(["rgba8unorm", "2d", 64, 64, 3]);
    expect(texture.usage).toBe(
      GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_SRC,
    );
    const layers = await withDevice((d) => readLayers(d, texture));
    layers.forEach((layer, i) => expect(maxByteDiff(layer, want[i]!.data)).toBe(0));
    // Not a blank: the glyphs have ink and paper.
    expect(Math.min(...layers[0]!)).toBeLessThan(64);
    expect(Math.max(...layers[0]!)).toBe(255);
    texture.destroy();
  });

  it("a caller's texture from a given layer: those layers get translate()'s bytes, the others are untouched", async () => {
    await withDevice(async (device) => {
      const { texture, bytes } = patterned(device, 64, 64, 6);
      const written = await funit.translateToTexture(contents.slice(0, 2), code, {
        texture,
        layer: 3,
      });
      expect(written).toBe(texture);
      const layers = await readLayers(device, texture);
      for (const l of [0, 1, 2, 5])
        expect(maxByteDiff(layers[l]!, layerOf(bytes, 64, 64, l))).toBe(0);
      expect(maxByteDiff(layers[3]!, want[0]!.data)).toBe(0);
      expect(maxByteDiff(layers[4]!, want[1]!.data)).toBe(0);
      // Written again (the cached view and bind group are reused) with another image at the same place.
      await funit.translateToTexture([contents[2]!, contents[0]!], code, { texture, layer: 3 });
      const again = await readLayers(device, texture);
      expect(maxByteDiff(again[3]!, want[2]!.data)).toBe(0);
      expect(maxByteDiff(again[4]!, want[0]!.data)).toBe(0);
      texture.destroy();
    });
  });

  it("encodeTranslationToTexture: two translations of one shape in the caller's encoder, one submit, each its own inputs", async () => {
    await withDevice(async (device) => {
      const other = await funit.encodeClass(contents); // a second style
      const wantOther = await funit.translate(contents.slice(0, 1), other);
      const wantCode = await funit.translate(contents.slice(1, 2), code);
      const encoder = device.createCommandEncoder({ label: "test:frame" });
      const a = await funit.encodeTranslationToTexture(encoder, contents.slice(0, 1), other);
      const b = await funit.encodeTranslationToTexture(encoder, contents.slice(1, 2), code);
      device.queue.submit([encoder.finish()]);
      expect(maxByteDiff((await readLayers(device, a))[0]!, wantOther[0]!.data)).toBe(0);
      expect(maxByteDiff((await readLayers(device, b))[0]!, wantCode[0]!.data)).toBe(0);
      a.destroy();
      b.destroy();
    });
  });

  it("the example's render pass draws the layers as quads: nearest texels at scale 2, black on white exact, other colours within 1/255", async () => {
    await withDevice(async (device) => {
      const glyphs = await funit.translateToTexture(contents, code);
      const scale = 2,
        columns = 2,
        cell = 64 * scale;
      // 3 layers in 2 columns: cells (0,0), (1,0), (0,1); cell (1,1) stays the background.
      const target = device.createTexture({
        label: "test:render-target",
        format: "rgba8unorm",
        size: [columns * cell, 2 * cell],
        usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
      });
      const check = async (
        ink: [number, number, number],
        paper: [number, number, number],
        background: [number, number, number, number],
      ) => {
        await drawGlyphLayers(device, glyphs, target, { columns, scale, ink, paper, background });
        const [drawn] = await readLayers(device, target);
        const expected = new Uint8Array(drawn!.length);
        for (let y = 0; y < 2 * cell; y++)
          for (let x = 0; x < columns * cell; x++) {
            const layer = Math.floor(y / cell) * columns + Math.floor(x / cell);
            const texel =
              (Math.floor((y % cell) / scale) * 64 + Math.floor((x % cell) / scale)) * 4;
            for (let c = 0; c < 4; c++) {
              const t = layer < 3 ? want[layer]!.data[texel + c]! / 255 : 0;
              const value =
                layer >= 3 ? background[c]! : c === 3 ? 1 : ink[c]! * (1 - t) + paper[c]! * t;
              expected[(y * columns * cell + x) * 4 + c] = Math.round(255 * value);
            }
          }
        return maxByteDiff(drawn!, expected);
      };
      // Black on white is the texture itself: exact. Other colours round mix() once: within 1/255.
      expect(await check([0, 0, 0], [1, 1, 1], [0.2, 0.4, 0.6, 1])).toBe(0);
      expect(await check([0.8, 0.1, 0.1], [1, 0.95, 0.8], [0, 0, 0, 1])).toBeLessThanOrEqual(1);
      target.destroy();
      glyphs.destroy();
    });
  });
});

describe("tiny-b: class images style, non-square 40x48", () => {
  let funit: Funit;
  const { tensors } = readTensors("test/fixtures/tiny-b/expected.safetensors");
  const contentTensor = tensors.get("content")!;
  const classImages = tensors.get("class_images")!;
  const contents = tensorToImages(contentTensor);
  beforeAll(async () => {
    funit = await withDevice((d) => Funit.create(d, TINY_B));
  });
  afterAll(() => funit?.destroy());

  it("images in: exactly translate()'s bytes; a tensor in: the rounding of translateTensor's output", async () => {
    await withDevice(async (device) => {
      const want = await funit.translate(contents, classImages);
      const texture = await funit.translateToTexture(contents, classImages);
      expect([texture.width, texture.height, texture.depthOrArrayLayers]).toEqual([40, 48, 1]);
      expect(maxByteDiff((await readLayers(device, texture))[0]!, want[0]!.data)).toBe(0);

      const y = await funit.translateTensor(contentTensor, classImages);
      const fromTensor = (
        await readLayers(device, await funit.translateToTexture(contentTensor, classImages))
      )[0]!;
      const plane = 40 * 48;
      let worst = 0;
      for (let p = 0; p < plane; p++) {
        for (let c = 0; c < 3; c++)
          worst = Math.max(
            worst,
            Math.abs(
              fromTensor[p * 4 + c]! -
                Math.min(255, Math.max(0, (y.data[c * plane + p]! + 1) * 127.5)),
            ),
          );
        expect(fromTensor[p * 4 + 3]).toBe(255);
      }
      expect(worst).toBeLessThanOrEqual(0.5 + 1e-3); // a byte is the float rounded to nearest
      texture.destroy();
    });
  });

  it("refuses every bad target with an InputError naming the problem, writes nothing, and keeps working", async () => {
    await withDevice(async (device) => {
      const bad = (target: object) =>
        funit.translateToTexture(contents, classImages, target as never);
      const make = (desc: Partial<GPUTextureDescriptor>) =>
        device.createTexture({
          label: "test:bad",
          format: "rgba8unorm",
          size: [40, 48, 1],
          usage: GPUTextureUsage.STORAGE_BINDING,
          ...desc,
        } as GPUTextureDescriptor);
      await expect(bad({ texture: {} })).rejects.toThrow(/not a GPUTexture/);
      await expect(bad({ texture: make({ format: "rgba16float" }) })).rejects.toThrow(
        /format is rgba16float; it must be rgba8unorm/,
      );
      await expect(bad({ texture: make({ dimension: "3d", size: [40, 48, 2] }) })).rejects.toThrow(
        /dimension is 3d; it must be 2d/,
      );
      await expect(bad({ texture: make({ size: [48, 40, 1] }) })).rejects.toThrow(
        /it is 48x40; the content images are 40x48/,
      );
      await expect(
        bad({ texture: make({ usage: GPUTextureUsage.TEXTURE_BINDING }) }),
      ).rejects.toThrow(/lacks GPUTextureUsage.STORAGE_BINDING/);
      await expect(bad({ layer: 1 })).rejects.toThrow(/only meaningful with a caller's texture/);
      for (const e of await Promise.all(
        [bad({ texture: {} }), bad({ layer: -1 })].map((p) => p.catch((x) => x)),
      ))
        expect(e).toBeInstanceOf(InputError);

      // Refusals on a readable texture of the right kind leave its pattern as it was.
      const { texture, bytes } = patterned(device, 40, 48, 2);
      await expect(bad({ texture, layer: 2 })).rejects.toThrow(
        /has 2 array layer\(s\); writing 1 image\(s\) from layer 2 needs 3/,
      );
      await expect(bad({ texture, layer: 0.5 })).rejects.toThrow(/layer must be a whole number/);
      await expect(
        funit.translateToTexture([...contents, ...contents, ...contents], classImages, { texture }),
      ).rejects.toThrow(/writing 3 image\(s\) from layer 0 needs 3/);
      await expect(
        funit.translateToTexture(contents, new Float32Array(3), { texture }),
      ).rejects.toThrow(/latent_dim is 8/);
      await expect(
        funit.translateToTexture(
          [{ width: 40, height: 40, data: new Uint8Array(40 * 40 * 4) }],
          classImages,
          { texture },
        ),
      ).rejects.toThrow(/it is 40x48; the content images are 40x40/);
      expect(
        maxByteDiff(
          (await readLayers(device, texture)).flatMap((l) => [...l]),
          bytes,
        ),
      ).toBe(0);

      // A texture of another device is refused (found by binding it in an error scope), nothing written there either.
      const otherDevice = await getNodeDevice();
      const foreign = patterned(otherDevice, 40, 48, 1);
      await expect(bad({ texture: foreign.texture })).rejects.toThrow(
        /cannot be bound on this engine's device/,
      );
      expect(maxByteDiff((await readLayers(otherDevice, foreign.texture))[0]!, foreign.bytes)).toBe(
        0,
      );
      otherDevice.destroy();

      // Still works, into the texture that was refused a moment ago.
      const want = await funit.translate(contents, classImages);
      await funit.translateToTexture(contents, classImages, { texture, layer: 1 });
      const layers = await readLayers(device, texture);
      expect(maxByteDiff(layers[0]!, layerOf(bytes, 40, 48, 0))).toBe(0);
      expect(maxByteDiff(layers[1]!, want[0]!.data)).toBe(0);
      texture.destroy();
    });
  });
});

describe("plans with a texture slot", () => {
  it("refuse to be recorded before the slot is bound", async () => {
    await withDevice(async (device) => {
      const g = new Graph();
      const x = g.tensor("x", [1, 3, 8, 8]);
      imagesToTexture(g, x, { slot: "out" }, "test");
      const plan = await compile(
        device,
        g,
        { inputs: new Set([x.id]), outputs: new Set() },
        "test",
      );
      expect([...plan.textureSlots]).toEqual(["out"]);
      expect(() => encodePlan(device.createCommandEncoder(), plan)).toThrow(
        /writes a texture slot that is not bound/,
      );
      expect(() => plan.bindTextures({})).toThrow(/no view given for texture slot 'out'/);
      plan.destroy();
    });
  });
});

/**
 * The same API and draw.js in a browser. The example page itself cannot be checked here: in this
 * headless Chromium (156, SwiftShader) presenting any WebGPU canvas loses the device ("Device was
 * destroyed" after one clear pass on getCurrentTexture()), so the page's canvas path stays manual;
 * this renders into an offscreen rgba8unorm texture instead and compares in the page with
 * translate() on the same device (tolerance 0: same plan math, black-on-white draw).
 */
describe("in headless Chromium", () => {
  it("translateToTexture equals translate() and drawGlyphLayers draws it, with no WebGPU error", async () => {
    execFileSync(process.execPath, ["scripts/build.mjs"]);
    const server: { url: string; close: () => Promise<void> } = await serveDirectory(process.cwd());
    const { browser, close } = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}examples/texture/draw.js`); // any page of this origin
      // A string, so that vitest leaves the page's dynamic imports alone.
      const result = (await page.evaluate(`(async () => {
        const { Funit, requestFunitDevice } = await import("/dist/index.js");
        const { drawGlyphLayers } = await import("/examples/texture/draw.js");
        const device = await requestFunitDevice(navigator.gpu);
        device.pushErrorScope("validation");
        const image = async (name) => {
          const bitmap = await createImageBitmap(await (await fetch("/examples/glyphs/" + name + ".png")).blob(), { colorSpaceConversion: "none", premultiplyAlpha: "none" });
          const ctx = new OffscreenCanvas(bitmap.width, bitmap.height).getContext("2d");
          ctx.drawImage(bitmap, 0, 0);
          return { width: bitmap.width, height: bitmap.height, data: ctx.getImageData(0, 0, bitmap.width, bitmap.height).data };
        };
        const read = async (texture) => {
          const { width, height, depthOrArrayLayers: layers } = texture;
          const bytesPerRow = Math.ceil(width * 4 / 256) * 256;
          const buffer = device.createBuffer({ size: bytesPerRow * height * layers, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
          const encoder = device.createCommandEncoder();
          encoder.copyTextureToBuffer({ texture }, { buffer, bytesPerRow, rowsPerImage: height }, [width, height, layers]);
          device.queue.submit([encoder.finish()]);
          await buffer.mapAsync(GPUMapMode.READ);
          const bytes = new Uint8Array(buffer.getMappedRange().slice(0));
          return (l, x, y, c) => bytes[(l * height + y) * bytesPerRow + x * 4 + c];
        };
        const funit = await Funit.create(device, new Uint8Array(await (await fetch("/weights/hangul64-f16.safetensors")).arrayBuffer()));
        const refs = await Promise.all([0, 1, 2, 3, 4].map((i) => image("ref-" + i)));
        const contents = await Promise.all([0, 1].map((i) => image("content-" + i)));
        const code = await funit.encodeClass(refs);
        const want = await funit.translate(contents, code);
        const glyphs = await funit.translateToTexture(contents, code);
        const target = device.createTexture({ format: "rgba8unorm", size: [128, 64], usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC });
        await drawGlyphLayers(device, glyphs, target, { columns: 2 });
        const layer = await read(glyphs), drawn = await read(target);
        let textureDiff = 0, drawDiff = 0, ink = 0;
        for (let l = 0; l < 2; l++) for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) for (let c = 0; c < 4; c++) {
          const w = want[l].data[(y * 64 + x) * 4 + c];
          if (c === 0 && w < 128) ink++;
          textureDiff = Math.max(textureDiff, Math.abs(layer(l, x, y, c) - w));
          drawDiff = Math.max(drawDiff, Math.abs(drawn(0, l * 64 + x, y, c) - w));
        }
        const error = await device.popErrorScope();
        return { layers: glyphs.depthOrArrayLayers, textureDiff, drawDiff, ink, error: error ? error.message : null, f16: device.features.has("shader-f16") };
      })()`)) as {
        layers: number;
        textureDiff: number;
        drawDiff: number;
        ink: number;
        error: string | null;
        f16: boolean;
      };
      expect(result).toMatchObject({ layers: 2, textureDiff: 0, drawDiff: 0, error: null });
      expect(result.ink).toBeGreaterThan(100); // real glyphs, not a blank page
    } finally {
      await close();
      await server.close();
    }
  });
});
