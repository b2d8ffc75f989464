/* f32 kernels for AVX2+FMA: 8 lanes, sums in two 4-lane double accumulators. */
#if defined(__x86_64__)
#define ADAMP_TARGET "avx2,fma,f16c"
#include "x86-target.h"
#include "avx2-common.h"

#define T float
#define E(name) name##_f32
#define VARIANT f32_avx2
#define ISA_NAME "avx2"
#define W 8
typedef __m256 V;
typedef __m256d D;
#define VLOAD_FIRST(p, n) adamp_load_first_f32_avx2(p, n)
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, x) _mm256_storeu_ps(p, x)
#define VSET1(x) _mm256_set1_ps(x)
#define VADD _mm256_add_ps
#define VSUB _mm256_sub_ps
#define VMUL _mm256_mul_ps
#define VDIV _mm256_div_ps
#define VSQRT _mm256_sqrt_ps
#define VFMA _mm256_fmadd_ps
#define VNEG(x) _mm256_xor_ps(x, _mm256_set1_ps(-0.0f))
#define VMAXNAN(a, b) _mm256_blendv_ps(_mm256_max_ps(a, b), a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q))
#define DZERO() _mm256_setzero_pd()
#define DFMA _mm256_fmadd_pd
#define DADD _mm256_add_pd
#define DSUM(d) adamp_hsum_avx2(d)
#define DW 4
#define DSUMS(v, out) adamp_hsums_avx2(v, out)
#define WLO(x) _mm256_cvtps_pd(_mm256_castps256_ps128(x))
#define WHI(x) _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1))
#define DLO(x) WLO(x)
/* ACC_PROD(lo, hi, a, b) from zero, then lo + hi, in two operations */
#define PROD_HALVES adamp_prod_halves_avx2
#define ACC_PROD(lo, hi, a, b) (lo = _mm256_fmadd_pd(WLO(a), WLO(b), lo), hi = _mm256_fmadd_pd(WHI(a), WHI(b), hi))
#define WLO_AT(ptr) _mm256_cvtps_pd(_mm_loadu_ps(ptr))
#define WHI_AT(ptr) _mm256_cvtps_pd(_mm_loadu_ps((ptr) + 4))
#define ACC_PROD_AT(lo, hi, ptr, b) (lo = _mm256_fmadd_pd(WLO_AT(ptr), WLO(b), lo), hi = _mm256_fmadd_pd(WHI_AT(ptr), WHI(b), hi))
#define ACC_SQ_AT(lo, hi, ptr) (lo = _mm256_fmadd_pd(WLO_AT(ptr), WLO_AT(ptr), lo), hi = _mm256_fmadd_pd(WHI_AT(ptr), WHI_AT(ptr), hi))
#define ACC(lo, hi, x) (lo = _mm256_add_pd(lo, WLO(x)), hi = _mm256_add_pd(hi, WHI(x)))
#define VFMS _mm256_fmsub_ps
#define VFNMA _mm256_fnmadd_ps
/* a where it is infinite or NaN (not below +inf, unordered included) */
#define VFIX_SQRT_DIV(q, a) _mm256_blendv_ps(q, a, _mm256_cmp_ps(a, _mm256_set1_ps(INFINITY), _CMP_NLT_UQ))
#define VU16_LOAD(p) _mm_loadu_si128((const __m128i *)(p))
#define VU16_FIRST adamp_u16_first_avx2
#define VBF16_WIDEN adamp_bf16_widen_avx2
#define VBF16_STORE adamp_bf16_store_avx2
#define VF16_WIDEN adamp_f16_widen_avx2
#define VF16_STORE adamp_f16_store_avx2
#define VSPLIT_WIDEN adamp_split_widen_avx2
#define VSPLIT_STORE adamp_split_store_avx2
#include "kernels-shared.h"
#include "kernels-f32.h"

#include "x86-target-end.h"
#else
typedef int adamp_f32_avx2_unused;
#endif
