/* f64 kernels for AVX2+FMA: 4 lanes. */
#if defined(__x86_64__)
#define ADAMP_TARGET "avx2,fma,f16c"
#include "x86-target.h"
#include "avx2-common.h"

#define T double
#define E(name) name##_f64
#define VARIANT f64_avx2
#define ISA_NAME "avx2"
#define W 4
typedef __m256d V;
typedef __m256d D;
#define VLOAD_FIRST(p, n) adamp_load_first_f64_avx2(p, n)
#define VLOAD(p) _mm256_loadu_pd(p)
#define VSTORE(p, x) _mm256_storeu_pd(p, x)
#define VSET1(x) _mm256_set1_pd(x)
#define VADD _mm256_add_pd
#define VSUB _mm256_sub_pd
#define VMUL _mm256_mul_pd
#define VDIV _mm256_div_pd
#define VSQRT _mm256_sqrt_pd
#define VFMA _mm256_fmadd_pd
#define VNEG(x) _mm256_xor_pd(x, _mm256_set1_pd(-0.0))
#define VMAXNAN(a, b) _mm256_blendv_pd(_mm256_max_pd(a, b), a, _mm256_cmp_pd(a, a, _CMP_UNORD_Q))
#define DZERO() _mm256_setzero_pd()
#define DLO(x) (x)
#define DFMA _mm256_fmadd_pd
#define DADD _mm256_add_pd
#define DSUM(d) adamp_hsum_avx2(d)
#define DW 4
#define DSUMS(v, out) adamp_hsums_avx2(v, out)
#define ACC_PROD(lo, hi, a, b) (lo = _mm256_fmadd_pd(a, b, lo))
#define ACC(lo, hi, x) (lo = _mm256_add_pd(lo, x))
#define VFMS _mm256_fmsub_pd
#define VFNMA _mm256_fnmadd_pd
/* a where it is infinite or NaN (not below +inf, unordered included) */
#define VFIX_SQRT_DIV(q, a) _mm256_blendv_pd(q, a, _mm256_cmp_pd(a, _mm256_set1_pd(INFINITY), _CMP_NLT_UQ))
#include "kernels-shared.h"
#include "kernels-f64.h"

#include "x86-target-end.h"
#else
typedef int adamp_f64_avx2_unused;
#endif
