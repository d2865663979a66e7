/**
 * Getting a GPUDevice fit for the engine from any WebGPU implementation (a browser's
 * navigator.gpu, Dawn's `webgpu` package in Node, Deno's navigator.gpu): the one platform seam is
 * where the `GPU` object comes from; everything here is plain WebGPU. It checks the adapter's
 * limits against what the kernels need, asks for the largest storage-buffer limits the adapter
 * allows (big batches need them), and reports device loss and uncaptured errors instead of
 * letting them pass silently.
 */
import { DeviceError } from "./errors";

/** The limits the kernels rely on: 256-thread workgroups and 16 KiB of workgroup memory. */
export const REQUIRED_LIMITS = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 64,
  maxComputeWorkgroupStorageSize: 16384,
  maxStorageBuffersPerShaderStage: 4,
} as const;

export interface FunitDeviceOptions {
  powerPreference?: GPUPowerPreference;
  /** Called when the device is lost or an uncaptured error occurs (default: console.error). */
  onError?: (message: string) => void;
}

/** Throws a DeviceError naming every limit the adapter falls short of. */
export function checkAdapterLimits(limits: GPUSupportedLimits): void {
  const short = Object.entries(REQUIRED_LIMITS)
    .filter(([k, v]) => (limits[k as keyof GPUSupportedLimits] as number) < v)
    .map(([k, v]) => `${k} is ${limits[k as keyof GPUSupportedLimits]}, need ${v}`);
  if (short.length)
    throw new DeviceError(`this WebGPU adapter cannot run the engine: ${short.join("; ")}`);
}

export async function requestFunitDevice(
  gpu: GPU | undefined,
  opts: FunitDeviceOptions = {},
): Promise<GPUDevice> {
  if (!gpu) throw new DeviceError("WebGPU is not available here (no navigator.gpu)");
  const adapter = await gpu.requestAdapter({
    powerPreference: opts.powerPreference ?? "high-performance",
  });
  if (!adapter) throw new DeviceError("no WebGPU adapter was found");
  checkAdapterLimits(adapter.limits);
  const features: GPUFeatureName[] = (
    ["timestamp-query", "shader-f16", "subgroups"] as GPUFeatureName[]
  ).filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({
    label: "funit",
    requiredFeatures: features,
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: adapter.limits.maxComputeWorkgroupSizeY,
    },
  });
  watchDevice(device, opts.onError);
  return device;
}

/** The convolution kernels: workgroup-memory tiles (GPUs), or lane-per-pixel ones for CPU adapters. */
export type ConvKernel = "tiled" | "direct" | "subgroup";

/**
 * True for adapters that run shaders on the CPU (lavapipe, SwiftShader, WARP): there, invocations
 * are SIMD lanes, workgroup memory is plain memory read lane by lane, and the tiled convolution
 * loses to the lane-per-pixel ones.
 */
export function isCpuAdapter(info: GPUAdapterInfo | undefined): boolean {
  if (!info) return false;
  if ((info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter) return true;
  return /llvmpipe|lavapipe|swiftshader|software|warp/i.test(
    `${info.vendor} ${info.architecture} ${info.device} ${info.description}`,
  );
}

/** Whether conv2d_subgroup.wgsl can run: it broadcasts from lanes 0..7, so subgroups must have ≥ 8. */
export function subgroupConvSupported(device: GPUDevice): boolean {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo as
    (GPUAdapterInfo & { subgroupMinSize?: number }) | undefined;
  return device.features.has("subgroups") && (info?.subgroupMinSize ?? 0) >= 8;
}

/** The fastest convolution kernel for a device: tiled on GPUs; on CPU adapters, subgroup where possible, else direct. */
export function chooseConvKernel(device: GPUDevice): ConvKernel {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  if (!isCpuAdapter(info)) return "tiled";
  return subgroupConvSupported(device) ? "subgroup" : "direct";
}

/**
 * Threads per instance-norm workgroup (one workgroup reduces one plane). GPUs want many; on CPU
 * adapters every barrier of the reduction tree switches between all of a workgroup's SIMD groups,
 * so one SIMD group's worth (8) is fastest there (measured: the Hangul model's 16 norms took
 * ~240 ms with 256 threads and ~30 ms with 8 on lavapipe).
 */
export function chooseNormThreads(device: GPUDevice): number {
  return isCpuAdapter((device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo)
    ? 8
    : 256;
}

/** Storage and arithmetic precision of an engine's activations and convolution weights. */
export type Precision = "f16" | "f32";

/**
 * The precision an engine runs at. "auto" picks f16 only on GPUs with the `shader-f16` feature:
 * there f16 halves the activation and weight traffic and doubles the FMA rate. CPU adapters
 * (lavapipe, SwiftShader) have no f16 arithmetic units; they emulate it with conversions, so f16 is
 * slower there and "auto" keeps f32. Asking for "f16" on a device without `shader-f16` (the
 * feature must have been requested when the device was created; requestFunitDevice does) is a
 * DeviceError.
 */
export function choosePrecision(
  device: GPUDevice,
  requested: Precision | "auto" = "auto",
): Precision {
  const hasF16 = device.features.has("shader-f16");
  if (requested === "f16" && !hasF16) {
    throw new DeviceError(
      "precision 'f16' needs a device with the 'shader-f16' feature; this one has none (use 'f32' or 'auto')",
    );
  }
  if (requested !== "auto") return requested;
  return hasF16 &&
    !isCpuAdapter((device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo)
    ? "f16"
    : "f32";
}

/** Routes device loss and uncaptured errors to a handler (console.error by default). */
export function watchDevice(
  device: GPUDevice,
  onError: (message: string) => void = (m) => console.error(m),
): void {
  device.addEventListener("uncapturederror", (ev) =>
    onError(`WebGPU error: ${(ev as GPUUncapturedErrorEvent).error.message}`),
  );
  void device.lost.then((info) => {
    if (info.reason !== "destroyed")
      onError(`WebGPU device lost (${info.reason}): ${info.message}`);
  });
}
