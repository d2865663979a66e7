// RGBA8 pixels → FUNIT input tensor: x[n, c, y, x] = byte / 127.5 - 1 for c in R, G, B (alpha is
// dropped). Pixels arrive as one u32 per pixel (little-endian RGBA, as canvas ImageData bytes).
//
// Thread-to-data mapping: one thread per pixel of the batch (include/image_pixels.wgsl).

//#include "include/image_pixels.wgsl"

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: ImageParams;
@group(0) @binding(1) var<storage, read> rgba: array<u32>;
@group(0) @binding(2) var<storage, read_write> tensor: array<f32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = pixel_of(gid, params);
  if (i >= params.pixels) { return; }
  let rgb = unpack4x8unorm(rgba[i]).xyz * (255.0 / 127.5) - 1.0;
  let base = red_index(i, params);
  tensor[base] = rgb.x;
  tensor[base + params.plane] = rgb.y;
  tensor[base + 2u * params.plane] = rgb.z;
}
