/* The storages of float arithmetic (kernels.h: ADAMP_F32_STORAGES), one
 * inclusion of kernels-impl.h each, after kernels-shared.h: the
 * preprocessor cannot walk a list, so each is written out; a storage listed
 * there and not here fails to link. */
#define STORAGE f32
#define PK PK_NATIVE
#define GK GK_NATIVE
#include "kernels-impl.h"
#define STORAGE f32_gbf16
#define PK PK_NATIVE
#define GK GK_BF16
#include "kernels-impl.h"
#define STORAGE f32_gf16
#define PK PK_NATIVE
#define GK GK_F16
#include "kernels-impl.h"
#define STORAGE bf16
#define PK PK_BF16
#define GK GK_BF16
#include "kernels-impl.h"
#define STORAGE bf16_gf32
#define PK PK_BF16
#define GK GK_NATIVE
#include "kernels-impl.h"
#define STORAGE bf16_gf16
#define PK PK_BF16
#define GK GK_F16
#include "kernels-impl.h"
#define STORAGE f16
#define PK PK_F16
#define GK GK_F16
#include "kernels-impl.h"
#define STORAGE f16_gf32
#define PK PK_F16
#define GK GK_NATIVE
#include "kernels-impl.h"
#define STORAGE f16_gbf16
#define PK PK_F16
#define GK GK_BF16
#include "kernels-impl.h"
#define STORAGE mbf16
#define PK PK_MASTER_BF16
#define GK GK_BF16
#include "kernels-impl.h"
#define STORAGE mbf16_gf32
#define PK PK_MASTER_BF16
#define GK GK_NATIVE
#include "kernels-impl.h"
#define STORAGE mbf16_gf16
#define PK PK_MASTER_BF16
#define GK GK_F16
#include "kernels-impl.h"
#define STORAGE mf16
#define PK PK_MASTER_F16
#define GK GK_F16
#include "kernels-impl.h"
#define STORAGE mf16_gf32
#define PK PK_MASTER_F16
#define GK GK_NATIVE
#include "kernels-impl.h"
#define STORAGE mf16_gbf16
#define PK PK_MASTER_F16
#define GK GK_BF16
#include "kernels-impl.h"
#define STORAGE split
#define PK PK_SPLIT
#define GK GK_BF16
#include "kernels-impl.h"
#define STORAGE split_gf32
#define PK PK_SPLIT
#define GK GK_NATIVE
#include "kernels-impl.h"
#define STORAGE split_gf16
#define PK PK_SPLIT
#define GK GK_F16
#include "kernels-impl.h"
