// Instance normalisation (or AdaIN) in place on f32 activations, with optional ReLU and residual
// add; the algorithm and its thread-to-data mapping (one workgroup per (sample, channel) plane) are
// in include/instance_norm.wgsl.

alias T = f32;
alias W = f32;
const LANES = 1u;
fn total(w: W) -> f32 { return w; }

//#include "include/instance_norm.wgsl"
