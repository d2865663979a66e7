/**
 * Runs a small hand-built Graph once (the tests' kernel harness): compiles it with the given
 * inputs and outputs live, runs it with the runtime's runPlanOnce (write, one submit, read back)
 * and frees the plan.
 */
import { compile, type Graph, type TensorDesc } from "../../src/runtime/graph";
import { runPlanOnce } from "../../src/runtime/run";

export async function runGraph(
  device: GPUDevice,
  graph: Graph,
  inputs: [TensorDesc, Float32Array | Uint32Array][],
  outputs: TensorDesc[],
): Promise<ArrayBuffer[]> {
  const plan = await compile(
    device,
    graph,
    { inputs: new Set(inputs.map(([t]) => t.id)), outputs: new Set(outputs.map((t) => t.id)) },
    "test",
  );
  try {
    return await runPlanOnce(device, plan, inputs, outputs);
  } finally {
    plan.destroy();
  }
}
