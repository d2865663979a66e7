// An element-wise type conversion, for to_f16.wgsl and from_f16.wgsl: the entry file declares
// `alias Src` and `alias Dst`, and y[i] = Dst(x[i]) (rounded to nearest when narrowing).
//
// Thread-to-data mapping: one thread per element, i = global_invocation_id.y · row_threads +
// global_invocation_id.x (a 2-D grid when the tensor exceeds 65,535 workgroups along x).

struct CastParams {
  count: u32,
  row_threads: u32,
  _pad0: u32,
  _pad1: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: CastParams;
@group(0) @binding(1) var<storage, read> src: array<Src>;
@group(0) @binding(2) var<storage, read_write> dst: array<Dst>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * params.row_threads + gid.x;
  if (i >= params.count) { return; }
  dst[i] = Dst(src[i]);
}
