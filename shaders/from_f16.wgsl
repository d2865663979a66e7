// f16 → f32 conversion of a tensor at the f16 path's output boundary (the generator's output
// before unpacking or reading back, and the content code when it is read back), exact; one thread
// per element (include/cast.wgsl).

enable f16;
alias Src = f16;
alias Dst = f32;

//#include "include/cast.wgsl"
