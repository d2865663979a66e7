/**
 * Test access to a real WebGPU device (Dawn on lavapipe in CI). `withDevice` runs a body inside
 * validation, out-of-memory and internal error scopes (test/portable/runner.ts) and fails the test
 * on any error the device reports, including uncaptured ones and device loss, so a kernel that is
 * silently rejected cannot pass. `runPortable` runs a portable test body (test/portable/) the same
 * way, with fixtures read from the repo by node:fs.
 */
import { readFile } from "node:fs/promises";
import { getNodeDevice } from "../../src/node/gpu";
import { withErrorScopes, type PortableTest } from "../portable/runner";

let devicePromise: Promise<GPUDevice> | undefined;
const deviceErrors: string[] = [];

export function sharedDevice(): Promise<GPUDevice> {
  devicePromise ??= getNodeDevice({ onError: (m) => deviceErrors.push(m) });
  return devicePromise;
}

export async function withDevice<T>(body: (device: GPUDevice) => Promise<T>): Promise<T> {
  const device = await sharedDevice();
  deviceErrors.length = 0;
  const result = await withErrorScopes(device, () => body(device));
  if (deviceErrors.length) throw new Error(`uncaptured WebGPU errors: ${deviceErrors.join(" | ")}`);
  return result;
}

const repoRoot = new URL("../../", import.meta.url);

/** A repo-relative file's bytes, as the portable tests' `load`. */
export async function loadRepoFile(path: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(new URL(path, repoRoot)));
}

export function runPortable(test: PortableTest): Promise<void> {
  return withDevice((device) => test.run({ device, load: loadRepoFile }));
}
