/* The storages of double arithmetic (kernels.h: ADAMP_F64_STORAGES), as
 * kernels-f32.h for float. */
#define STORAGE f64
#define PK PK_NATIVE
#define GK GK_NATIVE
#include "kernels-impl.h"
