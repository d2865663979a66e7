// The tiled convolution (implicit GEMM with register tiling, for GPUs) on f32 activations and
// weights: the algorithm and its thread-to-data mapping are in include/conv_tiled.wgsl. A
// workgroup of WG_PX × WG_CO threads computes 4·WG_PX pixels × 4·WG_CO output channels.

alias T = f32;
// f32 storage: the products are f32 anyway, summed straight into the accumulators.
const F32_MATH = true;

//#include "include/conv_tiled.wgsl"
