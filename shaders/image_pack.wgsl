// RGBA8 pixels → FUNIT input tensor: x[n, c, y, x] = byte / 127.5 - 1 for c in R, G, B (alpha is
// dropped). Pixels arrive as one u32 per pixel (little-endian RGBA, as canvas ImageData bytes).
//
// Thread-to-data mapping: one thread per pixel of the batch, global_invocation_id.x = n · H·W + p
// (dispatched as a 2-D grid when the batch exceeds 65,535 workgroups along x).

struct PackParams {
  pixels: u32,      // N × H × W
  plane: u32,       // H × W
  row_threads: u32, // threads per grid row: workgroups along x × WG
  _pad: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: PackParams;
@group(0) @binding(1) var<storage, read> rgba: array<u32>;
@group(0) @binding(2) var<storage, read_write> tensor: array<f32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * params.row_threads + gid.x;
  if (i >= params.pixels) { return; }
  let n = i / params.plane;
  let p = i - n * params.plane;
  let rgb = unpack4x8unorm(rgba[i]).xyz * (255.0 / 127.5) - 1.0;
  let base = n * 3u * params.plane + p;
  tensor[base] = rgb.x;
  tensor[base + params.plane] = rgb.y;
  tensor[base + 2u * params.plane] = rgb.z;
}
