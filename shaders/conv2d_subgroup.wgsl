// The row-tiled convolution (include/conv_direct.wgsl, where its thread-to-data mapping is) for
// CPU adapters with subgroups of at least 8 lanes (lavapipe through Dawn). There, invocations are
// SIMD lanes and a load whose address differs per lane is issued lane by lane (a gather costs about
// as much as 20 multiply-adds), so each weight is gathered by one lane and handed to the others
// with subgroupBroadcast: per input channel and tap, lane l gathers weight[k][c0 + l] (and
// [c0 + 8 + l] when COB = 16); every lane takes channels c0 … c0 + COB − 1 from lanes 0..7.
// The pipeline is only created on devices with the `subgroups` feature and a minimum subgroup size
// of 8 (src/device.ts).

enable subgroups;

//#include "include/conv_direct.wgsl"

@group(0) @binding(2) var<storage, read> weight: array<f32>;

// Weights row k (one input channel and tap) for channels c0 … c0 + COB − 1, in every lane.
// (subgroupBroadcast takes its lane as a constant, hence the spelled-out lanes.)
fn load_weights(k: u32, c0: u32, lane: u32) -> Weights {
  let row = k * params.cout;
  let last = params.cout - 1u;
  let wa = weight[row + min(c0 + lane, last)];
  var w = Weights(vec4<f32>(subgroupBroadcast(wa, 0u), subgroupBroadcast(wa, 1u),
                            subgroupBroadcast(wa, 2u), subgroupBroadcast(wa, 3u)),
                  vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  if (COB > 4u) {
    w.q1 = vec4<f32>(subgroupBroadcast(wa, 4u), subgroupBroadcast(wa, 5u),
                     subgroupBroadcast(wa, 6u), subgroupBroadcast(wa, 7u));
  }
  if (COB > 8u) {
    let wb = weight[row + min(c0 + 8u + lane, last)];
    w.q2 = vec4<f32>(subgroupBroadcast(wb, 0u), subgroupBroadcast(wb, 1u),
                     subgroupBroadcast(wb, 2u), subgroupBroadcast(wb, 3u));
    w.q3 = vec4<f32>(subgroupBroadcast(wb, 4u), subgroupBroadcast(wb, 5u),
                     subgroupBroadcast(wb, 6u), subgroupBroadcast(wb, 7u));
  }
  return w;
}

var<private> subgroup_lanes: u32;

// Whether the lanes below and above this one (lane ∓ 1) hold the runs id − 1 and id + 1, whose
// values from_run_before / from_run_after hand over (the subgroup's lanes need not follow the
// invocation ids, hence the check).
fn runs_beside(id: u32, lane: u32) -> vec2<bool> {
  let below = subgroupShuffleUp(id, 1u);
  let above = subgroupShuffleDown(id, 1u);
  return vec2<bool>(lane > 0u && below + 1u == id, lane + 1u < subgroup_lanes && above == id + 1u);
}

fn from_run_before(v: vec4<f32>) -> vec4<f32> { return subgroupShuffleUp(v, 1u); }
fn from_run_after(v: vec4<f32>) -> vec4<f32> { return subgroupShuffleDown(v, 1u); }

// Weights rows k … k + 3 (4 taps of one input channel) for channels c0 … c0 + COB − 1, in every
// lane. With COB 4 a load of the 8 lanes fetches 2 rows: lane l gathers weight[k + l / 4][c0 +
// l % 4]. (Loading 4 rows of 8 channels as one vec4 a lane and broadcasting vec4s measured
// slower on lavapipe than 4 scalar loads.)
fn load_weights4(k: u32, c0: u32, lane: u32) -> array<Weights, 4> {
  let last = params.cout - 1u;
  let z = vec4<f32>(0.0);
  if (COB == 4u) {
    let wa = weight[(k + lane / 4u) * params.cout + min(c0 + lane % 4u, last)];
    let wb = weight[(k + 2u + lane / 4u) * params.cout + min(c0 + lane % 4u, last)];
    return array<Weights, 4>(Weights(spread4(wa, 0u), z, z, z), Weights(spread4(wa, 4u), z, z, z),
                             Weights(spread4(wb, 0u), z, z, z), Weights(spread4(wb, 4u), z, z, z));
  }
  return array<Weights, 4>(load_weights(k, c0, lane), load_weights(k + 1u, c0, lane),
                           load_weights(k + 2u, c0, lane), load_weights(k + 3u, c0, lane));
}

// Lanes first … first + 3 of w (first is 0 or 4).
fn spread4(w: f32, first: u32) -> vec4<f32> {
  if (first == 0u) {
    return vec4<f32>(subgroupBroadcast(w, 0u), subgroupBroadcast(w, 1u), subgroupBroadcast(w, 2u),
                     subgroupBroadcast(w, 3u));
  }
  return vec4<f32>(subgroupBroadcast(w, 4u), subgroupBroadcast(w, 5u), subgroupBroadcast(w, 6u),
                   subgroupBroadcast(w, 7u));
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>,
        @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) lanes: u32) {
  subgroup_lanes = lanes;
  convolve(gid, wg, lane);
}
