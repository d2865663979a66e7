/**
 * Generators of the NVlabs family that no PyTorch reference file covers (no residual blocks, a
 * 2-block MLP, 2 or 5 class downsamplings, 1 or 3 content downsamplings, non-square sizes, K = 1
 * and K = 3), with random weights, against the plain TypeScript generator (test/helpers/reference.ts)
 * at |gpu − ref| ≤ 1e-4 · (1 + |ref|); and sizes the model cannot take are refused clearly.
 */
import { describe, expect, it } from "vitest";
import { Funit } from "../src/engine";
import { expectedTensors } from "../src/hyper";
import { maxRelError } from "./helpers/fixtures";
import { withDevice } from "./helpers/gpu";
import { funitRef, GENERATOR_FAMILY, randomArray, rng } from "./helpers/reference";
import { InputError } from "../src/errors";

const family = GENERATOR_FAMILY;

describe("any generator of the NVlabs family", () => {
  it.each(family)("$hyper at $h×$w, N=$n, K=$k", async ({ hyper, n, k, h, w }) => {
    const rand = rng(hyper.nf * 131 + hyper.n_res_blks);
    const tensors = new Map<string, Float32Array>();
    for (const [name, shape] of expectedTensors(hyper)) {
      const fanIn = shape.slice(1).reduce((a, b) => a * b, 1) || 1;
      tensors.set(
        name,
        randomArray(
          shape.reduce((a, b) => a * b, 1),
          rand,
          name.endsWith("bias") ? 0.5 : 1.5 / Math.sqrt(fanIn),
        ),
      );
    }
    const content = randomArray(n * 3 * h * w, rand);
    const classImages = randomArray(k * 3 * h * w, rand);
    const want = funitRef(
      hyper,
      (name) => tensors.get(name)!,
      { n, hh: h, ww: w, data: content },
      { k, hh: h, ww: w, data: classImages },
    );
    const got = await withDevice(async (device) => {
      const engine = await Funit.create(device, { hyper, tensors, dtypes: ["F32"], metadata: {} });
      try {
        return await engine.runWithIntermediates(
          { shape: [n, 3, h, w], data: content },
          { shape: [k, 3, h, w], data: classImages },
        );
      } finally {
        engine.destroy();
      }
    });
    expect(maxRelError(got.class_code.data, want.classCode)).toBeLessThanOrEqual(1e-4);
    expect(maxRelError(got.adain_params.data, want.adain)).toBeLessThanOrEqual(1e-4);
    expect(maxRelError(got.content_code.data, want.contentCode)).toBeLessThanOrEqual(1e-4);
    expect(got.output.shape).toEqual([n, 3, h, w]);
    expect(maxRelError(got.output.data, want.output)).toBeLessThanOrEqual(1e-4);
  });

  it("refuses content sizes not divisible by 2^n_downs_content", async () => {
    const hyper = family[1]!.hyper;
    const tensors = new Map(
      [...expectedTensors(hyper)].map(([name, shape]) => [
        name,
        new Float32Array(shape.reduce((a, b) => a * b, 1)),
      ]),
    );
    await withDevice(async (device) => {
      const engine = await Funit.create(device, { hyper, tensors, dtypes: ["F32"], metadata: {} });
      try {
        const bad = { shape: [1, 3, 64, 44], data: new Float32Array(3 * 64 * 44) };
        await expect(
          engine.translateTensor(bad, new Float32Array(hyper.latent_dim)),
        ).rejects.toThrow(InputError);
        await expect(
          engine.translateTensor(bad, new Float32Array(hyper.latent_dim)),
        ).rejects.toThrow(/divisible by 8/);
      } finally {
        engine.destroy();
      }
    });
  });
});
