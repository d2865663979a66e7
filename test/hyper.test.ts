/** Hyperparameter inference and tensor-shape checks against the shipped safetensors files. */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { parseSafetensors } from "../src/safetensors";
import { checkTensorShapes, expectedTensors, inferHyper } from "../src/hyper";
import { ModelFormatError } from "../src/errors";

function shapesOf(path: string) {
  const f = parseSafetensors(new Uint8Array(readFileSync(path)));
  return {
    shapes: new Map([...f.tensors].map(([k, v]) => [k, v.shape])),
    gen: JSON.parse(f.metadata.gen!),
  };
}

describe("hyperparameters", () => {
  for (const path of [
    "test/fixtures/hangul64/gen_test.safetensors",
    "test/fixtures/tiny-a/gen_test.safetensors",
    "test/fixtures/tiny-b/gen_test.safetensors",
  ]) {
    it(`infers the metadata's hyperparameters from shapes: ${path}`, () => {
      const { shapes, gen } = shapesOf(path);
      expect(inferHyper(shapes)).toEqual(gen);
      expect(() => checkTensorShapes(gen, shapes)).not.toThrow();
      expect([...expectedTensors(gen).keys()].sort()).toEqual([...shapes.keys()].sort());
    });
  }
  it("names a missing, extra and mis-shaped tensor", () => {
    const { shapes, gen } = shapesOf("test/fixtures/tiny-a/gen_test.safetensors");
    shapes.delete("dec.model.0.model.0.model.0.conv.bias");
    shapes.set("mlp.model.0.fc.weight", [3, 3]);
    shapes.set("extra.weight", [1]);
    expect(() => checkTensorShapes(gen, shapes)).toThrow(ModelFormatError);
    try {
      checkTensorShapes(gen, shapes);
    } catch (e) {
      const m = (e as Error).message;
      expect(m).toContain("missing tensor 'dec.model.0.model.0.model.0.conv.bias'");
      expect(m).toContain("tensor 'mlp.model.0.fc.weight' has shape [3,3]");
      expect(m).toContain("unexpected tensor 'extra.weight'");
    }
  });
});
