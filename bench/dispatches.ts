/**
 * What a profiled dispatch was, for the report: its stage of the generator (from its label, the
 * layer names of the model), and for a convolution its shape (from the params and override
 * constants it ran with; every conv kernel takes the same params struct), which turns its GPU time
 * into GFLOP/s, counted both as the convolution is defined and as the arithmetic really executed.
 */
import type { ProfiledDispatch } from "../src/index";

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export interface ConvShape {
  batch: number;
  cin: number;
  cout: number;
  k: number;
  stride: number;
  upsample: number;
  outH: number;
  outW: number;
  phases: boolean;
}

/**
 * A convolution dispatch's shape: enough to turn its GPU time into GFLOP/s. Undefined for a
 * dispatch that computes part of a layer only (FRAME_ONLY, beside its Winograd dispatches): its
 * layer's rate comes from all of the layer's dispatches (decoder5x5Rates).
 */
export function convShapeOf(d: ProfiledDispatch): ConvShape | undefined {
  if (d.overrides.FRAME_ONLY === true) return undefined;
  return layerShapeOf(d);
}

/** The shape of the layer a convolution dispatch belongs to (the whole layer, even for a part). */
function layerShapeOf(d: ProfiledDispatch): ConvShape | undefined {
  if (!d.kernel.startsWith("conv2d")) return undefined;
  const p = d.params;
  return {
    batch: p.batch!,
    cin: p.cin!,
    cout: p.cout!,
    k: Number(d.overrides.KSIZE),
    stride: Number(d.overrides.STRIDE),
    upsample: Number(d.overrides.UPSAMPLE),
    outH: p.out_h!,
    outW: p.out_w!,
    phases: d.overrides.PHASES === true,
  };
}

export const convFlops = (s: ConvShape) =>
  2 * s.batch * s.cout * s.outH * s.outW * s.cin * s.k * s.k;

/**
 * The arithmetic a dispatch really does. GFLOP/s are quoted for the convolution as defined (the
 * usual count), but the decoder's ×2-upsampling 5×5 convolutions on CPU adapters run "by phases":
 * interior pixels take 9 multiply-adds a channel pair instead of 25 (up2PhaseWeights), the 2-pixel
 * reflect frame all 25. This count keeps that speed-up from passing for kernel speed.
 */
export const executedFlops = (s: ConvShape) => {
  if (!s.phases) return convFlops(s);
  const interior = 4 * (s.outH / 2 - 2) * (s.outW / 2 - 2);
  return 2 * s.batch * s.cout * s.cin * (interior * 9 + (s.outH * s.outW - interior) * 25);
};

export const STAGES = ["content encoder", "class encoder", "MLP", "decoder", "io and casts"];

/** Stage of a dispatch, from its label (the layer names of the model). */
export function stageOf(label: string): string {
  if (label.startsWith("enc_content")) return "content encoder";
  if (label.startsWith("enc_class_model")) return "class encoder";
  if (label.startsWith("mlp")) return "MLP";
  if (label.startsWith("dec")) return "decoder";
  return "io and casts";
}

export interface KernelTime {
  label: string;
  stage: string;
  ms: number;
  /** The whole layer's shape, for a dispatch that computes part of it (FRAME_ONLY). */
  layerShape?: ConvShape;
  gflops?: number;
  executed_gflops?: number;
  shape?: ConvShape;
}

/** Each dispatch's median time over several profiled runs of the same plan, with its rates. */
export function kernelTimes(profiles: ProfiledDispatch[][]): KernelTime[] {
  return profiles[0]!.map((d, i) => {
    const ms = median(profiles.map((p) => p[i]!.ms));
    const shape = convShapeOf(d);
    const layerShape = shape ? undefined : layerShapeOf(d);
    return {
      label: d.label,
      stage: stageOf(d.label),
      ms,
      ...(layerShape ? { layerShape } : {}),
      ...(shape
        ? {
            shape,
            gflops: convFlops(shape) / (ms * 1e6),
            executed_gflops: executedFlops(shape) / (ms * 1e6),
          }
        : {}),
    };
  });
}

/** GPU time summed per stage, stages in generator order. */
export function stageTimes(kernels: KernelTime[]): Record<string, number> {
  return Object.fromEntries(
    STAGES.filter((s) => kernels.some((k) => k.stage === s)).map((s) => [
      s,
      kernels.filter((k) => k.stage === s).reduce((a, k) => a + k.ms, 0),
    ]),
  );
}

/** The layer a dispatch belongs to: its label's first word (the model's layer name). */
const layerOf = (label: string) => label.split(" ")[0]!;

/**
 * GFLOP/s of the decoder's 5×5 convolutions together, by both counts, over all their dispatches
 * (the Winograd dispatches and the ring beside them are one layer); null without them.
 * "Executed" is null when a layer ran by Winograd (its arithmetic is neither count).
 */
export function decoder5x5Rates(kernels: KernelTime[] | null): {
  gflops: number | null;
  executed: number | null;
} {
  const layers = new Map<string, ConvShape>();
  for (const k of kernels ?? []) {
    const shape = k.shape ?? k.layerShape;
    if (k.stage === "decoder" && shape?.k === 5) layers.set(layerOf(k.label), shape);
  }
  if (!layers.size) return { gflops: null, executed: null };
  const ms = (kernels ?? [])
    .filter((k) => layers.has(layerOf(k.label)))
    .reduce((a, k) => a + k.ms, 0);
  const winograd = (kernels ?? []).some(
    (k) => layers.has(layerOf(k.label)) && k.label.includes("winograd"),
  );
  const shapes = [...layers.values()];
  return {
    gflops: shapes.reduce((a, s) => a + convFlops(s), 0) / (ms * 1e6),
    executed: winograd ? null : shapes.reduce((a, s) => a + executedFlops(s), 0) / (ms * 1e6),
  };
}
