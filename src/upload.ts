/**
 * Weight upload: every layer of a FUNIT generator into labelled storage buffers, once per engine.
 * Convolution weights are transposed to [cin·k·k][cout] so that a tile of output channels reads
 * contiguously, stored as f16 on the f16 path, and followed by their phase filters where the
 * KernelChoice asks for them (the CPU kernels' shortcut for the decoder's upsampling
 * convolutions). Every buffer is checked against the device's binding limit on the bytes actually
 * stored, and a refused layer leaves nothing uploaded behind.
 */
import { DeviceError } from "./errors";
import { expectedTensors, type FunitHyper } from "./hyper";
import type { KernelChoice } from "./policy";
import {
  winogradChannelsFit,
  winogradPhaseWeights,
  winogradStride2Weights,
  winogradWeights,
} from "./ops/winograd";
import { float16Bytes } from "./safetensors";

export interface LayerWeights {
  name: string;
  kind: "conv" | "linear";
  weight: GPUBuffer;
  bias: GPUBuffer;
  cin: number;
  cout: number;
  k: number;
  /** "f16": the weight buffer holds f16 values (f16 path convolutions); the bias is always f32. */
  dtype?: "f16";
  /**
   * f32 5×5 convolutions uploaded with phaseWeights (engines running a CPU kernel), for
   * ×2-upsampled inputs: the four 3×3 phase filters (up2PhaseWeights) and the reflect frame's
   * grouped filters (up2FrameWeights), as the CPU convolutions read them with PHASES.
   */
  up2Weight?: GPUBuffer;
  /**
   * f32 3×3 convolutions uploaded with winogradWeights (the subgroup path), whose channels suit
   * the Winograd GEMM: U = G g G^T as [36][cin][cout] (src/ops/winograd.ts).
   */
  winogradWeight?: GPUBuffer;
  /**
   * f32 5×5 convolutions uploaded with phaseWeights and winogradWeights (the subgroup path): their
   * phase filters transformed, [36][cin][4·cout] (src/ops/winograd.ts, winogradPhaseWeights).
   */
  winogradUp2Weight?: GPUBuffer;
  /**
   * f32 4×4 convolutions (the content encoder's stride-2 ones) uploaded with winogradWeights: their
   * 2×2 phase filters transformed, [25][4·cin][cout] (src/ops/winograd.ts, winogradStride2Weights).
   */
  winogradStride2Weight?: GPUBuffer;
}

/** How one layer is stored: f32 (default) or f16 weights, with or without phase filters. */
export interface LayerStorage {
  dtype?: "f32" | "f16";
  phaseWeights?: boolean;
  winogradWeights?: boolean;
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
 * weights that came from an f16 file. With phaseWeights, an f32 5×5 convolution also gets its
 * phase filters (LayerWeights.up2Weight).
 */
export function uploadLayer(
  device: GPUDevice,
  name: string,
  kind: "conv" | "linear",
  shape: number[],
  weight: Float32Array,
  bias: Float32Array,
  label: string,
  store: LayerStorage = {},
): LayerWeights {
  const dtype = store.dtype ?? "f32";
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
        `${name}.${what}: ${size} bytes of weights exceed this device's ` +
          `maxStorageBufferBindingSize (${device.limits.maxStorageBufferBindingSize})`,
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
    // Only the CPU kernels read the phase filters; the others are spared the memory.
    let up2 = {};
    if (kind === "conv" && k === 5 && dtype === "f32" && store.phaseWeights) {
      const phases = up2PhaseWeights(weight, cout, cin);
      const both = new Float32Array(phases.length + 32 * cin * 6 * cout);
      both.set(phases);
      both.set(up2FrameWeights(weight, cout, cin), phases.length);
      up2 = { up2Weight: upload("up2-phases", both) };
    }
    let winograd = {};
    if (kind === "conv" && k === 3 && dtype === "f32" && store.winogradWeights) {
      if (winogradChannelsFit(cin, cout))
        winograd = { winogradWeight: upload("winograd", winogradWeights(weight, cout, cin)) };
    }
    if (kind === "conv" && k === 4 && dtype === "f32" && store.winogradWeights) {
      if (winogradChannelsFit(4 * cin, cout)) {
        const phases = winogradStride2Weights(weight, cout, cin);
        winograd = { winogradStride2Weight: upload("winograd-s2", phases) };
      }
    }
    if (kind === "conv" && k === 5 && dtype === "f32" && store.phaseWeights) {
      if (store.winogradWeights && winogradChannelsFit(cin, 4 * cout)) {
        const phases = winogradPhaseWeights(up2PhaseWeights(weight, cout, cin), cout, cin);
        winograd = { winogradUp2Weight: upload("winograd-up2", phases) };
      }
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
      ...winograd,
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

/**
 * Where the 5 taps of an upsampled, reflect-padded row land near its ends, per output row class
 * (rows 0, 1, 2h − 2, 2h − 1 of 2h; columns likewise): on two stored rows (0, 1 or h − 2, h − 1),
 * slot 0 or 1 per tap. Row 0 reads upsampled rows 2, 1, 0, 1, 2 (reflected), i.e. stored rows
 * 1, 0, 0, 0, 1.
 */
const UP2_FRAME_SLOTS = [
  [1, 0, 0, 0, 1],
  [0, 0, 0, 1, 1],
  [0, 0, 1, 1, 1],
  [0, 1, 1, 1, 0],
] as const;

/**
 * The reflect frame's grouped filters of a ×2-upsampled 5×5 convolution (the CPU kernels' PHASES
 * frame, after the phase filters): a pixel of the frame's rows (class r of UP2_FRAME_SLOTS) in
 * column phase a reads 2 stored rows × 3 stored columns, so its taps on the same stored value add
 * up, 6 multiply-adds instead of 25; the frame's columns likewise, transposed; a corner (row class
 * r, column class c) reads 2 × 2. Returns 32 filters of [cin][2][3][cout] (slot across, tap along
 * the line), from [cout, cin, 5, 5]: the rows' (2r + a), the columns' (8 + 2c + b), the corners'
 * (16 + 4r + c; their 2 column slots are taps 0, 1 for c < 2, else 1, 2): 192 · cin · cout values.
 */
export function up2FrameWeights(weight: Float32Array, cout: number, cin: number): Float32Array {
  const out = new Float32Array(32 * cin * 6 * cout);
  const add = (filter: number, i: number, slot: number, tap: number, o: number, w: number) => {
    out[(((filter * cin + i) * 2 + slot) * 3 + tap) * cout + o]! += w;
  };
  for (let o = 0; o < cout; o++)
    for (let i = 0; i < cin; i++)
      for (let ky = 0; ky < 5; ky++)
        for (let kx = 0; kx < 5; kx++) {
          const w = weight[((o * cin + i) * 5 + ky) * 5 + kx]!;
          for (let c = 0; c < 4; c++) {
            const rowSlot = UP2_FRAME_SLOTS[c]![ky]!,
              colSlot = UP2_FRAME_SLOTS[c]![kx]!;
            for (let phase = 0; phase < 2; phase++) {
              add(2 * c + phase, i, rowSlot, (phase + kx) >> 1, o, w); // frame row c, along it
              add(8 + 2 * c + phase, i, colSlot, (phase + ky) >> 1, o, w); // frame column c
            }
            for (let cc = 0; cc < 4; cc++)
              add(16 + 4 * c + cc, i, rowSlot, UP2_FRAME_SLOTS[cc]![kx]! + (cc >> 1), o, w);
          }
        }
  return out;
}

/**
 * Uploads every layer of the generator as the KernelChoice says: with precision "f16" the
 * convolution weights are f16; with phaseWeights the 5×5 ones get their phase filters.
 */
export function uploadGenerator(
  device: GPUDevice,
  hyper: FunitHyper,
  tensors: Map<string, Float32Array>,
  label: string,
  kernels: Pick<KernelChoice, "precision" | "phaseWeights"> &
    Partial<Pick<KernelChoice, "winogradWeights">>,
): GpuGenerator {
  const layers = new Map<string, LayerWeights>();
  const destroy = () => {
    for (const l of layers.values()) {
      l.weight.destroy();
      l.bias.destroy();
      l.up2Weight?.destroy();
      l.winogradWeight?.destroy();
      l.winogradUp2Weight?.destroy();
      l.winogradStride2Weight?.destroy();
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
          kind === "conv"
            ? {
                dtype: kernels.precision,
                phaseWeights: kernels.phaseWeights,
                // the class encoder's stride-2 4×4 layers stay direct: they run once per style,
                // Winograd would add 17 MB of weights (6.25× theirs) for ~1.5× on them, and
                // their last, 8×8 layer is mostly padding tiles (measured slower)
                winogradWeights:
                  kernels.winogradWeights &&
                  !(shape[2] === 4 && layer.startsWith("enc_class_model")),
              }
            : { dtype: "f32" },
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
    bytes: all.reduce(
      (a, l) =>
        a +
        l.weight.size +
        l.bias.size +
        (l.up2Weight?.size ?? 0) +
        (l.winogradWeight?.size ?? 0) +
        (l.winogradUp2Weight?.size ?? 0) +
        (l.winogradStride2Weight?.size ?? 0),
      0,
    ),
    destroy,
  };
}
