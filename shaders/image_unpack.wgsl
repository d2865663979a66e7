// FUNIT output tensor → RGBA8 pixels: byte = round(clamp((y + 1) · 127.5, 0, 255)) for R, G, B
// and alpha 255, written as one little-endian u32 per pixel (canvas ImageData byte order).
//
// Thread-to-data mapping: one thread per pixel of the batch, global_invocation_id.x = n · H·W + p
// (a 2-D grid when the batch exceeds 65,535 workgroups along x).

struct UnpackParams {
  pixels: u32,
  plane: u32,
  row_threads: u32,
  _pad: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: UnpackParams;
@group(0) @binding(1) var<storage, read> tensor: array<f32>;
@group(0) @binding(2) var<storage, read_write> rgba: array<u32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * params.row_threads + gid.x;
  if (i >= params.pixels) { return; }
  let n = i / params.plane;
  let p = i - n * params.plane;
  let base = n * 3u * params.plane + p;
  let rgb = vec3<f32>(tensor[base], tensor[base + params.plane], tensor[base + 2u * params.plane]);
  let bytes = round(clamp((rgb + 1.0) * 127.5, vec3<f32>(0.0), vec3<f32>(255.0)));
  rgba[i] = u32(bytes.x) | (u32(bytes.y) << 8u) | (u32(bytes.z) << 16u) | (255u << 24u);
}
