/**
 * The demo page's engine, in a dedicated module worker (bundled to dist/web/engine-worker.js and
 * started by web/engine.ts): it gets its own WebGPU device, loads the model and runs every call,
 * so the page's main thread only decodes, draws and handles input while glyphs generate. Each
 * request is `{ id, op, …args }` and gets one reply `{ id, value }` or `{ id, error, user }`
 * (`user`: a message meant for the page as it is); device loss and uncaptured WebGPU errors are
 * posted as `{ event: "device-error", message }`. Results' pixels and codes are transferred.
 */
import { Funit, requestFunitDevice, type ImageRGBA } from "../src/index";

/** The requests web/engine.ts sends, by op. */
export type EngineRequest =
  | { op: "device" }
  | { op: "load"; weights: ArrayBuffer }
  | { op: "encodeClass"; references: ImageRGBA[] }
  | { op: "translate"; contents: ImageRGBA[]; code: Float32Array };

/** What "load" replies. */
export interface LoadedInfo {
  convKernel: string;
  latentDim: number;
  adapterText: string;
}

/** An error whose message the page shows as it is (no "failed:" prefix). */
class UserFacing extends Error {}

let device: GPUDevice | undefined;
let funit: Funit | undefined;

/** The worker's global scope (typed by hand: the page's tsconfig has the DOM library). */
const scope = self as unknown as {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<EngineRequest & { id: number }>) => void) | null;
};

async function handle(
  request: EngineRequest,
): Promise<{ value: unknown; transfer: Transferable[] }> {
  switch (request.op) {
    case "device": {
      if (!navigator.gpu)
        throw new UserFacing(
          "WebGPU is not available in this browser's workers, so the model cannot run here. " +
            "Try a recent Chrome, Edge or Firefox with WebGPU enabled.",
        );
      try {
        device = await requestFunitDevice(navigator.gpu, {
          onError: (message) => scope.postMessage({ event: "device-error", message }),
        });
      } catch (e) {
        throw new UserFacing(`WebGPU is present but unusable here: ${(e as Error).message}`);
      }
      return { value: null, transfer: [] };
    }
    case "load": {
      if (!device) throw new Error("no device: send 'device' first");
      funit = await Funit.create(device, new Uint8Array(request.weights), { label: "hangul64" });
      const info: LoadedInfo = {
        convKernel: funit.convKernel,
        latentDim: funit.hyper.latent_dim,
        adapterText: describeAdapter(device, funit.convKernel),
      };
      return { value: info, transfer: [] };
    }
    case "encodeClass": {
      const code = await loaded().encodeClass(request.references);
      return { value: code, transfer: [code.buffer] };
    }
    case "translate": {
      const images = await loaded().translate(request.contents, request.code);
      return { value: images, transfer: images.map((img) => img.data.buffer) };
    }
  }
}

function loaded(): Funit {
  if (!funit) throw new Error("the model is not loaded yet");
  return funit;
}

function describeAdapter(device: GPUDevice, conv: string): string {
  const info = (
    device as GPUDevice & { adapterInfo?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }
  ).adapterInfo;
  const parts = info ? [info.vendor, info.architecture, info.description].filter((s) => s) : [];
  const fallback = info?.isFallbackAdapter ? " (fallback adapter)" : "";
  const adapter = parts.join(" · ") || "(no information)";
  return `Adapter: ${adapter}${fallback} · convolution kernel: ${conv} (in a worker)`;
}

scope.onmessage = async ({ data }) => {
  try {
    const { value, transfer } = await handle(data);
    scope.postMessage({ id: data.id, value }, transfer);
  } catch (e) {
    const user = e instanceof UserFacing;
    scope.postMessage({ id: data.id, error: (e as Error).message ?? String(e), user });
  }
};
