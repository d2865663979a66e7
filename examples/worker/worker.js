// funit-webgpu in a module Worker: the device, the model and every dispatch and readback live off
// the main thread, which only sends images and receives images. WebGPU (navigator.gpu) is there in
// dedicated workers as on pages. It imports the browser bundle as a plain ES module; with a bundler,
// `import { Funit, requestFunitDevice } from "funit-webgpu"` instead. Messages:
//   { weights: url }                          → loads the model once, replies { ready: true }
//   { contents: ImageRGBA[], references: ImageRGBA[] } → replies { code, outputs: ImageRGBA[] }
// An error comes back as { error: message }. The outputs' pixels are transferred, not copied.
import { Funit, requestFunitDevice } from "../../dist/browser/funit.js";

let funit;

self.onmessage = async ({ data }) => {
  try {
    if (data.weights) {
      const device = await requestFunitDevice(navigator.gpu);
      const response = await fetch(data.weights);
      if (!response.ok) throw new Error(`${data.weights}: HTTP ${response.status}`);
      funit = await Funit.create(device, new Uint8Array(await response.arrayBuffer()));
      self.postMessage({ ready: true });
      return;
    }
    const code = await funit.encodeClass(data.references);
    const outputs = await funit.translate(data.contents, code);
    const buffers = new Set(outputs.map((image) => image.data.buffer));
    self.postMessage({ code, outputs }, [...buffers]);
  } catch (e) {
    self.postMessage({ error: String(e) });
  }
};
