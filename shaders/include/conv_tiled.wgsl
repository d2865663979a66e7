// The tiled convolution's algorithm, for conv2d_tiled.wgsl (f32) and conv2d_tiled_f16.wgsl (f16).
// The entry file declares `alias T` (the storage type of activations and weights) and F32_MATH
// (whether the products are formed in f32), then includes this file.
//
// 2-D convolution as an implicit GEMM, for GPUs: output[cout, pixel] = sum_k weight[k, cout] ·
// patch[k, pixel], with k = (cin, ky, kx) and pixel = (n, oy, ox) over the whole batch, so deep
// layers with few pixels per image still fill the tiles. Reflect padding and an optional nearest ×2
// upsampling of the input are folded into the patch loads (no padded or upsampled copy is ever
// written); bias and the activation are applied in f32 on the way out, and the result is rounded
// to T once.
//
// Thread-to-data mapping (register tiling): a workgroup of WG_PX × WG_CO threads owns a tile of
// TILE_PX = 4·WG_PX pixels × TILE_CO = 4·WG_CO output channels, and thread (tx, ty) accumulates a
// 4 × 4 block in registers: channels tile_co0 + 4·ty + {0..3} (contiguous, so its weights are one
// vec4) × pixels tile_px0 + tx + {0, 1, 2, 3}·WG_PX (strided, so that neighbouring threads load and
// store neighbouring pixels). Per step of TILE_K reduction rows the workgroup stages the weights
// and the im2col patch in workgroup memory as vec4<T>s, in exactly the order the threads read them:
// the inner loop is two vec4 loads and four vec4 FMAs per row (16 FMAs). Staging: each thread
// fills whole vec4 slots: 4 consecutive output channels of one weight row (one aligned vec4 load
// from the weights, contiguous across threads, when cout is a multiple of 4) or the 4 pixels of
// one patch slot for one row (gathered: their reflected offsets computed once per workgroup, the
// (cin, ky, kx) split once per row).
//
// Arithmetic: with F32_MATH the products are formed and summed in f32. Otherwise (f16 only) the
// products of one TILE_K step are summed in T (packed f16 FMAs: twice the rate of f32 on GPUs with
// native f16), and each step's partial sums are added into the f32 accumulators, so rounding error
// grows with TILE_K (≤ 32 terms), not with cin·k·k (up to thousands).
//
// The tile shape (WG_PX, WG_CO) and TILE_K are override constants chosen per adapter and layer by
// chooseConvTile (src/ops/conv-tiles.ts): threads ≤ maxComputeInvocationsPerWorkgroup, workgroup
// memory TILE_K·(WG_PX + WG_CO)·4·sizeof(T) bytes ≤ maxComputeWorkgroupStorageSize.
//
// Weights are stored transposed, [cin·k·k][cout], as T, so a row of a channel tile is contiguous.

//#include "conv_common.wgsl"

override WG_PX: u32 = 16u;     // threads along pixels (4 pixels each)
override WG_CO: u32 = 16u;     // threads along output channels (4 channels each)
override TILE_K: u32 = 16u;    // reduction rows staged per step

@group(0) @binding(1) var<storage, read> input: array<T>;
// [cin·k·k][cout] as vec4s (the buffer is padded to 16 bytes)
@group(0) @binding(2) var<storage, read> weight: array<vec4<T>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<T>;

// tile_w[kk·WG_CO + ty] = weights of channels 4·ty…4·ty+3;
// tile_x[kk·WG_PX + tx] = pixels tx + j·WG_PX.
var<workgroup> tile_w: array<vec4<T>, TILE_K * WG_CO>;
var<workgroup> tile_x: array<vec4<T>, TILE_K * WG_PX>;

// Weights of channels co…co+3 in row k (zero past cout). When cout is a multiple of 4 the four
// are one aligned vec4: a single load, contiguous across the threads of a row. Otherwise (the RGB
// output layer) they are read one component at a time.
fn weights4(k: u32, co: u32) -> vec4<T> {
  let at = k * params.cout + co;
  if (params.cout % 4u == 0u && co < params.cout) { return weight[at / 4u]; }
  var v = vec4<T>(0.0);
  for (var i = 0u; i < 4u; i++) {
    if (co + i < params.cout) { v[i] = weight[(at + i) / 4u][(at + i) % 4u]; }
  }
  return v;
}

@compute @workgroup_size(WG_PX, WG_CO, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) flat: u32) {
  let plane_out = params.out_h * params.out_w;
  let n_pix = params.batch * plane_out;
  let k_total = params.cin * KSIZE * KSIZE;
  let tile_px0 = wg.x * WG_PX * 4u;
  let tile_co0 = wg.y * WG_CO * 4u;
  let up_h = i32(params.in_h * UPSAMPLE);
  let up_w = i32(params.in_w * UPSAMPLE);
  let in_plane = params.in_h * params.in_w;

  // Patch staging: thread `flat` fills slot xs_slot (pixels xs_slot + j·WG_PX) of rows xs_row0,
  // xs_row0 + WG_CO, … The slot's 4 pixels' top-left input corners and image offsets are fixed
  // for the whole reduction: computed once here.
  let xs_slot = flat % WG_PX;
  let xs_row0 = flat / WG_PX;
  var iy0: vec4<i32>;
  var ix0: vec4<i32>;
  var img_base: vec4<u32>;
  var px_valid: vec4<bool>;
  for (var j = 0u; j < 4u; j++) {
    let pix = tile_px0 + xs_slot + j * WG_PX;
    let img = pix / plane_out;
    let rem = pix - img * plane_out;
    let oy = rem / params.out_w;
    let ox = rem - oy * params.out_w;
    iy0[j] = i32(oy * STRIDE) - i32(params.pad);
    ix0[j] = i32(ox * STRIDE) - i32(params.pad);
    img_base[j] = img * params.cin * in_plane;
    px_valid[j] = pix < n_pix;
  }
  // Weight staging: thread `flat` fills channel slot ws_slot of rows ws_row0, ws_row0 + WG_PX, ….
  let ws_slot = flat % WG_CO;
  let ws_row0 = flat / WG_CO;
  let ws_co = tile_co0 + 4u * ws_slot;

  var acc0 = vec4<f32>(0.0);   // channel 4·ty + 0, pixels tx + j·WG_PX
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);

  for (var k0 = 0u; k0 < k_total; k0 += TILE_K) {
    for (var kk = ws_row0; kk < TILE_K; kk += WG_PX) {
      let k = k0 + kk;
      var v = vec4<T>(0.0);
      if (k < k_total) { v = weights4(k, ws_co); }
      tile_w[kk * WG_CO + ws_slot] = v;
    }
    for (var kk = xs_row0; kk < TILE_K; kk += WG_CO) {
      let k = k0 + kk;
      var v = vec4<T>(0.0);
      if (k < k_total) {
        // Reflect padding and nearest upsampling live in this index arithmetic.
        let ci = k / (KSIZE * KSIZE);
        let r = k - ci * KSIZE * KSIZE;
        let ky = i32(r / KSIZE);
        let kx = i32(r % KSIZE);
        let ch = ci * in_plane;
        for (var j = 0u; j < 4u; j++) {
          if (px_valid[j]) {
            let iy = u32(reflect_index(iy0[j] + ky, up_h)) / UPSAMPLE;
            let ix = u32(reflect_index(ix0[j] + kx, up_w)) / UPSAMPLE;
            v[j] = input[img_base[j] + ch + iy * params.in_w + ix];
          }
        }
      }
      tile_x[kk * WG_PX + xs_slot] = v;
    }
    workgroupBarrier();
    if (F32_MATH) {
      for (var kk = 0u; kk < TILE_K; kk++) {
        let xs = vec4<f32>(tile_x[kk * WG_PX + lid.x]);
        let ws = vec4<f32>(tile_w[kk * WG_CO + lid.y]);
        acc0 += ws.x * xs;
        acc1 += ws.y * xs;
        acc2 += ws.z * xs;
        acc3 += ws.w * xs;
      }
    } else {
      var part0 = vec4<T>(0.0);
      var part1 = vec4<T>(0.0);
      var part2 = vec4<T>(0.0);
      var part3 = vec4<T>(0.0);
      for (var kk = 0u; kk < TILE_K; kk++) {
        let xs = tile_x[kk * WG_PX + lid.x];
        let ws = tile_w[kk * WG_CO + lid.y];
        part0 += ws.x * xs;
        part1 += ws.y * xs;
        part2 += ws.z * xs;
        part3 += ws.w * xs;
      }
      acc0 += vec4<f32>(part0);
      acc1 += vec4<f32>(part1);
      acc2 += vec4<f32>(part2);
      acc3 += vec4<f32>(part3);
    }
    workgroupBarrier();
  }

  let co = tile_co0 + 4u * lid.y;
  let p0 = tile_px0 + lid.x;
  store_row(co, p0, acc0, n_pix, plane_out);
  store_row(co + 1u, p0, acc1, n_pix, plane_out);
  store_row(co + 2u, p0, acc2, n_pix, plane_out);
  store_row(co + 3u, p0, acc3, n_pix, plane_out);
}

// Writes one output channel's 4 pixels (p0 + j·WG_PX) with bias and activation.
fn store_row(co: u32, p0: u32, acc: vec4<f32>, n_pix: u32, plane_out: u32) {
  if (co >= params.cout) { return; }
  for (var j = 0u; j < 4u; j++) {
    let p = p0 + j * WG_PX;
    if (p >= n_pix) { return; }
    let n = p / plane_out;
    let q = p - n * plane_out;
    output[(n * params.cout + co) * plane_out + q] = T(activate(acc[j] + bias[co]));
  }
}
