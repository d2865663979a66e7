/**
 * Peer: onnxruntime-web's WebGPU execution provider running the PyTorch export of the same
 * generator (`bench/models/<model>.onnx`: inputs `content` [N,3,H,W] and `class_images` [K,3,H,W],
 * output `output`), for `npm run bench`. Inputs go in and the output comes back as CPU Float32Arrays,
 * as with the engine's translateTensor, so both timings include upload and readback. One WASM
 * thread: the EP runs the graph on the GPU, and only shape arithmetic stays on the CPU.
 * `wasmDir` tells a bundled bench (dist/gpu/bench.mjs) where ORT's WASM runtime lies
 * (ort-wasm-simd-threaded.asyncify.mjs and .wasm, from onnxruntime-web/dist/), which esbuild cannot
 * bundle; unbundled, ORT finds it in node_modules itself.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Tensor } from "../../src/tensor";
import { installPeerGPU, peerAdapters, type Peer } from "./peer";

export async function createOrtPeer(
  model: Uint8Array,
  opts: { wasmDir?: string } = {},
): Promise<Peer> {
  installPeerGPU();
  const first = peerAdapters.length;
  const ort = await import("onnxruntime-web/webgpu");
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = "error";
  if (opts.wasmDir) ort.env.wasm.wasmPaths = `${pathToFileURL(resolve(opts.wasmDir)).href}/`;
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ["webgpu"],
    logSeverityLevel: 3, // not the warning that shape ops are placed on the CPU, which ORT does by design
  });
  for (const name of ["content", "class_images"]) {
    if (!session.inputNames.includes(name))
      throw new Error(
        `ONNX model has inputs ${session.inputNames.join(", ")}; expected content and class_images`,
      );
  }
  const adapter = peerAdapters[first];
  const feed = (t: Tensor) => new ort.Tensor("float32", t.data, t.shape);
  return {
    name: "ort-web-webgpu",
    adapter: () => adapter,
    async run(content, classImages) {
      const out = await session.run({ content: feed(content), class_images: feed(classImages) });
      const y = out.output ?? out[session.outputNames[0]!]!;
      try {
        // Copy: the data may be a view of the WASM heap.
        return new Float32Array((await y.getData()) as Float32Array);
      } finally {
        y.dispose();
      }
    },
    async destroy() {
      await session.release();
    },
  };
}
