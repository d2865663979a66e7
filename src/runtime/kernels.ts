/**
 * The kernel registry: each WGSL entry file in shaders/ is one kernel (shaders/include/ holds the
 * bodies they share). Importing a `.wgsl` file gives its expanded source and its reflection
 * (bindings, params layout, overrides), made with wgsl_reflect when the file is bundled
 * (src/runtime/reflect.ts, scripts/wgsl-loader.mjs), so nothing here hand-copies an offset and the
 * parser stays out of the library. Pipelines are specialised with
 * override constants, created with createComputePipelineAsync and cached per device under a
 * descriptive key.
 */
import * as conv2d_tiled from "../../shaders/conv2d_tiled.wgsl";
import * as conv2d_direct from "../../shaders/conv2d_direct.wgsl";
import * as conv2d_subgroup from "../../shaders/conv2d_subgroup.wgsl";
import * as instance_norm from "../../shaders/instance_norm.wgsl";
import * as instance_norm_vec4 from "../../shaders/instance_norm_vec4.wgsl";
import * as linear from "../../shaders/linear.wgsl";
import * as mean_pool from "../../shaders/mean_pool.wgsl";
import * as image_pack from "../../shaders/image_pack.wgsl";
import * as image_unpack from "../../shaders/image_unpack.wgsl";
import * as conv2d_tiled_f16 from "../../shaders/conv2d_tiled_f16.wgsl";
import * as instance_norm_f16 from "../../shaders/instance_norm_f16.wgsl";
import * as mean_pool_f16 from "../../shaders/mean_pool_f16.wgsl";
import * as to_f16 from "../../shaders/to_f16.wgsl";
import * as from_f16 from "../../shaders/from_f16.wgsl";
import * as image_to_texture from "../../shaders/image_to_texture.wgsl";
import * as winograd_input from "../../shaders/winograd_input.wgsl";
import * as winograd_gemm from "../../shaders/winograd_gemm.wgsl";
import * as winograd_output from "../../shaders/winograd_output.wgsl";
import type { BindingInfo, ParamField } from "./reflect";

export type { BindingInfo } from "./reflect";

const KERNELS = {
  conv2d_tiled,
  conv2d_direct,
  conv2d_subgroup,
  instance_norm,
  instance_norm_vec4,
  linear,
  mean_pool,
  image_pack,
  image_unpack,
  // The f16 path (shader-f16): the f32 kernels above on f16 storage (the same bodies in
  // shaders/include/), and the conversions at its edges.
  conv2d_tiled_f16,
  instance_norm_f16,
  mean_pool_f16,
  to_f16,
  from_f16,
  image_to_texture,
  // Winograd F(4×4, 3×3) convolutions for the subgroup path (src/ops/winograd.ts)
  winograd_input,
  winograd_gemm,
  winograd_output,
} as const;

export type KernelName = keyof typeof KERNELS;

/** Each kernel's WGSL source. */
export const KERNEL_SOURCES = Object.fromEntries(
  Object.entries(KERNELS).map(([name, k]) => [name, k.default]),
) as Record<KernelName, string>;

export interface KernelInfo {
  name: KernelName;
  source: string;
  bindings: BindingInfo[];
  /** Name of the uniform params binding and its fields; every kernel has exactly one. */
  params: { binding: string; size: number; fields: Map<string, ParamField> };
  overrides: Set<string>;
}

const infos = new Map<KernelName, KernelInfo>();

/** A kernel's source, bindings and params layout (from its build-time reflection). */
export function kernelInfo(name: KernelName): KernelInfo {
  let info = infos.get(name);
  if (info) return info;
  const { default: source, reflection: r } = KERNELS[name];
  info = {
    name,
    source,
    bindings: r.bindings,
    params: {
      binding: r.params.binding,
      size: r.params.size,
      fields: new Map(r.params.fields.map((f) => [f.name, f])),
    },
    overrides: new Set(r.overrides),
  };
  infos.set(name, info);
  return info;
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
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
        throw new Error(`kernel ${info.name}: params field '${key}' = ${v} is not a u32`);
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
  const parts = Object.keys(overrides)
    .sort()
    .map((k) => `${k}=${overrides[k]}`);
  return parts.length ? `${name}(${parts.join(",")})` : name;
}

/**
 * Refuses override combinations a kernel's WGSL cannot serve, before any GPU work. The row-tiled
 * convolutions' PHASES path (shaders/include/conv_direct.wgsl) is the decoder's ×2-upsampled 5×5
 * stride-1 convolution: its phase filters are 3×3 over stored pixels and its frame reads the 5×5
 * weights from past them, so any other shape would write wrong pixels.
 */
export function checkOverrides(name: KernelName, overrides: Overrides): void {
  if ((name === "conv2d_direct" || name === "conv2d_subgroup") && overrides.PHASES === true) {
    const { KSIZE, STRIDE, UPSAMPLE } = overrides;
    if (KSIZE !== 5 || STRIDE !== 1 || UPSAMPLE !== 2)
      throw new Error(
        `kernel ${name}: PHASES needs KSIZE 5, STRIDE 1 and UPSAMPLE 2 (given ${KSIZE}, ` +
          `${STRIDE}, ${UPSAMPLE})`,
      );
  }
}

/** Returns the cached pipeline for (device, kernel, overrides), creating it asynchronously once. */
export function getKernel(
  device: GPUDevice,
  name: KernelName,
  overrides: Overrides = {},
): Promise<Kernel> {
  checkOverrides(name, overrides);
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
          ? {
              binding: b.binding,
              visibility: GPUShaderStage.COMPUTE,
              storageTexture: b.storageTexture!,
            }
          : { binding: b.binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: b.kind } },
      ),
    });
    cache.layouts.set(name, layout);
  }
  const constants: Record<string, number> = {};
  for (const [k, v] of Object.entries(overrides))
    constants[k] = typeof v === "boolean" ? Number(v) : v;
  const bindLayout = layout;
  p = device
    .createComputePipelineAsync({
      label: `funit:${key}`,
      layout: device.createPipelineLayout({
        label: `funit:${name}:layout`,
        bindGroupLayouts: [bindLayout],
      }),
      compute: { module, entryPoint: "main", constants },
    })
    .then((pipeline) => ({ info, pipeline, layout: bindLayout, key }));
  // A failed compile must not poison the cache for later attempts.
  p.catch(() => cache.pipelines.delete(key));
  cache.pipelines.set(key, p);
  return p;
}
