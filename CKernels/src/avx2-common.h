/* What the AVX2 variants share: a fixed-order horizontal sum of 4 doubles. */
static inline double adamp_hsum_avx2(__m256d d) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(d), _mm256_extractf128_pd(d, 1));
    return _mm_cvtsd_f64(s) + _mm_cvtsd_f64(_mm_unpackhi_pd(s, s));
}
