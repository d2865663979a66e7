// Instance normalisation (or AdaIN) in place on f16 activations (shader-f16), with optional ReLU
// and residual add; statistics in f32. The algorithm and its thread-to-data mapping (one workgroup
// per (sample, channel) plane) are in include/instance_norm.wgsl.

enable f16;
alias T = f16;
alias W = f32;
const LANES = 1u;
fn total(w: W) -> f32 { return w; }

//#include "include/instance_norm.wgsl"
