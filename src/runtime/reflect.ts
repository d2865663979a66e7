/**
 * Reflection of one WGSL kernel with wgsl_reflect: its bindings (for explicit bind group layouts,
 * so a binding the compiler might drop for one specialisation still has its slot), the byte layout
 * of its uniform params struct (so nothing hand-copies an offset) and its override constants. It
 * runs when a `.wgsl` file is imported, at build time (the esbuild and vitest loaders in
 * scripts/wgsl-loader.mjs), so the library carries plain JSON and not the WGSL parser (about 220 KB
 * of a browser bundle). The result is plain data, so it can be inlined into the bundle.
 */
// The package's "main" is CommonJS under "type": "module", which Node refuses; its ES build is fine.
import { WgslReflect } from "wgsl_reflect/wgsl_reflect.module.js";

export interface BindingInfo {
  name: string;
  binding: number;
  kind: "uniform" | "read-only-storage" | "storage" | "storage-texture";
  /** For a storage texture: its layout entry, as the WGSL declares it. */
  storageTexture?: GPUStorageTextureBindingLayout;
}

export interface ParamField {
  name: string;
  offset: number;
  type: "u32" | "i32" | "f32";
}

export interface ReflectedKernel {
  bindings: BindingInfo[];
  /** Name of the uniform params binding, its size and fields; every kernel has exactly one. */
  params: { binding: string; size: number; fields: ParamField[] };
  overrides: string[];
}

/** Reflects a kernel's WGSL source; `name` is for error messages. */
export function reflectKernel(name: string, source: string): ReflectedKernel {
  const r = new WgslReflect(source);
  const bindings: BindingInfo[] = [];
  let params: ReflectedKernel["params"] | undefined;
  for (const group of r.getBindGroups()) {
    if (!group) continue; // a sparse array: groups before a used one are holes
    for (const v of group) {
      if (!v) continue;
      if (v.group !== 0)
        throw new Error(
          `kernel ${name}: binding ${v.name} is in group ${v.group}; kernels use group 0 only`,
        );
      if (v.resourceType === 0 /* Uniform */) {
        if (params) throw new Error(`kernel ${name}: more than one uniform binding`);
        const fields: ParamField[] = [];
        for (const m of v.members ?? []) {
          const t = m.type.name;
          if (t !== "u32" && t !== "i32" && t !== "f32")
            throw new Error(
              `kernel ${name}: params field ${m.name} has type ${t}; only scalars are supported`,
            );
          fields.push({ name: m.name, offset: m.offset, type: t });
        }
        params = { binding: v.name, size: v.size, fields };
        bindings.push({ name: v.name, binding: v.binding, kind: "uniform" });
      } else if (v.resourceType === 1 /* Storage */) {
        bindings.push({
          name: v.name,
          binding: v.binding,
          kind: v.access === "read" ? "read-only-storage" : "storage",
        });
      } else if (v.resourceType === 5 /* StorageTexture */) {
        bindings.push({
          name: v.name,
          binding: v.binding,
          kind: "storage-texture",
          storageTexture: storageTextureLayout(name, v.name, v.type),
        });
      } else {
        throw new Error(
          `kernel ${name}: binding ${v.name} is neither a uniform, a storage buffer nor a storage texture`,
        );
      }
    }
  }
  if (!params) throw new Error(`kernel ${name}: no uniform params struct`);
  return { bindings, params, overrides: r.overrides.map((o) => o.name) };
}

/** texture_storage_2d<F, A> / texture_storage_2d_array<F, A> as reflected → a bind group layout entry. */
function storageTextureLayout(
  kernel: string,
  binding: string,
  type: { name: string; format?: { name: string } | null; access?: string | null },
): GPUStorageTextureBindingLayout {
  const dims: Record<string, GPUTextureViewDimension> = {
    texture_storage_2d: "2d",
    texture_storage_2d_array: "2d-array",
  };
  const access: Record<string, GPUStorageTextureAccess> = {
    write: "write-only",
    read: "read-only",
    read_write: "read-write",
  };
  const viewDimension = dims[type.name];
  const format = type.format?.name;
  if (!viewDimension || !format || !access[type.access ?? ""]) {
    throw new Error(
      `kernel ${kernel}: storage texture ${binding} of type ${type.name}<${format}, ${type.access}> is not supported`,
    );
  }
  return { access: access[type.access!]!, format: format as GPUTextureFormat, viewDimension };
}
