// Global average pooling fused with the mean over the K class images, reading f16 activations
// (shader-f16) and writing f32; the algorithm and its thread-to-data mapping (one workgroup per
// output (group, channel)) are in include/mean_pool.wgsl.

enable f16;
alias T = f16;

//#include "include/mean_pool.wgsl"
