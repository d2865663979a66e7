/**
 * Every call the page makes into the engine, behind one small interface (`Engine`): get a device,
 * load the model, encode a style's reference glyphs to a class code, translate one glyph with a
 * code. The rest of the page never touches a GPUDevice or the Funit class, so running the engine
 * elsewhere (a worker) means replacing this module and nothing else. Loading takes two steps so
 * that the page can say "WebGPU is not available" before it fetches 5 MB of weights.
 */
import { Funit, requestFunitDevice, type ImageRGBA } from "../src/index";
import { UserError } from "./ui";

export interface Engine {
  /** The convolution kernel the engine chose for this adapter. */
  readonly convKernel: string;
  /** Length of a class code. */
  readonly latentDim: number;
  /** One line naming the adapter and the kernel, for the page's header. */
  readonly adapterText: string;
  encodeClass(references: ImageRGBA[]): Promise<Float32Array>;
  translate(content: ImageRGBA, code: Float32Array): Promise<ImageRGBA>;
  /** Several glyphs in one submit (the font panel's batches). */
  translateBatch(contents: ImageRGBA[], code: Float32Array): Promise<ImageRGBA[]>;
}

/** A WebGPU device ready for the model; `onError` hears uncaptured errors and device loss. */
export async function requestDevice(onError: (message: string) => void): Promise<GPUDevice> {
  if (!("gpu" in navigator) || !navigator.gpu) {
    throw new UserError(
      "WebGPU is not available in this browser, so the model cannot run here. " +
        "Try a recent Chrome, Edge or Firefox with WebGPU enabled.",
    );
  }
  try {
    return await requestFunitDevice(navigator.gpu, { onError });
  } catch (e) {
    throw new UserError(`WebGPU is present but unusable here: ${(e as Error).message}`);
  }
}

/** Loads the model's safetensors bytes on the device (every pipeline is created here). */
export async function loadEngine(device: GPUDevice, weights: ArrayBuffer): Promise<Engine> {
  const funit = await Funit.create(device, new Uint8Array(weights), { label: "hangul64" });
  return {
    convKernel: funit.convKernel,
    latentDim: funit.hyper.latent_dim,
    adapterText: describeAdapter(device, funit.convKernel),
    encodeClass: (references) => funit.encodeClass(references),
    translate: async (content, code) => (await funit.translate([content], code))[0]!,
    translateBatch: (contents, code) => funit.translate(contents, code),
  };
}

function describeAdapter(device: GPUDevice, conv: string): string {
  const info = (
    device as GPUDevice & { adapterInfo?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }
  ).adapterInfo;
  const parts = info ? [info.vendor, info.architecture, info.description].filter((s) => s) : [];
  const fallback = info?.isFallbackAdapter ? " (fallback adapter)" : "";
  const adapter = parts.join(" · ") || "(no information)";
  return `Adapter: ${adapter}${fallback} · convolution kernel: ${conv}`;
}
