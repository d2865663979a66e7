// f16 twin of mean_pool.wgsl (keep the two in step): global average pooling fused with the mean
// over the K class images, reading f16 activations and writing the pooled features as f32 (the
// class code and the MLP stay f32):
//   out[g, c] = mean over images k of group g and all (y, x) of x[g·K + k, c, y, x].
// Sums are accumulated in f32.
//
// Thread-to-data mapping: one workgroup of WG threads per output (g, c), workgroup_id.x =
// g · channels + c; threads stride over the K planes' elements and reduce in workgroup memory.

enable f16;

struct PoolParams {
  groups: u32,
  images_per_group: u32,
  channels: u32,
  plane: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: PoolParams;
@group(0) @binding(1) var<storage, read> input: array<f16>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let g = wg.x / params.channels;
  let c = wg.x % params.channels;
  let per_image = params.plane;
  let total = params.images_per_group * per_image;
  var s = 0.0;
  for (var i = t; i < total; i += WG) {
    let k = i / per_image;
    let p = i - k * per_image;
    s += f32(input[((g * params.images_per_group + k) * params.channels + c) * per_image + p]);
  }
  partial[t] = s;
  workgroupBarrier();
  for (var step = WG / 2u; step > 0u; step >>= 1u) {
    if (t < step) { partial[t] += partial[t + step]; }
    workgroupBarrier();
  }
  if (t == 0u) { output[wg.x] = partial[0] / f32(total); }
}
