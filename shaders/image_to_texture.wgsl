// FUNIT output tensor → layers of an rgba8unorm array texture, for GPU-resident use (games): the
// same pixels as image_unpack.wgsl, byte = round(clamp((y + 1) · 127.5, 0, 255)) for R, G, B and
// alpha 255, stored as byte / 255 so the unorm8 conversion gives back exactly that byte. Image n
// goes to layer n of the bound view (the engine's view starts at the caller's first layer).
//
// Thread-to-data mapping: one thread per output pixel; global_invocation_id = (x, y, n), with
// workgroups of WG×WG pixels of one image and one grid layer per image (z = n).

//#include "include/image_pixels.wgsl"

struct ToTextureParams {
  width: u32,
  height: u32,
  images: u32,
  _pad: u32,
}

override WG: u32 = 8u;

@group(0) @binding(0) var<uniform> params: ToTextureParams;
@group(0) @binding(1) var<storage, read> tensor: array<f32>;
@group(0) @binding(2) var output: texture_storage_2d_array<rgba8unorm, write>;

@compute @workgroup_size(WG, WG, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= params.width || gid.y >= params.height || gid.z >= params.images) { return; }
  let plane = params.width * params.height;
  let base = gid.z * 3u * plane + gid.y * params.width + gid.x;
  let rgb = vec3<f32>(tensor[base], tensor[base + plane], tensor[base + 2u * plane]);
  let bytes = output_bytes(rgb);
  textureStore(output, vec2<u32>(gid.xy), gid.z, vec4<f32>(bytes / 255.0, 1.0));
}
