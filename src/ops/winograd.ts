/**
 * Winograd F(4×4, 3×3) convolutions for CPU adapters with subgroups (the "subgroup" kernel path):
 * a 3×3 stride-1 convolution with reflect padding 1 as three dispatches, the input transform
 * (shaders/winograd_input.wgsl), 36 batched products (shaders/winograd_gemm.wgsl) and the output
 * transform with bias and activation (shaders/winograd_output.wgsl), 2.25 multiply-adds per
 * output value and input channel instead of 9. The transform matrices (Lavin & Gray, points 0,
 * ±1, ±2, ∞) are written here once: G transforms the weights at upload (winogradWeights), B^T and
 * A^T are what shaders/include/winograd.wgsl spells out (the tests check the two agree through a
 * CPU Winograd convolution). The intermediates V and M are graph tensors, so the plan's buffer
 * assignment and its binding-size check cover them. The same three kernels run the decoder's
 * ×2-upsampling 5×5 convolutions (their four 3×3 phase filters as one GEMM) and, by F(4×4, 2×2),
 * the content encoder's stride-2 4×4 ones: out(y) = Σ_ky w[ky] · X[2y − 1 + ky] reads the even
 * rows E[i] = X[2i] at i = y, y + 1 (taps 1, 3) and the odd rows O[i] = X[2i + 1] at i = y − 1, y
 * (taps 0, 2), so the layer is a sum of 2×2 stride-1 convolutions over the 4·cin phase channels
 * (stride2PhaseFilters), whose reflect padding is a clamp of the phase index: 25/16 · 4 = 6.25
 * multiply-adds an output and input channel instead of 16 (9 by F(4×4, 3×3) of 3×3 phase filters).
 */
import type { Graph, TensorDesc } from "../runtime/graph";
import type { LayerWeights } from "../upload";

/** The input transform B^T (6×6): V = B^T d B for a 6×6 input patch d. */
export const BT = [
  [4, 0, -5, 0, 1, 0],
  [0, -4, -4, 1, 1, 0],
  [0, 4, -4, -1, 1, 0],
  [0, -2, -1, 2, 1, 0],
  [0, 2, -1, -2, 1, 0],
  [0, 4, 0, -5, 0, 1],
] as const;

/** The weight transform G (6×3): U = G g G^T for a 3×3 filter g. */
export const G = [
  [1 / 4, 0, 0],
  [-1 / 6, -1 / 6, -1 / 6],
  [-1 / 6, 1 / 6, -1 / 6],
  [1 / 24, 1 / 12, 1 / 6],
  [1 / 24, -1 / 12, 1 / 6],
  [0, 0, 1],
] as const;

/** The output transform A^T (4×6): Y = A^T M A for a 6×6 product tile M. */
export const AT = [
  [1, 1, 1, 1, 1, 0],
  [0, 1, -1, 2, -2, 0],
  [0, 1, 1, 4, 4, 0],
  [0, 1, -1, 8, -8, 1],
] as const;

/** F(4×4, 2×2), points 0, ±1, 2, ∞: V = BT2 d BT2^T (5×5), U = G2 g G2^T, Y = AT2 M AT2^T. */
export const BT2 = [
  [2, -1, -2, 1, 0],
  [0, -2, -1, 1, 0],
  [0, 2, -3, 1, 0],
  [0, -1, 0, 1, 0],
  [0, 2, -1, -2, 1],
] as const;
export const G2 = [
  [1 / 2, 0],
  [-1 / 2, -1 / 2],
  [-1 / 6, 1 / 6],
  [1 / 6, 1 / 3],
  [0, 1],
] as const;
export const AT2 = [
  [1, 1, 1, 1, 0],
  [0, 1, -1, 2, 0],
  [0, 1, 1, 4, 0],
  [0, 1, -1, 8, 1],
] as const;

/** Tiles of one GEMM workgroup (8 lanes × 4 tiles): V and M rows are padded to a multiple. */
export const GEMM_TILES = 32;

/** Lanes of an input- or output-transform workgroup (4 SIMD groups of 8 on lavapipe). */
const TRANSFORM_WG = 32;

/** Whether a layer's channels suit the GEMM: 4 input channels a step, 8 output channels a block. */
export function winogradChannelsFit(cin: number, cout: number): boolean {
  return cin % 4 === 0 && cout % 8 === 0;
}

/**
 * U = G g G^T of cout × cin 3×3 filters, tap (row, column) of filter (o, i) at
 * weight[at(o, i) + 3 · row + column], as [36][cin][cout] (position p = 6 · row + column), computed
 * in f64 and stored in f32.
 */
function transformFilters(
  weight: Float32Array,
  cout: number,
  cin: number,
  at: (o: number, i: number) => number,
): Float32Array {
  const out = new Float32Array(36 * cin * cout);
  const gg = new Float64Array(18); // G g: 6×3
  for (let o = 0; o < cout; o++)
    for (let i = 0; i < cin; i++) {
      const g = at(o, i);
      for (let r = 0; r < 6; r++)
        for (let c = 0; c < 3; c++)
          gg[r * 3 + c] =
            G[r]![0]! * weight[g + c]! +
            G[r]![1]! * weight[g + 3 + c]! +
            G[r]![2]! * weight[g + 6 + c]!;
      for (let r = 0; r < 6; r++)
        for (let c = 0; c < 6; c++) {
          const u =
            gg[r * 3]! * G[c]![0]! + gg[r * 3 + 1]! * G[c]![1]! + gg[r * 3 + 2]! * G[c]![2]!;
          out[((r * 6 + c) * cin + i) * cout + o] = u;
        }
    }
  return out;
}

/**
 * The transformed weights U = G g G^T of a 3×3 convolution, from PyTorch's [cout, cin, 3, 3], as
 * [36][cin][cout].
 */
export function winogradWeights(weight: Float32Array, cout: number, cin: number): Float32Array {
  return transformFilters(weight, cout, cin, (o, i) => (o * cin + i) * 9);
}

/**
 * The transformed phase filters of a ×2-upsampling 5×5 convolution, from its up2PhaseWeights
 * ([phase][cin·3·3][cout], src/upload.ts), as [36][cin][4·cout]: output channel phase · cout + o,
 * so one GEMM makes the four phases' products.
 */
export function winogradPhaseWeights(
  phases: Float32Array,
  cout: number,
  cin: number,
): Float32Array {
  // the phase filters hold tap k of (phase, i, o) at ((phase · cin + i) · 9 + k) · cout + o: a
  // [cout]-strided filter, so gather each into a plain [4·cout, cin, 3, 3] first
  const plain = new Float32Array(4 * cout * cin * 9);
  for (let q = 0; q < 4 * cout; q++)
    for (let i = 0; i < cin; i++)
      for (let k = 0; k < 9; k++)
        plain[(q * cin + i) * 9 + k] =
          phases[((Math.floor(q / cout) * cin + i) * 9 + k) * cout + (q % cout)]!;
  return winogradWeights(plain, 4 * cout, cin);
}

/**
 * The 2×2 phase filters of a stride-2 4×4 convolution with padding 1, from PyTorch's
 * [cout, cin, 4, 4], as [cout][4·cin][2][2]: input channel 4·i + 2·py + px is phase (py, px) of
 * channel i, read at phase offsets −py, 1 − py (rows; columns likewise), and its tap (t, s) is the
 * 4×4 tap (2·t + 1 − py, 2·s + 1 − px).
 */
export function stride2PhaseFilters(weight: Float32Array, cout: number, cin: number): Float32Array {
  const out = new Float32Array(cout * 4 * cin * 4);
  for (let o = 0; o < cout; o++)
    for (let i = 0; i < cin; i++)
      for (let phase = 0; phase < 4; phase++)
        for (let t = 0; t < 2; t++)
          for (let u = 0; u < 2; u++) {
            const ky = 2 * t + 1 - (phase >> 1),
              kx = 2 * u + 1 - (phase & 1);
            out[((o * 4 * cin + 4 * i + phase) * 2 + t) * 2 + u] =
              weight[((o * cin + i) * 4 + ky) * 4 + kx]!;
          }
  return out;
}

/**
 * U = G2 g G2^T of a stride-2 4×4 convolution's phase filters (stride2PhaseFilters), from
 * [cout, cin, 4, 4], as [25][4·cin][cout] (position p = 5 · row + column), computed in f64: 6.25×
 * the layer's weights.
 */
export function winogradStride2Weights(
  weight: Float32Array,
  cout: number,
  cin: number,
): Float32Array {
  const g = stride2PhaseFilters(weight, cout, cin);
  const k = 4 * cin;
  const out = new Float32Array(25 * k * cout);
  for (let o = 0; o < cout; o++)
    for (let q = 0; q < k; q++) {
      const f = (o * k + q) * 4;
      for (let r = 0; r < 5; r++) {
        // (G2 g) row r
        const a = G2[r]![0]! * g[f]! + G2[r]![1]! * g[f + 2]!;
        const b = G2[r]![0]! * g[f + 1]! + G2[r]![1]! * g[f + 3]!;
        for (let c = 0; c < 5; c++)
          out[((r * 5 + c) * k + q) * cout + o] = a * G2[c]![0]! + b * G2[c]![1]!;
      }
    }
  return out;
}

/** What winogradConv runs: 3×3s, upsampling 5×5s but for their outer ring, stride-2 4×4s. */
export type WinogradMode = "3x3" | "up2" | "stride2";

/** A convolution's geometry, as conv() sees it: stride, reflect pad, upsampling, stored input. */
export interface ConvGeometry {
  stride: number;
  pad: number;
  upsample: number;
  h: number;
  w: number;
}

/**
 * Whether a ×2-upsampling 5×5 convolution runs by phase filters (stride 1, reflect pad 2, stored
 * input at least 3×3: the decoder's): the CPU kernels' PHASES path, and the Winograd "up2" mode.
 */
export function isUp2PhaseConv(k: number, s: ConvGeometry): boolean {
  return k === 5 && s.stride === 1 && s.pad === 2 && s.upsample === 2 && s.h >= 3 && s.w >= 3;
}

/**
 * The mode conv() runs a layer by on the subgroup path, or undefined for the convolution kernels:
 * "3x3" for 3×3 stride-1 reflect-pad-1 layers uploaded with winogradWeight; "stride2" for 4×4
 * stride-2 reflect-pad-1 layers of an even input (so the output is exactly its phases' grid)
 * uploaded with winogradStride2Weight; "up2" for a ×2-upsampling 5×5 layer but its outer ring
 * (isUp2PhaseConv) whose phase filters were uploaded transformed (winogradUp2Weight) beside the
 * frame's (up2Weight). Never with upsampling but in "up2".
 */
export function winogradMode(layer: LayerWeights, s: ConvGeometry): WinogradMode | undefined {
  const padOne = s.pad === 1 && s.upsample === 1;
  if (layer.winogradWeight && layer.k === 3 && s.stride === 1 && padOne) return "3x3";
  if (layer.winogradStride2Weight && layer.k === 4 && s.stride === 2 && padOne)
    return s.h % 2 === 0 && s.w % 2 === 0 ? "stride2" : undefined;
  if (layer.winogradUp2Weight && layer.up2Weight && isUp2PhaseConv(layer.k, s)) return "up2";
  return undefined;
}

/**
 * The tile grid of a Winograd convolution over an h × w grid (the image; the stored input of an
 * upsampling layer; a stride-2 layer's phases) of n images: 4×4 tiles, their count, and that count
 * rounded up to the GEMM's GEMM_TILES (the row stride of V and M). The call limits
 * (src/limits.ts) size the intermediates by it too.
 */
export function winogradTiles(
  n: number,
  h: number,
  w: number,
): { tilesH: number; tilesW: number; tiles: number; tilesPad: number } {
  const tilesH = Math.ceil(h / 4),
    tilesW = Math.ceil(w / 4);
  const tiles = n * tilesH * tilesW;
  return { tilesH, tilesW, tiles, tilesPad: Math.ceil(tiles / GEMM_TILES) * GEMM_TILES };
}

/**
 * Adds the three dispatches of a Winograd convolution of x [n, cin, h, w] (act: 0 none, 1 ReLU,
 * 2 tanh, as the convolution kernels' ACT). "3x3": the 3×3 reflect-pad-1 convolution into
 * y [n, cout, h, w], with the layer's winogradWeight. "up2": the ×2-upsampling 5×5 convolution
 * into y [n, cout, 2h, 2w] but its outermost ring of pixels (rows and columns 0 and the last): the
 * four phase filters as one GEMM of 4·cout channels over the stored input padded by repeating its
 * edge, with winogradUp2Weight. The phase filters need the stored input padded by 1; the reflect
 * padding of the upsampled image is that edge repeated for every output pixel but the ring's (row
 * 0's taps read upsampled rows 2, 1, 0, 1, 2 = stored rows 1, 0, 0, 0, 1, where the phase filter
 * of row 0 reads stored rows −1, −1, 0, 0, 1; only its first differs, and the same holds at the
 * far edge); the caller adds that ring (FRAME_ONLY). "stride2": the stride-2 4×4 reflect-pad-1
 * convolution of an even input into y [n, cout, h/2, w/2], 2×2 ones over the input's 4·cin phase
 * channels by F(4×4, 2×2) (the input transform reads them in place, POLYPHASE), with
 * winogradStride2Weight.
 */
export function winogradConv(
  g: Graph,
  x: TensorDesc,
  y: TensorDesc,
  layer: LayerWeights,
  act: number,
  mode: WinogradMode = "3x3",
): void {
  const [n, xc, xh, xw] = x.shape as [number, number, number, number];
  const up2 = mode === "up2",
    stride2 = mode === "stride2";
  const weight = {
    "3x3": layer.winogradWeight,
    up2: layer.winogradUp2Weight,
    stride2: layer.winogradStride2Weight,
  }[mode];
  // the GEMM's channels: the four phases' of the output ("up2") or of the input ("stride2"), on
  // the grid of the stored input or (stride2) of its phases
  const cout = up2 ? 4 * layer.cout : layer.cout;
  const cin = stride2 ? 4 * xc : xc;
  const positions = stride2 ? 25 : 36; // F(4×4, 2×2) for the phases of a stride-2 layer
  const h = stride2 ? xh / 2 : xh,
    w = stride2 ? xw / 2 : xw;
  if (!weight || !winogradChannelsFit(cin, cout))
    throw new Error(`${layer.name}: no Winograd weights for ${cin} -> ${cout} channels`);
  if (stride2 && (xh % 2 !== 0 || xw % 2 !== 0))
    throw new Error(`${layer.name}: a stride-2 Winograd convolution of an odd ${xh}x${xw} input`);
  const { tilesH, tilesW, tiles, tilesPad } = winogradTiles(n, h, w);
  const params = {
    batch: n,
    cin,
    cout,
    height: h,
    width: w,
    tiles_h: tilesH,
    tiles_w: tilesW,
    tiles_pad: tilesPad,
  };
  // 16 output channels a lane where they divide (fewer loads per multiply-add), else 8
  const cob = cout % 16 === 0 ? 16 : 8;
  const what = up2 ? "conv5x5 up2" : stride2 ? "conv4x4 s2" : "conv3x3";
  const label = `${layer.name} ${what} winograd`;
  const v = g.tensor(`${layer.name}:winograd-V`, [positions, cin, tilesPad]);
  const m = g.tensor(`${layer.name}:winograd-M`, [positions, cout, tilesPad]);
  g.op({
    label: `${label} input`,
    kernel: "winograd_input",
    overrides: { WG: TRANSFORM_WG, REPLICATE: up2, POLYPHASE: stride2 },
    params,
    bindings: { input: x, transformed: v },
    workgroups: [tilesPad / TRANSFORM_WG, cin, 1],
  });
  g.op({
    label: `${label} gemm`,
    kernel: "winograd_gemm",
    overrides: { COB: cob },
    params,
    bindings: { transformed: v, weight, products: m },
    workgroups: [tilesPad / GEMM_TILES, cout / cob, positions],
  });
  g.op({
    label: `${label} output`,
    kernel: "winograd_output",
    overrides: { WG: TRANSFORM_WG, ACT: act, PHASES: up2, FILTER2: stride2 },
    params,
    bindings: { products: m, bias: layer.bias, output: y },
    workgroups: [Math.ceil(tiles / TRANSFORM_WG), cout, 1],
  });
}
