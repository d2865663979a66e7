/**
 * The engine's plans, one per call shape (PlanSpec: batch sizes, input and output formats, what is
 * read back), built at the first call of that shape and kept for the next ones. Only the most
 * recently used few are kept, so a page that translates batches of every size does not hold one
 * plan's activations per size forever. A PlanBundle is a compiled plan plus where a call's inputs
 * go and what it reads back.
 */
import type { GeneratorGraph, PlanSpec, Readback } from "./model";
import { compile, type Plan, type TensorDesc } from "./runtime/graph";
import { readbackBytes, type TensorInput } from "./runtime/run";

/** Plans kept per engine; the least recently used goes first. */
export const MAX_PLANS = 8;

export interface PlanBundle {
  plan: Plan;
  inputs: GeneratorGraph["inputs"];
  /** The plan reads a class code written by the caller (no class images to encode). */
  takesCode: boolean;
  /** The tensors read back, in the order of the spec's readback list. */
  readbacks: { name: Readback; tensor: TensorDesc }[];
  /** The MAP_READ buffer read-backs land in; none for a plan that reads nothing back. */
  staging?: GPUBuffer;
}

/** A call's input bytes (each absent where the call has none). */
export interface InputData {
  content?: ArrayBufferView;
  classImages?: ArrayBufferView;
  classCode?: Float32Array;
}

/** Where each of a call's inputs goes in the plan (the class code only where the plan reads it). */
export function planInputs({ inputs, takesCode }: PlanBundle, data: InputData): TensorInput[] {
  const list: TensorInput[] = [];
  if (inputs.content) list.push([inputs.content, data.content]);
  if (inputs.classImages) list.push([inputs.classImages, data.classImages]);
  if (takesCode) list.push([inputs.classCode, data.classCode]);
  return list;
}

/** A short name for a plan: what it computes and at which sizes. */
function planLabel(engine: string, spec: PlanSpec): string {
  const what = spec.content
    ? `translate ${spec.content.n}x${spec.content.h}x${spec.content.w}`
    : "encode";
  return `${engine}:${what}${spec.classImages ? ` k=${spec.classImages.n}` : " code"}`;
}

export class PlanCache {
  private readonly plans = new Map<string, Promise<PlanBundle>>();

  constructor(
    private readonly device: GPUDevice,
    private readonly label: string,
    private readonly build: (spec: PlanSpec) => GeneratorGraph,
  ) {}

  /** The plan for a spec, compiled at its first use. Calls must not overlap (engine queue). */
  get(spec: PlanSpec): Promise<PlanBundle> {
    const key = JSON.stringify(spec);
    let p = this.plans.get(key);
    if (p) {
      this.plans.delete(key); // most recently used last
      this.plans.set(key, p);
      return p;
    }
    // Calls are serialised, so an evicted plan is not in use.
    while (this.plans.size >= MAX_PLANS) {
      const [oldKey, old] = this.plans.entries().next().value as [string, Promise<PlanBundle>];
      this.plans.delete(oldKey);
      destroyBundle(old);
    }
    p = this.compile(spec);
    p.catch(() => this.plans.delete(key));
    this.plans.set(key, p);
    return p;
  }

  private async compile(spec: PlanSpec): Promise<PlanBundle> {
    return compileBundle(this.device, this.label, this.build(spec), spec);
  }

  /** Bytes of activation memory held by the plans built so far. */
  async activationBytes(): Promise<number> {
    let total = 0;
    for (const p of this.plans.values()) total += (await p).plan.activationBytes;
    return total;
  }

  destroy(): void {
    for (const p of this.plans.values()) destroyBundle(p);
    this.plans.clear();
  }
}

/**
 * Compiles the plan of a spec from its graph, with the staging buffer of its read-backs: the
 * cache's plans, and the plans jobs hold on their own (src/job.ts).
 */
export async function compileBundle(
  device: GPUDevice,
  engineLabel: string,
  { graph, tensors, inputs }: GeneratorGraph,
  spec: PlanSpec,
): Promise<PlanBundle> {
  const readbacks = spec.readback.map((name) => {
    const tensor = tensors[name];
    if (!tensor) throw new Error(`plan has no tensor ${name}`);
    return { name, tensor };
  });
  const written = [
    inputs.content,
    inputs.classImages,
    spec.classImages ? undefined : inputs.classCode,
  ];
  const label = planLabel(engineLabel, spec);
  const plan = await compile(
    device,
    graph,
    {
      inputs: new Set(written.filter((t): t is TensorDesc => !!t).map((t) => t.id)),
      outputs: new Set(readbacks.map((r) => r.tensor.id)),
    },
    label,
  );
  const staging = readbacks.length
    ? device.createBuffer({
        label: `${label}:readback`,
        size: readbackBytes(readbacks.map((r) => r.tensor)),
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      })
    : undefined;
  return { plan, inputs, takesCode: !spec.classImages, readbacks, staging };
}

/** Frees a plan's buffers once it is built (a plan that failed to build holds none). */
export function destroyBundle(p: Promise<PlanBundle>): void {
  p.then(
    (b) => {
      b.plan.destroy();
      b.staging?.destroy();
    },
    () => {},
  );
}
