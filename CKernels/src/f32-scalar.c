/* Scalar f32 kernels: the reference every f32 variant is tested against. */
#define T float
#define VARIANT f32_scalar
#include "scalar-impl.h"
