/**
 * Funit.profile's measurement: the GPU time of every dispatch of one translation, from timestamp
 * queries (timePlanOnce runs each dispatch in a compute pass of its own between two timestamps),
 * listed in execution order with what each dispatch ran: its label, kernel, override constants and
 * uniform params. The plan is the engine's own (from its plan cache), so the figures are those of
 * the dispatches a translation of these shapes runs.
 */
import type { DeviceState } from "./engine-device";
import { DeviceError } from "./errors";
import type { CallInputs } from "./inputs";
import { planInputs } from "./plan-cache";
import type { Dispatch } from "./runtime/graph";
import { timePlanOnce } from "./runtime/run";

/** One dispatch of a profiled translation: its GPU time, and what it ran (kernel, overrides…). */
export type ProfiledDispatch = Pick<Dispatch, "label" | "kernel" | "overrides" | "params"> & {
  ms: number;
};

/** Times each dispatch of the call's plan. Needs the `timestamp-query` feature (a DeviceError). */
export async function profileDispatches(
  { device, plans }: DeviceState,
  { spec, data }: CallInputs,
): Promise<ProfiledDispatch[]> {
  if (!device.features.has("timestamp-query"))
    throw new DeviceError("profiling needs the 'timestamp-query' feature");
  const bundle = await plans.get(spec);
  const ms = await timePlanOnce(device, bundle.plan, planInputs(bundle, data));
  return bundle.plan.dispatches.map((d, i) => ({
    label: d.label,
    kernel: d.kernel,
    overrides: d.overrides,
    params: d.params,
    ms: ms[i]!,
  }));
}
