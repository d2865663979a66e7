/**
 * Loading the peers for a model: onnxruntime-web's WebGPU EP on the model's ONNX export (when the
 * file exists) and tfjs-backend-webgpu on the same weights. A peer that cannot load is reported as
 * skipped with its reason, never fatal: the engine's figures and checks stand on their own.
 */
import { existsSync, readFileSync } from "node:fs";
import type { GeneratorWeights } from "../src/index";
import type { ModelSpec } from "./cases";
import type { BenchOptions } from "./options";
import { createOrtPeer } from "./peers/ort";
import type { Peer } from "./peers/peer";
import { createTfjsPeer } from "./peers/tfjs";

const PEER_NAMES = ["ort-web-webgpu", "tfjs-webgpu"];

export async function loadPeers(
  model: ModelSpec,
  weights: () => GeneratorWeights,
  opts: BenchOptions,
): Promise<{ peers: Peer[]; skips: Map<string, string>; load_ms: Record<string, number> }> {
  const peers: Peer[] = [];
  const skips = new Map<string, string>();
  const loadMs: Record<string, number> = {};
  if (!opts.peers) {
    for (const name of PEER_NAMES) skips.set(name, "skipped: --no-peers");
    return { peers, skips, load_ms: loadMs };
  }
  const attempt = async (name: string, make: () => Promise<Peer>) => {
    const t = performance.now();
    try {
      peers.push(await make());
      loadMs[name] = performance.now() - t;
    } catch (e) {
      const message = (e as Error).message.split("\n")[0]!;
      const hint = /asyncify/.test(message)
        ? " (a bundled bench needs --ort-dist: onnxruntime-web's dist/ folder)"
        : "";
      skips.set(name, `skipped: ${message}${hint}`);
    }
  };
  if (model.onnx && existsSync(model.onnx)) {
    await attempt("ort-web-webgpu", () =>
      createOrtPeer(new Uint8Array(readFileSync(model.onnx!)), { wasmDir: opts.ortDist }),
    );
  } else {
    const how = model.name === "animals128" ? " (run bench/make-animals.sh)" : "";
    skips.set("ort-web-webgpu", `skipped: no ${model.onnx ?? "ONNX model"}${how}`);
  }
  await attempt("tfjs-webgpu", () => createTfjsPeer(weights()));
  return { peers, skips, load_ms: loadMs };
}
