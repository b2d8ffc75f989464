/* Scalar f32 kernels: the reference every f32 variant is tested against. */
#define T float
#define E(name) name##_f32
#define ISA_NAME "scalar"
#define VARIANT f32_scalar
#include "kernels-shared.h"
#include "kernels-f32.h"
