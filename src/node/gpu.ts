/**
 * The Node side of the platform seam: a WebGPU `GPU` object from Dawn (npm `webgpu`), with its
 * WebGPU globals (GPUBufferUsage, GPUShaderStage, …) installed so that the core code, written for
 * browsers, runs unchanged. `webgpu` is an optional peer dependency (132 MB that browser and Deno
 * users never need), so it is imported dynamically: without it, importing this entry still works
 * (images, the CLI's file handling), and asking for a device is a DeviceError that names it. Dawn's
 * waits poll through a timer instead of busy-polling the JS thread (pollDawnEventsByTimer).
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
    pollDawnEventsByTimer();
    gpu = dawn.create([]) as GPU;
  }
  return gpu;
}

/** On the wrapper pollDawnEventsByTimer installs: the setImmediate it wraps. */
const WRAPPED = Symbol.for("funit-webgpu.dawnPollByTimer");

type SetImmediate = typeof setImmediate & { [WRAPPED]?: typeof setImmediate };

/** How often Dawn's events are processed while a wait is pending, in milliseconds. */
export const DAWN_POLL_MS = 1;

/**
 * Dawn's Node binding completes promises (mapAsync, onSubmittedWorkDone, async pipelines) by
 * processing its events from a callback it passes to the global setImmediate, which schedules
 * the next one while anything is pending (AsyncRunner::ScheduleProcessEvents; "we probably want to
 * reduce the frequency", crbug.com/dawn/1127). That busy-polls the JS thread for the whole wait.
 * On a CPU adapter (lavapipe) the GPU's work runs on the same cores, and the poll took a large
 * part of them (`npm run bench -- --case dawn-poll` measures it). So Dawn's callbacks (native
 * functions, given with no arguments) run from a timer every DAWN_POLL_MS instead; every other
 * setImmediate call goes to Node's as before. `enabled` false puts Node's own back (the bench's
 * comparison); getNodeGPU turns it on.
 */
export function pollDawnEventsByTimer(enabled = true): void {
  const current = globalThis.setImmediate as SetImmediate;
  const original = current[WRAPPED];
  if (!enabled) {
    if (original) globalThis.setImmediate = original as typeof setImmediate;
    return;
  }
  if (original) return;
  const fromTimer = function (this: unknown, callback: () => void, ...args: unknown[]) {
    if (args.length === 0 && Function.prototype.toString.call(callback).includes("[native code]"))
      return setTimeout(callback, DAWN_POLL_MS);
    return Reflect.apply(current, this, [callback, ...args]) as NodeJS.Immediate;
  };
  // keeps setImmediate's own properties (util.promisify's custom form)
  Object.defineProperties(fromTimer, Object.getOwnPropertyDescriptors(current));
  Object.defineProperty(fromTimer, WRAPPED, { value: current });
  globalThis.setImmediate = fromTimer as unknown as typeof setImmediate;
}

export async function getNodeDevice(opts: FunitDeviceOptions = {}): Promise<GPUDevice> {
  return requestFunitDevice(getNodeGPU(), opts);
}
