/**
 * A strict TypeScript consumer of both entries, as a user's code would be: test/package.test.ts
 * compiles it against the packed and installed package with `tsc --strict`, under
 * moduleResolution bundler and node16, with nothing installed but funit-webgpu (which brings
 * @webgpu/types). The @ts-expect-error lines prove the declarations are real types, not `any`.
 */
import {
  Funit,
  DeviceError,
  requestFunitDevice,
  demoReferences,
  fetchAtlas,
  shippedAssetUrl,
  SHIPPED_MODEL,
  type GlyphAtlas,
  type ImageRGBA,
  type Style,
} from "funit-webgpu";
import * as node from "funit-webgpu/node";

/** The class code of a few example glyphs, with any WebGPU implementation's `GPU` object. */
export async function styleOf(
  gpu: GPU,
  weights: Uint8Array,
  examples: ImageRGBA[],
): Promise<Float32Array> {
  const device: GPUDevice = await requestFunitDevice(gpu);
  const funit = await Funit.create(device, weights);
  try {
    return await funit.encodeClass(examples);
  } finally {
    funit.destroy();
    device.destroy();
  }
}

/** Both entries export one and the same Funit: an engine made by either fits the other's type. */
export async function translateInNode(
  weights: Uint8Array,
  contents: ImageRGBA[],
  style: Style,
): Promise<Uint8Array[]> {
  const engine: Funit = await node.Funit.create(await node.getNodeDevice(), weights);
  const images: ImageRGBA[] = await engine.translate(contents, style);
  // @ts-expect-error: translate resolves to images, not a string
  const wrong: string = await engine.translate(contents, style);
  void wrong;
  return images.map((image) => node.encodePng(image));
}

export function isDeviceProblem(e: unknown): boolean {
  // @ts-expect-error: Funit.create needs a device and weights
  void Funit.create();
  return e instanceof DeviceError && e instanceof node.DeviceError;
}

/** The shipped model's URL, and a held-out font's reference glyphs from either entry's loader. */
export const modelUrl: URL = shippedAssetUrl(SHIPPED_MODEL);

export async function bandalReferences(inBrowser: boolean): Promise<ImageRGBA[]> {
  const files = node.unseenAtlasFiles("Bandal");
  const atlas: GlyphAtlas = inBrowser ? await fetchAtlas(files) : await node.readAtlas(files);
  // @ts-expect-error: readAtlas takes the atlas's files, not a font name
  void node.readAtlas("Bandal");
  return demoReferences(atlas, 5);
}
