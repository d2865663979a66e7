/**
 * The kernel registry: each WGSL file in shaders/ is one kernel, reflected once with wgsl_reflect
 * to learn its bindings (explicit bind group layouts, so a binding the compiler might drop for one
 * specialisation still has its slot) and the byte layout of its uniform params struct (so nothing
 * here hand-copies an offset). Pipelines are specialised with override constants, created with
 * createComputePipelineAsync and cached per device under a descriptive key.
 */
// The package's "main" is CommonJS under "type": "module", which Node refuses; its ES build is fine.
import { WgslReflect } from "wgsl_reflect/wgsl_reflect.module.js";
import conv2dSource from "../../shaders/conv2d.wgsl";
import conv2dDirectSource from "../../shaders/conv2d_direct.wgsl";
import conv2dSubgroupSource from "../../shaders/conv2d_subgroup.wgsl";
import instanceNormSource from "../../shaders/instance_norm.wgsl";
import linearSource from "../../shaders/linear.wgsl";
import meanPoolSource from "../../shaders/mean_pool.wgsl";
import imagePackSource from "../../shaders/image_pack.wgsl";
import imageUnpackSource from "../../shaders/image_unpack.wgsl";
import conv2dF16Source from "../../shaders/conv2d_f16.wgsl";
import instanceNormF16Source from "../../shaders/instance_norm_f16.wgsl";
import meanPoolF16Source from "../../shaders/mean_pool_f16.wgsl";
import toF16Source from "../../shaders/to_f16.wgsl";
import fromF16Source from "../../shaders/from_f16.wgsl";
import imageToTextureSource from "../../shaders/image_to_texture.wgsl";

export const KERNEL_SOURCES = {
  conv2d: conv2dSource,
  conv2d_direct: conv2dDirectSource,
  conv2d_subgroup: conv2dSubgroupSource,
  instance_norm: instanceNormSource,
  linear: linearSource,
  mean_pool: meanPoolSource,
  image_pack: imagePackSource,
  image_unpack: imageUnpackSource,
  // The f16 path (shader-f16): twins of the f32 kernels above, and the conversions at its edges.
  conv2d_f16: conv2dF16Source,
  instance_norm_f16: instanceNormF16Source,
  mean_pool_f16: meanPoolF16Source,
  to_f16: toF16Source,
  from_f16: fromF16Source,
  image_to_texture: imageToTextureSource,
} as const;

export type KernelName = keyof typeof KERNEL_SOURCES;

export interface BindingInfo {
  name: string;
  binding: number;
  kind: "uniform" | "read-only-storage" | "storage" | "storage-texture";
  /** For a storage texture: its layout entry, as the WGSL declares it. */
  storageTexture?: GPUStorageTextureBindingLayout;
}

export interface ParamField {
  offset: number;
  type: "u32" | "i32" | "f32";
}

export interface KernelInfo {
  name: KernelName;
  source: string;
  bindings: BindingInfo[];
  /** Name of the uniform params binding and its fields; every kernel has exactly one. */
  params: { binding: string; size: number; fields: Map<string, ParamField> };
  overrides: Set<string>;
}

const reflected = new Map<KernelName, KernelInfo>();

/** Reflects a kernel's WGSL once (per process) and returns its bindings and params layout. */
export function kernelInfo(name: KernelName): KernelInfo {
  let info = reflected.get(name);
  if (info) return info;
  const source = KERNEL_SOURCES[name];
  const r = new WgslReflect(source);
  const bindings: BindingInfo[] = [];
  let params: KernelInfo["params"] | undefined;
  for (const group of r.getBindGroups()) {
    for (const v of group) {
      if (!v) continue;
      if (v.group !== 0) throw new Error(`kernel ${name}: binding ${v.name} is in group ${v.group}; kernels use group 0 only`);
      if (v.resourceType === 0 /* Uniform */) {
        if (params) throw new Error(`kernel ${name}: more than one uniform binding`);
        const fields = new Map<string, ParamField>();
        for (const m of v.members ?? []) {
          const t = m.type.name;
          if (t !== "u32" && t !== "i32" && t !== "f32") throw new Error(`kernel ${name}: params field ${m.name} has type ${t}; only scalars are supported`);
          fields.set(m.name, { offset: m.offset, type: t });
        }
        params = { binding: v.name, size: v.size, fields };
        bindings.push({ name: v.name, binding: v.binding, kind: "uniform" });
      } else if (v.resourceType === 1 /* Storage */) {
        bindings.push({ name: v.name, binding: v.binding, kind: v.access === "read" ? "read-only-storage" : "storage" });
      } else if (v.resourceType === 5 /* StorageTexture */) {
        bindings.push({ name: v.name, binding: v.binding, kind: "storage-texture", storageTexture: storageTextureLayout(name, v.name, v.type) });
      } else {
        throw new Error(`kernel ${name}: binding ${v.name} is neither a uniform, a storage buffer nor a storage texture`);
      }
    }
  }
  if (!params) throw new Error(`kernel ${name}: no uniform params struct`);
  info = { name, source, bindings, params, overrides: new Set(r.overrides.map((o) => o.name)) };
  reflected.set(name, info);
  return info;
}

/** texture_storage_2d<F, A> / texture_storage_2d_array<F, A> as reflected → a bind group layout entry. */
function storageTextureLayout(kernel: KernelName, binding: string, type: { name: string; format?: { name: string } | null; access?: string | null }): GPUStorageTextureBindingLayout {
  const dims: Record<string, GPUTextureViewDimension> = { texture_storage_2d: "2d", texture_storage_2d_array: "2d-array" };
  const access: Record<string, GPUStorageTextureAccess> = { write: "write-only", read: "read-only", read_write: "read-write" };
  const viewDimension = dims[type.name];
  const format = type.format?.name;
  if (!viewDimension || !format || !access[type.access ?? ""]) {
    throw new Error(`kernel ${kernel}: storage texture ${binding} of type ${type.name}<${format}, ${type.access}> is not supported`);
  }
  return { access: access[type.access!]!, format: format as GPUTextureFormat, viewDimension };
}

/** Encodes a params struct from named values; every field must be given, and no other. */
export function encodeParams(info: KernelInfo, values: Record<string, number>): ArrayBuffer {
  const { fields, size } = info.params;
  const buf = new ArrayBuffer(size);
  const view = new DataView(buf);
  for (const key of Object.keys(values)) {
    if (!fields.has(key)) throw new Error(`kernel ${info.name}: params has no field '${key}'`);
  }
  for (const [key, f] of fields) {
    const v = values[key];
    if (v === undefined) {
      if (key.startsWith("_")) continue; // padding fields
      throw new Error(`kernel ${info.name}: params field '${key}' not given`);
    }
    if (f.type === "f32") view.setFloat32(f.offset, v, true);
    else if (f.type === "i32") view.setInt32(f.offset, v, true);
    else {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`kernel ${info.name}: params field '${key}' = ${v} is not a u32`);
      view.setUint32(f.offset, v, true);
    }
  }
  return buf;
}

export type Overrides = Record<string, number | boolean>;

export interface Kernel {
  info: KernelInfo;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  key: string;
}

interface DeviceCache {
  modules: Map<KernelName, GPUShaderModule>;
  layouts: Map<KernelName, GPUBindGroupLayout>;
  pipelines: Map<string, Promise<Kernel>>;
}

const caches = new WeakMap<GPUDevice, DeviceCache>();

function cacheFor(device: GPUDevice): DeviceCache {
  let c = caches.get(device);
  if (!c) {
    c = { modules: new Map(), layouts: new Map(), pipelines: new Map() };
    caches.set(device, c);
  }
  return c;
}

/** A readable, stable cache key: kernel name plus its sorted override values. */
export function kernelKey(name: KernelName, overrides: Overrides): string {
  const parts = Object.keys(overrides).sort().map((k) => `${k}=${overrides[k]}`);
  return parts.length ? `${name}(${parts.join(",")})` : name;
}

/** Returns the cached pipeline for (device, kernel, overrides), creating it asynchronously once. */
export function getKernel(device: GPUDevice, name: KernelName, overrides: Overrides = {}): Promise<Kernel> {
  const cache = cacheFor(device);
  const key = kernelKey(name, overrides);
  let p = cache.pipelines.get(key);
  if (p) return p;
  const info = kernelInfo(name);
  for (const k of Object.keys(overrides)) {
    if (!info.overrides.has(k)) throw new Error(`kernel ${name}: no override constant '${k}'`);
  }
  let module = cache.modules.get(name);
  if (!module) {
    module = device.createShaderModule({ label: `funit:${name}.wgsl`, code: info.source });
    cache.modules.set(name, module);
  }
  let layout = cache.layouts.get(name);
  if (!layout) {
    layout = device.createBindGroupLayout({
      label: `funit:${name}:bindings`,
      entries: info.bindings.map((b): GPUBindGroupLayoutEntry =>
        b.kind === "storage-texture"
          ? { binding: b.binding, visibility: GPUShaderStage.COMPUTE, storageTexture: b.storageTexture! }
          : { binding: b.binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: b.kind } }),
    });
    cache.layouts.set(name, layout);
  }
  const constants: Record<string, number> = {};
  for (const [k, v] of Object.entries(overrides)) constants[k] = typeof v === "boolean" ? Number(v) : v;
  const bindLayout = layout;
  p = device
    .createComputePipelineAsync({
      label: `funit:${key}`,
      layout: device.createPipelineLayout({ label: `funit:${name}:layout`, bindGroupLayouts: [bindLayout] }),
      compute: { module, entryPoint: "main", constants },
    })
    .then((pipeline) => ({ info, pipeline, layout: bindLayout, key }));
  // A failed compile must not poison the cache for later attempts.
  p.catch(() => cache.pipelines.delete(key));
  cache.pipelines.set(key, p);
  return p;
}
