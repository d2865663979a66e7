/**
 * Op builders for the layers around the convolutions: instance norm (plain, AdaIN, with ReLU and a
 * residual), the linear layers of the MLP and the class code, and the mean pool of the class
 * encoder. Each adds one dispatch to a graph and states its workgroup size as an override, so the
 * dispatch arithmetic and the shader agree by construction.
 */
import type { KernelChoice } from "../policy";
import type { Graph, TensorDesc } from "../runtime/graph";
import type { LayerWeights } from "../upload";

/** Outputs a linear workgroup computes (one a thread). */
const LINEAR_WG = 64;
/** Threads reducing one mean-pool plane. */
const POOL_WG = 256;

export interface NormOptions {
  relu?: boolean;
  residual?: TensorDesc;
  adain?: { params: TensorDesc; offset: number };
}

/**
 * Instance norm (or AdaIN) in place on x; returns x. f32 planes of a multiple of 4 values run the
 * vec4 kernel (a quarter of the loads; every conv output of a model whose content size is even).
 */
export function instanceNorm(
  g: Graph,
  x: TensorDesc,
  label: string,
  opts: NormOptions,
  kernels: Pick<KernelChoice, "normThreads">,
): TensorDesc {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const bindings: Record<string, TensorDesc> = { data: x };
  if (opts.adain) bindings.adain = opts.adain.params;
  if (opts.residual) bindings.residual = opts.residual;
  if (opts.residual && opts.residual.dtype !== x.dtype)
    throw new Error(`${label}: the residual's dtype differs from the input's`);
  if (opts.adain?.params.dtype) throw new Error(`${label}: AdaIN parameters must be f32`);
  g.op({
    label:
      `${label} ${opts.adain ? "adain" : "in"}` +
      `${opts.relu ? "+relu" : ""}${opts.residual ? "+residual" : ""}`,
    kernel:
      x.dtype === "f16"
        ? "instance_norm_f16"
        : (h * w) % 4 === 0
          ? "instance_norm_vec4"
          : "instance_norm",
    overrides: {
      AFFINE: !!opts.adain,
      RELU: !!opts.relu,
      RESIDUAL: !!opts.residual,
      WG: kernels.normThreads,
    },
    params: { channels: c, plane: h * w, adain_offset: opts.adain?.offset ?? 0, eps: 1e-5 },
    bindings,
    workgroups: [n * c, 1, 1],
  });
  return x;
}

export function linear(g: Graph, x: TensorDesc, layer: LayerWeights, relu: boolean): TensorDesc {
  if (layer.kind !== "linear")
    throw new Error(`${layer.name}: uploaded as a convolution, used as a linear layer`);
  const [n, fin] = x.shape as [number, number];
  if (x.dtype) throw new Error(`${layer.name}: linear layers take f32 input`);
  if (fin !== layer.cin)
    throw new Error(`${layer.name}: input has ${fin} features, layer expects ${layer.cin}`);
  const y = g.tensor(`${layer.name}:out`, [n, layer.cout]);
  g.op({
    label: `${layer.name} linear${relu ? "+relu" : ""}`,
    kernel: "linear",
    overrides: { RELU: relu, WG: LINEAR_WG },
    params: { batch: n, in_features: fin, out_features: layer.cout },
    bindings: { input: x, weight: layer.weight, bias: layer.bias, output: y },
    workgroups: [Math.ceil(layer.cout / LINEAR_WG), n, 1],
  });
  return y;
}

/**
 * Mean over each group of `perGroup` images and their H×W: [G·K, C, H, W] → [G, C] (f32, from f32
 * or f16).
 */
export function meanPool(g: Graph, x: TensorDesc, perGroup: number, label: string): TensorDesc {
  const [nk, c, h, w] = x.shape as [number, number, number, number];
  const groups = nk / perGroup;
  const y = g.tensor(`${label}:out`, [groups, c]);
  g.op({
    label: `${label} mean-pool`,
    kernel: x.dtype === "f16" ? "mean_pool_f16" : "mean_pool",
    overrides: { WG: POOL_WG },
    params: { groups, images_per_group: perGroup, channels: c, plane: h * w },
    bindings: { input: x, output: y },
    workgroups: [groups * c, 1, 1],
  });
  return y;
}
