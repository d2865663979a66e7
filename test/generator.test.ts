/**
 * The whole generator against PyTorch: every stored intermediate of every reference file
 * (tiny-a, tiny-b, and the 8 held-out Hangul fonts) within 1e-4 max absolute error on the f32
 * path; plus the API's equivalences (class code vs class images, RGBA vs tensor, batch vs single).
 */
import { beforeAll, afterAll, describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { Funit } from "../src/engine";
import { chooseConvKernel, subgroupConvSupported } from "../src/device";
import { tensorToImages, type Tensor } from "../src/tensor";
import { withDevice } from "./helpers/gpu";
import { maxAbsDiff, readTensors } from "./helpers/fixtures";

const ATOL = 1e-4;
const INTERMEDIATES = ["content_code", "class_code", "adain_params", "output"] as const;

const cases = [
  { weights: "test/fixtures/tiny-a/gen_test.safetensors", expected: ["test/fixtures/tiny-a/expected.safetensors"] },
  { weights: "test/fixtures/tiny-b/gen_test.safetensors", expected: ["test/fixtures/tiny-b/expected.safetensors"] },
  {
    weights: "test/fixtures/hangul64/gen_test.safetensors",
    expected: readdirSync("test/fixtures/hangul64").filter((f) => f.endsWith(".safetensors") && f !== "gen_test.safetensors").map((f) => `test/fixtures/hangul64/${f}`),
  },
];

describe.each(cases)("generator $weights", ({ weights, expected }) => {
  let engine: Funit;
  beforeAll(async () => {
    engine = await withDevice((d) => Funit.create(d, new Uint8Array(readFileSync(weights))));
  });
  afterAll(() => engine?.destroy());

  it.each(expected)("matches every intermediate of %s within 1e-4", async (path) => {
    const { tensors } = readTensors(path);
    const got = await withDevice(() => engine.runWithIntermediates(tensors.get("content")!, tensors.get("class_images")!));
    for (const name of INTERMEDIATES) {
      const want = tensors.get(name)!;
      expect(got[name].shape, name).toEqual(want.shape);
      expect(maxAbsDiff(got[name].data, want.data), name).toBeLessThan(ATOL);
    }
  });

  it("gives the same output from a class code as from the class images, and per image as in a batch", async () => {
    const { tensors } = readTensors(expected[0]!);
    const content = tensors.get("content")!;
    const classImages = tensors.get("class_images")!;
    await withDevice(async () => {
      const code = await engine.encodeClass(classImages);
      expect(code.length).toBe(engine.hyper.latent_dim);
      expect(maxAbsDiff(code, tensors.get("class_code")!.data)).toBeLessThan(ATOL);
      const fromCode = await engine.translateTensor(content, code);
      const fromImages = await engine.translateTensor(content, classImages);
      expect(maxAbsDiff(fromCode.data, fromImages.data)).toBeLessThan(1e-6);
      const [n, c, h, w] = content.shape as [number, number, number, number];
      const last: Tensor = { shape: [1, c, h, w], data: content.data.slice((n - 1) * c * h * w) };
      const single = await engine.translateTensor(last, code);
      expect(maxAbsDiff(single.data, fromCode.data.slice((n - 1) * 3 * h * w))).toBeLessThan(1e-6);
    });
  });

  it("returns RGBA images equal to the rounded float output", async () => {
    const { tensors } = readTensors(expected[0]!);
    const contentImages = tensorToImages(tensors.get("content")!);
    const classImages = tensorToImages(tensors.get("class_images")!);
    await withDevice(async () => {
      const images = await engine.translate(contentImages, classImages);
      // the same 8-bit inputs through the float path, rounded on the CPU
      const reference = tensorToImages(await engine.translateTensor(
        { shape: tensors.get("content")!.shape, data: packed(contentImages) },
        { shape: tensors.get("class_images")!.shape, data: packed(classImages) },
      ));
      expect(images.length).toBe(reference.length);
      let maxDiff = 0;
      images.forEach((img, i) => {
        expect([img.width, img.height]).toEqual([reference[i]!.width, reference[i]!.height]);
        for (let p = 0; p < img.data.length; p++) maxDiff = Math.max(maxDiff, Math.abs(img.data[p]! - reference[i]!.data[p]!));
      });
      expect(maxDiff).toBeLessThanOrEqual(1); // a value on a rounding boundary may land either side
    });
  });
});

/** RGBA images → the [N,3,H,W] tensor the engine's pack kernel should produce. */
function packed(images: ReturnType<typeof tensorToImages>): Float32Array {
  const plane = images[0]!.width * images[0]!.height;
  const out = new Float32Array(images.length * 3 * plane);
  images.forEach((img, n) => {
    for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[(n * 3 + c) * plane + p] = img.data[p * 4 + c]! / 127.5 - 1;
  });
  return out;
}

describe("every convolution kernel runs the whole generator within 1e-4", () => {
  const files = [
    ["test/fixtures/tiny-a/gen_test.safetensors", "test/fixtures/tiny-a/expected.safetensors"],
    ["test/fixtures/tiny-b/gen_test.safetensors", "test/fixtures/tiny-b/expected.safetensors"],
    ["test/fixtures/hangul64/gen_test.safetensors", "test/fixtures/hangul64/UnShinmun.safetensors"],
  ];
  const runs = (["tiled", "direct", "subgroup"] as const).flatMap((conv) => files.map(([weights, expected]) => ({ conv, weights: weights!, expected: expected! })));
  it.each(runs)("$conv: $expected", async ({ conv, weights, expected }) => {
    const { tensors } = readTensors(expected);
    await withDevice(async (device) => {
      if (conv === "subgroup" && !subgroupConvSupported(device)) {
        // a device that cannot run it must refuse it clearly
        await expect(Funit.create(device, new Uint8Array(readFileSync(weights)), { conv })).rejects.toThrow(/subgroups/);
        return;
      }
      const engine = await Funit.create(device, new Uint8Array(readFileSync(weights)), { conv });
      try {
        expect(engine.convKernel).toBe(conv);
        const got = await engine.runWithIntermediates(tensors.get("content")!, tensors.get("class_images")!);
        for (const name of INTERMEDIATES) expect(maxAbsDiff(got[name].data, tensors.get(name)!.data), name).toBeLessThan(ATOL);
      } finally { engine.destroy(); }
    });
  });
});

describe("convolution kernel choice", () => {
  const fake = (info: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean; subgroupMinSize?: number }, features: string[]) =>
    ({ adapterInfo: info, features: new Set(features) }) as unknown as GPUDevice;
  it("tiled on GPUs, subgroup on CPU adapters with 8-lane subgroups, direct on other CPU adapters", () => {
    expect(chooseConvKernel(fake({ vendor: "nvidia", architecture: "hopper", subgroupMinSize: 32 }, ["subgroups"]))).toBe("tiled");
    expect(chooseConvKernel(fake({ vendor: "mesa", architecture: "software", isFallbackAdapter: true, subgroupMinSize: 8 }, ["subgroups"]))).toBe("subgroup");
    expect(chooseConvKernel(fake({ vendor: "65541", description: "llvmpipe (LLVM 15.0.6, 256 bits)", isFallbackAdapter: true }, []))).toBe("direct");
    expect(chooseConvKernel(fake({ vendor: "google", architecture: "swiftshader", subgroupMinSize: 4 }, ["subgroups"]))).toBe("direct");
  });
  it("auto picks the same kernel as chooseConvKernel on this device", async () => {
    await withDevice(async (device) => {
      const engine = await Funit.create(device, new Uint8Array(readFileSync("test/fixtures/tiny-a/gen_test.safetensors")));
      try { expect(engine.convKernel).toBe(chooseConvKernel(device)); } finally { engine.destroy(); }
    });
  });
});

describe("profile", () => {
  it("times every dispatch of a translation with timestamp queries", async () => {
    const { tensors } = readTensors("test/fixtures/tiny-a/expected.safetensors");
    await withDevice(async (device) => {
      const engine = await Funit.create(device, new Uint8Array(readFileSync("test/fixtures/tiny-a/gen_test.safetensors")));
      try {
        if (!device.features.has("timestamp-query")) {
          await expect(engine.profile(tensors.get("content")!, tensors.get("class_images")!)).rejects.toThrow(/timestamp-query/);
          return;
        }
        const rows = await engine.profile(tensors.get("content")!, tensors.get("class_images")!);
        // tiny-a: class encoder 4 convs + pool + 1x1, MLP 3, content 1+2 convs with norms + 1 res block (2 convs, 2 norms),
        // decoder 1 res block (2 convs, 2 norms) + 2 up convs with norms + the output conv
        expect(rows.map((r) => r.label.split(" ")[0])).toContain("dec.model.5.conv");
        expect(rows.length).toBe(4 + 2 + 3 + 6 + 4 + 4 + 4 + 1);
        for (const r of rows) expect(r.ms).toBeGreaterThanOrEqual(0);
        expect(rows.reduce((a, r) => a + r.ms, 0)).toBeGreaterThan(0);
      } finally { engine.destroy(); }
    });
  });
});
