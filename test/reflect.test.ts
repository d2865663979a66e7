/**
 * The kernels' build-time reflection (src/runtime/reflect.ts through scripts/wgsl-loader.mjs):
 * what the loader inlines equals a fresh reflection of the same source, the params layout follows
 * WGSL's uniform layout rules, and kernels the runtime cannot bind are refused with their name.
 */
import { describe, expect, it } from "vitest";
import { reflectKernel } from "../src/runtime/reflect";
import { kernelInfo, KERNEL_SOURCES, type KernelName } from "../src/runtime/kernels";

describe("kernel reflection", () => {
  it("what the loader inlined for every kernel equals a fresh reflection of its source", () => {
    for (const name of Object.keys(KERNEL_SOURCES) as KernelName[]) {
      const info = kernelInfo(name);
      const fresh = reflectKernel(name, KERNEL_SOURCES[name]);
      expect(info.bindings, name).toEqual(fresh.bindings);
      expect([...info.params.fields.values()], name).toEqual(fresh.params.fields);
      expect([...info.overrides].sort(), name).toEqual([...fresh.overrides].sort());
    }
  });

  it("lays out a params struct by WGSL's rules and finds bindings and overrides", () => {
    const r = reflectKernel(
      "t",
      `
      struct P { a: u32, b: f32, c: i32 }
      override WG: u32 = 64u;
      @group(0) @binding(0) var<uniform> params: P;
      @group(0) @binding(1) var<storage, read> x: array<f32>;
      @group(0) @binding(2) var<storage, read_write> y: array<f32>;
      @group(0) @binding(3) var out: texture_storage_2d_array<rgba8unorm, write>;
      @compute @workgroup_size(WG) fn main() { y[0] = x[0] + f32(params.a); }`,
    );
    expect(r.params).toEqual({
      binding: "params",
      size: 12,
      fields: [
        { name: "a", offset: 0, type: "u32" },
        { name: "b", offset: 4, type: "f32" },
        { name: "c", offset: 8, type: "i32" },
      ],
    });
    expect(r.bindings.map((b) => [b.binding, b.kind])).toEqual([
      [0, "uniform"],
      [1, "read-only-storage"],
      [2, "storage"],
      [3, "storage-texture"],
    ]);
    expect(r.bindings[3]!.storageTexture).toEqual({
      access: "write-only",
      format: "rgba8unorm",
      viewDimension: "2d-array",
    });
    expect(r.overrides).toEqual(["WG"]);
  });

  it("refuses what the runtime cannot bind, naming the kernel", () => {
    const body = "@compute @workgroup_size(1) fn main() {}";
    expect(() =>
      reflectKernel(
        "g1",
        `struct P { a: u32 } @group(1) @binding(0) var<uniform> params: P; ${body}`,
      ),
    ).toThrow(/kernel g1: binding params is in group 1/);
    expect(() =>
      reflectKernel(
        "vec",
        `struct P { a: vec2<u32> } @group(0) @binding(0) var<uniform> params: P; ${body}`,
      ),
    ).toThrow(/kernel vec: params field a has type vec2/);
    expect(() =>
      reflectKernel("none", `@group(0) @binding(0) var<storage, read> x: array<f32>; ${body}`),
    ).toThrow(/kernel none: no uniform params struct/);
  });
});
