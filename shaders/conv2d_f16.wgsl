// f16 twin of conv2d.wgsl (keep the two in step): the same implicit GEMM, tiles, thread-to-data
// mapping and staging, with activations and weights stored as f16 (half the memory traffic and
// half the workgroup memory per tile, so TILE_K can double). Bias stays f32.
//
// Thread-to-data mapping (as conv2d.wgsl): a workgroup of WG_PX × WG_CO threads owns TILE_PX =
// 4·WG_PX pixels × TILE_CO = 4·WG_CO output channels; thread (tx, ty) keeps channels tile_co0 +
// 4·ty + {0..3} × pixels tile_px0 + tx + {0..3}·WG_PX in registers; weights and the im2col patch
// are staged per TILE_K rows in workgroup memory as vec4<f16>, in the order the threads read them.
//
// Arithmetic: the products of one TILE_K step are summed in f16 (packed f16 FMAs: twice the rate of
// f32 on GPUs with native f16), and each step's partial sums are added into f32 accumulators, so
// rounding error grows with TILE_K (≤ 32 terms), not with cin·k·k (up to thousands). With
// F32_MATH the products are formed in f32 instead (f16 storage only). Reflect padding and nearest
// ×2 upsampling are folded into the patch loads; bias and activation are applied in f32 and the
// result rounded to f16 once.
//
// Weights are stored transposed, [cin·k·k][cout], as f16.

enable f16;

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
override WG_PX: u32 = 16u;     // threads along pixels (4 pixels each)
override WG_CO: u32 = 16u;     // threads along output channels (4 channels each)
override TILE_K: u32 = 16u;    // reduction rows staged per step
override F32_MATH: bool = false; // products in f32 (else f16, summed per TILE_K step)

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> input: array<f16>;
@group(0) @binding(2) var<storage, read> weight: array<vec4<f16>>;   // [cin·k·k][cout] as vec4s (buffer padded to 16 bytes)
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f16>;

// tile_w[kk·WG_CO + ty] = weights of channels 4·ty…4·ty+3; tile_x[kk·WG_PX + tx] = pixels tx + j·WG_PX.
var<workgroup> tile_w: array<vec4<f16>, TILE_K * WG_CO>;
var<workgroup> tile_x: array<vec4<f16>, TILE_K * WG_PX>;

fn reflect_index(i: i32, size: i32) -> i32 {
  var r = i;
  if (r < 0) { r = -r; }
  if (r >= size) { r = 2 * size - 2 - r; }
  return r;
}

// Weights of channels co…co+3 in row k (zero past cout). When cout is a multiple of 4 the four
// are one aligned vec4<f16>: a single 8-byte load, contiguous across the threads of a
// row. Otherwise (the RGB output layer) they are read one component at a time.
fn weights4(k: u32, co: u32) -> vec4<f16> {
  let at = k * params.cout + co;
  if (params.cout % 4u == 0u && co < params.cout) { return weight[at / 4u]; }
  var v = vec4<f16>(0.0);
  for (var i = 0u; i < 4u; i++) {
    if (co + i < params.cout) { v[i] = weight[(at + i) / 4u][(at + i) % 4u]; }
  }
  return v;
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
      var v = vec4<f16>(0.0);
      if (k < k_total) { v = weights4(k, ws_co); }
      tile_w[kk * WG_CO + ws_slot] = v;
    }
    for (var kk = xs_row0; kk < TILE_K; kk += WG_CO) {
      let k = k0 + kk;
      var v = vec4<f16>(0.0);
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
      var part0 = vec4<f16>(0.0);
      var part1 = vec4<f16>(0.0);
      var part2 = vec4<f16>(0.0);
      var part3 = vec4<f16>(0.0);
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
    output[(n * params.cout + co) * plane_out + q] = f16(activate(acc[j] + bias[co]));
  }
}
