// The README's Deno pattern, run by test/deno-device.test.ts against the library bundle
// (dist/index.js): a device from requestFunitDevice(navigator.gpu), then an await on reading the
// weights file, then Funit.create and a call. Deno's wgpu used to panic here ("Adapter[Id(0,1)]
// does not exist") when the adapter had been collected before the engine read the device's
// adapter information. Prints one JSON line: the class code's length and the adapter's vendor.
import { Funit, requestFunitDevice } from "../../dist/index.js";

const device = await requestFunitDevice(navigator.gpu);
const weights = await Deno.readFile(
  new URL("../../weights/hangul64-f16.safetensors", import.meta.url),
);
const funit = await Funit.create(device, weights);
const glyph = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 4).fill(255) };
const code = await funit.encodeClass([glyph]);
funit.dispose();
console.log(JSON.stringify({ codeLength: code.length, finite: code.every(Number.isFinite) }));
