// What the three Winograd F(4×4, 3×3) kernels share (winograd_input, winograd_gemm,
// winograd_output; src/ops/winograd.ts builds them and transforms the weights): the params
// struct, its binding, and the transforms B^T and A^T spelled out (the points 0, ±1, ±2, ∞ of
// Lavin & Gray; the same matrices as BT and AT in src/ops/winograd.ts; F(4×4, 2×2)'s too). No
// thread mapping here: each entry file states its own.
//
// Data: an output tile is 4×4 pixels of one image; tiles are numbered t = (image · tiles_h + ty) ·
// tiles_w + tx, T = batch · tiles_h · tiles_w of them, stored with a row stride of tiles_pad ≥ T (a
// multiple of the GEMM workgroup's 32 tiles, so that kernel needs no bounds check). The 36
// Winograd positions are p = 6 · row + col of the 6×6 transformed tile.
//   V = B^T d B, [36][cin][tiles_pad]: the input transform of each 6×6 reflect-padded input patch
//   U = G g G^T, [36][cin][cout]: the weights, transformed at upload
//   M[p][co][t] = Σ_ci U[p][ci][co] · V[p][ci][t], [36][cout][tiles_pad]
//   Y = A^T M A: the 4×4 output tile
// A stride-2 4×4 convolution runs F(4×4, 2×2) over its input's phases instead (POLYPHASE in
// winograd_input, FILTER2 in winograd_output): 5×5 patches, 25 positions p = 5 · row + col.

struct WinogradParams {
  batch: u32,
  cin: u32,       // the GEMM's: the input's, or 4× (the phases of a stride-2 4×4 convolution)
  cout: u32,
  height: u32,    // of the input and the output (3×3, stride 1, reflect padding 1; the output's
                  // and each input phase's of a stride-2 4×4 convolution)
  width: u32,
  tiles_h: u32,   // ⌈height / 4⌉
  tiles_w: u32,   // ⌈width / 4⌉
  tiles_pad: u32, // row stride of V and M, in tiles
}

@group(0) @binding(0) var<uniform> params: WinogradParams;

// B^T d for one column (or row) d of a 6×6 input patch.
fn winograd_bt(d: array<f32, 6>) -> array<f32, 6> {
  return array<f32, 6>(
    4.0 * d[0] - 5.0 * d[2] + d[4],
    -4.0 * (d[1] + d[2]) + d[3] + d[4],
    4.0 * (d[1] - d[2]) - d[3] + d[4],
    2.0 * (d[3] - d[1]) - d[2] + d[4],
    2.0 * (d[1] - d[3]) - d[2] + d[4],
    4.0 * d[1] - 5.0 * d[3] + d[5],
  );
}

// F(4×4, 2×2) (the phases of a stride-2 4×4 convolution, POLYPHASE / FILTER2; the points 0, ±1, 2,
// ∞; BT2 and AT2 in src/ops/winograd.ts): 5×5 patches and products, 25 positions p = 5 · row + col.
// B^T d for one column (or row) d of a 5×5 input patch.
fn winograd_bt2(d: array<f32, 5>) -> array<f32, 5> {
  return array<f32, 5>(
    2.0 * d[0] - d[1] - 2.0 * d[2] + d[3],
    -2.0 * d[1] - d[2] + d[3],
    2.0 * d[1] - 3.0 * d[2] + d[3],
    d[3] - d[1],
    2.0 * (d[1] - d[3]) - d[2] + d[4],
  );
}

// A^T m for one column (or row) m of a 5×5 product tile.
fn winograd_at2(m: array<f32, 5>) -> array<f32, 4> {
  let s12 = m[1] + m[2];
  let d12 = m[1] - m[2];
  return array<f32, 4>(m[0] + s12 + m[3], d12 + 2.0 * m[3], s12 + 4.0 * m[3], d12 + 8.0 * m[3] + m[4]);
}

// A^T m for one column (or row) m of a 6×6 product tile.
fn winograd_at(m: array<f32, 6>) -> array<f32, 4> {
  let s12 = m[1] + m[2];
  let d12 = m[1] - m[2];
  let s34 = m[3] + m[4];
  let d34 = m[3] - m[4];
  return array<f32, 4>(m[0] + s12 + s34, d12 + 2.0 * d34, s12 + 4.0 * s34, d12 + 8.0 * d34 + m[5]);
}
