// What every convolution kernel shares (conv2d_tiled, conv2d_tiled_f16, conv2d_direct,
// conv2d_subgroup): the params struct (one layout, so the runtime and bench/ fill every
// convolution's params the same way), the shape override constants, the params binding, reflect
// padding and the fused activation. No thread mapping here: each body states its own.

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

@group(0) @binding(0) var<uniform> params: ConvParams;

// Reflect padding: index i of a row or column of `size` values, mirrored at both ends (PyTorch's
// ReflectionPad2d; valid for pads smaller than size).
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
