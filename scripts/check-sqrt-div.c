/* The long check behind the SIMD kernels' sqrt(v) / b without a division
 * (CKernels/src/avx2-common.h): the library's own functions, against the
 * division, for every float v in [1, 4) (so every significand of sqrt(v)),
 * over random divisors b within the fast path's 2^-24..2^24 and the 64 with
 * the fewest and most mantissa bits set. It runs where the CPU has the ISA.
 *   cc -O2 scripts/check-sqrt-div.c -o /tmp/check-sqrt-div && /tmp/check-sqrt-div 100000
 * (100,000 divisors: about 5 minutes a core per ISA; exits 1 on any
 * difference.) The C tests run a sample of this on every build. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADAMP_TARGET "avx512f,avx2,fma"
#include "../CKernels/src/x86-target.h"
#include "../CKernels/src/avx512-common.h"

static long check_avx512(float b) {
    const adamp_divisor_f32_avx512 d = adamp_make_divisor_f32_avx512(b);
    long bad = 0;
    for (uint32_t bits = 0x3f800000u; bits < 0x40800000u; bits += 16) {
        const __m512 v = _mm512_castsi512_ps(_mm512_add_epi32(
            _mm512_set1_epi32((int)bits), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)));
        const __m512 got = adamp_sqrt_div_f32_avx512(v, d), want = _mm512_div_ps(_mm512_sqrt_ps(v), d.b);
        bad += __builtin_popcount(_mm512_cmpneq_epi32_mask(_mm512_castps_si512(got), _mm512_castps_si512(want)));
    }
    return bad;
}

static long check_avx2(float b) {
    const adamp_divisor_f32_avx2 d = adamp_make_divisor_f32_avx2(b);
    long bad = 0;
    for (uint32_t bits = 0x3f800000u; bits < 0x40800000u; bits += 8) {
        const __m256 v = _mm256_castsi256_ps(
            _mm256_add_epi32(_mm256_set1_epi32((int)bits), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
        const __m256 got = adamp_sqrt_div_f32_avx2(v, d), want = _mm256_div_ps(_mm256_sqrt_ps(v), d.b);
        const __m256i ne = _mm256_xor_si256(_mm256_castps_si256(got), _mm256_castps_si256(want));
        bad += __builtin_popcount((unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(
            _mm256_cmpeq_epi32(_mm256_cmpeq_epi32(ne, _mm256_setzero_si256()), _mm256_setzero_si256()))));
    }
    return bad;
}
#include "../CKernels/src/x86-target-end.h"

int main(int argc, char **argv) {
    const long count = argc > 1 ? atol(argv[1]) : 1000;
    const int avx512 = __builtin_cpu_supports("avx512f"), avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    uint64_t x = 0x9E3779B97F4A7C15ull;
    long bad = 0;
    for (long i = 0; i < count; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const uint32_t mant = i < 32 ? (uint32_t)i : i < 64 ? 0x7fffffu - (uint32_t)(i - 32) : (uint32_t)x & 0x7fffffu;
        const uint32_t bits = (uint32_t)(127 + (int)((x >> 32) % 49) - 24) << 23 | mant;
        float b;
        memcpy(&b, &bits, sizeof b);
        if (avx512) bad += check_avx512(b);
        if (avx2) bad += check_avx2(b);
    }
    printf("%ld divisors x 2^24 v (%s%s): %ld differ from the division\n", count, avx512 ? "avx512 " : "",
           avx2 ? "avx2" : "", bad);
    return bad != 0;
}
