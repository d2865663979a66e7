// Instance normalisation (or AdaIN) in place on f32 activations whose planes are a multiple of 4
// values, read and written as vec4 (four values a load: on CPU adapters, where a load is issued lane
// by lane, the norm then costs about half; src/ops/layers.ts picks it whenever the plane allows).
// The algorithm and its thread-to-data mapping (one workgroup per (sample, channel) plane) are in
// include/instance_norm.wgsl.

alias T = vec4<f32>;
alias W = vec4<f32>;
const LANES = 4u;
fn total(w: W) -> f32 { return w.x + w.y + w.z + w.w; }

//#include "include/instance_norm.wgsl"
