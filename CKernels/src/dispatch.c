/* Kernel selection. Only the portable scalar variant exists so far; the SIMD
 * variants plug in here, chosen once from the CPU's features. */
#include "dispatch.h"

const adamp_kernels *adamp_select_kernels(adamp_dtype dtype) {
    return dtype == ADAMP_F64 ? &adamp_f64_scalar : &adamp_f32_scalar;
}
