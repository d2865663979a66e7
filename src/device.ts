/**
 * Getting a GPUDevice fit for the engine from any WebGPU implementation (a browser's
 * navigator.gpu, Dawn's `webgpu` package in Node, Deno's navigator.gpu): the one platform seam is
 * where the `GPU` object comes from; everything here is plain WebGPU. It checks the adapter's
 * limits against what the kernels need, asks for the largest storage-buffer limits the adapter
 * allows (big batches need them), and reports device loss and uncaptured errors instead of
 * letting them pass silently. What to run on the device it gives (kernels, precision, tiles) is
 * decided in src/policy.ts.
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
  // Deno's wgpu forgets an adapter once its JS object is collected, and a first read of
  // device.adapterInfo after that panics ("Adapter[Id(0,1)] does not exist"): the kernel choice
  // reads it at Funit.create, often after an await on a file read. So read it now, while the
  // adapter is alive (the device keeps what it read), and keep the adapter as long as the device.
  void (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  adapters.set(device, adapter);
  watchDevice(device, opts.onError);
  return device;
}

/** Each device's adapter, kept alive with it (see requestFunitDevice). */
const adapters = new WeakMap<GPUDevice, GPUAdapter>();

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
