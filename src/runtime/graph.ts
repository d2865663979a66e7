/**
 * Plan once, replay many times. A Graph is the list of kernel dispatches of one computation with
 * symbolic activation tensors; `compile` turns it into a Plan: lifetime-based buffer assignment
 * (a tensor takes the best-fitting buffer whose previous tenant is dead), one uniform buffer
 * holding every dispatch's params, the pipelines, and ready bind groups. Recording and running a
 * plan (one compute pass, one submit) is src/runtime/run.ts. An op may write a storage texture
 * named by a slot instead of a tensor: the caller's texture is bound when the plan runs
 * (Plan.bindTextures), since it is not known when the plan is compiled. The runtime knows kernels,
 * tensors and limits, not the model that builds the graph.
 */
import { encodeParams, getKernel, kernelInfo, type KernelName, type Overrides } from "./kernels";
import { InputError } from "../errors";

export interface TensorDesc {
  id: number;
  label: string;
  shape: number[];
  /** Its size in 4-byte words: one f32, one packed RGBA8 pixel, or two f16 values each. */
  words: number;
  /** "f16": two values a 4-byte element (the f16 path); absent: f32 or packed RGBA8. */
  dtype?: "f16";
}

/** A storage texture bound when the plan runs (Plan.bindTextures): a caller's output texture. */
export interface TextureSlot {
  slot: string;
}

export interface OpDesc {
  label: string;
  kernel: KernelName;
  overrides: Overrides;
  params: Record<string, number>;
  bindings: Record<string, TensorDesc | GPUBuffer | TextureSlot>;
  workgroups: [number, number, number];
}

export class Graph {
  readonly tensors: TensorDesc[] = [];
  readonly ops: OpDesc[] = [];

  /** A tensor; f16 ones take half the bytes (buffer sizes, bindings and copies follow `words`). */
  tensor(label: string, shape: number[], dtype: "f32" | "f16" = "f32"): TensorDesc {
    const values = shape.reduce((a, b) => a * b, 1);
    const t: TensorDesc =
      dtype === "f16"
        ? { id: this.tensors.length, label, shape, words: Math.ceil(values / 2), dtype }
        : { id: this.tensors.length, label, shape, words: values };
    this.tensors.push(t);
    return t;
  }

  op(op: OpDesc): void {
    for (const [name, res] of Object.entries(op.bindings)) {
      if (!(res instanceof Object) || (!("id" in res) && !isGpuBuffer(res) && !isTextureSlot(res)))
        throw new Error(`${op.label}: binding ${name} is not a tensor, buffer or texture slot`);
    }
    this.ops.push(op);
  }
}

function isGpuBuffer(x: object): x is GPUBuffer {
  return "mapAsync" in x;
}

export function isTensorDesc(x: TensorDesc | GPUBuffer | TextureSlot): x is TensorDesc {
  return "id" in x && "words" in x;
}

function isTextureSlot(x: object): x is TextureSlot {
  return "slot" in x && typeof x.slot === "string";
}

export interface Dispatch {
  label: string;
  /** What it runs, as the op was built: kernel, override constants, params (profiles, benches). */
  kernel: KernelName;
  overrides: Overrides;
  params: Record<string, number>;
  pipeline: GPUComputePipeline;
  /** null while a texture slot of this dispatch is unbound (see Plan.bindTextures). */
  bindGroup: GPUBindGroup | null;
  workgroups: [number, number, number];
}

export interface Plan {
  /** Names the plan in labels of the GPU objects made for it (encoders, passes, read-backs). */
  label: string;
  dispatches: Dispatch[];
  /** The buffer holding each tensor (tensors that shared a buffer point to the same one). */
  bufferOf: Map<number, GPUBuffer>;
  buffers: GPUBuffer[];
  uniforms: GPUBuffer;
  /** Bytes of activation memory the plan holds. */
  activationBytes: number;
  /** The texture slots its ops write (empty for most plans). */
  textureSlots: Set<string>;
  /**
   * Binds a view to every texture slot (a view per slot name) for the dispatches recorded from now
   * on: encodePlan records the bind groups current when it is called, so one plan can write a
   * different texture on each run. Bind groups are kept per view, so re-binding a view is free.
   */
  bindTextures(views: Record<string, GPUTextureView>): void;
  destroy(): void;
}

const UNIFORM_ALIGN = 256;

/** Tensors whose lifetime reaches past the ops: written before the pass, or read back after it. */
export interface Live {
  inputs: Set<number>;
  outputs: Set<number>;
}

/**
 * Assigns a buffer slot to each tensor. A tensor's lifetime runs from the first op that binds it to
 * the last (inputs from the start, outputs to the end); a slot is reused only by a tensor whose
 * first use comes after the previous tenant's last use.
 */
export function assignBuffers(
  graph: Graph,
  live: Live,
): { slotOf: Map<number, number>; slotSizes: number[] } {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  graph.ops.forEach((op, i) => {
    for (const res of Object.values(op.bindings)) {
      if (!isTensorDesc(res)) continue;
      if (!first.has(res.id)) first.set(res.id, i);
      last.set(res.id, i);
    }
  });
  const end = graph.ops.length;
  for (const id of live.inputs) {
    first.set(id, 0);
    if (!last.has(id)) last.set(id, 0);
  }
  for (const id of live.outputs) {
    if (!first.has(id)) first.set(id, 0);
    last.set(id, end);
  }
  const slotOf = new Map<number, number>();
  const slotSizes: number[] = [];
  const freeAfter: number[] = []; // op index after which a slot is free
  const order = [...first.keys()].sort((a, b) => first.get(a)! - first.get(b)! || a - b);
  for (const id of order) {
    const t = graph.tensors[id]!;
    const start = first.get(id)!;
    let best = -1;
    for (let s = 0; s < slotSizes.length; s++) {
      if (freeAfter[s]! >= start) continue;
      // best fit: the smallest slot that is big enough, else the largest one (it will grow)
      if (best < 0) {
        best = s;
        continue;
      }
      const fits = slotSizes[s]! >= t.words,
        bestFits = slotSizes[best]! >= t.words;
      if (
        (fits && (!bestFits || slotSizes[s]! < slotSizes[best]!)) ||
        (!fits && !bestFits && slotSizes[s]! > slotSizes[best]!)
      )
        best = s;
    }
    if (best < 0) {
      best = slotSizes.length;
      slotSizes.push(0);
      freeAfter.push(-1);
    }
    slotSizes[best] = Math.max(slotSizes[best]!, t.words);
    freeAfter[best] = last.get(id)!;
    slotOf.set(id, best);
  }
  return { slotOf, slotSizes };
}

/** One 16-byte buffer per device, bound to the bindings a kernel's specialisation never reads. */
const unusedBindings = new WeakMap<GPUDevice, GPUBuffer>();

function unusedBinding(device: GPUDevice): GPUBuffer {
  let buffer = unusedBindings.get(device);
  if (!buffer) {
    buffer = device.createBuffer({
      label: "funit:unused-binding",
      size: 16,
      usage: GPUBufferUsage.STORAGE,
    });
    unusedBindings.set(device, buffer);
  }
  return buffer;
}

/**
 * Checks a graph against the device's limits (an InputError names the limit; nothing is made
 * before every check has passed), then assigns buffers, creates (or finds cached) pipelines and
 * makes every bind group. `live` names the tensors written before the run or read after it.
 */
export async function compile(
  device: GPUDevice,
  graph: Graph,
  live: Live,
  label: string,
): Promise<Plan> {
  const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
  for (const op of graph.ops) {
    if (op.workgroups.some((n) => n > maxGroups)) {
      throw new InputError(
        `${label}: ${op.label} needs ${op.workgroups.join("×")} workgroups, more than this ` +
          `device allows per dimension (${maxGroups}); use a smaller batch or image`,
      );
    }
  }
  const { slotOf, slotSizes } = assignBuffers(graph, live);
  const maxBinding = device.limits.maxStorageBufferBindingSize;
  const sizes = slotSizes.map((elements) => Math.max(16, elements * 4));
  const largest = Math.max(0, ...sizes);
  if (largest > maxBinding) {
    throw new InputError(
      `${label}: an activation needs ${largest} bytes, more than this device's ` +
        `maxStorageBufferBindingSize (${maxBinding}); use a smaller batch or image`,
    );
  }
  // Every check is done: from here on, nothing is refused half-way with buffers already made.
  const kernels = await Promise.all(
    graph.ops.map((op) => getKernel(device, op.kernel, op.overrides)),
  );
  const buffers = sizes.map((size, i) =>
    device.createBuffer({
      label: `${label}:activations#${i}`,
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    }),
  );
  const bufferOf = new Map<number, GPUBuffer>();
  for (const [id, slot] of slotOf) bufferOf.set(id, buffers[slot]!);
  const dummy = unusedBinding(device);

  const uniformBytes = new Uint8Array(Math.max(UNIFORM_ALIGN, graph.ops.length * UNIFORM_ALIGN));
  const uniforms = device.createBuffer({
    label: `${label}:params`,
    size: uniformBytes.byteLength,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const textureSlots = new Set<string>();
  /** Per dispatch writing a texture slot: how to make its bind group for a view, and those made. */
  const rebinders: {
    dispatch: Dispatch;
    slot: string;
    make: (views: Record<string, GPUTextureView>) => GPUBindGroup;
    made: WeakMap<GPUTextureView, GPUBindGroup>;
  }[] = [];
  const dispatches = graph.ops.map((op, i): Dispatch => {
    const kernel = kernels[i]!;
    const info = kernelInfo(op.kernel);
    const params = encodeParams(info, op.params);
    uniformBytes.set(new Uint8Array(params), i * UNIFORM_ALIGN);
    const slots: string[] = [];
    const entries = (views: Record<string, GPUTextureView>): GPUBindGroupEntry[] =>
      info.bindings.map((b) => {
        if (b.kind === "uniform")
          return {
            binding: b.binding,
            resource: { buffer: uniforms, offset: i * UNIFORM_ALIGN, size: params.byteLength },
          };
        const res = op.bindings[b.name];
        if (b.kind === "storage-texture") {
          if (!res || !isTextureSlot(res))
            throw new Error(
              `${op.label}: storage texture '${b.name}' must be bound to a texture slot`,
            );
          return { binding: b.binding, resource: views[res.slot]! };
        }
        // a binding this specialisation never reads
        if (!res) return { binding: b.binding, resource: { buffer: dummy } };
        if (isTextureSlot(res))
          throw new Error(`${op.label}: binding '${b.name}' is a buffer, not a texture`);
        if (isTensorDesc(res))
          return {
            binding: b.binding,
            resource: { buffer: bufferOf.get(res.id)!, offset: 0, size: res.words * 4 },
          };
        return { binding: b.binding, resource: { buffer: res } };
      });
    for (const [name, res] of Object.entries(op.bindings)) {
      if (!info.bindings.some((b) => b.name === name))
        throw new Error(`${op.label}: kernel ${op.kernel} has no binding '${name}'`);
      if (isTextureSlot(res)) slots.push(res.slot);
    }
    if (slots.length > 1) throw new Error(`${op.label}: an op writes one texture slot at most`);
    const make = (views: Record<string, GPUTextureView>) =>
      device.createBindGroup({
        label: `${label}:${op.label}`,
        layout: kernel.layout,
        entries: entries(views),
      });
    const dispatch: Dispatch = {
      label: op.label,
      kernel: op.kernel,
      overrides: op.overrides,
      params: op.params,
      pipeline: kernel.pipeline,
      bindGroup: slots.length ? null : make({}),
      workgroups: op.workgroups,
    };
    if (slots.length) {
      textureSlots.add(slots[0]!);
      rebinders.push({ dispatch, slot: slots[0]!, make, made: new WeakMap() });
    }
    return dispatch;
  });
  device.queue.writeBuffer(uniforms, 0, uniformBytes);
  const activationBytes = buffers.reduce((a, b) => a + b.size, 0);
  return {
    label,
    dispatches,
    bufferOf,
    buffers,
    uniforms,
    activationBytes,
    textureSlots,
    bindTextures(views) {
      for (const slot of textureSlots)
        if (!views[slot]) throw new Error(`${label}: no view given for texture slot '${slot}'`);
      for (const r of rebinders) {
        const view = views[r.slot]!;
        let group = r.made.get(view);
        if (!group) {
          group = r.make(views);
          r.made.set(view, group);
        }
        r.dispatch.bindGroup = group;
      }
    },
    destroy() {
      for (const b of buffers) b.destroy();
      uniforms.destroy();
    },
  };
}
