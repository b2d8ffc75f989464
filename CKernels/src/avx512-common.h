/* What the AVX-512 variants share: horizontal sums of 8 doubles in one fixed
 * order, ((d0 + d4) + (d2 + d6)) + ((d1 + d5) + (d3 + d7)), one vector at a
 * time or eight at once with the same bits. */
#include "avx2-common.h"

static inline double adamp_hsum_avx512(__m512d d) {
    return adamp_hsum_avx2(_mm256_add_pd(_mm512_castpd512_pd256(d), _mm512_extractf64x4_pd(d, 1)));
}

/* out[k] = adamp_hsum_avx512(v[k]) for k < 8: each step of the tree above,
 * for all eight vectors at once. Pairs are formed so that the last step is
 * in-lane: even vectors end in u[0], odd ones in u[1]. */
static inline __attribute__((always_inline)) void adamp_hsums_avx512(const __m512d *v, double *out) {
    /* lanes j + j+4: of one vector in the low half, of the other in the high */
#define ADAMP_HALVES_(a, b) _mm512_add_pd(_mm512_shuffle_f64x2(a, b, 0x44), _mm512_shuffle_f64x2(a, b, 0xEE))
    const __m512d h[4] = {ADAMP_HALVES_(v[0], v[2]), ADAMP_HALVES_(v[4], v[6]), ADAMP_HALVES_(v[1], v[3]),
                          ADAMP_HALVES_(v[5], v[7])};
#undef ADAMP_HALVES_
    /* then lanes j + j+2: u[0] = [v0, v2, v4, v6] in pairs, u[1] the odd ones */
    const __m512d u[2] = {_mm512_add_pd(_mm512_shuffle_f64x2(h[0], h[1], 0x88), _mm512_shuffle_f64x2(h[0], h[1], 0xDD)),
                          _mm512_add_pd(_mm512_shuffle_f64x2(h[2], h[3], 0x88), _mm512_shuffle_f64x2(h[2], h[3], 0xDD))};
    /* then lane 0 + lane 1 of each pair, in order */
    _mm512_storeu_pd(out, _mm512_add_pd(_mm512_unpacklo_pd(u[0], u[1]), _mm512_unpackhi_pd(u[0], u[1])));
}

/* The 16-bit storages (convert.h's meaning, 16 lanes at a time). AVX-512F
 * rounds bfloat16 with integer operations; the avx512bf16 variant with
 * VCVTNEPS2BF16, which takes float32 subnormals as zero (measured on Zen 4:
 * every subnormal input whose bfloat16 is not zero differed), so those go
 * the integer way there too.
 *
 * The first n (0 < n < 16) 16-bit values from p, zeros after, no byte past
 * them read: their pairs by a masked load of 32-bit lanes (AVX-512F has no
 * 16-bit masked load), an odd last one blended in. (Through a zeroed copy on
 * the stack instead, every [64, 8] row stalled on store forwarding: 20,000
 * such bf16 tensors stepped at 14% of their floor.) */
static inline __m256i adamp_u16_first_avx512(const uint16_t *p, size_t n) {
    const __m256i pairs = _mm512_castsi512_si256(_mm512_maskz_loadu_epi32((__mmask16)((1u << (n / 2)) - 1), p));
    if (!(n & 1)) return pairs; /* an even count (a [64, 8] row's) has no odd last one to blend */
    const __m256i last = _mm256_cmpeq_epi16(_mm256_set1_epi16((short)(n - 1)),
                                            _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    return _mm256_blendv_epi8(pairs, _mm256_set1_epi16((short)p[n - 1]), last);
}

static inline __m512 adamp_bf16_widen_avx512(__m256i v) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
}

static inline void adamp_bf16_store_avx512(uint16_t *p, __m512 x) {
    const __m512i b = _mm512_castps_si512(x), one = _mm512_set1_epi32(1);
    const __m512i r = _mm512_srli_epi32(
        _mm512_add_epi32(_mm512_add_epi32(b, _mm512_set1_epi32(0x7fff)), _mm512_and_si512(_mm512_srli_epi32(b, 16), one)), 16);
    const __m512i nan = _mm512_or_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(0x40));
    _mm256_storeu_si256((__m256i *)p,
                        _mm512_cvtepi32_epi16(_mm512_mask_blend_epi32(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), r, nan)));
}

#if defined(ADAMP_AVX512_BF16)
/* VCVTNEPS2BF16 rounds to nearest-even and quiets NaN as convert.h does,
 * but takes a subnormal input as zero: a vector holding one is rounded as
 * above instead (rare: 1 compare and a branch not taken per vector). */
static inline void adamp_bf16_store_avx512bf16(uint16_t *p, __m512 x) {
    if (__builtin_expect(_mm512_fpclass_ps_mask(x, 0x20) != 0, 0)) adamp_bf16_store_avx512(p, x); /* 0x20: denormal */
    else _mm256_storeu_si256((__m256i *)p, (__m256i)_mm512_cvtneps_pbh(x));
}
#endif

static inline __m512 adamp_f16_widen_avx512(__m256i v) { return _mm512_cvtph_ps(v); }

static inline void adamp_f16_store_avx512(uint16_t *p, __m512 x) {
    _mm256_storeu_si256((__m256i *)p, _mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

static inline __m512 adamp_split_widen_avx512(__m256i hi, __m256i lo) {
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_slli_epi32(_mm512_cvtepu16_epi32(hi), 16), _mm512_cvtepu16_epi32(lo)));
}

static inline void adamp_split_store_avx512(uint16_t *hi, uint16_t *lo, __m512 x) {
    const __m512i b = _mm512_castps_si512(x);
    _mm256_storeu_si256((__m256i *)hi, _mm512_cvtepi32_epi16(_mm512_srli_epi32(b, 16)));
    _mm256_storeu_si256((__m256i *)lo, _mm512_cvtepi32_epi16(b));
}
