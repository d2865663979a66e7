// Winograd F(4×4, 3×3), step 2 of 3: the 36 (F(4×4, 2×2): 25) batched products
// M[p] = U[p]^T V[p] (layouts in shaders/include/winograd.wgsl), for CPU adapters with subgroups
// of at least 8 lanes (lavapipe through Dawn), where a lane is a SIMD lane and every load whose
// address differs per lane, or sits in a loop, is issued lane by lane: loads are the cost, so each
// one must feed many FMAs.
//
// Thread-to-data mapping: a workgroup is one subgroup of 8 lanes; workgroup_id.z = position p,
// workgroup_id.y = a block of COB (8 or 16) output channels c0 … c0 + COB − 1, lane l
// (global_invocation_id.x) = 4 consecutive tiles 4·gid.x … 4·gid.x + 3, read as one vec4 of V per
// input channel. acc[j] holds channel c0 + j of the lane's 4 tiles (4·COB accumulators). Per 4
// input channels k0 … k0 + 3, lane l loads U[p][k0 + l / 2][c0 + 4·(l % 2) … + 3] (and, with COB
// 16, the 4 channels 8 further on), and the weights reach every lane by subgroupShuffle (cheap: a
// permute). So per 4 input channels a lane makes 6 vec4 loads for 256 multiply-adds (COB 16; 5
// for 128 with COB 8). Measured on lavapipe at 128 → 128 channels, 128 tiles: COB 16 ran 1.5 to
// 2× the GFLOP/s of COB 8; 8 tiles × 8 channels a lane, 4 × 16 with one weight load per 2 input
// channels, and unrolling by 8 input channels were all slower (more loads or register spills).
// No bounds check: tiles_pad is a multiple of 32, cout of COB and cin of 4 (src/ops/winograd.ts).

enable subgroups;

//#include "include/winograd.wgsl"

override COB: u32 = 16u;

@group(0) @binding(1) var<storage, read> transformed: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> weight: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> products: array<vec4<f32>>;

// Indexed only with constants (after inlining), so the compiler keeps it in registers.
var<private> acc: array<vec4<f32>, 16>;

// One input channel: the 4 tiles' values x times 8 channels a … a + 7 of the block, whose weights
// are in the vec4 w of lanes l (channels a … a + 3) and l + 1 (a + 4 … a + 7).
fn step(x: vec4<f32>, w: vec4<f32>, l: u32, a: u32) {
  acc[a] += x * subgroupShuffle(w.x, l);
  acc[a + 1u] += x * subgroupShuffle(w.y, l);
  acc[a + 2u] += x * subgroupShuffle(w.z, l);
  acc[a + 3u] += x * subgroupShuffle(w.w, l);
  acc[a + 4u] += x * subgroupShuffle(w.x, l + 1u);
  acc[a + 5u] += x * subgroupShuffle(w.y, l + 1u);
  acc[a + 6u] += x * subgroupShuffle(w.z, l + 1u);
  acc[a + 7u] += x * subgroupShuffle(w.w, l + 1u);
}

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>,
        @builtin(subgroup_invocation_id) lane: u32) {
  let p = wg.z;
  let c0 = wg.y * COB;
  let row = params.tiles_pad / 4u; // vec4s of tiles per input channel
  let cout4 = params.cout / 4u;
  var vi = p * params.cin * row + gid.x;
  var ui = (p * params.cin + lane / 2u) * cout4 + c0 / 4u + lane % 2u;
  for (var k = 0u; k < params.cin; k += 4u) {
    let w = weight[ui];
    let x0 = transformed[vi];
    let x1 = transformed[vi + row];
    let x2 = transformed[vi + 2u * row];
    let x3 = transformed[vi + 3u * row];
    step(x0, w, 0u, 0u);
    step(x1, w, 2u, 0u);
    step(x2, w, 4u, 0u);
    step(x3, w, 6u, 0u);
    if (COB > 8u) {
      let w2 = weight[ui + 2u];
      step(x0, w2, 0u, 8u);
      step(x1, w2, 2u, 8u);
      step(x2, w2, 4u, 8u);
      step(x3, w2, 6u, 8u);
    }
    vi += 4u * row;
    ui += 4u * cout4;
  }
  let out = (p * params.cout + c0) * row + gid.x;
  for (var j = 0u; j < COB; j++) { products[out + j * row] = acc[j]; }
}
