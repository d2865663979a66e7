// FUNIT output tensor → RGBA8 pixels: byte = round(clamp((y + 1) · 127.5, 0, 255)) for R, G, B
// and alpha 255, written as one little-endian u32 per pixel (canvas ImageData byte order).
//
// Thread-to-data mapping: one thread per pixel of the batch (include/image_pixels.wgsl).

//#include "include/image_pixels.wgsl"

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: ImageParams;
@group(0) @binding(1) var<storage, read> tensor: array<f32>;
@group(0) @binding(2) var<storage, read_write> rgba: array<u32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = pixel_of(gid, params);
  if (i >= params.pixels) { return; }
  let base = red_index(i, params);
  let rgb = vec3<f32>(tensor[base], tensor[base + params.plane], tensor[base + 2u * params.plane]);
  let bytes = output_bytes(rgb);
  rgba[i] = u32(bytes.x) | (u32(bytes.y) << 8u) | (u32(bytes.z) << 16u) | (255u << 24u);
}
