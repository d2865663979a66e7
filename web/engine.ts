/**
 * Every call the page makes into the engine, behind one small interface (`Engine`): start the
 * engine, load the model, encode a style's reference glyphs to a class code, translate glyphs with
 * a code. The engine itself runs in a dedicated module worker (web/engine-worker.ts, bundled to
 * dist/web/engine-worker.js) with a WebGPU device of its own, so the page's main thread stays free
 * to draw and answer input while glyphs generate; this module only posts requests and resolves
 * their replies. Loading takes two steps so that the page can say "WebGPU is not available"
 * before it fetches 5 MB of weights.
 */
import type { ImageRGBA } from "../src/index";
import type { EngineRequest, LoadedInfo } from "./engine-worker";
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

/** The engine's worker, with a WebGPU device there, before the model is loaded. */
export interface EngineHost {
  call<T>(request: EngineRequest, transfer?: Transferable[]): Promise<T>;
}

/**
 * Starts the engine's worker and gets a WebGPU device there; `onError` hears its uncaptured
 * errors and device loss. A browser without WebGPU is told so (UserError) before any worker.
 */
export async function requestDevice(onError: (message: string) => void): Promise<EngineHost> {
  if (!("gpu" in navigator) || !navigator.gpu) {
    throw new UserError(
      "WebGPU is not available in this browser, so the model cannot run here. " +
        "Try a recent Chrome, Edge or Firefox with WebGPU enabled.",
    );
  }
  const worker = new Worker(new URL("./engine-worker.js", import.meta.url), { type: "module" });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  worker.onmessage = ({ data }) => {
    if (data.event === "device-error") return onError(data.message);
    const call = pending.get(data.id);
    if (!call) return;
    pending.delete(data.id);
    if ("error" in data) call.reject(data.user ? new UserError(data.error) : new Error(data.error));
    else call.resolve(data.value);
  };
  worker.onerror = (e) => {
    const error = new Error(`the engine's worker failed: ${e.message}`);
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };
  const host: EngineHost = {
    call: <T>(request: EngineRequest, transfer: Transferable[] = []) =>
      new Promise<T>((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        worker.postMessage({ id, ...request }, transfer);
      }),
  };
  await host.call({ op: "device" });
  return host;
}

/** Hands the model's safetensors bytes to the worker (every pipeline is created there). */
export async function loadEngine(host: EngineHost, weights: ArrayBuffer): Promise<Engine> {
  // transferred, not copied: the page keeps no second 5 MB copy
  const info = await host.call<LoadedInfo>({ op: "load", weights }, [weights]);
  const translateBatch = (contents: ImageRGBA[], code: Float32Array) =>
    host.call<ImageRGBA[]>({ op: "translate", contents, code });
  return {
    ...info,
    encodeClass: (references) => host.call<Float32Array>({ op: "encodeClass", references }),
    translate: async (content, code) => (await translateBatch([content], code))[0]!,
    translateBatch,
  };
}
