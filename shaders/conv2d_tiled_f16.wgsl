// The tiled convolution (implicit GEMM with register tiling, for GPUs) on f16 activations and
// weights (shader-f16): half the memory traffic and half the workgroup memory per tile, so TILE_K
// can double; bias, accumulators and the activation stay f32. The algorithm and its thread-to-data
// mapping are in include/conv_tiled.wgsl: a workgroup of WG_PX × WG_CO threads computes 4·WG_PX
// pixels × 4·WG_CO output channels.

enable f16;
alias T = f16;
// Products in f32 (f16 storage only); else in f16, summed per TILE_K step (see the body).
override F32_MATH: bool = false;

//#include "include/conv_tiled.wgsl"
