// f32 → f16 conversion of a tensor at the f16 path's input boundary (the packed images, or f32
// tensors given by the caller): y[i] = f16(x[i]), rounded to nearest.
//
// Thread-to-data mapping: one thread per element, i = global_invocation_id.y · row_threads +
// global_invocation_id.x (a 2-D grid when the tensor exceeds 65,535 workgroups along x).

enable f16;

struct CastParams {
  count: u32,
  row_threads: u32,
  _pad0: u32,
  _pad1: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: CastParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f16>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * params.row_threads + gid.x;
  if (i >= params.count) { return; }
  dst[i] = f16(src[i]);
}
