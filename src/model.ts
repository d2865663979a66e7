/**
 * The FUNIT generator as a graph of kernel dispatches, built from its hyperparameters: the class
 * encoder (K images → one class code), the MLP (class code → AdaIN parameters), the content
 * encoder and the AdaIN decoder, exactly as the NVlabs layout defines them (README, "The
 * generator"). Weights are uploaded once per engine; convolution weights are transposed to
 * [cin·k·k][cout] so that a tile of output channels reads contiguously. On the f16 path
 * (precision "f16") convolution weights and activations are f16 and the ops pick the f16 twins of
 * the kernels from their input's dtype; the class code, the MLP and the AdaIN parameters stay f32.
 */
import { isCpuAdapter, REQUIRED_LIMITS } from "./device";
import { adainParamCount, contentChannels, expectedTensors, type FunitHyper } from "./hyper";
import type { ConvTileLimits, Graph, TensorDesc, TextureSlot } from "./runtime/graph";
import type { Overrides } from "./runtime/kernels";
import { float16Bytes } from "./safetensors";
import { DeviceError, InputError } from "./errors";

export interface LayerWeights {
  name: string;
  kind: "conv" | "linear";
  weight: GPUBuffer;
  bias: GPUBuffer;
  cin: number;
  cout: number;
  k: number;
  /** "f16": the weight buffer holds f16 values (convolutions on the f16 path); the bias is always f32. */
  dtype?: "f16";
  /**
   * f32 5×5 convolutions on CPU adapters, for ×2-upsampled inputs: the four 3×3 phase filters
   * (up2PhaseWeights) followed by the transposed 5×5 weights, as the CPU convolutions read them
   * with PHASES.
   */
  up2Weight?: GPUBuffer;
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
 * kernel it keeps PyTorch's [out][in] layout. Buffers are padded to whole 16-byte vec4s. With
 * dtype "f16" (convolutions only) the weight is stored as f16, rounded to nearest even: exact for
 * weights that came from an f16 file.
 */
export function uploadLayer(
  device: GPUDevice,
  name: string,
  kind: "conv" | "linear",
  shape: number[],
  weight: Float32Array,
  bias: Float32Array,
  label: string,
  dtype: "f32" | "f16" = "f32",
): LayerWeights {
  if (dtype === "f16" && kind !== "conv")
    throw new Error(`${name}: only convolution weights are stored as f16`);
  const [cout, cin, kh] = shape as [number, number, number?];
  const k = kh ?? 1;
  let stored = weight;
  if (kind === "conv") {
    const kk = cin * k * k;
    stored = new Float32Array(weight.length);
    for (let o = 0; o < cout; o++)
      for (let i = 0; i < kk; i++) stored[i * cout + o] = weight[o * kk + i]!;
  }
  const upload = (what: string, data: Float32Array | Uint8Array) => {
    // writeBuffer needs a multiple of 4 bytes: an odd count of f16 values gets a zero pad
    let bytes: ArrayBufferView = data;
    if (data.byteLength % 4) {
      const padded = new Uint8Array(data.byteLength + 2);
      padded.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      bytes = padded;
    }
    // sized to whole 16-byte vec4s: the tiled convolutions read conv weights as array<vec4<…>>
    const size = Math.max(16, Math.ceil(bytes.byteLength / 16) * 16);
    // Checked on the bytes actually stored (f16, phase filters included), before anything is made.
    if (size > device.limits.maxStorageBufferBindingSize) {
      throw new DeviceError(
        `${name}.${what}: ${size} bytes of weights exceed this device's maxStorageBufferBindingSize (${device.limits.maxStorageBufferBindingSize})`,
      );
    }
    const buf = device.createBuffer({
      label: `${label}:${name}.${what}`,
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(buf, 0, bytes.buffer, bytes.byteOffset, bytes.byteLength);
    made.push(buf);
    return buf;
  };
  const made: GPUBuffer[] = [];
  try {
    const w =
      dtype === "f16" ? upload("weight(f16)", float16Bytes(stored)) : upload("weight", stored);
    // Only the CPU-adapter kernels read the phase filters; GPUs are spared the extra memory (a
    // kernel forced onto another adapter runs these layers the plain way).
    let up2 = {};
    const cpu = isCpuAdapter((device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo);
    if (kind === "conv" && k === 5 && dtype === "f32" && cpu) {
      const phases = up2PhaseWeights(weight, cout, cin);
      const both = new Float32Array(phases.length + stored.length);
      both.set(phases);
      both.set(stored, phases.length);
      up2 = { up2Weight: upload("up2-phases", both) };
    }
    return {
      name,
      kind,
      weight: w,
      bias: upload("bias", bias),
      cin,
      cout,
      k,
      ...(dtype === "f16" ? { dtype } : {}),
      ...up2,
    };
  } catch (e) {
    for (const b of made) b.destroy(); // nothing half-uploaded stays on the device
    throw e;
  }
}

/**
 * A 5×5 convolution of a ×2 nearest-upsampled input, away from the reflect padding, is a 3×3
 * convolution of the stored input per output phase: pixel (2m + b, 2n + a) reads stored rows
 * m − 1 … m + 1 and tap ky lands on row m − 1 + ⌊(b + ky) / 2⌋ (columns likewise), so taps on the
 * same stored value add their weights. Returns the four filters (phase 2b + a) as
 * [phase][cin·3·3][cout], the layout conv2d_subgroup.wgsl reads (PHASES), from [cout, cin, 5, 5].
 */
export function up2PhaseWeights(weight: Float32Array, cout: number, cin: number): Float32Array {
  const out = new Float32Array(4 * cin * 9 * cout);
  for (let b = 0; b < 2; b++)
    for (let a = 0; a < 2; a++) {
      const phase = 2 * b + a;
      for (let o = 0; o < cout; o++)
        for (let i = 0; i < cin; i++)
          for (let ky = 0; ky < 5; ky++)
            for (let kx = 0; kx < 5; kx++) {
              const ty = (b + ky) >> 1,
                tx = (a + kx) >> 1;
              out[((phase * cin + i) * 9 + ty * 3 + tx) * cout + o]! +=
                weight[((o * cin + i) * 5 + ky) * 5 + kx]!;
            }
    }
  return out;
}

/** Uploads every layer of the generator; with precision "f16" the convolution weights are f16. */
export function uploadGenerator(
  device: GPUDevice,
  hyper: FunitHyper,
  tensors: Map<string, Float32Array>,
  label: string,
  precision: "f32" | "f16" = "f32",
): GpuGenerator {
  const layers = new Map<string, LayerWeights>();
  const destroy = () => {
    for (const l of layers.values()) {
      l.weight.destroy();
      l.bias.destroy();
      l.up2Weight?.destroy();
    }
  };
  try {
    for (const [name, shape] of expectedTensors(hyper)) {
      if (!name.endsWith(".weight")) continue;
      const layer = name.slice(0, -".weight".length);
      // The class code's 1×1 conv runs after pooling, on a 1×1 map: a linear layer.
      const kind = shape.length === 4 && shape[2]! > 1 ? "conv" : "linear";
      layers.set(
        layer,
        uploadLayer(
          device,
          layer,
          kind,
          shape,
          tensors.get(name)!,
          tensors.get(`${layer}.bias`)!,
          label,
          kind === "conv" ? precision : "f32",
        ),
      );
    }
  } catch (e) {
    destroy(); // a layer too big for the device leaves none of the others behind
    throw e;
  }
  const all = [...layers.values()];
  return {
    hyper,
    layers,
    bytes: all.reduce((a, l) => a + l.weight.size + l.bias.size + (l.up2Weight?.size ?? 0), 0),
    destroy,
  };
}

const ACT = { none: 0, relu: 1, tanh: 2 } as const;

/**
 * Tile shapes of the tiled convolutions (conv2d.wgsl, conv2d_f16.wgsl), named pixels × output
 * channels: WG_PX × WG_CO threads of 4 × 4 outputs each.
 */
export const CONV_TILES = {
  "256x4": { WG_PX: 64, WG_CO: 1 }, // RGB output layers (cout ≤ 4): 64 threads
  "128x32": { WG_PX: 32, WG_CO: 8 }, // narrow layers (cout ≤ 32): 256 threads
  "64x64": { WG_PX: 16, WG_CO: 16 }, // wide layers: 256 threads
  "32x64": { WG_PX: 8, WG_CO: 16 }, // wide layers with few pixels: 128 threads, twice the workgroups
  "32x32": { WG_PX: 8, WG_CO: 8 }, // wide layers with fewer still: 64 threads, four times
  "128x64": { WG_PX: 32, WG_CO: 16 }, // 512 threads: only when forced (to be measured on GPUs)
  "128x128": { WG_PX: 32, WG_CO: 32 }, // 1024 threads: likewise
} as const;

export type ConvTileName = keyof typeof CONV_TILES;

export interface ConvTile {
  name: ConvTileName;
  WG_PX: number;
  WG_CO: number;
  /** Reduction rows staged in workgroup memory per step. */
  TILE_K: number;
}

/**
 * A layer whose 64×64 tiles would make fewer workgroups than this takes smaller tiles: a GPU needs
 * a workgroup or more per compute unit (an H100 has 132), and batch-1 deep layers would leave most
 * of it idle (NVlabs animals at 128×128: the residual blocks are 16×16 pixels × 512 channels, 32
 * workgroups of 64×64, 64 of 32×64, 128 of 32×32).
 */
const MIN_WORKGROUPS = 128;

/**
 * Chooses the tile of a tiled convolution for one layer on one adapter, or checks a forced one.
 *
 * - Shape from the layer: output channels ≤ 4 take 256×4 (no thread computes padding channels),
 *   ≤ 32 take 128×32, wider layers 64×64 (256 threads of 4×4 outputs: the shape of a 2048³ f32
 *   matmul that ran at 29 TFLOP/s on the project's NVIDIA GPU machine under Dawn Vulkan), or the
 *   first of 32×64 and 32×32 that makes MIN_WORKGROUPS workgroups when 64×64 does not (else
 *   32×32). Automatic choices stay at ≤ 256 threads, which every engine device allows
 *   (REQUIRED_LIMITS; SwiftShader's maximum); the 512- and 1024-thread tiles are offered for
 *   benchmarks only until a GPU run shows them faster. None of this is measured on a GPU yet.
 * - TILE_K from the adapter: the largest of 32, 16, 8 whose two workgroup-memory tiles,
 *   TILE_K · (WG_PX + WG_CO) vec4s of `elementBytes`, fit maxComputeWorkgroupStorageSize (f32
 *   64×64 takes 32 on any device with the required 16 KiB; f16 halves the bytes, so wider tiles
 *   reach 32 too). Deeper steps mean fewer barriers per output.
 */
export function chooseConvTile(
  cout: number,
  pixels: number,
  limits: ConvTileLimits,
  elementBytes: 2 | 4,
  force?: string,
): ConvTile {
  let name: ConvTileName;
  if (force !== undefined) {
    if (!(force in CONV_TILES))
      throw new Error(
        `unknown convolution tile '${force}' (known: ${Object.keys(CONV_TILES).join(", ")})`,
      );
    name = force as ConvTileName;
  } else if (cout <= 4) name = "256x4";
  else if (cout <= 32) name = "128x32";
  else {
    const groups = (px: number, co: number) => Math.ceil(pixels / px) * Math.ceil(cout / co);
    name =
      groups(64, 64) >= MIN_WORKGROUPS
        ? "64x64"
        : groups(32, 64) >= MIN_WORKGROUPS
          ? "32x64"
          : "32x32";
  }
  const { WG_PX, WG_CO } = CONV_TILES[name];
  const threads = WG_PX * WG_CO;
  if (
    threads > limits.maxComputeInvocationsPerWorkgroup ||
    WG_PX > limits.maxComputeWorkgroupSizeX ||
    WG_CO > limits.maxComputeWorkgroupSizeY
  ) {
    throw new Error(
      `convolution tile ${name} needs ${WG_PX}×${WG_CO} threads a workgroup; this device allows ${limits.maxComputeInvocationsPerWorkgroup} (${limits.maxComputeWorkgroupSizeX}×${limits.maxComputeWorkgroupSizeY})`,
    );
  }
  const TILE_K = [32, 16, 8].find(
    (k) => k * (WG_PX + WG_CO) * 4 * elementBytes <= limits.maxComputeWorkgroupStorageSize,
  );
  if (!TILE_K)
    throw new Error(
      `convolution tile ${name} does not fit this device's ${limits.maxComputeWorkgroupStorageSize} bytes of workgroup memory`,
    );
  return { name, WG_PX, WG_CO, TILE_K };
}

export interface ConvOptions {
  stride?: number;
  pad: number;
  upsample?: 1 | 2;
  act?: keyof typeof ACT;
}

/**
 * Lanes a workgroup for the CPU convolutions: one SIMD group (8 lanes). lavapipe runs every lane of
 * a workgroup, so with 64 the small late layers (a few dozen runs of PX pixels) computed mostly
 * clamped duplicates; measured end to end on lavapipe, Hangul K = 1 N = 1 went from ~104 to ~80 ms
 * with conv2d_subgroup (~350 to ~320 ms with conv2d_direct, K = 5) and batches of 8 were no slower.
 * Past 65,535 workgroups (WebGPU's default per-dimension limit) 64 lanes take over. `rows` = batch ×
 * output rows, `width` = output width.
 */
function cpuConvWorkgroup(rows: number, width: number, PX: number): number {
  return Math.ceil((rows * Math.ceil(width / PX)) / 8) <= 65535 ? 8 : 64;
}

/**
 * Register tile of conv2d_subgroup.wgsl: PX output pixels along x × COB output channels a lane
 * (measured on lavapipe, interleaved runs of the model's shapes: 4 × 8 beats 2 × 16, 1 × 16 and
 * 4 × 16; 4 × 4 for layers of ≤ 4 channels, where a wider channel block would be mostly padding).
 */
export function subgroupConvTiles(
  cout: number,
  rows = 1,
  width = 1,
): { WG: number; COB: number; PX: number } {
  return { WG: cpuConvWorkgroup(rows, width, 4), COB: cout <= 4 ? 4 : 8, PX: 4 };
}

/**
 * Register tile of conv2d_direct.wgsl (measured on lavapipe: 4 pixels × 4 channels beats 4 × 8 and
 * 4 × 16, since every weight there is a separate load).
 */
export function directConvTiles(rows = 1, width = 1): { WG: number; COB: number; PX: number } {
  return { WG: cpuConvWorkgroup(rows, width, 4), COB: 4, PX: 4 };
}

export function conv(g: Graph, x: TensorDesc, layer: LayerWeights, opts: ConvOptions): TensorDesc {
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
      `${layer.name}: its input is ${uh}x${uw}, too small for reflect padding of ${opts.pad}; use a larger image`,
    );
  }
  const oh = Math.floor((uh + 2 * opts.pad - layer.k) / stride) + 1;
  const ow = Math.floor((uw + 2 * opts.pad - layer.k) / stride) + 1;
  if (oh < 1 || ow < 1)
    throw new InputError(
      `${layer.name}: a ${uh}x${uw} input is too small for a ${layer.k}x${layer.k} kernel`,
    );
  // f16 activations need f16 weights and run conv2d_f16, the only f16 convolution (tiled).
  const f16 = x.dtype === "f16";
  if (f16 !== (layer.dtype === "f16"))
    throw new Error(
      `${layer.name}: ${f16 ? "f16" : "f32"} input but ${layer.dtype ?? "f32"} weights`,
    );
  const y = g.tensor(`${layer.name}:out`, [n, layer.cout, oh, ow], f16 ? "f16" : "f32");
  const label = `${layer.name} conv${layer.k}x${layer.k}${stride > 1 ? ` s${stride}` : ""}${up > 1 ? " up2" : ""}`;
  const params = {
    batch: n,
    cin,
    in_h: h,
    in_w: w,
    cout: layer.cout,
    out_h: oh,
    out_w: ow,
    pad: opts.pad,
  };
  const bindings = { input: x, weight: layer.weight, bias: layer.bias, output: y };
  const shape = { KSIZE: layer.k, STRIDE: stride, UPSAMPLE: up, ACT: ACT[opts.act ?? "none"] };
  if ((g.options.conv === "direct" || g.options.conv === "subgroup") && !f16) {
    const kernel = g.options.conv === "direct" ? "conv2d_direct" : "conv2d_subgroup";
    const t =
      g.options.conv === "direct"
        ? directConvTiles(n * oh, ow)
        : subgroupConvTiles(layer.cout, n * oh, ow);
    if (
      up === 2 &&
      layer.k === 5 &&
      opts.pad === 2 &&
      stride === 1 &&
      h >= 3 &&
      w >= 3 &&
      layer.up2Weight
    ) {
      // the decoder's upsampling convolution: interior pixels by phase filters (workgroup z 0…3),
      // the reflect frame with the 5×5 weights (z 4); see the shader's header
      const phaseGroups = Math.ceil((n * (h - 2) * Math.ceil((w - 2) / t.PX)) / t.WG);
      const frameGroups = Math.ceil((n * (4 * Math.ceil(ow / t.PX) + 2 * (oh - 4))) / t.WG);
      g.op({
        label: `${label} phases`,
        kernel,
        overrides: { ...shape, ...t, PHASES: true },
        params,
        bindings: { ...bindings, weight: layer.up2Weight },
        workgroups: [Math.max(phaseGroups, frameGroups), Math.ceil(layer.cout / t.COB), 5],
      });
      return y;
    }
    g.op({
      label,
      kernel,
      overrides: { ...shape, ...t },
      params,
      bindings,
      workgroups: [
        Math.ceil((n * oh * Math.ceil(ow / t.PX)) / t.WG),
        Math.ceil(layer.cout / t.COB),
        1,
      ],
    });
    return y;
  }
  const t = chooseConvTile(
    layer.cout,
    n * oh * ow,
    g.options.convTiles?.limits ?? REQUIRED_LIMITS,
    f16 ? 2 : 4,
    g.options.convTiles?.force,
  );
  g.op({
    label,
    kernel: f16 ? "conv2d_f16" : "conv2d",
    params,
    bindings,
    overrides: {
      ...shape,
      WG_PX: t.WG_PX,
      WG_CO: t.WG_CO,
      TILE_K: t.TILE_K,
      ...(f16 ? { F32_MATH: g.options.f16Products === "f32" } : {}),
    },
    workgroups: [
      Math.ceil((n * oh * ow) / (t.WG_PX * 4)),
      Math.ceil(layer.cout / (t.WG_CO * 4)),
      1,
    ],
  });
  return y;
}

export interface NormOptions {
  relu?: boolean;
  residual?: TensorDesc;
  adain?: { params: TensorDesc; offset: number };
}

/** Instance norm (or AdaIN) in place on x; returns x. */
export function instanceNorm(
  g: Graph,
  x: TensorDesc,
  label: string,
  opts: NormOptions = {},
): TensorDesc {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const bindings: Record<string, TensorDesc> = { data: x };
  if (opts.adain) bindings.adain = opts.adain.params;
  if (opts.residual) bindings.residual = opts.residual;
  if (opts.residual && opts.residual.dtype !== x.dtype)
    throw new Error(`${label}: the residual's dtype differs from the input's`);
  if (opts.adain?.params.dtype) throw new Error(`${label}: AdaIN parameters must be f32`);
  g.op({
    label: `${label} ${opts.adain ? "adain" : "in"}${opts.relu ? "+relu" : ""}${opts.residual ? "+residual" : ""}`,
    kernel: x.dtype === "f16" ? "instance_norm_f16" : "instance_norm",
    overrides: {
      AFFINE: !!opts.adain,
      RELU: !!opts.relu,
      RESIDUAL: !!opts.residual,
      WG: g.options.normThreads,
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
    overrides: { RELU: relu },
    params: { batch: n, in_features: fin, out_features: layer.cout },
    bindings: { input: x, weight: layer.weight, bias: layer.bias, output: y },
    workgroups: [Math.ceil(layer.cout / 64), n, 1],
  });
  return y;
}

/** Mean over each group of `perGroup` images and their H×W: [G·K, C, H, W] → [G, C] (f32, from f32 or f16). */
export function meanPool(g: Graph, x: TensorDesc, perGroup: number, label: string): TensorDesc {
  const [nk, c, h, w] = x.shape as [number, number, number, number];
  const groups = nk / perGroup;
  const y = g.tensor(`${label}:out`, [groups, c]);
  g.op({
    label: `${label} mean-pool`,
    kernel: x.dtype === "f16" ? "mean_pool_f16" : "mean_pool",
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

/** Converts an f32 tensor to f16 (the f16 path's input edge) or back (its output edge). */
export function castTensor(g: Graph, x: TensorDesc, to: "f16" | "f32", label: string): TensorDesc {
  if ((x.dtype ?? "f32") === to) throw new Error(`${label}: tensor is already ${to}`);
  const y = g.tensor(`${label}:${to}`, x.shape, to);
  const count = x.shape.reduce((a, b) => a * b, 1);
  const grid = pixelGrid(count);
  g.op({
    label: `${label} to-${to}`,
    kernel: to === "f16" ? "to_f16" : "from_f16",
    overrides: {},
    params: { count, row_threads: grid.rowThreads },
    bindings: { src: x, dst: y },
    workgroups: grid.workgroups,
  });
  return y;
}

/** RGBA8 pixels (one u32 each) → [N,3,H,W] in [-1, 1]. */
export function packImages(g: Graph, rgba: TensorDesc, label: string): TensorDesc {
  const [n, h, w] = rgba.shape as [number, number, number];
  const y = g.tensor(`${label}:tensor`, [n, 3, h, w]);
  const grid = pixelGrid(n * h * w);
  g.op({
    label: `${label} pack`,
    kernel: "image_pack",
    overrides: {},
    params: { pixels: n * h * w, plane: h * w, row_threads: grid.rowThreads },
    bindings: { rgba, tensor: y },
    workgroups: grid.workgroups,
  });
  return y;
}

/** [N,3,H,W] in [-1, 1] → RGBA8 pixels (one u32 each). */
export function unpackImages(g: Graph, x: TensorDesc, label: string): TensorDesc {
  const [n, , h, w] = x.shape as [number, number, number, number];
  if (x.dtype) throw new Error(`${label}: unpack takes an f32 tensor`);
  const y = g.tensor(`${label}:rgba`, [n, h, w]);
  const grid = pixelGrid(n * h * w);
  g.op({
    label: `${label} unpack`,
    kernel: "image_unpack",
    overrides: {},
    params: { pixels: n * h * w, plane: h * w, row_threads: grid.rowThreads },
    bindings: { tensor: x, rgba: y },
    workgroups: grid.workgroups,
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
    label: `${label} to-texture`,
    kernel: "image_to_texture",
    overrides: { WG },
    params: { width: w, height: h, images: n },
    bindings: { tensor: x, output: slot },
    workgroups: [Math.ceil(w / WG), Math.ceil(h / WG), n],
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
    x = conv(g, x, layer(gen, `enc_class_model.model.${i}.conv`), {
      stride: 2,
      pad: 1,
      act: "relu",
    });
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
export function decoder(
  g: Graph,
  gen: GpuGenerator,
  code: TensorDesc,
  adain: TensorDesc,
): TensorDesc {
  const h = gen.hyper;
  const c = contentChannels(h);
  if (adain.shape[1] !== adainParamCount(h))
    throw new Error("AdaIN parameter count does not match the decoder");
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
  return conv(g, x, layer(gen, `dec.model.${1 + 2 * h.n_downs_content}.conv`), {
    pad: 3,
    act: "tanh",
  });
}
