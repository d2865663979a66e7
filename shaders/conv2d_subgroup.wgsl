// 2-D convolution for CPU adapters with subgroups of at least 8 lanes (lavapipe through Dawn):
// conv2d_direct.wgsl's lane-per-pixel mapping, but each weight is loaded by one lane and handed to
// the others with subgroupBroadcast. On SIMD-lane implementations a load whose address does not
// vary across lanes is still issued once per lane inside loops, so cooperative loading cuts the
// weight loads eightfold (measured about 3× faster than conv2d_direct.wgsl on lavapipe). Reflect
// padding, nearest ×2 upsampling, bias and activation are fused, as in the other conv kernels.
//
// Thread-to-data mapping: invocation (global_invocation_id.x) = one output pixel of the batch;
// workgroup_id.y = a block of COB output channels (4, 8 or 16) shared by the workgroup. Per input
// channel and tap, lane l loads weight[k][c0 + l] (and [c0 + 8 + l] when COB = 16); every lane then
// takes channels c0 … c0 + COB − 1 from lanes 0..7 and accumulates them for its own pixel in COB/4
// vec4 accumulators. The reduction runs ky, kx outermost and input channels innermost.
//
// Weights are stored transposed, [cin·k·k][cout], as for conv2d.wgsl. The pipeline is only created
// on devices with the `subgroups` feature and a minimum subgroup size of 8 (src/device.ts).

enable subgroups;

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

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>,
        @builtin(subgroup_invocation_id) lane: u32) {
  let last = params.cout - 1u;
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
        let row = k * params.cout;
        let wa = weight[row + min(c0 + lane, last)];
        acc0 += vec4<f32>(subgroupBroadcast(wa, 0u), subgroupBroadcast(wa, 1u), subgroupBroadcast(wa, 2u), subgroupBroadcast(wa, 3u)) * x;
        if (COB > 4u) { acc1 += vec4<f32>(subgroupBroadcast(wa, 4u), subgroupBroadcast(wa, 5u), subgroupBroadcast(wa, 6u), subgroupBroadcast(wa, 7u)) * x; }
        if (COB > 8u) {
          let wb = weight[row + min(c0 + 8u + lane, last)];
          acc2 += vec4<f32>(subgroupBroadcast(wb, 0u), subgroupBroadcast(wb, 1u), subgroupBroadcast(wb, 2u), subgroupBroadcast(wb, 3u)) * x;
          acc3 += vec4<f32>(subgroupBroadcast(wb, 4u), subgroupBroadcast(wb, 5u), subgroupBroadcast(wb, 6u), subgroupBroadcast(wb, 7u)) * x;
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
