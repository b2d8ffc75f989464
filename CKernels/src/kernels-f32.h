/* The storages of float arithmetic (kernels.h: ADAMP_F32_STORAGES), one
 * inclusion of kernels-impl.h each, after kernels-shared.h: the
 * preprocessor cannot walk a list, so each is written out; a storage listed
 * there and not here fails to link. */
#define STORAGE f32
#define PK PK_NATIVE
#define GK GK_NATIVE
#include "kernels-impl.h"
