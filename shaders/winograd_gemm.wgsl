// Winograd F(4×4, 3×3), step 2 of 3: the 36 batched products M[p] = U[p]^T V[p] (layouts in
// shaders/include/winograd.wgsl), for CPU adapters with subgroups of at least 8 lanes (lavapipe
// through Dawn), where a lane is a SIMD lane and every load whose address differs per lane, or
// sits in a loop, is issued lane by lane: loads are the cost, so each one must feed many FMAs.
//
// Thread-to-data mapping: a workgroup is one subgroup of 8 lanes; workgroup_id.z = position p,
// workgroup_id.y = a block of 8 output channels c0 … c0 + 7, lane l (global_invocation_id.x) = 4
// consecutive tiles 4·gid.x … 4·gid.x + 3, read as one vec4 of V per input channel. acc[j] holds
// channel c0 + j of the lane's 4 tiles (32 accumulators). Per 4 input channels k0 … k0 + 3, lane l
// loads one vec4 of U, U[p][k0 + l / 2][c0 + 4·(l % 2) … + 3], and the 32 weights reach every lane
// by subgroupShuffle (cheap: a permute). So per 4 input channels a lane makes 5 vec4 loads for 128
// multiply-adds. No bounds check: tiles_pad is a multiple of 32 and cout of 8, cin of 4
// (src/ops/winograd.ts).

enable subgroups;

//#include "include/winograd.wgsl"

@group(0) @binding(1) var<storage, read> transformed: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> weight: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> products: array<vec4<f32>>;

// Indexed only with constants (after inlining), so the compiler keeps it in registers.
var<private> acc: array<vec4<f32>, 8>;

// One input channel: the 4 tiles' values x times channels c0 … c0 + 7, whose weights are in the
// vec4 w of lanes l (channels 0…3) and l + 1 (4…7).
fn step(x: vec4<f32>, w: vec4<f32>, l: u32) {
  acc[0] += x * subgroupShuffle(w.x, l);
  acc[1] += x * subgroupShuffle(w.y, l);
  acc[2] += x * subgroupShuffle(w.z, l);
  acc[3] += x * subgroupShuffle(w.w, l);
  acc[4] += x * subgroupShuffle(w.x, l + 1u);
  acc[5] += x * subgroupShuffle(w.y, l + 1u);
  acc[6] += x * subgroupShuffle(w.z, l + 1u);
  acc[7] += x * subgroupShuffle(w.w, l + 1u);
}

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>,
        @builtin(subgroup_invocation_id) lane: u32) {
  let p = wg.z;
  let c0 = wg.y * 8u;
  let row = params.tiles_pad / 4u; // vec4s of tiles per input channel
  let cout4 = params.cout / 4u;
  var vi = p * params.cin * row + gid.x;
  var ui = (p * params.cin + lane / 2u) * cout4 + c0 / 4u + lane % 2u;
  for (var k = 0u; k < params.cin; k += 4u) {
    let w = weight[ui];
    step(transformed[vi], w, 0u);
    step(transformed[vi + row], w, 2u);
    step(transformed[vi + 2u * row], w, 4u);
    step(transformed[vi + 3u * row], w, 6u);
    vi += 4u * row;
    ui += 4u * cout4;
  }
  let out = (p * params.cout + c0) * row + gid.x;
  for (var j = 0u; j < 8u; j++) { products[out + j * row] = acc[j]; }
}
