// Fully connected layer: y[n, o] = act(sum_i x[n, i] · weight[o, i] + bias[o]), weight in
// PyTorch's [out, in] layout. Used for FUNIT's MLP and for the class encoder's final 1×1
// convolution (which, after global pooling, is a linear layer on a 1×1 map).
//
// Thread-to-data mapping: one thread per output element (n, o), global_invocation_id.x = o and
// .y = n; each thread walks one weight row. The MLP is a few hundred thousand MACs, far below
// the convolutions, so no tiling is needed.

struct LinearParams {
  batch: u32,
  in_features: u32,
  out_features: u32,
  _pad: u32,
}

override WG: u32 = 64u;
override RELU: bool = false;

@group(0) @binding(0) var<uniform> params: LinearParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let o = gid.x;
  let n = gid.y;
  if (o >= params.out_features || n >= params.batch) { return; }
  let row = o * params.in_features;
  let x0 = n * params.in_features;
  var acc = bias[o];
  for (var i = 0u; i < params.in_features; i++) { acc += input[x0 + i] * weight[row + i]; }
  if (RELU) { acc = max(acc, 0.0); }
  output[n * params.out_features + o] = acc;
}
