/**
 * The FUNIT generator as a graph of kernel dispatches, built from its hyperparameters: the class
 * encoder (K images → one class code), the MLP (class code → AdaIN parameters), the content
 * encoder and the AdaIN decoder, exactly as the NVlabs layout defines them (README, "The
 * generator"). Weights are uploaded once per engine; convolution weights are transposed to
 * [cin·k·k][cout] so that a tile of output channels reads contiguously.
 */
import { adainParamCount, contentChannels, expectedTensors, type FunitHyper } from "./hyper";
import type { Graph, TensorDesc, TextureSlot } from "./runtime/graph";
import type { Overrides } from "./runtime/kernels";
import { InputError } from "./tensor";

export interface LayerWeights {
  name: string;
  kind: "conv" | "linear";
  weight: GPUBuffer;
  bias: GPUBuffer;
  cin: number;
  cout: number;
  k: number;
}

export interface GpuGenerator {
  hyper: FunitHyper;
  layers: Map<string, LayerWeights>;
  bytes: number;
  destroy(): void;
}

/**
 * Uploads one layer (weight [cout, cin, k, k] or [out, in], bias [cout]) to labelled storage
 * buffers. For the conv kernel the weight is stored transposed, [cin·k·k][cout]; for the linear
 * kernel it keeps PyTorch's [out][in] layout.
 */
export function uploadLayer(device: GPUDevice, name: string, kind: "conv" | "linear", shape: number[], weight: Float32Array, bias: Float32Array, label: string): LayerWeights {
  const [cout, cin, kh] = shape as [number, number, number?];
  const k = kh ?? 1;
  let stored = weight;
  if (kind === "conv") {
    const kk = cin * k * k;
    stored = new Float32Array(weight.length);
    for (let o = 0; o < cout; o++) for (let i = 0; i < kk; i++) stored[i * cout + o] = weight[o * kk + i]!;
  }
  const upload = (what: string, data: Float32Array) => {
    const buf = device.createBuffer({ label: `${label}:${name}.${what}`, size: Math.max(16, data.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  };
  return { name, kind, weight: upload("weight", stored), bias: upload("bias", bias), cin, cout, k };
}

/** Uploads every layer of the generator. */
export function uploadGenerator(device: GPUDevice, hyper: FunitHyper, tensors: Map<string, Float32Array>, label: string): GpuGenerator {
  const layers = new Map<string, LayerWeights>();
  for (const [name, shape] of expectedTensors(hyper)) {
    if (!name.endsWith(".weight")) continue;
    const layer = name.slice(0, -".weight".length);
    // The class code's 1×1 conv runs after pooling, on a 1×1 map: a linear layer.
    const kind = shape.length === 4 && shape[2]! > 1 ? "conv" : "linear";
    layers.set(layer, uploadLayer(device, layer, kind, shape, tensors.get(name)!, tensors.get(`${layer}.bias`)!, label));
  }
  const all = [...layers.values()];
  return {
    hyper,
    layers,
    bytes: all.reduce((a, l) => a + l.weight.size + l.bias.size, 0),
    destroy() { for (const l of all) { l.weight.destroy(); l.bias.destroy(); } },
  };
}

const ACT = { none: 0, relu: 1, tanh: 2 } as const;

/** Tile configuration of conv2d.wgsl for a layer's output-channel count (see the shader's header). */
export function convTiles(cout: number): { WG_PX: number; WG_CO: number; TCO: number } {
  if (cout <= 4) return { WG_PX: 32, WG_CO: 1, TCO: 4 };
  if (cout <= 32) return { WG_PX: 32, WG_CO: 8, TCO: 4 };
  return { WG_PX: 16, WG_CO: 16, TCO: 4 };
}

export interface ConvOptions {
  stride?: number;
  pad: number;
  upsample?: 1 | 2;
  act?: keyof typeof ACT;
}

/**
 * Register tile of conv2d_subgroup.wgsl: PX output pixels along x × COB output channels a lane
 * (measured with bench/conv.ts on lavapipe: 4 × 8 beats 2 × 16 and 1 × 16; 4 × 4 for layers of
 * ≤ 4 channels, where a wider channel block would be mostly padding).
 */
export function subgroupConvTiles(cout: number): { WG: number; COB: number; PX: number } {
  return { WG: 64, COB: cout <= 4 ? 4 : 8, PX: 4 };
}

export function conv(g: Graph, x: TensorDesc, layer: LayerWeights, opts: ConvOptions): TensorDesc {
  if (layer.kind !== "conv") throw new Error(`${layer.name}: uploaded as a linear layer, used as a convolution`);
  const [n, cin, h, w] = x.shape as [number, number, number, number];
  if (cin !== layer.cin) throw new Error(`${layer.name}: input has ${cin} channels, layer expects ${layer.cin}`);
  const stride = opts.stride ?? 1;
  const up = opts.upsample ?? 1;
  const uh = h * up, uw = w * up;
  if (opts.pad >= uh || opts.pad >= uw) {
    throw new InputError(`${layer.name}: its input is ${uh}x${uw}, too small for reflect padding of ${opts.pad}; use a larger image`);
  }
  const oh = Math.floor((uh + 2 * opts.pad - layer.k) / stride) + 1;
  const ow = Math.floor((uw + 2 * opts.pad - layer.k) / stride) + 1;
  if (oh < 1 || ow < 1) throw new InputError(`${layer.name}: a ${uh}x${uw} input is too small for a ${layer.k}x${layer.k} kernel`);
  const y = g.tensor(`${layer.name}:out`, [n, layer.cout, oh, ow]);
  const label = `${layer.name} conv${layer.k}x${layer.k}${stride > 1 ? ` s${stride}` : ""}${up > 1 ? " up2" : ""}`;
  const params = { batch: n, cin, in_h: h, in_w: w, cout: layer.cout, out_h: oh, out_w: ow, pad: opts.pad };
  const bindings = { input: x, weight: layer.weight, bias: layer.bias, output: y };
  const shape = { KSIZE: layer.k, STRIDE: stride, UPSAMPLE: up, ACT: ACT[opts.act ?? "none"] };
  if (g.options.conv === "direct") {
    const COB = layer.cout <= 4 ? 4 : layer.cout <= 8 ? 8 : 16;
    const WG = 64;
    g.op({
      label, kernel: "conv2d_direct", overrides: { ...shape, WG, COB }, params, bindings,
      workgroups: [Math.ceil((n * oh * ow) / WG), Math.ceil(layer.cout / COB), 1],
    });
    return y;
  }
  if (g.options.conv === "subgroup") {
    const t = subgroupConvTiles(layer.cout);
    g.op({
      label, kernel: "conv2d_subgroup", overrides: { ...shape, ...t }, params, bindings,
      workgroups: [Math.ceil((n * oh * Math.ceil(ow / t.PX)) / t.WG), Math.ceil(layer.cout / t.COB), 1],
    });
    return y;
  }
  const tiles = convTiles(layer.cout);
  g.op({
    label, kernel: "conv2d", overrides: { ...shape, ...tiles }, params, bindings,
    workgroups: [Math.ceil((n * oh * ow) / (tiles.WG_PX * 4)), Math.ceil(layer.cout / (tiles.WG_CO * tiles.TCO)), 1],
  });
  return y;
}

export interface NormOptions {
  relu?: boolean;
  residual?: TensorDesc;
  adain?: { params: TensorDesc; offset: number };
}

/** Instance norm (or AdaIN) in place on x; returns x. */
export function instanceNorm(g: Graph, x: TensorDesc, label: string, opts: NormOptions = {}): TensorDesc {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const bindings: Record<string, TensorDesc> = { data: x };
  if (opts.adain) bindings.adain = opts.adain.params;
  if (opts.residual) bindings.residual = opts.residual;
  g.op({
    label: `${label} ${opts.adain ? "adain" : "in"}${opts.relu ? "+relu" : ""}${opts.residual ? "+residual" : ""}`,
    kernel: "instance_norm",
    overrides: { AFFINE: !!opts.adain, RELU: !!opts.relu, RESIDUAL: !!opts.residual, WG: g.options.normThreads },
    params: { channels: c, plane: h * w, adain_offset: opts.adain?.offset ?? 0, eps: 1e-5 },
    bindings,
    workgroups: [n * c, 1, 1],
  });
  return x;
}

export function linear(g: Graph, x: TensorDesc, layer: LayerWeights, relu: boolean): TensorDesc {
  if (layer.kind !== "linear") throw new Error(`${layer.name}: uploaded as a convolution, used as a linear layer`);
  const [n, fin] = x.shape as [number, number];
  if (fin !== layer.cin) throw new Error(`${layer.name}: input has ${fin} features, layer expects ${layer.cin}`);
  const y = g.tensor(`${layer.name}:out`, [n, layer.cout]);
  g.op({
    label: `${layer.name} linear${relu ? "+relu" : ""}`,
    kernel: "linear",
    overrides: { RELU: relu },
    params: { batch: n, in_features: fin, out_features: layer.cout },
    bindings: { input: x, weight: layer.weight, bias: layer.bias, output: y },
    workgroups: [Math.ceil(layer.cout / 64), n, 1],
  });
  return y;
}

/** Mean over each group of `perGroup` images and their H×W: [G·K, C, H, W] → [G, C]. */
export function meanPool(g: Graph, x: TensorDesc, perGroup: number, label: string): TensorDesc {
  const [nk, c, h, w] = x.shape as [number, number, number, number];
  const groups = nk / perGroup;
  const y = g.tensor(`${label}:out`, [groups, c]);
  g.op({
    label: `${label} mean-pool`,
    kernel: "mean_pool",
    overrides: {},
    params: { groups, images_per_group: perGroup, channels: c, plane: h * w },
    bindings: { input: x, output: y },
    workgroups: [groups * c, 1, 1],
  });
  return y;
}

function pixelGrid(pixels: number): { workgroups: [number, number, number]; rowThreads: number } {
  const groups = Math.ceil(pixels / 256);
  const x = Math.min(groups, 65535);
  return { workgroups: [x, Math.ceil(groups / x), 1], rowThreads: x * 256 };
}

/** RGBA8 pixels (one u32 each) → [N,3,H,W] in [-1, 1]. */
export function packImages(g: Graph, rgba: TensorDesc, label: string): TensorDesc {
  const [n, h, w] = rgba.shape as [number, number, number];
  const y = g.tensor(`${label}:tensor`, [n, 3, h, w]);
  const grid = pixelGrid(n * h * w);
  g.op({
    label: `${label} pack`, kernel: "image_pack", overrides: {},
    params: { pixels: n * h * w, plane: h * w, row_threads: grid.rowThreads },
    bindings: { rgba, tensor: y }, workgroups: grid.workgroups,
  });
  return y;
}

/** [N,3,H,W] in [-1, 1] → RGBA8 pixels (one u32 each). */
export function unpackImages(g: Graph, x: TensorDesc, label: string): TensorDesc {
  const [n, , h, w] = x.shape as [number, number, number, number];
  const y = g.tensor(`${label}:rgba`, [n, h, w]);
  const grid = pixelGrid(n * h * w);
  g.op({
    label: `${label} unpack`, kernel: "image_unpack", overrides: {},
    params: { pixels: n * h * w, plane: h * w, row_threads: grid.rowThreads },
    bindings: { tensor: x, rgba: y }, workgroups: grid.workgroups,
  });
  return y;
}

/**
 * [N,3,H,W] in [-1, 1] → layers 0…N−1 of an rgba8unorm 2D-array storage texture bound to `slot`
 * when the plan runs (the same bytes as unpackImages, alpha 255).
 */
export function imagesToTexture(g: Graph, x: TensorDesc, slot: TextureSlot, label: string): void {
  const [n, , h, w] = x.shape as [number, number, number, number];
  const WG = 8;
  g.op({
    label: `${label} to-texture`, kernel: "image_to_texture", overrides: { WG },
    params: { width: w, height: h, images: n },
    bindings: { tensor: x, output: slot }, workgroups: [Math.ceil(w / WG), Math.ceil(h / WG), n],
  });
}

function layer(gen: GpuGenerator, name: string): LayerWeights {
  const l = gen.layers.get(name);
  if (!l) throw new Error(`missing layer ${name}`);
  return l;
}

/** K class images [K,3,H,W] → class code [1, latent_dim] (the mean over K). */
export function classEncoder(g: Graph, gen: GpuGenerator, images: TensorDesc): TensorDesc {
  const h = gen.hyper;
  const k = images.shape[0]!;
  let x = conv(g, images, layer(gen, "enc_class_model.model.0.conv"), { pad: 3, act: "relu" });
  for (let i = 1; i <= h.n_downs_class; i++) {
    x = conv(g, x, layer(gen, `enc_class_model.model.${i}.conv`), { stride: 2, pad: 1, act: "relu" });
  }
  const pooled = meanPool(g, x, k, "enc_class_model pool");
  return linear(g, pooled, layer(gen, `enc_class_model.model.${h.n_downs_class + 2}`), false);
}

/** Class code [1, latent] → AdaIN parameters [1, P]. */
export function mlp(g: Graph, gen: GpuGenerator, code: TensorDesc): TensorDesc {
  let x = code;
  for (let i = 0; i < gen.hyper.n_mlp_blks; i++) {
    x = linear(g, x, layer(gen, `mlp.model.${i}.fc`), i < gen.hyper.n_mlp_blks - 1);
  }
  return x;
}

/** Content images [N,3,H,W] → content code [N, nf·2^downs, H/2^downs, W/2^downs]. */
export function contentEncoder(g: Graph, gen: GpuGenerator, images: TensorDesc): TensorDesc {
  const h = gen.hyper;
  let x = conv(g, images, layer(gen, "enc_content.model.0.conv"), { pad: 3 });
  instanceNorm(g, x, "enc_content.model.0", { relu: true });
  for (let i = 1; i <= h.n_downs_content; i++) {
    x = conv(g, x, layer(gen, `enc_content.model.${i}.conv`), { stride: 2, pad: 1 });
    instanceNorm(g, x, `enc_content.model.${i}`, { relu: true });
  }
  const res = h.n_downs_content + 1;
  for (let r = 0; r < h.n_res_blks; r++) {
    const prefix = `enc_content.model.${res}.model.${r}`;
    const y = conv(g, x, layer(gen, `${prefix}.model.0.conv`), { pad: 1 });
    instanceNorm(g, y, `${prefix}.model.0`, { relu: true });
    const z = conv(g, y, layer(gen, `${prefix}.model.1.conv`), { pad: 1 });
    x = instanceNorm(g, z, `${prefix}.model.1`, { residual: x });
  }
  return x;
}

/** Content code + AdaIN parameters → images [N,3,H,W] in [-1, 1]. */
export function decoder(g: Graph, gen: GpuGenerator, code: TensorDesc, adain: TensorDesc): TensorDesc {
  const h = gen.hyper;
  const c = contentChannels(h);
  if (adain.shape[1] !== adainParamCount(h)) throw new Error("AdaIN parameter count does not match the decoder");
  let x = code;
  let offset = 0;
  for (let r = 0; r < h.n_res_blks; r++) {
    const prefix = `dec.model.0.model.${r}`;
    const y = conv(g, x, layer(gen, `${prefix}.model.0.conv`), { pad: 1 });
    instanceNorm(g, y, `${prefix}.model.0`, { relu: true, adain: { params: adain, offset } });
    offset += 2 * c;
    const z = conv(g, y, layer(gen, `${prefix}.model.1.conv`), { pad: 1 });
    x = instanceNorm(g, z, `${prefix}.model.1`, { residual: x, adain: { params: adain, offset } });
    offset += 2 * c;
  }
  for (let u = 0; u < h.n_downs_content; u++) {
    const name = `dec.model.${2 + 2 * u}`;
    x = conv(g, x, layer(gen, `${name}.conv`), { pad: 2, upsample: 2 });
    instanceNorm(g, x, name, { relu: true });
  }
  return conv(g, x, layer(gen, `dec.model.${1 + 2 * h.n_downs_content}.conv`), { pad: 3, act: "tanh" });
}
