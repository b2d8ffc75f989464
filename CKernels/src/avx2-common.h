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

/* The first n (0 < n < lanes) elements, zeros in the other lanes; no byte
 * past them is read (a masked load does not fault on masked lanes). */
static inline __m256 adamp_load_first_f32_avx2(const float *p, size_t n) {
    return _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
}
static inline __m256d adamp_load_first_f64_avx2(const double *p, size_t n) {
    return _mm256_maskload_pd(p, _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)n), _mm256_setr_epi64x(0, 1, 2, 3)));
}
