/* f64 kernels for AVX-512F: 8 lanes. */
#if defined(__x86_64__)
#define ADAMP_TARGET "avx512f,avx2,fma"
#include "x86-target.h"
#include "avx512-common.h"

#define T double
#define E(name) name##_f64
#define VARIANT f64_avx512
#define ISA_NAME "avx512"
#define W 8
typedef __m512d V;
typedef __m512d D;
#define VLOAD_FIRST(p, n) _mm512_maskz_loadu_pd((__mmask8)((1u << (n)) - 1), p)
#define VLOAD(p) _mm512_loadu_pd(p)
#define VSTORE(p, x) _mm512_storeu_pd(p, x)
#define VSET1(x) _mm512_set1_pd(x)
#define VADD _mm512_add_pd
#define VSUB _mm512_sub_pd
#define VMUL _mm512_mul_pd
#define VDIV _mm512_div_pd
#define VSQRT _mm512_sqrt_pd
#define VFMA _mm512_fmadd_pd
#define VNEG(x) _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(x), _mm512_set1_epi64(INT64_MIN)))
#define VMAXNAN(a, b) _mm512_mask_blend_pd(_mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q), _mm512_max_pd(a, b), a)
#define DZERO() _mm512_setzero_pd()
#define DLO(x) (x)
#define DFMA _mm512_fmadd_pd
#define DADD _mm512_add_pd
#define DSUM(d) adamp_hsum_avx512(d)
#define DW 8
#define DSUMS(v, out) adamp_hsums_avx512(v, out)
#define ACC_PROD(lo, hi, a, b) (lo = _mm512_fmadd_pd(a, b, lo))
#define ACC(lo, hi, x) (lo = _mm512_add_pd(lo, x))
#define VFMS _mm512_fmsub_pd
#define VFNMA _mm512_fnmadd_pd
/* VFIXUPIMMPD: the table of f32-avx512.c's VFIXUPIMMPS, per class of a. */
#define VFIX_SQRT_DIV(q, a) _mm512_fixupimm_pd(q, a, _mm512_set1_epi64(0x00110122), 0)
#include "kernels-shared.h"
#include "kernels-f64.h"

#include "x86-target-end.h"
#else
typedef int adamp_f64_avx512_unused;
#endif
