/**
 * What an engine holds on one GPUDevice, made and dropped as a unit so that an engine can move to
 * a new device after a loss (src/call-runner.ts): the kernel choice for the device, the uploaded
 * weights, the plan cache, the job plans and the output texture views. `openOnDevice` refuses a
 * device that is already lost (a lost device accepts every call and silently runs nothing) and
 * checks again once the pipelines are made; `deviceLoss` tells, without waiting, whether a device
 * has been lost.
 */
import { DeviceLostError } from "./errors";
import { JobPlans } from "./job";
import { generatorGraph, smallTranslationOps, type PlanSpec } from "./model";
import { PlanCache } from "./plan-cache";
import { chooseKernels, type KernelChoice, type KernelOptions } from "./policy";
import { getKernel } from "./runtime/kernels";
import { OutputViews } from "./texture-output";
import { uploadGenerator, type GpuGenerator } from "./upload";
import type { GeneratorWeights } from "./weights";

export interface DeviceState {
  device: GPUDevice;
  kernels: KernelChoice;
  gen: GpuGenerator;
  plans: PlanCache;
  outputViews: OutputViews;
  /** The plan instances jobs lease (src/job.ts). */
  jobPlans: JobPlans;
}

/**
 * The device's loss, if it has been lost: GPUDeviceLostInfo once `device.lost` has settled, else
 * undefined. Resolves in a microtask (a race between `lost` and an already-resolved promise: an
 * already-settled `lost` wins because it is first), so it can be asked before every call.
 */
export function deviceLoss(device: GPUDevice): Promise<GPUDeviceLostInfo | undefined> {
  return Promise.race([device.lost, Promise.resolve(undefined)]);
}

export function lostError(info: GPUDeviceLostInfo, options?: ErrorOptions): DeviceLostError {
  return new DeviceLostError(String(info.reason), info.message, options);
}

/**
 * Uploads the weights to `device` as the options say and creates the pipelines of one small
 * translation (every kernel of the f32 call, plus pack, unpack and image_to_texture, for every
 * layer). Pipelines also depend on the image size and batch: the tiled convolution's tile follows
 * a layer's pixel count, and the CPU convolutions' workgroup size its rows, so a call of another
 * size may create a few pipelines of its own at its first call (cached per device afterwards).
 * A failure, a loss included, leaves nothing on the device.
 */
export async function openOnDevice(
  device: GPUDevice,
  weights: GeneratorWeights,
  label: string,
  opts: KernelOptions,
): Promise<DeviceState> {
  const lost = await deviceLoss(device);
  if (lost) throw lostError(lost);
  const kernels = chooseKernels(device, opts);
  const gen = uploadGenerator(device, weights.hyper, weights.tensors, label, kernels);
  const graph = (spec: PlanSpec) => generatorGraph(gen, kernels, spec);
  const state: DeviceState = {
    device,
    kernels,
    gen,
    plans: new PlanCache(device, label, graph),
    outputViews: new OutputViews(device, label),
    jobPlans: new JobPlans(device, label, graph),
  };
  try {
    const ops = smallTranslationOps(gen, kernels);
    await Promise.all(ops.map((op) => getKernel(device, op.kernel, op.overrides)));
    // a device lost meanwhile still "creates" pipelines: they are invalid
    const lostNow = await deviceLoss(device);
    if (lostNow) throw lostError(lostNow);
  } catch (e) {
    closeState(state); // no half-made engine keeps its weights on the device
    throw e;
  }
  return state;
}

/** Frees everything a state holds on its device (harmless on a lost device). */
export function closeState(state: DeviceState): void {
  state.gen.destroy();
  state.plans.destroy();
  state.jobPlans.destroy();
}
