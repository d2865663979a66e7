/**
 * Bad input gets a clear error and leaves the engine usable: weights that are truncated, lie in
 * their header, hold NaN, miss or mis-shape a tensor; F16 weights load and stay close; inputs of the
 * wrong size or count; an adapter below the kernels' limits.
 */
import { beforeAll, afterAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { Funit } from "../src/engine";
import { checkAdapterLimits, REQUIRED_LIMITS } from "../src/device";
import {
  float16Bytes,
  float32Bytes,
  parseSafetensors,
  serializeSafetensors,
  tensorToFloat32,
  type TensorToWrite,
} from "../src/safetensors";
import { readGeneratorWeights } from "../src/weights";
import { type Tensor } from "../src/tensor";
import { compile, Graph } from "../src/runtime/graph";
import { uploadGenerator } from "../src/upload";
import { withDevice } from "./helpers/gpu";
import { maxAbsError, readTensors } from "./helpers/fixtures";
import { DeviceError, InputError, ModelFormatError, SafetensorsError } from "../src/errors";

const TINY = new Uint8Array(readFileSync("test/fixtures/tiny-a/gen_test.safetensors"));

/** Rewrites the tiny-a weights through `edit` (which may drop, replace or add tensors). */
function rewrite(
  edit: (tensors: TensorToWrite[]) => TensorToWrite[],
  metadata?: Record<string, string>,
): Uint8Array {
  const f = parseSafetensors(TINY);
  const list: TensorToWrite[] = [...f.tensors].map(([name, t]) => ({
    name,
    dtype: t.dtype,
    shape: t.shape,
    bytes: t.bytes,
  }));
  return serializeSafetensors(edit(list), metadata ?? f.metadata);
}

describe("weights that must be refused", () => {
  it("truncated file", () => {
    expect(() => readGeneratorWeights(TINY.subarray(0, TINY.length - 100))).toThrow(
      /past the end of the data.*truncated/,
    );
    expect(() => readGeneratorWeights(TINY.subarray(0, 5))).toThrow(SafetensorsError);
  });
  it("a header that lies about offsets or dtype", () => {
    const headerLen = Number(new DataView(TINY.buffer, TINY.byteOffset).getBigUint64(0, true));
    const data = TINY.subarray(8 + headerLen);
    /** The same data behind a header edited by `edit`. */
    const lie = (
      edit: (h: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void,
    ) => {
      const header = JSON.parse(new TextDecoder().decode(TINY.subarray(8, 8 + headerLen)));
      edit(header);
      const json = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(8 + json.length + data.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      out.set(data, 8 + json.length);
      return out;
    };
    const name = "enc_content.model.0.conv.weight";
    expect(() =>
      readGeneratorWeights(
        lie((h) => {
          h[name]!.data_offsets[1]! += 4;
        }),
      ),
    ).toThrow(/'enc_content.model.0.conv.weight': data_offsets .* hold/);
    const size = 4 * 8 * 3 * 7 * 7; // tiny-a: nf = 8
    expect(() =>
      readGeneratorWeights(
        lie((h) => {
          h[name]!.data_offsets = [data.length - 8, data.length - 8 + size];
        }),
      ),
    ).toThrow(/past the end of the data/);
    expect(() =>
      readGeneratorWeights(
        lie((h) => {
          h[name]!.dtype = "F16";
        }),
      ),
    ).toThrow(/F16 \[8,3,7,7\] needs 2352/);
    expect(() =>
      readGeneratorWeights(
        lie((h) => {
          h[name]!.dtype = "Q4";
        }),
      ),
    ).toThrow(/unknown dtype "Q4"/);
    expect(() =>
      readGeneratorWeights(
        lie((h) => {
          h[name]!.data_offsets = [0, size];
        }),
      ),
    ).toThrow(/overlap/);
    const bigLen = TINY.slice();
    new DataView(bigLen.buffer).setBigUint64(0, BigInt(TINY.length), true);
    expect(() => readGeneratorWeights(bigLen)).toThrow(/header length .* exceeds the file/);
  });
  it("NaN weights", () => {
    const bytes = rewrite((ts) =>
      ts.map((t) =>
        t.name === "dec.model.0.model.0.model.1.conv.bias"
          ? { ...t, bytes: float32Bytes(new Float32Array(t.bytes.length / 4).fill(NaN)) }
          : t,
      ),
    );
    expect(() => readGeneratorWeights(bytes)).toThrow(
      /'dec.model.0.model.0.model.1.conv.bias' holds a non-finite value/,
    );
  });
  it("a missing, extra or mis-shaped tensor, named", () => {
    expect(() =>
      readGeneratorWeights(rewrite((ts) => ts.filter((t) => t.name !== "mlp.model.1.fc.weight"))),
    ).toThrow(/missing tensor 'mlp.model.1.fc.weight'/);
    expect(() =>
      readGeneratorWeights(
        rewrite((ts) => [
          ...ts,
          { name: "dis.weight", dtype: "F32", shape: [1], bytes: new Uint8Array(4) },
        ]),
      ),
    ).toThrow(/unexpected tensor 'dis.weight'/);
    expect(() =>
      readGeneratorWeights(
        rewrite((ts) =>
          ts.map((t) =>
            t.name === "mlp.model.0.fc.bias" ? { ...t, shape: [t.shape[0]! / 2, 2] } : t,
          ),
        ),
      ),
    ).toThrow(/tensor 'mlp.model.0.fc.bias' has shape/);
  });
  it("hyperparameters in metadata that do not fit the tensors", () => {
    const gen = JSON.parse(parseSafetensors(TINY).metadata.gen!);
    expect(() =>
      readGeneratorWeights(
        rewrite((ts) => ts, { gen: JSON.stringify({ ...gen, nf: gen.nf * 2 }) }),
      ),
    ).toThrow(ModelFormatError);
    expect(() => readGeneratorWeights(rewrite((ts) => ts, { gen: "{not json" }))).toThrow(
      /not valid JSON/,
    );
  });
  it("infers the hyperparameters when the metadata is absent", () => {
    const w = readGeneratorWeights(rewrite((ts) => ts, {}));
    expect(w.hyper).toEqual(JSON.parse(parseSafetensors(TINY).metadata.gen!));
  });
});

describe("an adapter without a needed limit", () => {
  it("is refused with the limits named", () => {
    const limits = {
      ...REQUIRED_LIMITS,
      maxComputeInvocationsPerWorkgroup: 128,
      maxComputeWorkgroupStorageSize: 8192,
    } as unknown as GPUSupportedLimits;
    expect(() => checkAdapterLimits(limits)).toThrow(DeviceError);
    expect(() => checkAdapterLimits(limits)).toThrow(
      /maxComputeInvocationsPerWorkgroup is 128, need 256; maxComputeWorkgroupStorageSize is 8192, need 16384/,
    );
    expect(() =>
      checkAdapterLimits(REQUIRED_LIMITS as unknown as GPUSupportedLimits),
    ).not.toThrow();
  });
});

describe("weights larger than the device can bind", () => {
  it("are refused naming the layer and limit, and every buffer already uploaded is destroyed", async () => {
    await withDevice(async (device) => {
      const w = readGeneratorWeights(TINY);
      const largest = Math.max(...[...w.tensors.values()].map((t) => t.byteLength));
      // A view of the real device whose binding limit is one vec4 short of the largest tensor,
      // recording which of its buffers were destroyed.
      const created: GPUBuffer[] = [];
      const destroyed = new Set<GPUBuffer>();
      const limited = Object.create(device, {
        limits: { value: { ...device.limits, maxStorageBufferBindingSize: largest - 16 } },
        createBuffer: {
          value: (desc: GPUBufferDescriptor) => {
            const b = device.createBuffer(desc);
            const destroy = b.destroy.bind(b);
            Object.defineProperty(b, "destroy", {
              value: () => {
                destroyed.add(b);
                destroy();
              },
            });
            created.push(b);
            return b;
          },
        },
      }) as GPUDevice;
      const f32 = { precision: "f32", phaseWeights: false } as const;
      expect(() => uploadGenerator(limited, w.hyper, w.tensors, "limited", f32)).toThrow(
        DeviceError,
      );
      expect(() => uploadGenerator(limited, w.hyper, w.tensors, "limited", f32)).toThrow(
        /bytes of weights exceed this device's maxStorageBufferBindingSize/,
      );
      expect(created.length).toBeGreaterThan(1); // some layers fit and were uploaded first…
      expect(created.filter((b) => !destroyed.has(b))).toEqual([]); // …and none is left behind
      // f16 storage halves the conv weights: the same limit holds them.
      const f16 = uploadGenerator(limited, w.hyper, w.tensors, "limited-f16", {
        precision: "f16",
        phaseWeights: false,
      });
      expect(f16.layers.size).toBeGreaterThan(0);
      f16.destroy();
    });
  });
});

describe("engine inputs", () => {
  let engine: Funit;
  const { tensors } = readTensors("test/fixtures/tiny-a/expected.safetensors");
  const content = tensors.get("content")!;
  const classImages = tensors.get("class_images")!;
  beforeAll(async () => {
    engine = await withDevice((d) => Funit.create(d, TINY));
  });
  afterAll(() => engine?.destroy());

  it("refuses K = 0, wrong sizes and wrong code lengths, and keeps working afterwards", async () => {
    await withDevice(async () => {
      const good = await engine.translateTensor(content, classImages);
      await expect(engine.translate([], [])).rejects.toThrow(InputError);
      await expect(engine.encodeClass([])).rejects.toThrow(/at least one image/);
      await expect(
        engine.translateTensor(content, { shape: [0, 3, 32, 32], data: new Float32Array(0) }),
      ).rejects.toThrow(InputError);
      const odd: Tensor = { shape: [1, 3, 30, 32], data: new Float32Array(3 * 30 * 32) };
      await expect(engine.translateTensor(odd, classImages)).rejects.toThrow(/divisible by 4/);
      await expect(engine.translateTensor(content, new Float32Array(3))).rejects.toThrow(
        /latent_dim is 16/,
      );
      await expect(
        engine.translateTensor({ shape: [1, 3, 32, 32], data: new Float32Array(5) }, classImages),
      ).rejects.toThrow(/needs 3072 floats/);
      const mixed = [
        { width: 32, height: 32, data: new Uint8Array(32 * 32 * 4) },
        { width: 16, height: 16, data: new Uint8Array(16 * 16 * 4) },
      ];
      await expect(engine.translate(mixed.slice(0, 1), mixed)).rejects.toThrow(/image 1 is 16x16/);
      const tooSmall = [{ width: 2, height: 2, data: new Uint8Array(16) }];
      await expect(engine.encodeClass(tooSmall)).rejects.toThrow(/too small for reflect padding/);
      const again = await engine.translateTensor(content, classImages);
      expect(maxAbsError(again.data, good.data)).toBe(0);
    });
  });
});

describe("F16 weights", () => {
  it("load, and the output stays within 2e-2 of the f32 reference (measured ~3e-3 on tiny-a)", async () => {
    const f16 = rewrite((ts) =>
      ts.map((t) => ({
        ...t,
        dtype: "F16" as const,
        bytes: float16Bytes(
          tensorToFloat32(t.name, { dtype: t.dtype, shape: t.shape, bytes: t.bytes }),
        ),
      })),
    );
    expect(readGeneratorWeights(f16).dtypes).toEqual(["F16"]);
    const { tensors } = readTensors("test/fixtures/tiny-a/expected.safetensors");
    const out = await withDevice(async (device) => {
      const engine = await Funit.create(device, f16);
      try {
        return await engine.translateTensor(tensors.get("content")!, tensors.get("class_images")!);
      } finally {
        engine.destroy();
      }
    });
    const err = maxAbsError(out.data, tensors.get("output")!.data);
    expect(err).toBeGreaterThan(0); // the weights really were rounded
    expect(err).toBeLessThan(2e-2);
  });
});

describe("plan cache", () => {
  it("keeps the buffers of the 8 most recent shapes only, and rebuilds an evicted plan correctly", async () => {
    const { tensors } = readTensors("test/fixtures/tiny-a/expected.safetensors");
    const content = tensors.get("content")!;
    const code = new Float32Array(16).fill(0.1);
    const shaped = (s: number) => ({
      shape: [1, 3, 32 + 4 * s, 32],
      data: new Float32Array(3 * (32 + 4 * s) * 32),
    });
    await withDevice(async (device) => {
      const engine = await Funit.create(device, TINY);
      const recentOnly = await Funit.create(device, TINY);
      try {
        const first = await engine.translateTensor(content, code);
        for (let s = 1; s <= 10; s++) await engine.translateTensor(shaped(s), code);
        for (let s = 3; s <= 10; s++) await recentOnly.translateTensor(shaped(s), code);
        // the first shape and sizes 1 and 2 were evicted: what is held is exactly the last 8 plans
        expect(await engine.activationBytes()).toBe(await recentOnly.activationBytes());
        const again = await engine.translateTensor(content, code); // rebuilt
        expect(maxAbsError(again.data, first.data)).toBe(0);
      } finally {
        engine.destroy();
        recentOnly.destroy();
      }
    });
  });
});

describe("inputs in shared memory", () => {
  it("are copied before upload (a WASM heap is a SharedArrayBuffer) and give the same output", async () => {
    const { tensors } = readTensors("test/fixtures/tiny-a/expected.safetensors");
    const content = tensors.get("content")!;
    const shared = new Float32Array(
      new SharedArrayBuffer(content.data.byteLength + 8),
      8,
      content.data.length,
    );
    shared.set(content.data);
    const code = new Float32Array(16).fill(0.2);
    await withDevice(async (device) => {
      const engine = await Funit.create(device, TINY);
      try {
        const a = await engine.translateTensor(content, code);
        const b = await engine.translateTensor({ shape: content.shape, data: shared }, code);
        expect(maxAbsError(a.data, b.data)).toBe(0);
      } finally {
        engine.destroy();
      }
    });
  });
});

describe("a plan beyond the device's limits", () => {
  it("is refused with a clear error before anything is created", async () => {
    await withDevice(async (device) => {
      const tooMany = new Graph();
      const x = tooMany.tensor("x", [4, 16]);
      const groups = device.limits.maxComputeWorkgroupsPerDimension + 1;
      tooMany.op({
        label: "wide",
        kernel: "mean_pool",
        overrides: {},
        params: { groups: 1, images_per_group: 1, channels: 1, plane: 1 },
        bindings: { input: x, output: x },
        workgroups: [groups, 1, 1],
      });
      await expect(
        compile(device, tooMany, { inputs: new Set(), outputs: new Set() }, "test"),
      ).rejects.toThrow(/needs \d+×1×1 workgroups, more than this device allows/);
      const tooBig = new Graph();
      const big = tooBig.tensor("big", [device.limits.maxStorageBufferBindingSize / 4 + 16]);
      const out = tooBig.tensor("out", [1]);
      tooBig.op({
        label: "big",
        kernel: "mean_pool",
        overrides: {},
        params: { groups: 1, images_per_group: 1, channels: 1, plane: 1 },
        bindings: { input: big, output: out },
        workgroups: [1, 1, 1],
      });
      await expect(
        compile(device, tooBig, { inputs: new Set(), outputs: new Set() }, "test"),
      ).rejects.toThrow(/more than this device's maxStorageBufferBindingSize/);
    });
  });
});
