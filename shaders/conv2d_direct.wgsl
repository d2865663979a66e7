// 2-D convolution for CPU adapters (lavapipe, SwiftShader), where invocations are SIMD lanes: the
// same arithmetic as conv2d.wgsl (reflect padding, nearest ×2 upsampling, bias, activation, all
// fused), but with no workgroup memory and no barriers, and with every weight load uniform across
// the workgroup, which those compilers turn into one scalar load broadcast to all lanes instead of
// a per-lane gather.
//
// Thread-to-data mapping: invocation (global_invocation_id.x) = one output pixel of the batch;
// workgroup_id.y = a block of COB output channels (4, 8 or 16), shared by the whole workgroup, so
// the weight index never depends on the invocation. Each invocation keeps COB/4 vec4 accumulators
// (channels c0 + 4i … c0 + 4i + 3). The reduction runs ky, kx outermost (the reflected input offset
// is computed once per tap) and input channels innermost (a plain stride through the planes).
//
// Weights are stored transposed, [cin·k·k][cout], as for conv2d.wgsl.

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
override UPSAMPLE: u32 = 1u;
override ACT: u32 = 0u;        // 0 none, 1 ReLU, 2 tanh
override WG: u32 = 64u;
override COB: u32 = 16u;       // output channels per workgroup row: 4, 8 or 16

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

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

// Four consecutive weights of row k from channel c (clamped: channels past cout are computed on
// a repeated weight and never stored).
fn weights4(k: u32, c: u32) -> vec4<f32> {
  let row = k * params.cout;
  let last = params.cout - 1u;
  return vec4<f32>(weight[row + min(c, last)], weight[row + min(c + 1u, last)],
                   weight[row + min(c + 2u, last)], weight[row + min(c + 3u, last)]);
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  let plane_out = params.out_h * params.out_w;
  let n_pix = params.batch * plane_out;
  let p = min(gid.x, n_pix - 1u);
  let img = p / plane_out;
  let q = p - img * plane_out;
  let oy = q / params.out_w;
  let ox = q - oy * params.out_w;
  let c0 = wg.y * COB;
  let up_h = i32(params.in_h * UPSAMPLE);
  let up_w = i32(params.in_w * UPSAMPLE);
  let in_plane = params.in_h * params.in_w;
  let img_base = img * params.cin * in_plane;
  let taps = KSIZE * KSIZE;

  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var ky = 0u; ky < KSIZE; ky++) {
    let iy = u32(reflect_index(i32(oy * STRIDE + ky) - i32(params.pad), up_h)) / UPSAMPLE;
    for (var kx = 0u; kx < KSIZE; kx++) {
      let ix = u32(reflect_index(i32(ox * STRIDE + kx) - i32(params.pad), up_w)) / UPSAMPLE;
      var at = img_base + iy * params.in_w + ix;
      var k = ky * KSIZE + kx;
      for (var ci = 0u; ci < params.cin; ci++) {
        let x = input[at];
        acc0 += weights4(k, c0) * x;
        if (COB > 4u) { acc1 += weights4(k, c0 + 4u) * x; }
        if (COB > 8u) {
          acc2 += weights4(k, c0 + 8u) * x;
          acc3 += weights4(k, c0 + 12u) * x;
        }
        at += in_plane;
        k += taps;
      }
    }
  }
  if (gid.x >= n_pix) { return; }
  let out_base = img * params.cout * plane_out + q;
  store4(out_base, c0, acc0, plane_out);
  if (COB > 4u) { store4(out_base, c0 + 4u, acc1, plane_out); }
  if (COB > 8u) {
    store4(out_base, c0 + 8u, acc2, plane_out);
    store4(out_base, c0 + 12u, acc3, plane_out);
  }
}

fn store4(out_base: u32, c: u32, acc: vec4<f32>, plane_out: u32) {
  for (var i = 0u; i < 4u; i++) {
    if (c + i < params.cout) {
      output[out_base + (c + i) * plane_out] = activate(acc[i] + bias[c + i]);
    }
  }
}
