// 2-D convolution as an implicit GEMM: output[cout, pixel] = sum_k weight[k, cout] * patch[k, pixel],
// with k = (cin, ky, kx) and pixel = (n, oy, ox) over the whole batch, so deep layers with few
// pixels per image still fill the tiles. Reflect padding and an optional nearest ×2 upsampling of
// the input are folded into the patch loads (no padded or upsampled copy is ever written); bias
// and the activation are applied on the way out.
//
// Thread-to-data mapping: a workgroup of WG_PX × WG_CO threads owns a tile of TILE_CO = WG_CO·TCO
// output channels × TILE_PX = WG_PX·4 pixels. Thread (tx, ty) accumulates channels
// {ty + i·WG_CO | i < TCO} × pixels {tx + j·WG_PX | j < 4}: strided, so that neighbouring threads
// write neighbouring pixels. Per step of TILE_K reduction rows the workgroup stages the weights and
// the im2col patch rows in workgroup memory, packed as vec4s in exactly the order each thread
// reads them: the inner loop is two vec4 loads and TCO vec4 FMAs per row.
//
// Weights are stored transposed, [cin·k·k][cout], so a row of a channel tile is contiguous.

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
override WG_CO: u32 = 16u;     // threads along output channels
override TCO: u32 = 4u;        // output channels per thread: 1..4

const TILE_K: u32 = 16u;
const TPX: u32 = 4u;           // pixels per thread
override TILE_PX: u32 = WG_PX * TPX;
override TILE_CO: u32 = WG_CO * TCO;
override THREADS: u32 = WG_PX * WG_CO;

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

// tile_w[kk·WG_CO + ty][i] = weight of channel ty + i·WG_CO; tile_x[kk·WG_PX + tx][j] = pixel tx + j·WG_PX.
var<workgroup> tile_w: array<vec4<f32>, TILE_K * WG_CO>;
var<workgroup> tile_x: array<vec4<f32>, TILE_K * WG_PX>;

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
  let up_h = i32(params.in_h * UPSAMPLE);
  let up_w = i32(params.in_w * UPSAMPLE);
  let in_plane = params.in_h * params.in_w;

  // Patch staging: with at least TILE_PX threads each thread owns one column and every
  // ROW_STEP-th row; with fewer, each thread owns several columns and all rows.
  var col0 = flat;
  var row0 = 0u;
  var row_step = 1u;
  if (THREADS >= TILE_PX) {
    col0 = flat % TILE_PX;
    row0 = flat / TILE_PX;
    row_step = THREADS / TILE_PX;
  }

  // Four named accumulators, not an array: a runtime-indexed private array becomes scattered
  // memory traffic on CPU implementations (lavapipe), while named vectors stay in registers.
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);

  for (var k0 = 0u; k0 < k_total; k0 += TILE_K) {
    for (var e = flat; e < TILE_K * TILE_CO; e += THREADS) {
      let kk = e / TILE_CO;
      let cc = e - kk * TILE_CO;
      let k = k0 + kk;
      let co = tile_co0 + cc;
      var v = 0.0;
      if (k < k_total && co < params.cout) { v = weight[k * params.cout + co]; }
      tile_w[kk * WG_CO + cc % WG_CO][cc / WG_CO] = v;
    }
    for (var col = col0; col < TILE_PX; col += THREADS) {
      let pix = tile_px0 + col;
      let col_valid = pix < n_pix;
      let img = pix / plane_out;
      let rem = pix - img * plane_out;
      let oy = rem / params.out_w;
      let ox = rem - oy * params.out_w;
      let iy0 = i32(oy * STRIDE) - i32(params.pad);
      let ix0 = i32(ox * STRIDE) - i32(params.pad);
      let img_base = img * params.cin * in_plane;
      let slot = col % WG_PX;
      let lane = col / WG_PX;
      for (var kk = row0; kk < TILE_K; kk += row_step) {
        let k = k0 + kk;
        var v = 0.0;
        if (k < k_total && col_valid) {
          // Reflect padding and nearest upsampling live in this index arithmetic.
          let ci = k / (KSIZE * KSIZE);
          let r = k - ci * KSIZE * KSIZE;
          let ky = r / KSIZE;
          let kx = r - ky * KSIZE;
          let iy = u32(reflect_index(iy0 + i32(ky), up_h)) / UPSAMPLE;
          let ix = u32(reflect_index(ix0 + i32(kx), up_w)) / UPSAMPLE;
          v = input[img_base + ci * in_plane + iy * params.in_w + ix];
        }
        tile_x[kk * WG_PX + slot][lane] = v;
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TILE_K; kk++) {
      let xs = tile_x[kk * WG_PX + lid.x];
      let ws = tile_w[kk * WG_CO + lid.y];
      acc0 += ws.x * xs;
      if (TCO > 1u) { acc1 += ws.y * xs; }
      if (TCO > 2u) { acc2 += ws.z * xs; }
      if (TCO > 3u) { acc3 += ws.w * xs; }
    }
    workgroupBarrier();
  }

  store_row(tile_co0 + lid.y, tile_px0 + lid.x, acc0, n_pix, plane_out);
  if (TCO > 1u) { store_row(tile_co0 + lid.y + WG_CO, tile_px0 + lid.x, acc1, n_pix, plane_out); }
  if (TCO > 2u) { store_row(tile_co0 + lid.y + 2u * WG_CO, tile_px0 + lid.x, acc2, n_pix, plane_out); }
  if (TCO > 3u) { store_row(tile_co0 + lid.y + 3u * WG_CO, tile_px0 + lid.x, acc3, n_pix, plane_out); }
}

// Writes one output channel's 4 pixels (p0 + j·WG_PX) with bias and activation.
fn store_row(co: u32, p0: u32, acc: vec4<f32>, n_pix: u32, plane_out: u32) {
  if (co >= params.cout) { return; }
  for (var j = 0u; j < TPX; j++) {
    let p = p0 + j * WG_PX;
    if (p >= n_pix) { return; }
    let n = p / plane_out;
    let q = p - n * plane_out;
    output[(n * params.cout + co) * plane_out + q] = activate(acc[j] + bias[co]);
  }
}
