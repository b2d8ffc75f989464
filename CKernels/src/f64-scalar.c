/* Scalar f64 kernels: the reference every f64 variant is tested against. */
#define T double
#define E(name) name##_f64
#define ISA_NAME "scalar"
#define VARIANT f64_scalar
#include "kernels-shared.h"
#include "kernels-f64.h"
