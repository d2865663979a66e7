// Global average pooling fused with the mean over the K class images, for mean_pool.wgsl (f32)
// and mean_pool_f16.wgsl: the entry file declares `alias T`, the input's storage type; sums are
// f32 and the pooled features are written as f32 (the class code and the MLP stay f32):
//   out[g, c] = mean over images k of group g and all (y, x) of x[g·K + k, c, y, x].
// FUNIT's class code is the mean over K of conv1x1(pool(features_k)); the 1×1 convolution is
// affine, so pooling over K·H·W first and applying it once (linear.wgsl) gives the same code
// with one reduction instead of K.
//
// Thread-to-data mapping: one workgroup of WG threads per output (g, c), workgroup_id.x =
// g · channels + c; threads stride over the K planes' elements and reduce in workgroup memory.

struct PoolParams {
  groups: u32,
  images_per_group: u32,
  channels: u32,
  plane: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: PoolParams;
@group(0) @binding(1) var<storage, read> input: array<T>;
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
