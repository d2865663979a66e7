// 2-D convolution as an implicit GEMM: output[cout, pixel] = sum_k weight[k, cout] * patch[k, pixel],
// with k = (cin, ky, kx) and pixel = (n, oy, ox) over the whole batch, so deep layers with few
// pixels per image still fill the tiles. Reflect padding and an optional nearest ×2 upsampling of
// the input are folded into the patch loads (no padded or upsampled copy is ever written); bias
// and the activation are applied on the way out.
//
// Thread-to-data mapping: a workgroup of WG_PX × WG_CO threads owns a tile of TILE_CO output
// channels × TILE_PX pixels. Thread (tx, ty) accumulates TCO channels {ty + i·WG_CO} × 4 pixels
// {tx + j·WG_PX}, strided so that neighbouring threads write neighbouring pixels. Per step of
// TILE_K reduction rows, the workgroup stages weight[k0..k0+TILE_K, tile channels] and the
// matching im2col patch rows in workgroup memory. For the patch loads each thread owns one pixel
// column (decoded once) and TILE_K / ROW_STEP of the rows.
//
// Weights are stored transposed, [cin·k·k][cout], so a tile row of channels is contiguous.

struct ConvParams {
  batch: u32,
  cin: u32,
  in_h: u32,      // stored input height (before the ×UPSAMPLE nearest upsampling)
  in_w: u32,
  cout: u32,
  out_h: u32,
  out_w: u32,
  pad: u32,
}

override KSIZE: u32 = 3u;
override STRIDE: u32 = 1u;
override UPSAMPLE: u32 = 1u;   // 1, or 2 for a nearest ×2 upsampling before the convolution
override ACT: u32 = 0u;        // 0 none, 1 ReLU, 2 tanh
override WG_PX: u32 = 16u;     // threads along pixels
override WG_CO: u32 = 16u;     // threads along output channels; a multiple of 4
override TCO: u32 = 4u;        // output channels per thread: 1..4

const TILE_K: u32 = 16u;
const TPX: u32 = 4u;           // pixels per thread
override TILE_PX: u32 = WG_PX * TPX;
override TILE_CO: u32 = WG_CO * TCO;
override THREADS: u32 = WG_PX * WG_CO;
override ROW_STEP: u32 = THREADS / TILE_PX;   // patch rows loaded per pass of the workgroup

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

var<workgroup> tile_w: array<f32, TILE_K * TILE_CO>;
var<workgroup> tile_x: array<f32, TILE_K * TILE_PX>;

fn reflect_index(i: i32, size: i32) -> i32 {
  var r = i;
  if (r < 0) { r = -r; }
  if (r >= size) { r = 2 * size - 2 - r; }
  return r;
}

fn activate(v: f32) -> f32 {
  if (ACT == 1u) { return max(v, 0.0); }
  if (ACT == 2u) { return tanh(v); }
  return v;
}

@compute @workgroup_size(WG_PX, WG_CO, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) flat: u32) {
  let plane_out = params.out_h * params.out_w;
  let n_pix = params.batch * plane_out;
  let k_total = params.cin * KSIZE * KSIZE;
  let tile_px0 = wg.x * TILE_PX;
  let tile_co0 = wg.y * TILE_CO;

  // The one pixel column this thread stages for the patch tile, decoded once.
  let my_col = flat % TILE_PX;
  let my_row0 = flat / TILE_PX;
  let my_pix = tile_px0 + my_col;
  let col_valid = my_pix < n_pix;
  let pix = min(my_pix, n_pix - 1u);
  let img = pix / plane_out;
  let rem = pix - img * plane_out;
  let oy = rem / params.out_w;
  let ox = rem - oy * params.out_w;
  let up_h = i32(params.in_h * UPSAMPLE);
  let up_w = i32(params.in_w * UPSAMPLE);
  let iy0 = i32(oy * STRIDE) - i32(params.pad);
  let ix0 = i32(ox * STRIDE) - i32(params.pad);
  let in_plane = params.in_h * params.in_w;
  let img_base = img * params.cin * in_plane;

  var acc: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }

  for (var k0 = 0u; k0 < k_total; k0 += TILE_K) {
    // Stage weights: TILE_K rows × TILE_CO channels, contiguous along channels.
    for (var e = flat; e < TILE_K * TILE_CO; e += THREADS) {
      let kk = e / TILE_CO;
      let cc = e - kk * TILE_CO;
      let k = k0 + kk;
      let co = tile_co0 + cc;
      var v = 0.0;
      if (k < k_total && co < params.cout) { v = weight[k * params.cout + co]; }
      tile_w[e] = v;
    }
    // Stage patches: reflect padding and nearest upsampling happen in the index arithmetic.
    for (var kk = my_row0; kk < TILE_K; kk += ROW_STEP) {
      let k = k0 + kk;
      var v = 0.0;
      if (k < k_total && col_valid) {
        let ci = k / (KSIZE * KSIZE);
        let r = k - ci * KSIZE * KSIZE;
        let ky = r / KSIZE;
        let kx = r - ky * KSIZE;
        let iy = u32(reflect_index(iy0 + i32(ky), up_h)) / UPSAMPLE;
        let ix = u32(reflect_index(ix0 + i32(kx), up_w)) / UPSAMPLE;
        v = input[img_base + ci * in_plane + iy * params.in_w + ix];
      }
      tile_x[kk * TILE_PX + my_col] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TILE_K; kk++) {
      let xs = vec4<f32>(tile_x[kk * TILE_PX + lid.x], tile_x[kk * TILE_PX + lid.x + WG_PX],
                         tile_x[kk * TILE_PX + lid.x + 2u * WG_PX], tile_x[kk * TILE_PX + lid.x + 3u * WG_PX]);
      for (var i = 0u; i < TCO; i++) {
        acc[i] += tile_w[kk * TILE_CO + lid.y + i * WG_CO] * xs;
      }
    }
    workgroupBarrier();
  }

  for (var j = 0u; j < TPX; j++) {
    let p = tile_px0 + lid.x + j * WG_PX;
    if (p >= n_pix) { continue; }
    let n = p / plane_out;
    let q = p - n * plane_out;
    for (var i = 0u; i < TCO; i++) {
      let co = tile_co0 + lid.y + i * WG_CO;
      if (co < params.cout) {
        output[(n * params.cout + co) * plane_out + q] = activate(acc[i][j] + bias[co]);
      }
    }
  }
}
