/**
 * The Node side of the platform seam: a WebGPU `GPU` object from Dawn (npm `webgpu`), with its
 * WebGPU globals (GPUBufferUsage, GPUShaderStage, …) installed so that the core code, written for
 * browsers, runs unchanged. `webgpu` is an optional peer dependency (132 MB that browser and Deno
 * users never need), so it is imported dynamically: without it, importing this entry still works
 * (images, the CLI's file handling), and asking for a device is a DeviceError that names it.
 */
import { requestFunitDevice, type FunitDeviceOptions } from "../device";
import { DeviceError } from "../errors";

type Dawn = typeof import("webgpu");

const dawn: Dawn | { failure: unknown } = await import("webgpu").catch((e: unknown) => ({
  failure: e,
}));
let gpu: GPU | undefined;

export function getNodeGPU(): GPU {
  if ("failure" in dawn) {
    const missing = (dawn.failure as { code?: string }).code === "ERR_MODULE_NOT_FOUND";
    throw new DeviceError(
      missing
        ? "WebGPU in Node needs Dawn: install the optional peer dependency 'webgpu' " +
            "(npm install webgpu)"
        : `the optional peer dependency 'webgpu' (Dawn) failed to load: ${String(dawn.failure)}`,
      { cause: dawn.failure },
    );
  }
  if (!gpu) {
    Object.assign(globalThis, dawn.globals);
    gpu = dawn.create([]) as GPU;
  }
  return gpu;
}

export async function getNodeDevice(opts: FunitDeviceOptions = {}): Promise<GPUDevice> {
  return requestFunitDevice(getNodeGPU(), opts);
}
