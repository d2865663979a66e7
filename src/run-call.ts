/**
 * The GPU steps of an engine call on one device state, once its inputs are checked
 * (src/inputs.ts): find the plan of the call's spec in the state's plan cache, then either run it
 * once and read back its tensors (readOutputs: one encoder, one submit, one readback, through
 * runPlanOnce), or record the input copies and the plan into an encoder whose output is an
 * rgba8unorm array texture (encodeToTexture; submitToTexture submits it and reads nothing back).
 */
import { deviceLoss, lostError, type DeviceState } from "./engine-device";
import type { CallInputs } from "./inputs";
import type { Readback } from "./model";
import { planInputs } from "./plan-cache";
import { encodePlan, encodeTensorWrites, runPlanOnce } from "./runtime/run";
import type { Tensor } from "./tensor";
import { createOutputTexture, type TextureTarget } from "./texture-output";

/** Runs the plan of a call once; returns each read-back tensor (shape from the plan). */
export async function readOutputs(
  { device, plans }: DeviceState,
  { spec, data }: CallInputs,
): Promise<Partial<Record<Readback, Tensor>>> {
  const bundle = await plans.get(spec);
  const { plan, readbacks, staging } = bundle;
  const tensors = readbacks.map((r) => r.tensor);
  const bytes = await runPlanOnce(device, plan, planInputs(bundle, data), tensors, staging);
  return Object.fromEntries(
    readbacks.map((r, i) => [
      r.name,
      { shape: [...r.tensor.shape], data: new Float32Array(bytes[i]!) },
    ]),
  );
}

/** A translation's output: RGBA8 (one u32 per pixel, returned as its f32 view) or f32. */
export async function readTranslation(
  state: DeviceState,
  inputs: CallInputs,
): Promise<Float32Array> {
  return (await readOutputs(state, inputs)).output!.data;
}

/**
 * Records a translation's input copies and its plan into `encoder`, writing the caller's texture
 * or a new one (the inputs and target were checked when the call was made, so a refused call
 * wrote nothing). `throwIfDisposed` runs once the plan is found: an engine disposed meanwhile has
 * freed the plan, and recording it would fail only later, at the caller's submit.
 */
export async function encodeToTexture(
  { device, plans, outputViews }: DeviceState,
  label: string,
  encoder: GPUCommandEncoder,
  { spec, data }: CallInputs,
  target: TextureTarget,
  throwIfDisposed: () => void,
): Promise<{ texture: GPUTexture; upload: GPUBuffer }> {
  const { n, h, w } = spec.content!;
  const bundle = await plans.get(spec);
  throwIfDisposed();
  const texture = target.texture ?? createOutputTexture(device, label, n, h, w);
  await outputViews.bind(bundle.plan, texture, target.layer ?? 0, n, !target.texture);
  const upload = encodeTensorWrites(device, encoder, bundle.plan, planInputs(bundle, data));
  encodePlan(encoder, bundle.plan);
  return { texture, upload };
}

/**
 * encodeToTexture in an encoder of its own, submitted: resolves to the texture once the work is
 * submitted. Nothing is read back, so a device loss meanwhile would go unnoticed: it is asked
 * after the submit, and a texture made here is destroyed before the DeviceLostError.
 */
export async function submitToTexture(
  state: DeviceState,
  label: string,
  inputs: CallInputs,
  target: TextureTarget,
  throwIfDisposed: () => void,
): Promise<GPUTexture> {
  const { device } = state;
  const encoder = device.createCommandEncoder({ label: `${label}:to-texture` });
  const { texture, upload } = await encodeToTexture(
    state,
    label,
    encoder,
    inputs,
    target,
    throwIfDisposed,
  );
  device.queue.submit([encoder.finish()]);
  upload.destroy(); // freed once the submitted copies are done
  const lost = await deviceLoss(device);
  if (lost) {
    if (!target.texture) texture.destroy();
    throw lostError(lost);
  }
  return texture;
}
