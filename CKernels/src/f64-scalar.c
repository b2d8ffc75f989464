/* Scalar f64 kernels. */
#define T double
#define VARIANT f64_scalar
#include "scalar-impl.h"
