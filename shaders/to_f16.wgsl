// f32 → f16 conversion of a tensor at the f16 path's input boundary (the packed images, or f32
// tensors given by the caller), rounded to nearest; one thread per element (include/cast.wgsl).

enable f16;
alias Src = f32;
alias Dst = f16;

//#include "include/cast.wgsl"
