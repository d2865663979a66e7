// Global average pooling fused with the mean over the K class images, on f32 activations; the
// algorithm and its thread-to-data mapping (one workgroup per output (group, channel)) are in
// include/mean_pool.wgsl.

alias T = f32;

//#include "include/mean_pool.wgsl"
