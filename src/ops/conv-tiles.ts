/**
 * Tiles of the convolutions, chosen per layer within the limits src/policy.ts hands over: the
 * workgroup-memory tiles of the tiled convolution (pixels × output channels a workgroup, and the
 * reduction depth TILE_K staged per step) and the register tiles and workgroup sizes of the CPU
 * convolutions (direct, subgroup). Pure functions of a layer's shape and the limits, so tests and
 * benches can ask what a layer will run.
 */

/** The adapter limits that bound a convolution tile (a subset of GPUSupportedLimits). */
export interface ConvTileLimits {
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupSizeY: number;
  maxComputeWorkgroupStorageSize: number;
}

/**
 * Tile shapes of the tiled convolutions (f32 and f16), named pixels × output
 * channels: WG_PX × WG_CO threads of 4 × 4 outputs each.
 */
export const CONV_TILES = {
  "256x4": { WG_PX: 64, WG_CO: 1 }, // RGB output layers (cout ≤ 4): 64 threads
  "128x32": { WG_PX: 32, WG_CO: 8 }, // narrow layers (cout ≤ 32): 256 threads
  "64x64": { WG_PX: 16, WG_CO: 16 }, // wide layers: 256 threads
  "32x64": { WG_PX: 8, WG_CO: 16 }, // wide, few pixels: 128 threads, twice the workgroups
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
      `convolution tile ${name} needs ${WG_PX}×${WG_CO} threads a workgroup; this device allows ` +
        `${limits.maxComputeInvocationsPerWorkgroup} ` +
        `(${limits.maxComputeWorkgroupSizeX}×${limits.maxComputeWorkgroupSizeY})`,
    );
  }
  const TILE_K = [32, 16, 8].find(
    (k) => k * (WG_PX + WG_CO) * 4 * elementBytes <= limits.maxComputeWorkgroupStorageSize,
  );
  if (!TILE_K)
    throw new Error(
      `convolution tile ${name} does not fit this device's ` +
        `${limits.maxComputeWorkgroupStorageSize} bytes of workgroup memory`,
    );
  return { name, WG_PX, WG_CO, TILE_K };
}

/**
 * Lanes a workgroup for the CPU convolutions: one SIMD group (8 lanes). lavapipe runs every lane
 * of a workgroup, so with 64 the small late layers (a few dozen runs of PX pixels) computed mostly
 * clamped duplicates; measured end to end on lavapipe, Hangul K = 1 N = 1 went from ~104 to
 * ~80 ms with conv2d_subgroup (~350 to ~320 ms with conv2d_direct, K = 5) and batches of 8 were no
 * slower. Past 65,535 workgroups (WebGPU's default per-dimension limit) 64 lanes take over.
 * `rows` = batch × output rows, `width` = output width.
 */
function cpuConvWorkgroup(rows: number, width: number, PX: number): number {
  return Math.ceil((rows * Math.ceil(width / PX)) / 8) <= 65535 ? 8 : 64;
}

/**
 * The shape of a convolution, as far as the CPU kernels' register tiles depend on it: kernel
 * size, stride, padding, upsampling and the input width.
 */
export interface CpuConvShape {
  k: number;
  stride: number;
  pad: number;
  upsample: number;
  inW: number;
}

/**
 * Whether a convolution runs conv_direct.wgsl's same_row with 8 pixels a lane: a 7×7 stride-1
 * convolution padded by 3 on rows of whole vec8s (the content encoder's first layer). Its two
 * vec4s per row and input channel and one set of weight loads feed 8 pixels.
 */
export function takesSameRow8(s: CpuConvShape): boolean {
  return s.k === 7 && s.stride === 1 && s.pad === 3 && s.upsample === 1 && s.inW % 8 === 0;
}

/**
 * Register tile of conv2d_subgroup.wgsl: PX output pixels along x × COB output channels a lane
 * (measured on lavapipe, interleaved runs of the model's shapes: 4 × 8 beats 2 × 16, 1 × 16 and
 * 4 × 16; 4 × 4 for layers of ≤ 4 channels, where a wider channel block would be mostly padding).
 * 7×7 layers of more than 4 channels on rows of whole vec8s (takesSameRow8) take 8 × 8: on
 * lavapipe the 3->32 one ran ~1.1x (interleaved; 8 × 16 and, for the 32->3 one, 8 × 4 did not
 * win).
 */
export function subgroupConvTiles(
  cout: number,
  rows = 1,
  width = 1,
  shape?: CpuConvShape,
): { WG: number; COB: number; PX: number } {
  const PX = cout > 4 && shape && takesSameRow8(shape) ? 8 : 4;
  return { WG: cpuConvWorkgroup(rows, width, PX), COB: cout <= 4 ? 4 : 8, PX };
}

/**
 * Register tile of conv2d_subgroup.wgsl's FRAME_ONLY dispatch (the outer ring of the decoder's
 * upsampling reflect frame, next to its Winograd convolution): as subgroupConvTiles but 16 output
 * channels a lane where cout > 8. The frame's input loads are scalar gathers along a frame row or
 * column (3 taps of 2 stored rows or columns), so a wider channel block halves the workgroups that
 * repeat them; on lavapipe (interleaved runs, batch 8, when the dispatch ran the 2-pixel frame)
 * the 128->64 frame went from ~20 to ~10 ms of the layer's time and the 64->32 one ~4 ms faster,
 * where the 7x7s measured COB 16 slower.
 */
export function subgroupFrameTiles(
  cout: number,
  rows = 1,
  width = 1,
): { WG: number; COB: number; PX: number } {
  const t = subgroupConvTiles(cout, rows, width);
  return { ...t, COB: cout > 8 ? 16 : t.COB };
}

/**
 * Register tile of conv2d_direct.wgsl (measured on lavapipe: 4 pixels × 4 channels beats 4 × 8 and
 * 4 × 16, since every weight there is a separate load).
 */
export function directConvTiles(rows = 1, width = 1): { WG: number; COB: number; PX: number } {
  return { WG: cpuConvWorkgroup(rows, width, 4), COB: 4, PX: 4 };
}

/**
 * Workgroups along x of the CPU convolution's PHASES parts (the decoder's upsampling 5×5
 * convolution, shaders/include/conv_direct.wgsl) for a batch of n stored h × w inputs (output
 * 2h × 2w): `interior` for one phase (workgroup z 0…3), `frame` for the 2-pixel reflect frame
 * (z 4): 8 parts along the frame's rows, 8 down its columns, 16 corners of a pixel per image (each
 * workgroup in one part, so that its lanes share a grouped filter); with `ring`, for a FRAME_ONLY
 * dispatch, the frame's outer ring: 4, 4 and 12 parts.
 */
export function up2PhaseWorkgroups(
  n: number,
  h: number,
  w: number,
  t: { WG: number; PX: number },
  ring = false,
): { interior: number; frame: number } {
  const groups = (runs: number) => Math.ceil(runs / t.WG);
  const lines = ring ? 4 : 8;
  return {
    interior: groups(n * (h - 2) * Math.ceil((w - 2) / t.PX)),
    frame:
      lines * groups(n * Math.ceil((w - 2) / t.PX)) +
      lines * groups(n * Math.ceil((h - 2) / t.PX)) +
      (ring ? 12 : 16) * groups(n),
  };
}
