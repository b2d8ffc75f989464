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

/* sqrt(v) / b for b known in advance (sqrt(1 - beta2^t), in every Adam's
 * denominator), bitwise the division, without the divider, which the update
 * waits on (Zen 4, hot cache: Adam's update 0.39 -> 0.32 ns per element).
 * With y = 1/b rounded, q = a*y is within an ulp of a/b, r = q*b - a is
 * exact, and q - r*y rounds to a/b (Markstein 1990; "one multiplication plus
 * two fused-macs", Muller, Raina and Brisebarre, IEEE TC 53(8), 2004).
 * It holds here for b a normal positive number within 2^-24..2^24 (else the
 * variant divides) and a = sqrt(v) a square root: zero, within
 * 2^-75..2^64, infinite or NaN. A finite nonzero a keeps q normal and r
 * exact (a multiple of 2^(e_a - 47), e_a >= -75); zeros keep their sign
 * (r is +0, and q - (+0) is q); an infinity or a NaN, which the sequence
 * turns into NaN, is put back: a / b is a itself for b > 0. Checked against
 * the division: the sequence for every significand of a, at three
 * exponents, over 100,000 random divisors and the 64 with the fewest and
 * most mantissa bits set (2.5e12 quotients); these functions for every v in
 * [1, 4) over 60,000 divisors (scripts/check-sqrt-div.c); the C tests
 * (adam_denominator_is_the_division) on every build. */
#define ADAMP_DIVISOR_FAST(b) ((b) >= 0x1p-24f && (b) <= 0x1p24f)

typedef struct {
    __m256 b, y;
    int fast;
} adamp_divisor_f32_avx2;

static inline adamp_divisor_f32_avx2 adamp_make_divisor_f32_avx2(float b) {
    adamp_divisor_f32_avx2 d = {_mm256_set1_ps(b), _mm256_set1_ps(1.0f / b), ADAMP_DIVISOR_FAST(b)};
    return d;
}

static inline __m256 adamp_sqrt_div_f32_avx2(__m256 v, adamp_divisor_f32_avx2 d) {
    const __m256 a = _mm256_sqrt_ps(v);
    if (!d.fast) return _mm256_div_ps(a, d.b);
    const __m256 q = _mm256_mul_ps(a, d.y), r = _mm256_fmsub_ps(q, d.b, a);
    /* a infinite or NaN: not below +inf, unordered included */
    const __m256 special = _mm256_cmp_ps(a, _mm256_set1_ps(__builtin_inff()), _CMP_NLT_UQ);
    return _mm256_blendv_ps(_mm256_fnmadd_ps(r, d.y, q), a, special);
}
