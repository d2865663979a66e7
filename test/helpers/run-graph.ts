/** Runs a small hand-built Graph once: writes its inputs, one submit, reads the outputs back. */
import { compile, encodePlan, Graph, type TensorDesc } from "../../src/runtime/graph";

export async function runGraph(
  device: GPUDevice,
  graph: Graph,
  inputs: [TensorDesc, Float32Array | Uint32Array][],
  outputs: TensorDesc[],
): Promise<ArrayBuffer[]> {
  const dummy = device.createBuffer({
    label: "test:dummy",
    size: 16,
    usage: GPUBufferUsage.STORAGE,
  });
  const plan = await compile(
    device,
    graph,
    { inputs: new Set(inputs.map(([t]) => t.id)), outputs: new Set(outputs.map((t) => t.id)) },
    "test",
    dummy,
  );
  for (const [t, data] of inputs)
    device.queue.writeBuffer(
      plan.bufferOf.get(t.id)!,
      0,
      data.buffer,
      data.byteOffset,
      data.byteLength,
    );
  const bytes = outputs.reduce((a, t) => a + t.elements * 4, 0);
  const staging = device.createBuffer({
    label: "test:readback",
    size: Math.max(16, bytes),
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder({ label: "test" });
  encodePlan(encoder, plan, "test");
  let offset = 0;
  for (const t of outputs) {
    encoder.copyBufferToBuffer(plan.bufferOf.get(t.id)!, 0, staging, offset, t.elements * 4);
    offset += t.elements * 4;
  }
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const mapped = staging.getMappedRange();
  const result: ArrayBuffer[] = [];
  offset = 0;
  for (const t of outputs) {
    result.push(mapped.slice(offset, offset + t.elements * 4));
    offset += t.elements * 4;
  }
  staging.unmap();
  staging.destroy();
  dummy.destroy();
  plan.destroy();
  return result;
}
