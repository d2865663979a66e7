/**
 * The Node side of the platform seam: a WebGPU `GPU` object from Dawn (npm `webgpu`), with its
 * WebGPU globals (GPUBufferUsage, GPUShaderStage, …) installed so that the core code, written for
 * browsers, runs unchanged.
 */
import { create, globals } from "webgpu";
import { requestFunitDevice, type FunitDeviceOptions } from "../device";

let gpu: GPU | undefined;

export function getNodeGPU(): GPU {
  if (!gpu) {
    Object.assign(globalThis, globals);
    gpu = create([]) as GPU;
  }
  return gpu;
}

export function getNodeDevice(opts: FunitDeviceOptions = {}): Promise<GPUDevice> {
  return requestFunitDevice(getNodeGPU(), opts);
}
