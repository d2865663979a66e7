/**
 * Op builders at a graph's edges: RGBA8 pixels to [N,3,H,W] tensors in [-1, 1] and back, the
 * output written into a storage texture instead, and the f32 ↔ f16 casts where the f16 path
 * begins and ends. One thread a value; the workgroup size is passed as the shaders' WG override.
 */
import type { Graph, TensorDesc, TextureSlot } from "../runtime/graph";

/** Threads a workgroup of the one-thread-per-value kernels (pack, unpack, the f16 casts). */
const PIXEL_WG = 256;

/**
 * A 2D grid of PIXEL_WG-thread workgroups covering `pixels` threads, within the 65,535 workgroups
 * a dimension every device allows; `rowThreads` tells the shader how many threads a grid row has.
 */
function pixelGrid(pixels: number): {
  workgroups: [number, number, number];
  rowThreads: number;
  overrides: { WG: number };
} {
  const groups = Math.ceil(pixels / PIXEL_WG);
  const x = Math.min(groups, 65535);
  return {
    workgroups: [x, Math.ceil(groups / x), 1],
    rowThreads: x * PIXEL_WG,
    overrides: { WG: PIXEL_WG },
  };
}

/** Converts an f32 tensor to f16 (the f16 path's input edge) or back (its output edge). */
export function castTensor(g: Graph, x: TensorDesc, to: "f16" | "f32", label: string): TensorDesc {
  if ((x.dtype ?? "f32") === to) throw new Error(`${label}: tensor is already ${to}`);
  const y = g.tensor(`${label}:${to}`, x.shape, to);
  const count = x.shape.reduce((a, b) => a * b, 1);
  const grid = pixelGrid(count);
  g.op({
    label: `${label} to-${to}`,
    kernel: to === "f16" ? "to_f16" : "from_f16",
    overrides: grid.overrides,
    params: { count, row_threads: grid.rowThreads },
    bindings: { src: x, dst: y },
    workgroups: grid.workgroups,
  });
  return y;
}

/** RGBA8 pixels (one u32 each) → [N,3,H,W] in [-1, 1]. */
export function packImages(g: Graph, rgba: TensorDesc, label: string): TensorDesc {
  const [n, h, w] = rgba.shape as [number, number, number];
  const tensor = g.tensor(`${label}:tensor`, [n, 3, h, w]);
  pixelOp(g, "image_pack", `${label} pack`, [n, h, w], { rgba, tensor });
  return tensor;
}

/** [N,3,H,W] in [-1, 1] → RGBA8 pixels (one u32 each). */
export function unpackImages(g: Graph, tensor: TensorDesc, label: string): TensorDesc {
  const [n, , h, w] = tensor.shape as [number, number, number, number];
  if (tensor.dtype) throw new Error(`${label}: unpack takes an f32 tensor`);
  const rgba = g.tensor(`${label}:rgba`, [n, h, w]);
  pixelOp(g, "image_unpack", `${label} unpack`, [n, h, w], { tensor, rgba });
  return rgba;
}

/** One thread a pixel of N images of h × w: pack or unpack. */
function pixelOp(
  g: Graph,
  kernel: "image_pack" | "image_unpack",
  label: string,
  [n, h, w]: [number, number, number],
  bindings: { rgba: TensorDesc; tensor: TensorDesc },
): void {
  const grid = pixelGrid(n * h * w);
  g.op({
    label,
    kernel,
    overrides: grid.overrides,
    params: { pixels: n * h * w, plane: h * w, row_threads: grid.rowThreads },
    bindings,
    workgroups: grid.workgroups,
  });
}

/**
 * [N,3,H,W] in [-1, 1] → layers 0…N−1 of an rgba8unorm 2D-array storage texture bound to `slot`
 * when the plan runs (the same bytes as unpackImages, alpha 255).
 */
export function imagesToTexture(g: Graph, x: TensorDesc, slot: TextureSlot, label: string): void {
  const [n, , h, w] = x.shape as [number, number, number, number];
  const WG = 8;
  g.op({
    label: `${label} to-texture`,
    kernel: "image_to_texture",
    overrides: { WG },
    params: { width: w, height: h, images: n },
    bindings: { tensor: x, output: slot },
    workgroups: [Math.ceil(w / WG), Math.ceil(h / WG), n],
  });
}
