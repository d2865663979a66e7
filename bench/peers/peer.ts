/**
 * What the bench needs from a peer runtime (onnxruntime-web, tfjs), and the WebGPU environment the
 * peers expect in Node: a `navigator.gpu`. Both peers take that GPU object from the same Dawn
 * instance as the engine (`getNodeGPU()`), so all three run on the same adapter in one process; the
 * adapter each peer's device came from is recorded so the report can show it. onnxruntime-web's
 * WASM heap is a SharedArrayBuffer and Dawn refuses `queue.writeBuffer` from shared memory, so
 * every device handed out through this `navigator.gpu` copies such views first (the engine does
 * the same in its own upload path).
 */
import { getNodeGPU } from "../../src/node/gpu";
import type { Tensor } from "../../src/tensor";

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface Peer {
  /** Key in the report, e.g. "ort-web-webgpu". */
  readonly name: string;
  /** The adapter the peer's device came from (undefined if the peer never asked for one). */
  readonly adapter: () => AdapterSummary | undefined;
  /** One translation, inputs and output as the engine takes them: NCHW f32 in CPU memory. */
  run(content: Tensor, classImages: Tensor): Promise<Float32Array>;
  destroy(): Promise<void>;
}

export function summariseAdapter(info: GPUAdapterInfo | undefined): AdapterSummary | undefined {
  if (!info) return undefined;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
  };
}

/** Adapters handed out through the peers' navigator.gpu, in order of request. */
export const peerAdapters: AdapterSummary[] = [];

/** Copies a view of shared memory (a WASM heap) into a plain buffer; other views pass through. */
function unshared(
  data: BufferSource | SharedArrayBuffer,
  dataOffset?: number,
  size?: number,
): [BufferSource, number | undefined, number | undefined] {
  const buffer = ArrayBuffer.isView(data) ? data.buffer : data;
  if (typeof SharedArrayBuffer === "undefined" || !(buffer instanceof SharedArrayBuffer))
    return [data as BufferSource, dataOffset, size];
  // writeBuffer counts dataOffset and size in elements of a typed array, in bytes otherwise.
  const bpe =
    ArrayBuffer.isView(data) && "BYTES_PER_ELEMENT" in data
      ? (data as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT
      : 1;
  const start = (ArrayBuffer.isView(data) ? data.byteOffset : 0) + (dataOffset ?? 0) * bpe;
  const total = ArrayBuffer.isView(data) ? data.byteLength : buffer.byteLength;
  const bytes = size !== undefined ? size * bpe : total - (dataOffset ?? 0) * bpe;
  return [new Uint8Array(buffer, start, bytes).slice(), undefined, undefined];
}

function patchQueue(device: GPUDevice): GPUDevice {
  const queue = device.queue;
  const write = queue.writeBuffer.bind(queue);
  queue.writeBuffer = ((
    buffer: GPUBuffer,
    offset: number,
    data: BufferSource,
    dataOffset?: number,
    size?: number,
  ) => write(buffer, offset, ...unshared(data, dataOffset, size))) as GPUQueue["writeBuffer"];
  return device;
}

/** A view of a Dawn object with some members replaced (methods of the rest bound to the object). */
function withOverrides<T extends object>(target: T, overrides: Record<string, unknown>): T {
  return new Proxy(target, {
    get(t, p) {
      if (typeof p === "string" && p in overrides) return overrides[p];
      const v = Reflect.get(t, p, t) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

let installed = false;

/** Installs globalThis.navigator.gpu for the peers (Node has no navigator.gpu); idempotent. */
export function installPeerGPU(): void {
  if (installed) return;
  installed = true;
  const gpu = getNodeGPU();
  const peerGpu = withOverrides(gpu, {
    requestAdapter: async (opts?: GPURequestAdapterOptions) => {
      const adapter = await gpu.requestAdapter(opts);
      if (!adapter) return adapter;
      const summary = summariseAdapter(adapter.info);
      if (summary) peerAdapters.push(summary);
      return withOverrides(adapter, {
        requestDevice: async (d?: GPUDeviceDescriptor) =>
          patchQueue(await adapter.requestDevice(d)),
      });
    },
  });
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, "gpu", { value: peerGpu, configurable: true });
  else
    Object.defineProperty(globalThis, "navigator", { value: { gpu: peerGpu }, configurable: true });
}
