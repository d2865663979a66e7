// What the RGBA8 ⇄ tensor kernels share (image_pack.wgsl, image_unpack.wgsl, and the byte rule of
// image_to_texture.wgsl): the params of a one-thread-per-pixel grid and the pixel convention.
//
// Thread-to-data mapping: one thread per pixel of the batch, i = global_invocation_id.y ·
// row_threads + global_invocation_id.x = n · H·W + p (a 2-D grid when the batch exceeds 65,535
// workgroups along x); channel c of pixel i sits at tensor index n · 3 · H·W + c · H·W + p.

struct ImageParams {
  pixels: u32,      // N × H × W
  plane: u32,       // H × W
  row_threads: u32, // threads per grid row: workgroups along x × WG
  _pad: u32,
}

// The pixel a thread owns (≥ pixels for the spare threads of the grid's last row).
fn pixel_of(gid: vec3<u32>, p: ImageParams) -> u32 {
  return gid.y * p.row_threads + gid.x;
}

// Tensor index of the R value of pixel i (G and B follow one plane apart).
fn red_index(i: u32, p: ImageParams) -> u32 {
  let n = i / p.plane;
  return n * 3u * p.plane + (i - n * p.plane);
}

// The output pixel convention: byte = round(clamp((y + 1) · 127.5, 0, 255)).
fn output_bytes(rgb: vec3<f32>) -> vec3<f32> {
  return round(clamp((rgb + 1.0) * 127.5, vec3<f32>(0.0), vec3<f32>(255.0)));
}
