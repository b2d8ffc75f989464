/* f32 kernels for AVX-512F: 16 lanes, sums in two 8-lane double accumulators.
 * Compiled by f32-avx512.c, and by f32-avx512bf16.c with ADAMP_AVX512_BF16
 * defined: the same kernels, their bfloat16 stores by VCVTNEPS2BF16. */
#if defined(__x86_64__)
#if defined(ADAMP_AVX512_BF16)
#define ADAMP_TARGET "avx512f,avx2,fma,avx512bw,avx512vl,avx512dq,avx512bf16"
#define VARIANT f32_avx512bf16
#define ISA_NAME "avx512bf16"
#define VBF16_STORE adamp_bf16_store_avx512bf16
#else
#define ADAMP_TARGET "avx512f,avx2,fma"
#define VARIANT f32_avx512
#define ISA_NAME "avx512"
#define VBF16_STORE adamp_bf16_store_avx512
#endif
#include "x86-target.h"
#include "avx512-common.h"

#define T float
#define E(name) name##_f32
#define W 16
typedef __m512 V;
typedef __m512d D;
#define VLOAD_FIRST(p, n) _mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1), p)
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, x) _mm512_storeu_ps(p, x)
#define VSET1(x) _mm512_set1_ps(x)
#define VADD _mm512_add_ps
#define VSUB _mm512_sub_ps
#define VMUL _mm512_mul_ps
#define VDIV _mm512_div_ps
#define VSQRT _mm512_sqrt_ps
#define VFMA _mm512_fmadd_ps
#define VNEG(x) _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN)))
#define VMAXNAN(a, b) _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), _mm512_max_ps(a, b), a)
#define DZERO() _mm512_setzero_pd()
#define DFMA _mm512_fmadd_pd
#define DADD _mm512_add_pd
#define DSUM(d) adamp_hsum_avx512(d)
#define DW 8
#define DSUMS(v, out) adamp_hsums_avx512(v, out)
#define WLO(x) _mm512_cvtps_pd(_mm512_castps512_ps256(x))
#define WHI(x) _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)))
#define DLO(x) WLO(x)
/* ACC_PROD(lo, hi, a, b) from zero, then lo + hi, in two operations */
#define PROD_HALVES(a, b) _mm512_fmadd_pd(WHI(a), WHI(b), _mm512_fmadd_pd(WLO(a), WLO(b), _mm512_setzero_pd()))
#define ACC_PROD(lo, hi, a, b) (lo = _mm512_fmadd_pd(WLO(a), WLO(b), lo), hi = _mm512_fmadd_pd(WHI(a), WHI(b), hi))
#define WLO_AT(ptr) _mm512_cvtps_pd(_mm256_loadu_ps(ptr))
#define WHI_AT(ptr) _mm512_cvtps_pd(_mm256_loadu_ps((ptr) + 8))
#define ACC_PROD_AT(lo, hi, ptr, b) (lo = _mm512_fmadd_pd(WLO_AT(ptr), WLO(b), lo), hi = _mm512_fmadd_pd(WHI_AT(ptr), WHI(b), hi))
#define ACC_SQ_AT(lo, hi, ptr) (lo = _mm512_fmadd_pd(WLO_AT(ptr), WLO_AT(ptr), lo), hi = _mm512_fmadd_pd(WHI_AT(ptr), WHI_AT(ptr), hi))
#define ACC(lo, hi, x) (lo = _mm512_add_pd(lo, WLO(x)), hi = _mm512_add_pd(hi, WHI(x)))
#define VFMS _mm512_fmsub_ps
#define VFNMA _mm512_fnmadd_ps
/* VFIXUPIMMPS: per class of a (QNaN, SNaN, zero, one, -inf, +inf, negative,
 * positive), 4 bits: 0 keeps q, 1 gives a, 2 gives a quieted. */
#define VFIX_SQRT_DIV(q, a) _mm512_fixupimm_ps(q, a, _mm512_set1_epi32(0x00110122), 0)
#define VU16_LOAD(p) _mm256_loadu_si256((const __m256i *)(p))
#define VU16_FIRST adamp_u16_first_avx512
#define VBF16_WIDEN adamp_bf16_widen_avx512
#define VF16_WIDEN adamp_f16_widen_avx512
#define VF16_STORE adamp_f16_store_avx512
#define VSPLIT_WIDEN adamp_split_widen_avx512
#define VSPLIT_STORE adamp_split_store_avx512

/* The statistics of rows of 8 floats (out[3r..3r+2] = {g.p, g.g, p.p}, g
 * times gm) in 256-bit registers: the bits of the 16-lane path, which sums
 * a row's exact products as ((x0+x4)+(x2+x6))+((x1+x5)+(x3+x7)), without
 * the 512-bit shuffles of its horizontal sums, which Zen 4 runs at half the
 * rate (docs/performance.md, "Many small tensors"). */
static inline void adamp_row8_lanes_avx512(const float *p, const float *g, __m256 vgm, __m256d lanes[3]) {
    const __m256 a = _mm256_mul_ps(_mm256_loadu_ps(g), vgm), b = _mm256_loadu_ps(p);
    lanes[0] = adamp_prod_halves_avx2(a, b), lanes[1] = adamp_prod_halves_avx2(a, a);
    lanes[2] = adamp_prod_halves_avx2(b, b);
}
static inline void adamp_rowstats8_f32_avx512(size_t rows, const float *p, const float *g, float gm, double *out) {
    const __m256 vgm = _mm256_set1_ps(gm);
    __m256d lanes[12];
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        for (size_t k = 0; k < 4; k++) adamp_row8_lanes_avx512(p + 8 * (r + k), g + 8 * (r + k), vgm, lanes + 3 * k);
        for (int q = 0; q < 3; q++) adamp_hsums_avx2(lanes + 4 * q, out + 3 * r + 4 * q);
    }
    for (; r < rows; r++) {
        adamp_row8_lanes_avx512(p + 8 * r, g + 8 * r, vgm, lanes);
        for (int q = 0; q < 3; q++) out[3 * r + q] = adamp_hsum_avx2(lanes[q]);
    }
}
#define ROWSTATS_8 adamp_rowstats8_f32_avx512
#include "kernels-shared.h"
#include "kernels-f32.h"

#include "x86-target-end.h"
#else
typedef int adamp_f32_avx512_unused; /* ISO C: no empty translation unit */
#endif
