/* What the AVX2 variants share: horizontal sums of 4 doubles in one fixed
 * order, (d0 + d2) + (d1 + d3), one vector at a time or four at once with the
 * same bits. */
static inline double adamp_hsum_avx2(__m256d d) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(d), _mm256_extractf128_pd(d, 1));
    return _mm_cvtsd_f64(s) + _mm_cvtsd_f64(_mm_unpackhi_pd(s, s));
}

/* out[k] = adamp_hsum_avx2(v[k]) for k < 4. */
static inline void adamp_hsums_avx2(const __m256d *v, double *out) {
    /* [a0+a2, a1+a3, c0+c2, c1+c3] and the same of b and d */
    const __m256d ac = _mm256_add_pd(_mm256_permute2f128_pd(v[0], v[2], 0x20), _mm256_permute2f128_pd(v[0], v[2], 0x31));
    const __m256d bd = _mm256_add_pd(_mm256_permute2f128_pd(v[1], v[3], 0x20), _mm256_permute2f128_pd(v[1], v[3], 0x31));
    _mm256_storeu_pd(out, _mm256_hadd_pd(ac, bd));
}

/* The 8 floats' products a*b in double, lanes j and j+4 added: what two
 * accumulators from zero, lo += a_lo*b_lo and hi += a_hi*b_hi, give as
 * lo + hi (the products are exact; the first FMA from +0 turns a -0 into
 * +0 as the accumulator would), in two operations. */
static inline __m256d adamp_prod_halves_avx2(__m256 a, __m256 b) {
    const __m256d lo = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(a)),
                                       _mm256_cvtps_pd(_mm256_castps256_ps128(b)), _mm256_setzero_pd());
    return _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)), _mm256_cvtps_pd(_mm256_extractf128_ps(b, 1)), lo);
}

/* The first n (0 < n < lanes) elements, zeros in the other lanes; no byte
 * past them is read (a masked load does not fault on masked lanes). */
static inline __m256 adamp_load_first_f32_avx2(const float *p, size_t n) {
    return _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
}
static inline __m256d adamp_load_first_f64_avx2(const double *p, size_t n) {
    return _mm256_maskload_pd(p, _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)n), _mm256_setr_epi64x(0, 1, 2, 3)));
}

/* The 16-bit storages (convert.h's meaning, 8 lanes at a time; float16 by
 * F16C). */
static inline __m128i adamp_pack16_avx2(__m256i r) { /* 8 values below 2^16 in 32-bit lanes */
    return _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
}

/* The first n (0 < n < 8) 16-bit values from p, zeros after, no byte past
 * them read: their pairs by a masked load of 32-bit lanes, an odd last one
 * blended in (avx512-common.h says why not through a copy). */
static inline __m128i adamp_u16_first_avx2(const uint16_t *p, size_t n) {
    const __m128i pairs = _mm_maskload_epi32((const int *)p, _mm_cmpgt_epi32(_mm_set1_epi32((int)(n / 2)), _mm_setr_epi32(0, 1, 2, 3)));
    const __m128i last = _mm_cmpeq_epi16(_mm_set1_epi16((short)((n & 1) ? n - 1 : 8)), _mm_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm_blendv_epi8(pairs, _mm_set1_epi16((short)p[n - 1]), last);
}

static inline __m256 adamp_bf16_widen_avx2(__m128i v) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(v), 16)); }

static inline void adamp_bf16_store_avx2(uint16_t *p, __m256 x) {
    const __m256i b = _mm256_castps_si256(x), one = _mm256_set1_epi32(1);
    const __m256i r = _mm256_srli_epi32(
        _mm256_add_epi32(_mm256_add_epi32(b, _mm256_set1_epi32(0x7fff)), _mm256_and_si256(_mm256_srli_epi32(b, 16), one)), 16);
    const __m256i nan = _mm256_or_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(0x40));
    _mm_storeu_si128((__m128i *)p, adamp_pack16_avx2(_mm256_blendv_epi8(r, nan, _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q)))));
}

static inline __m256 adamp_f16_widen_avx2(__m128i v) { return _mm256_cvtph_ps(v); }

static inline void adamp_f16_store_avx2(uint16_t *p, __m256 x) {
    _mm_storeu_si128((__m128i *)p, _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

static inline __m256 adamp_split_widen_avx2(__m128i hi, __m128i lo) {
    return _mm256_castsi256_ps(_mm256_or_si256(_mm256_slli_epi32(_mm256_cvtepu16_epi32(hi), 16), _mm256_cvtepu16_epi32(lo)));
}

static inline void adamp_split_store_avx2(uint16_t *hi, uint16_t *lo, __m256 x) {
    const __m256i b = _mm256_castps_si256(x);
    _mm_storeu_si128((__m128i *)hi, adamp_pack16_avx2(_mm256_srli_epi32(b, 16)));
    _mm_storeu_si128((__m128i *)lo, adamp_pack16_avx2(_mm256_and_si256(b, _mm256_set1_epi32(0xffff))));
}
