// The row-tiled convolution (include/conv_direct.wgsl, where its thread-to-data mapping is) for
// CPU adapters without usable subgroups (Deno on lavapipe, Chromium on SwiftShader): a lane owns
// PX output pixels along x for COB output channels, and every lane loads the weights it needs
// itself (the same addresses across the workgroup).

//#include "include/conv_direct.wgsl"

// As vec4s, for one load of 4 channels where cout allows (weight buffers are padded to whole
// vec4s, src/upload.ts); weight_at reads one value.
@group(0) @binding(2) var<storage, read> weight: array<vec4<f32>>;

fn weight_at(i: u32) -> f32 {
  return weight[i / 4u][i % 4u];
}

// Four consecutive weights of row `row` from channel c (clamped: channels past cout are computed
// on a repeated weight and never stored): one vec4 load on a cout of whole vec4s.
fn weights4(row: u32, c: u32) -> vec4<f32> {
  if (params.cout % 4u == 0u) { return weight[(row + min(c, params.cout - 4u)) / 4u]; }
  let last = params.cout - 1u;
  return vec4<f32>(weight_at(row + min(c, last)), weight_at(row + min(c + 1u, last)),
                   weight_at(row + min(c + 2u, last)), weight_at(row + min(c + 3u, last)));
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

// Weights rows k … k + 3 (4 taps of one input channel).
fn load_weights4(k: u32, c0: u32, lane: u32) -> array<Weights, 4> {
  return array<Weights, 4>(load_weights(k, c0, lane), load_weights(k + 1u, c0, lane),
                           load_weights(k + 2u, c0, lane), load_weights(k + 3u, c0, lane));
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  convolve(gid, wg, 0u);
}
