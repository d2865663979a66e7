/**
 * The whole generator against PyTorch, runtime-neutral: every stored intermediate of a reference
 * file (content_code, class_code, adain_params, output) within 1e-4 max absolute error on the f32
 * path, with the adapter's own kernel choice or a named convolution kernel (a device that cannot
 * run the subgroup kernel must refuse it clearly); the API's equivalences (class code vs class
 * images, one image vs the batch, RGBA vs rounded float output); and per-dispatch profiling.
 * Fixtures are read through the context's loader, so the same bodies run in Node, Chromium and Deno.
 */
import { Funit } from "../../src/engine";
import { chooseConvKernel, subgroupConvSupported, type ConvKernel } from "../../src/policy";
import { parseSafetensors } from "../../src/safetensors";
import { floatTensors, tensorToImages, type ImageRGBA, type Tensor } from "../../src/tensor";
import { assert, assertClose, assertEqual, assertRejects } from "./assert";
import type { PortableTest, TestContext } from "./runner";

export const ATOL = 1e-4;
const INTERMEDIATES = ["content_code", "class_code", "adain_params", "output"] as const;

/** A repo-relative funit-expected/1 file's tensors. */
export async function loadTensors(ctx: TestContext, path: string): Promise<Map<string, Tensor>> {
  return floatTensors(parseSafetensors(await ctx.load(path)));
}

function need(tensors: Map<string, Tensor>, name: string, path: string): Tensor {
  const t = tensors.get(name);
  assert(t, `${path} has no tensor '${name}'`);
  return t;
}

/** The first `n` items of a batch tensor (each content image is translated independently). */
function firstItems(t: Tensor, n: number): Tensor {
  const per = t.data.length / t.shape[0]!;
  return { shape: [n, ...t.shape.slice(1)], data: t.data.subarray(0, n * per) };
}

export interface ReferenceCase {
  weights: string;
  expected: string;
  /** A convolution kernel to force; omitted, the engine picks one and must pick chooseConvKernel's. */
  conv?: ConvKernel;
  /** Translate only the first this many content images (slower adapters); all when omitted. */
  contentCount?: number;
}

export function referenceTest({
  weights,
  expected,
  conv,
  contentCount,
}: ReferenceCase): PortableTest {
  const subset = contentCount ? ` (first ${contentCount} content images)` : "";
  return {
    name: `generator ${weights} [${conv ?? "auto"}]: every intermediate of ${expected}${subset} within ${ATOL}`,
    async run(ctx) {
      const { device } = ctx;
      const [bytes, tensors] = await Promise.all([ctx.load(weights), loadTensors(ctx, expected)]);
      if (conv === "subgroup" && !subgroupConvSupported(device)) {
        // a device that cannot run it must refuse it clearly
        await assertRejects(
          Funit.create(device, bytes, { conv }),
          /subgroups/,
          "Funit.create with conv: subgroup",
        );
        return;
      }
      const engine = await Funit.create(device, bytes, conv ? { conv } : {});
      try {
        assertEqual(engine.convKernel, conv ?? chooseConvKernel(device), "engine.convKernel");
        let content = need(tensors, "content", expected);
        const n = contentCount ?? content.shape[0]!;
        content = firstItems(content, n);
        const got = await engine.runWithIntermediates(
          content,
          need(tensors, "class_images", expected),
        );
        for (const name of INTERMEDIATES) {
          let want = need(tensors, name, expected);
          if (name === "content_code" || name === "output") want = firstItems(want, n);
          assertEqual(got[name].shape, want.shape, `${name} shape`);
          assertClose(got[name].data, want.data, ATOL, name);
        }
      } finally {
        engine.destroy();
      }
    },
  };
}

/**
 * The f16 tolerances against PyTorch's f32 outputs: content code, class code and AdaIN parameters
 * within 1e-2 · max|ref| (measured worst 4.2e-3 · max|ref|, tiny-b's content code); the output (in
 * [−1, 1]) within 5e-2 max abs error (measured worst 3.3e-2, Hangul Bandal; 6 of 255 levels) and
 * 4e-3 mean abs error (half an 8-bit level; measured worst 1.8e-3, tiny-b). For scale: f16 weights
 * with f32 arithmetic gave 1.4e-2 in the converter check, and this engine with f32 products
 * (f16Products "f32") 1.5e-2; f16 products about double that, as errors compound over ~20 layers
 * of f16 storage.
 */
export const F16_TOL = { output: 5e-2, outputMean: 4e-3, codesRelMax: 1e-2 };

/**
 * The whole generator with precision "f16" against PyTorch (F16_TOL). A device without
 * `shader-f16` must refuse "f16" clearly instead.
 */
export function f16ReferenceTest({
  weights,
  expected,
}: {
  weights: string;
  expected: string;
}): PortableTest {
  return {
    name: `generator ${weights} [f16]: every intermediate of ${expected} within the f16 tolerances`,
    async run(ctx) {
      const { device } = ctx;
      const [bytes, tensors] = await Promise.all([ctx.load(weights), loadTensors(ctx, expected)]);
      if (!device.features.has("shader-f16")) {
        await assertRejects(
          Funit.create(device, bytes, { precision: "f16" }),
          /shader-f16/,
          "Funit.create with precision: f16",
        );
        return;
      }
      const engine = await Funit.create(device, bytes, { precision: "f16" });
      try {
        assertEqual(engine.precision, "f16", "engine.precision");
        assertEqual(engine.convKernel, "tiled", "engine.convKernel");
        const got = await engine.runWithIntermediates(
          need(tensors, "content", expected),
          need(tensors, "class_images", expected),
        );
        for (const name of INTERMEDIATES) {
          const want = need(tensors, name, expected);
          assertEqual(got[name].shape, want.shape, `${name} shape`);
          if (name === "output") {
            assertClose(got[name].data, want.data, F16_TOL.output, name);
            const mean =
              got[name].data.reduce((a, v, i) => a + Math.abs(v - want.data[i]!), 0) /
              want.data.length;
            assert(
              mean <= F16_TOL.outputMean,
              `output mean abs error ${mean} > ${F16_TOL.outputMean}`,
            );
          } else {
            const scale = want.data.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
            assertClose(got[name].data, want.data, F16_TOL.codesRelMax * scale, name);
          }
        }
      } finally {
        engine.destroy();
      }
    },
  };
}

/** Class code vs class images, and one image vs the same image in a batch, on one reference file. */
export function styleEquivalenceTest(weights: string, expected: string): PortableTest {
  return {
    name: `generator ${weights}: the same output from a class code as from the class images, and per image as in a batch (${expected})`,
    async run(ctx) {
      const [bytes, tensors] = await Promise.all([ctx.load(weights), loadTensors(ctx, expected)]);
      const content = need(tensors, "content", expected);
      const classImages = need(tensors, "class_images", expected);
      const engine = await Funit.create(ctx.device, bytes);
      try {
        const code = await engine.encodeClass(classImages);
        assertEqual(code.length, engine.hyper.latent_dim, "class code length");
        assertClose(
          code,
          need(tensors, "class_code", expected).data,
          ATOL,
          "class code vs PyTorch",
        );
        const fromCode = await engine.translateTensor(content, code);
        const fromImages = await engine.translateTensor(content, classImages);
        assertClose(
          fromCode.data,
          fromImages.data,
          1e-6,
          "output from the class code vs from the class images",
        );
        const [n, c, h, w] = content.shape as [number, number, number, number];
        const last: Tensor = { shape: [1, c, h, w], data: content.data.slice((n - 1) * c * h * w) };
        const single = await engine.translateTensor(last, code);
        assertClose(
          single.data,
          fromCode.data.slice((n - 1) * 3 * h * w),
          1e-6,
          "last image alone vs in the batch",
        );
      } finally {
        engine.destroy();
      }
    },
  };
}

/** RGBA images → the [N,3,H,W] tensor the engine's pack kernel should produce. */
function packed(images: ImageRGBA[]): Float32Array {
  const plane = images[0]!.width * images[0]!.height;
  const out = new Float32Array(images.length * 3 * plane);
  images.forEach((img, n) => {
    for (let p = 0; p < plane; p++)
      for (let c = 0; c < 3; c++) out[(n * 3 + c) * plane + p] = img.data[p * 4 + c]! / 127.5 - 1;
  });
  return out;
}

export function rgbaTest(weights: string, expected: string): PortableTest {
  return {
    name: `generator ${weights}: RGBA images equal to the rounded float output (${expected})`,
    async run(ctx) {
      const [bytes, tensors] = await Promise.all([ctx.load(weights), loadTensors(ctx, expected)]);
      const content = need(tensors, "content", expected);
      const classTensor = need(tensors, "class_images", expected);
      const contentImages = tensorToImages(content);
      const classImages = tensorToImages(classTensor);
      const engine = await Funit.create(ctx.device, bytes);
      try {
        const images = await engine.translate(contentImages, classImages);
        // the same 8-bit inputs through the float path, rounded on the CPU
        const reference = tensorToImages(
          await engine.translateTensor(
            { shape: content.shape, data: packed(contentImages) },
            { shape: classTensor.shape, data: packed(classImages) },
          ),
        );
        assertEqual(images.length, reference.length, "number of images");
        images.forEach((img, i) => {
          assertEqual(
            [img.width, img.height],
            [reference[i]!.width, reference[i]!.height],
            `image ${i} size`,
          );
          // a value on a rounding boundary may land either side
          assertClose(img.data, reference[i]!.data, 1, `image ${i} RGBA vs rounded float output`);
        });
      } finally {
        engine.destroy();
      }
    },
  };
}

export function profileTest(weights: string, expected: string): PortableTest {
  return {
    name: `profile: times every dispatch of a ${weights} translation with timestamp queries`,
    async run(ctx) {
      const { device } = ctx;
      const [bytes, tensors] = await Promise.all([ctx.load(weights), loadTensors(ctx, expected)]);
      const content = need(tensors, "content", expected);
      const classImages = need(tensors, "class_images", expected);
      const engine = await Funit.create(device, bytes);
      try {
        if (!device.features.has("timestamp-query")) {
          await assertRejects(
            engine.profile(content, classImages),
            /timestamp-query/,
            "profile without timestamp-query",
          );
          return;
        }
        const rows = await engine.profile(content, classImages);
        const h = engine.hyper;
        // class encoder: 1 + n_downs_class convs, pool, 1×1; MLP: n_mlp_blks; content: 1 + n_downs_content
        // convs with norms, 2 convs and 2 norms per residual block; decoder: 2 convs and 2 norms per
        // residual block, n_downs_content up-convs with norms, the output conv; on the subgroup
        // path a residual conv is 3 dispatches (Winograd, src/ops/winograd.ts) where its channels
        // suit the GEMM (a multiple of 8), an up-conv 4 (Winograd and the frame) where its input
        // channels are a multiple of 4
        const channels = h.nf * 2 ** h.n_downs_content;
        const winograd = engine.kernels.winogradWeights;
        const residualRows = (winograd && channels % 8 === 0 ? 8 : 4) * h.n_res_blks;
        let upRows = 0;
        for (let u = 0; u < h.n_downs_content; u++)
          upRows += winograd && (channels / 2 ** u) % 4 === 0 ? 5 : 2;
        // a content encoder's stride-2 conv of an even input is 3 (Winograd) where its cout is a
        // multiple of 8
        let [ch, cw] = content.shape.slice(2) as [number, number];
        let downRows = 0;
        for (let d = 1; d <= h.n_downs_content; d++, ch >>= 1, cw >>= 1)
          downRows += winograd && ch % 2 === 0 && cw % 2 === 0 && (h.nf * 2 ** d) % 8 === 0 ? 3 : 1;
        const expectedRows =
          1 +
          h.n_downs_class +
          2 +
          h.n_mlp_blks +
          2 + // the first conv and its norm
          downRows +
          h.n_downs_content + // the downsampling convs' norms
          residualRows +
          residualRows +
          upRows +
          1;
        const outputConv = `dec.model.${1 + 2 * h.n_downs_content}.conv`;
        assert(
          rows.some((r) => r.label.split(" ")[0] === outputConv),
          `profile rows lack ${outputConv}: ${rows.map((r) => r.label).join(", ")}`,
        );
        assertEqual(rows.length, expectedRows, "profile rows");
        for (const r of rows) assert(r.ms >= 0, `${r.label}: ${r.ms} ms`);
        // each row says what it ran: the output conv is a 7×7 convolution to 3 channels of the content's size
        const out = rows.find((r) => r.label.split(" ")[0] === outputConv)!;
        assert(out.kernel.startsWith("conv2d"), `${outputConv} ran ${out.kernel}`);
        assertEqual(
          [out.overrides.KSIZE, out.params.cout, out.params.out_h, out.params.out_w],
          [7, 3, content.shape[2], content.shape[3]],
          `${outputConv} overrides and params`,
        );
        assert(
          rows.reduce((a, r) => a + r.ms, 0) > 0,
          "profile: the dispatches took no time at all",
        );
      } finally {
        engine.destroy();
      }
    },
  };
}
