// Instance normalisation's algorithm, for instance_norm.wgsl (f32), instance_norm_vec4.wgsl (f32,
// four values a load) and instance_norm_f16.wgsl. The entry file declares `alias T`, the storage
// element of the data and the residual (f32, f16 or vec4<f32>), `alias W`, the f32 value it widens
// to (f32 or vec4<f32>), `const LANES` (values per element: 1 or 4; the plane must be a multiple)
// and `fn total(w: W) -> f32` (the sum of w's values). In place, with optional AdaIN affine, ReLU
// and residual add:
//   y = (x - mean) / sqrt(var + eps) [· weight + bias] [→ ReLU] [+ residual]
// per (sample, channel) over its H×W plane, with the biased variance (as PyTorch). Every statistic
// is accumulated in f32 (a plane of 16K values summed in f16 would lose most of its bits), the
// AdaIN parameters are f32 (they come from the f32 MLP), and each output is rounded to T once.
//
// Thread-to-data mapping: one workgroup of WG threads per (sample, channel) plane (workgroup_id.x
// = n · channels + c). Each thread strides over the plane's elements (LANES values each: on CPU
// adapters a load is issued lane by lane, so a vec4 element costs far less than four f32 ones); two tree reductions in workgroup memory
// give the mean, then the variance of (x - mean) (two passes: no catastrophic cancellation), and a
// last strided pass writes the result. AdaIN parameters follow FUNIT's layout: for a layer of C
// channels at `adain_offset` in the MLP output, bias = p[offset + c], weight = p[offset + C + c];
// one parameter row is shared by the whole batch (one class code per translation).

struct NormParams {
  channels: u32,
  plane: u32,          // H × W
  adain_offset: u32,
  eps: f32,
}

override WG: u32 = 256u;
override AFFINE: bool = false;
override RELU: bool = false;
override RESIDUAL: bool = false;

@group(0) @binding(0) var<uniform> params: NormParams;
@group(0) @binding(1) var<storage, read_write> data: array<T>;
@group(0) @binding(2) var<storage, read> adain: array<f32>;
@group(0) @binding(3) var<storage, read> residual: array<T>;

var<workgroup> partial: array<f32, WG>;

fn workgroup_sum(v: f32, t: u32) -> f32 {
  partial[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { partial[t] += partial[t + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();   // everyone has read partial[0] before it is reused
  return total;
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let plane_id = wg.x;
  let c = plane_id % params.channels;
  let elements = params.plane / LANES;
  let base = plane_id * elements;
  let count = f32(params.plane);

  var s = W(0.0);
  for (var i = t; i < elements; i += WG) { s += W(data[base + i]); }
  let mean = workgroup_sum(total(s), t) / count;
  var s2 = W(0.0);
  for (var i = t; i < elements; i += WG) { let d = W(data[base + i]) - mean; s2 += d * d; }
  let inv_std = inverseSqrt(workgroup_sum(total(s2), t) / count + params.eps);

  var scale = inv_std;
  var shift = -mean * inv_std;
  if (AFFINE) {
    let b = adain[params.adain_offset + c];
    let w = adain[params.adain_offset + params.channels + c];
    scale *= w;
    shift = shift * w + b;
  }
  for (var i = t; i < elements; i += WG) {
    var y = W(data[base + i]) * scale + shift;
    if (RELU) { y = max(y, W(0.0)); }
    if (RESIDUAL) { y += W(residual[base + i]); }
    data[base + i] = T(y);
  }
}
