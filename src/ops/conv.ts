/**
 * The convolution op builder: one FUNIT convolution (reflect padding, optional nearest ×2
 * upsampling before it, stride, bias and activation) as one dispatch, of the kernel the
 * KernelChoice names, with the tile src/ops/conv-tiles.ts picks for the layer's shape. On the CPU
 * kernels, the decoder's upsampling 5×5 convolutions run by phase filters when the layer was
 * uploaded with them (src/upload.ts, KernelChoice.phaseWeights). f16 activations need f16 weights
 * and run the f16 tiled convolution, the only f16 one. On the subgroup path, layers uploaded with
 * Winograd weights (3×3 stride 1; the upsampling 5×5 ones' interior; 4×4 stride 2 on even inputs) run
 * by src/ops/winograd.ts.
 */
import { InputError } from "../errors";
import type { KernelChoice } from "../policy";
import type { Graph, TensorDesc } from "../runtime/graph";
import type { LayerWeights } from "../upload";
import { isUp2PhaseConv, winogradConv, winogradMode, type WinogradMode } from "./winograd";
import {
  chooseConvTile,
  directConvTiles,
  subgroupConvTiles,
  subgroupFrameTiles,
  up2PhaseWorkgroups,
} from "./conv-tiles";

const ACT = { none: 0, relu: 1, tanh: 2 } as const;

export interface ConvOptions {
  stride?: number;
  pad: number;
  upsample?: 1 | 2;
  act?: keyof typeof ACT;
}

/** The part of a KernelChoice a convolution reads. */
export type ConvChoice = Pick<KernelChoice, "conv" | "tiles" | "f16Products">;

export function conv(
  g: Graph,
  x: TensorDesc,
  layer: LayerWeights,
  opts: ConvOptions,
  kernels: ConvChoice,
): TensorDesc {
  if (layer.kind !== "conv")
    throw new Error(`${layer.name}: uploaded as a linear layer, used as a convolution`);
  const [n, cin, h, w] = x.shape as [number, number, number, number];
  if (cin !== layer.cin)
    throw new Error(`${layer.name}: input has ${cin} channels, layer expects ${layer.cin}`);
  const stride = opts.stride ?? 1;
  const up = opts.upsample ?? 1;
  const uh = h * up,
    uw = w * up;
  if (opts.pad >= uh || opts.pad >= uw) {
    throw new InputError(
      `${layer.name}: its input is ${uh}x${uw}, too small for reflect padding of ${opts.pad}; ` +
        "use a larger image",
    );
  }
  const oh = Math.floor((uh + 2 * opts.pad - layer.k) / stride) + 1;
  const ow = Math.floor((uw + 2 * opts.pad - layer.k) / stride) + 1;
  if (oh < 1 || ow < 1)
    throw new InputError(
      `${layer.name}: a ${uh}x${uw} input is too small for a ${layer.k}x${layer.k} kernel`,
    );
  const f16 = x.dtype === "f16";
  if (f16 !== (layer.dtype === "f16"))
    throw new Error(
      `${layer.name}: ${f16 ? "f16" : "f32"} input but ${layer.dtype ?? "f32"} weights`,
    );
  const y = g.tensor(`${layer.name}:out`, [n, layer.cout, oh, ow], f16 ? "f16" : "f32");
  const op: ConvOp = {
    label:
      `${layer.name} conv${layer.k}x${layer.k}` +
      `${stride > 1 ? ` s${stride}` : ""}${up > 1 ? " up2" : ""}`,
    params: {
      batch: n,
      cin,
      in_h: h,
      in_w: w,
      cout: layer.cout,
      out_h: oh,
      out_w: ow,
      pad: opts.pad,
    },
    bindings: { input: x, weight: layer.weight, bias: layer.bias, output: y },
    shape: { KSIZE: layer.k, STRIDE: stride, UPSAMPLE: up, ACT: ACT[opts.act ?? "none"] },
  };
  const wino =
    kernels.conv === "subgroup"
      ? winogradMode(layer, { stride, pad: opts.pad, upsample: up, h, w })
      : undefined;
  if (wino === "3x3" || wino === "stride2") winogradConv(g, x, y, layer, op.shape.ACT, wino);
  else if (kernels.conv !== "tiled" && !f16) cpuConv(g, op, layer, kernels.conv, wino);
  else tiledConv(g, op, layer, kernels, f16);
  return y;
}

/** What every convolution dispatch of one layer shares, whichever kernel runs it. */
interface ConvOp {
  label: string;
  params: Record<"batch" | "cin" | "in_h" | "in_w" | "cout" | "out_h" | "out_w" | "pad", number>;
  bindings: { input: TensorDesc; weight: GPUBuffer; bias: GPUBuffer; output: TensorDesc };
  shape: Record<"KSIZE" | "STRIDE" | "UPSAMPLE" | "ACT", number>;
}

/**
 * conv2d_direct or conv2d_subgroup: PX pixels × COB channels a lane, WG lanes a workgroup. With
 * `wino` "up2" (winogradMode) the layer runs by Winograd but for its outer ring, computed here.
 */
function cpuConv(
  g: Graph,
  op: ConvOp,
  layer: LayerWeights,
  conv: "direct" | "subgroup",
  wino: WinogradMode | undefined,
): void {
  const kernel = conv === "direct" ? "conv2d_direct" : "conv2d_subgroup";
  const { batch: n, in_h: h, in_w: w, out_h: oh, out_w: ow, pad } = op.params;
  const { KSIZE: k, STRIDE: stride, UPSAMPLE: up } = op.shape;
  const t =
    conv === "direct"
      ? directConvTiles(n * oh, ow)
      : subgroupConvTiles(layer.cout, n * oh, ow, { k, stride, pad, upsample: up, inW: w });
  // the stride-2 4×4 path reads the input as vec4s too (binding input4, the same buffer; a
  // tensor under one vec4 never takes that path and leaves it to the graph's placeholder)
  const bindings: Record<string, TensorDesc | GPUBuffer> = { ...op.bindings };
  if (op.bindings.input.words >= 4) bindings.input4 = op.bindings.input;
  if (wino === "up2") {
    // the decoder's upsampling convolution: all but the outer ring of pixels by Winograd phase
    // filters (src/ops/winograd.ts), that ring here (FRAME_ONLY; see the shader's header)
    winogradConv(g, op.bindings.input, op.bindings.output, layer, op.shape.ACT, "up2");
    const ft = subgroupFrameTiles(layer.cout, n * oh, ow);
    g.op({
      label: `${op.label} ring`,
      kernel,
      overrides: { ...op.shape, ...ft, PHASES: true, FRAME_ONLY: true },
      params: op.params,
      bindings: { ...bindings, weight: layer.up2Weight! },
      workgroups: [up2PhaseWorkgroups(n, h, w, ft, true).frame, Math.ceil(layer.cout / ft.COB), 1],
    });
    return;
  }
  if (layer.up2Weight && isUp2PhaseConv(k, { stride, pad, upsample: up, h, w })) {
    // the decoder's upsampling convolution: interior pixels by phase filters (workgroup z 0…3),
    // the reflect frame with the 5×5 weights (z 4); see the shader's header
    const groups = up2PhaseWorkgroups(n, h, w, t);
    g.op({
      label: `${op.label} phases`,
      kernel,
      overrides: { ...op.shape, ...t, PHASES: true },
      params: op.params,
      bindings: { ...bindings, weight: layer.up2Weight },
      workgroups: [Math.max(groups.interior, groups.frame), Math.ceil(layer.cout / t.COB), 5],
    });
    return;
  }
  g.op({
    label: op.label,
    kernel,
    overrides: { ...op.shape, ...t },
    params: op.params,
    bindings,
    workgroups: [
      Math.ceil((n * oh * Math.ceil(ow / t.PX)) / t.WG),
      Math.ceil(layer.cout / t.COB),
      1,
    ],
  });
}

/** The tiled convolution (f32 or f16): WG_PX × WG_CO threads of 4 pixels × 4 channels each. */
function tiledConv(
  g: Graph,
  op: ConvOp,
  layer: LayerWeights,
  kernels: ConvChoice,
  f16: boolean,
): void {
  const { batch: n, out_h: oh, out_w: ow } = op.params;
  const t = chooseConvTile(
    layer.cout,
    n * oh * ow,
    kernels.tiles.limits,
    f16 ? 2 : 4,
    kernels.tiles.force,
  );
  g.op({
    label: op.label,
    kernel: f16 ? "conv2d_tiled_f16" : "conv2d_tiled",
    params: op.params,
    bindings: op.bindings,
    overrides: {
      ...op.shape,
      WG_PX: t.WG_PX,
      WG_CO: t.WG_CO,
      TILE_K: t.TILE_K,
      ...(f16 ? { F32_MATH: kernels.f16Products === "f32" } : {}),
    },
    workgroups: [
      Math.ceil((n * oh * ow) / (t.WG_PX * 4)),
      Math.ceil(layer.cout / (t.WG_CO * 4)),
      1,
    ],
  });
}
