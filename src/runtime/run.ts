/**
 * Running a compiled plan: `encodePlan` records its dispatches into one compute pass;
 * `runPlanOnce` is the whole round trip (write the inputs, one encoder with the pass and the
 * read-back copies, one submit, map) that the engine, the tests and the benches share;
 * `timePlanOnce` runs each dispatch in a pass of its own between timestamp queries, for per-kernel
 * GPU times.
 */
import type { Plan, TensorDesc } from "./graph";

/** Records every dispatch of a plan into one compute pass, labelled with the plan's label. */
export function encodePlan(
  encoder: GPUCommandEncoder,
  plan: Plan,
  timestampWrites?: GPUComputePassTimestampWrites,
): void {
  encodeSlice(encoder, plan, 0, plan.dispatches.length, plan.label, timestampWrites);
}

/**
 * Records dispatches [start, end) of a plan into one compute pass of their own (a job's slice,
 * src/job.ts): a plan recorded slice by slice, in order, computes what encodePlan's one pass does.
 */
export function encodeSlice(
  encoder: GPUCommandEncoder,
  plan: Plan,
  start: number,
  end: number,
  label: string,
  timestampWrites?: GPUComputePassTimestampWrites,
): void {
  assertBound(plan);
  const pass = encoder.beginComputePass(timestampWrites ? { label, timestampWrites } : { label });
  for (const d of plan.dispatches.slice(start, end)) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
  }
  pass.end();
}

/** Refuses to record a plan whose texture slots were never bound (there is nothing to write to). */
function assertBound(plan: Plan): void {
  const unbound = plan.dispatches.find((d) => !d.bindGroup);
  if (unbound)
    throw new Error(
      `${plan.label}: ${unbound.label} writes a texture slot that is not bound; ` +
        "call plan.bindTextures first",
    );
}

/** A tensor of the plan and the bytes to write into it before the run (none: left as it is). */
export type TensorInput = readonly [TensorDesc, ArrayBufferView | undefined];

/** Writes each input into its buffer with queue.writeBuffer (it lands before the next submit). */
export function writeTensors(device: GPUDevice, plan: Plan, inputs: readonly TensorInput[]): void {
  for (const [t, d] of inputs) {
    if (!d) continue;
    // A view of shared memory (a WASM heap, say) is copied: writeBuffer may refuse shared buffers.
    const src =
      typeof SharedArrayBuffer !== "undefined" && d.buffer instanceof SharedArrayBuffer
        ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice()
        : d;
    device.queue.writeBuffer(
      plan.bufferOf.get(t.id)!,
      0,
      src.buffer,
      src.byteOffset,
      src.byteLength,
    );
  }
}

/** Bytes a staging buffer needs to read `outputs` back, one after the other. */
export function readbackBytes(outputs: readonly TensorDesc[]): number {
  return Math.max(
    16,
    outputs.reduce((a, t) => a + t.words * 4, 0),
  );
}

/**
 * Runs a plan once: writes `inputs`, records the plan and a copy of each output into `staging` in
 * one encoder, submits once, maps `staging` and returns each output's bytes, in order. `staging`
 * (MAP_READ | COPY_DST, readbackBytes(outputs) or more) may be kept by the caller from run to run;
 * without one, one is made and destroyed here. The outputs must be live at the plan's end
 * (compile's `live.outputs`), or their buffers may hold another tensor.
 */
export async function runPlanOnce(
  device: GPUDevice,
  plan: Plan,
  inputs: readonly TensorInput[],
  outputs: readonly TensorDesc[],
  staging?: GPUBuffer,
): Promise<ArrayBuffer[]> {
  const own = !staging;
  const target =
    staging ??
    device.createBuffer({
      label: `${plan.label}:readback`,
      size: readbackBytes(outputs),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  try {
    writeTensors(device, plan, inputs);
    const encoder = device.createCommandEncoder({ label: plan.label });
    encodePlan(encoder, plan);
    let offset = 0;
    for (const t of outputs) {
      if (t.words > 0)
        encoder.copyBufferToBuffer(plan.bufferOf.get(t.id)!, 0, target, offset, t.words * 4);
      offset += t.words * 4;
    }
    device.queue.submit([encoder.finish()]);
    await target.mapAsync(GPUMapMode.READ);
    try {
      const mapped = target.getMappedRange();
      offset = 0;
      return outputs.map((t) => {
        const bytes = mapped.slice(offset, offset + t.words * 4);
        offset += t.words * 4;
        return bytes;
      });
    } finally {
      target.unmap();
    }
  } finally {
    if (own) target.destroy();
  }
}

/**
 * GPU time of every dispatch of one run of the plan, in milliseconds, from timestamp queries
 * (2i and 2i + 1 around dispatch i, each in a compute pass of its own: slower than encodePlan, for
 * profiling only). The device must have the `timestamp-query` feature.
 */
export async function timePlanOnce(
  device: GPUDevice,
  plan: Plan,
  inputs: readonly TensorInput[],
): Promise<number[]> {
  assertBound(plan);
  const count = plan.dispatches.length * 2;
  const querySet = device.createQuerySet({
    label: `${plan.label}:profile`,
    type: "timestamp",
    count,
  });
  const resolved = device.createBuffer({
    label: `${plan.label}:profile-resolve`,
    size: count * 8,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const readback = device.createBuffer({
    label: `${plan.label}:profile-readback`,
    size: count * 8,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    writeTensors(device, plan, inputs);
    const encoder = device.createCommandEncoder({ label: `${plan.label}:profile` });
    plan.dispatches.forEach((d, i) => {
      const pass = encoder.beginComputePass({
        label: d.label,
        timestampWrites: {
          querySet,
          beginningOfPassWriteIndex: 2 * i,
          endOfPassWriteIndex: 2 * i + 1,
        },
      });
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
      pass.end();
    });
    encoder.resolveQuerySet(querySet, 0, count, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, readback, 0, count * 8);
    device.queue.submit([encoder.finish()]);
    await readback.mapAsync(GPUMapMode.READ);
    const ns = new BigUint64Array(readback.getMappedRange().slice(0));
    readback.unmap();
    return plan.dispatches.map((_, i) => Number(ns[2 * i + 1]! - ns[2 * i]!) / 1e6);
  } finally {
    querySet.destroy();
    resolved.destroy();
    readback.destroy();
  }
}

/**
 * Records each input as a copy from one upload buffer into its tensor's buffer, so the inputs
 * take effect in encoder order (a queue.writeBuffer would land before every encoder that is not
 * yet submitted). Returns the upload buffer, for the caller to destroy once it has submitted.
 */
export function encodeTensorWrites(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  plan: Plan,
  inputs: readonly TensorInput[],
): GPUBuffer {
  const parts = inputs.filter((p): p is readonly [TensorDesc, ArrayBufferView] => !!p[1]);
  const size = parts.reduce((a, [, d]) => a + align4(d.byteLength), 0);
  const upload = device.createBuffer({
    label: `${plan.label}:upload`,
    size: Math.max(4, size),
    usage: GPUBufferUsage.COPY_SRC,
    mappedAtCreation: true,
  });
  const bytes = new Uint8Array(upload.getMappedRange());
  let offset = 0;
  for (const [t, d] of parts) {
    bytes.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), offset);
    encoder.copyBufferToBuffer(upload, offset, plan.bufferOf.get(t.id)!, 0, d.byteLength);
    offset += align4(d.byteLength);
  }
  upload.unmap();
  return upload;
}

function align4(bytes: number): number {
  return Math.ceil(bytes / 4) * 4;
}
