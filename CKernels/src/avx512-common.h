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
static inline void adamp_hsums_avx512(const __m512d *v, double *out) {
    static const int pair[4][2] = {{0, 2}, {4, 6}, {1, 3}, {5, 7}};
    __m512d h[4], u[2];
    for (int k = 0; k < 4; k++) { /* lanes j + j+4: of one vector in the low half, of the other in the high */
        const __m512d a = v[pair[k][0]], b = v[pair[k][1]];
        h[k] = _mm512_add_pd(_mm512_shuffle_f64x2(a, b, 0x44), _mm512_shuffle_f64x2(a, b, 0xEE));
    }
    for (int k = 0; k < 2; k++) /* then lanes j + j+2: u[0] = [v0, v2, v4, v6] in pairs, u[1] the odd ones */
        u[k] = _mm512_add_pd(_mm512_shuffle_f64x2(h[2 * k], h[2 * k + 1], 0x88),
                             _mm512_shuffle_f64x2(h[2 * k], h[2 * k + 1], 0xDD));
    /* then lane 0 + lane 1 of each pair, in order */
    _mm512_storeu_pd(out, _mm512_add_pd(_mm512_unpacklo_pd(u[0], u[1]), _mm512_unpackhi_pd(u[0], u[1])));
}
