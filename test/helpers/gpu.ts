/**
 * Test access to a real WebGPU device (Dawn on lavapipe in CI). `withDevice` runs a body inside
 * validation and out-of-memory error scopes and fails the test on any error the device reports,
 * including uncaptured ones, so a kernel that is silently rejected cannot pass.
 */
import { getNodeDevice } from "../../src/node/gpu";

let devicePromise: Promise<GPUDevice> | undefined;
const uncaptured: string[] = [];

export function sharedDevice(): Promise<GPUDevice> {
  devicePromise ??= getNodeDevice({ onError: (m) => uncaptured.push(m) });
  return devicePromise;
}

export async function withDevice<T>(body: (device: GPUDevice) => Promise<T>): Promise<T> {
  const device = await sharedDevice();
  uncaptured.length = 0;
  device.pushErrorScope("validation");
  device.pushErrorScope("out-of-memory");
  device.pushErrorScope("internal");
  let result: T;
  try {
    result = await body(device);
  } finally {
    const errors = (await Promise.all([device.popErrorScope(), device.popErrorScope(), device.popErrorScope()])).filter((e) => e);
    if (errors.length) throw new Error(`WebGPU errors: ${errors.map((e) => e!.message).join(" | ")}`);
  }
  if (uncaptured.length) throw new Error(`uncaptured WebGPU errors: ${uncaptured.join(" | ")}`);
  return result;
}
