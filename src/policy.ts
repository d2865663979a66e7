/**
 * Every per-adapter decision in one place. `chooseKernels(device, options)` returns a
 * KernelChoice: the convolution kernel, the precision, the instance-norm workgroup size, the limits
 * that bound the tiled convolution's tiles (and a forced tile), the f16 convolution's products and
 * whether the decoder's upsampling convolutions get phase filters. The engine, the weight upload,
 * the op builders and the benches all take that one result, so they cannot disagree; option
 * conflicts are refused here, before anything is uploaded. `adapterInfo(device)` is the one way to
 * read the adapter a device came from.
 */
import { DeviceError } from "./errors";
import type { ConvTileLimits, ConvTileName } from "./ops/conv-tiles";

/**
 * The convolution kernels: workgroup-memory tiles (GPUs), or register tiles of a few pixels ×
 * output channels a lane (CPU adapters, where a lane is a SIMD lane).
 */
export type ConvKernel = "tiled" | "direct" | "subgroup";

/** Storage and arithmetic precision of an engine's activations and convolution weights. */
export type Precision = "f16" | "f32";

/** What an adapter reports, with the fields not every WebGPU implementation types yet. */
export type AdapterInfo = GPUAdapterInfo & {
  isFallbackAdapter?: boolean;
  subgroupMinSize?: number;
};

/** The adapter a device came from (GPUDevice.adapterInfo; absent on older implementations). */
export function adapterInfo(device: GPUDevice): AdapterInfo | undefined {
  return (device as GPUDevice & { adapterInfo?: AdapterInfo }).adapterInfo;
}

/**
 * True for adapters that run shaders on the CPU (lavapipe, SwiftShader, WARP): there, invocations
 * are SIMD lanes, workgroup memory is plain memory read lane by lane, and the tiled convolution
 * loses to the register-tiled CPU ones (direct, subgroup).
 */
export function isCpuAdapter(info: AdapterInfo | undefined): boolean {
  if (!info) return false;
  if (info.isFallbackAdapter) return true;
  return /llvmpipe|lavapipe|swiftshader|software|warp/i.test(
    `${info.vendor} ${info.architecture} ${info.device} ${info.description}`,
  );
}

/** Whether conv2d_subgroup.wgsl can run: it broadcasts from lanes 0..7, so it needs ≥ 8 lanes. */
export function subgroupConvSupported(device: GPUDevice): boolean {
  return device.features.has("subgroups") && (adapterInfo(device)?.subgroupMinSize ?? 0) >= 8;
}

/** The fastest convolution: tiled on GPUs; on CPU adapters subgroup where possible, else direct. */
export function chooseConvKernel(device: GPUDevice): ConvKernel {
  if (!isCpuAdapter(adapterInfo(device))) return "tiled";
  return subgroupConvSupported(device) ? "subgroup" : "direct";
}

/**
 * Threads per instance-norm workgroup (one workgroup reduces one plane). GPUs want many; on CPU
 * adapters every barrier of the reduction tree switches between all of a workgroup's SIMD groups,
 * so one SIMD group's worth (8) is fastest there (measured: the Hangul model's 16 norms took
 * ~240 ms with 256 threads and ~30 ms with 8 on lavapipe).
 */
export function chooseNormThreads(device: GPUDevice): number {
  return isCpuAdapter(adapterInfo(device)) ? 8 : 256;
}

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
      "precision 'f16' needs a device with the 'shader-f16' feature; " +
        "this one has none (use 'f32' or 'auto')",
    );
  }
  if (requested !== "auto") return requested;
  return hasF16 && !isCpuAdapter(adapterInfo(device)) ? "f16" : "f32";
}

/** What a caller may ask for; every field defaults to the adapter's choice. */
export interface KernelOptions {
  /** Convolution kernel; "auto" (the default) picks per adapter (chooseConvKernel). */
  conv?: ConvKernel | "auto";
  /** "auto" (the default): f16 on GPUs that have `shader-f16`, f32 elsewhere (choosePrecision). */
  precision?: Precision | "auto";
  /** One tile for every tiled convolution, for benchmarks and tests (default: chooseConvTile). */
  convTile?: ConvTileName;
  /**
   * Products of the f16 convolution: "f16" (the default: packed f16 FMAs, summed in f16 within a
   * TILE_K step and in f32 across steps) or "f32" (f16 storage, f32 arithmetic: about half the
   * error, for GPUs where f16 arithmetic is not faster). See the f16 tiled convolution shader.
   */
  f16Products?: "f16" | "f32";
}

/** Everything decided per adapter and options; plain data (benches print it). */
export interface KernelChoice {
  conv: ConvKernel;
  precision: Precision;
  /** Threads per instance-norm workgroup: a power of two, 8…256. */
  normThreads: number;
  /** What bounds the tiled convolution's tiles, and one tile forced for every layer (if any). */
  tiles: { limits: ConvTileLimits; force?: ConvTileName };
  f16Products: "f16" | "f32";
  /**
   * Upload the four 3×3 phase filters of every f32 5×5 convolution (up2PhaseWeights), which the
   * CPU kernels (direct, subgroup) use for the decoder's upsampling convolutions. Exactly when
   * one of those kernels runs, on any adapter: forcing "tiled" on a CPU adapter uploads none, and
   * forcing "direct" on a GPU keeps the phase path.
   */
  phaseWeights: boolean;
  /**
   * Upload the Winograd F(4×4, 3×3) transforms of the f32 3×3 convolutions' weights
   * (src/ops/winograd.ts), which the subgroup path runs those layers with. Exactly when conv is
   * "subgroup": forcing "direct" or "tiled" uploads none.
   */
  winogradWeights: boolean;
}

/**
 * The kernels, precision and tiles for a device and the caller's options. Option conflicts are
 * programming errors (plain Errors); what the device lacks is a DeviceError.
 */
export function chooseKernels(device: GPUDevice, opts: KernelOptions = {}): KernelChoice {
  const precision = choosePrecision(device, opts.precision);
  const forced = opts.conv && opts.conv !== "auto" ? opts.conv : undefined;
  if (precision === "f16" && forced && forced !== "tiled") {
    throw new Error(
      `the f16 path has only the tiled convolution; conv '${forced}' needs precision 'f32'`,
    );
  }
  const conv = precision === "f16" ? "tiled" : (forced ?? chooseConvKernel(device));
  if (opts.convTile && conv !== "tiled") {
    throw new Error(
      `convTile applies to the tiled convolution; this engine runs '${conv}' (pass conv: 'tiled')`,
    );
  }
  if (opts.f16Products && opts.precision === "f32") {
    throw new Error("f16Products applies to the f16 path; this engine runs precision 'f32'");
  }
  if (conv === "subgroup" && !subgroupConvSupported(device)) {
    throw new DeviceError(
      "the subgroup convolution needs a device with the 'subgroups' feature " +
        "and subgroups of at least 8 lanes",
    );
  }
  const limits = device.limits;
  return {
    conv,
    precision,
    normThreads: chooseNormThreads(device),
    tiles: {
      limits: {
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeWorkgroupSizeY: limits.maxComputeWorkgroupSizeY,
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      },
      ...(opts.convTile ? { force: opts.convTile } : {}),
    },
    f16Products: opts.f16Products ?? "f16",
    phaseWeights: precision === "f32" && conv !== "tiled",
    winogradWeights: precision === "f32" && conv === "subgroup",
  };
}
