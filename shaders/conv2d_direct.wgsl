// The row-tiled convolution (include/conv_direct.wgsl, where its thread-to-data mapping is) for
// CPU adapters without usable subgroups (Deno on lavapipe, Chromium on SwiftShader): a lane owns
// PX output pixels along x for COB output channels, and every lane loads the weights it needs
// itself (the same addresses across the workgroup).

//#include "include/conv_direct.wgsl"

// Four consecutive weights of row `row` from channel c (clamped: channels past cout are computed
// on a repeated weight and never stored).
fn weights4(row: u32, c: u32) -> vec4<f32> {
  let last = params.cout - 1u;
  return vec4<f32>(weight[row + min(c, last)], weight[row + min(c + 1u, last)],
                   weight[row + min(c + 2u, last)], weight[row + min(c + 3u, last)]);
}

// Weights row k (one input channel and tap) for channels c0 … c0 + COB − 1 (`lane` unused).
fn load_weights(k: u32, c0: u32, lane: u32) -> Weights {
  let row = k * params.cout;
  var w = Weights(weights4(row, c0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  if (COB > 4u) { w.q1 = weights4(row, c0 + 4u); }
  if (COB > 8u) { w.q2 = weights4(row, c0 + 8u); w.q3 = weights4(row, c0 + 12u); }
  return w;
}

// No lane hands values to another: the vec4 paths load the columns beside a run themselves.
fn runs_beside(id: u32, lane: u32) -> vec2<bool> { return vec2<bool>(false); }
fn from_run_before(v: vec4<f32>) -> vec4<f32> { return v; }
fn from_run_after(v: vec4<f32>) -> vec4<f32> { return v; }

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  convolve(gid, wg, 0u);
}
