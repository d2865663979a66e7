// In a browser app built with a bundler (esbuild, Vite, webpack, …): the package's "." entry is
// platform-neutral, so the bundle takes the engine only (no Node built-in, no image codec).
// test/package.test.ts bundles this file from the installed package and checks that.
import { Funit, requestFunitDevice } from "funit-webgpu";

/** A FUNIT engine on this browser's GPU, with the model fetched from `weightsUrl`. */
export async function loadFunit(weightsUrl) {
  const device = await requestFunitDevice(navigator.gpu);
  const response = await fetch(weightsUrl);
  if (!response.ok) throw new Error(`${weightsUrl}: HTTP ${response.status}`);
  return Funit.create(device, new Uint8Array(await response.arrayBuffer()));
}
