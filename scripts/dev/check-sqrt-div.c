/* The long check behind the SIMD kernels' sqrt(v) / b without a division
 * (CKernels/src/kernels-impl.h, VFIX_SQRT_DIV): a variant's own functions,
 * against the division, for every float v in [1, 4) (so every significand
 * of sqrt(v)), over random divisors b within the fast path's 2^-24..2^24 and
 * the 64 with the fewest and most mantissa bits set. Build it once per
 * variant (it includes the variant's source file):
 *   cc -O2 scripts/dev/check-sqrt-div.c -lm -o /tmp/check-avx512 && /tmp/check-avx512 60000
 *   cc -O2 -DAVX2 scripts/dev/check-sqrt-div.c -lm -o /tmp/check-avx2 && /tmp/check-avx2 60000
 * With -DF64, the double variants: 2^24 random v in [1, 4) per divisor (a
 * double's significands cannot all be tried).
 * (60,000 divisors: about 5 minutes a core each; exits 1 on any difference,
 * 2 where the CPU lacks the ISA.) The C tests run a sample of this on every
 * build (adam_denominator_is_the_division). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(F64) && defined(AVX2)
#include "../CKernels/src/f64-avx2.c"
#define ISA "avx2 f64"
#define FEATURE "avx2"
#define NLANES 4
#define DIVISOR divisor_f64_avx2
#define MAKE make_divisor_f64_avx2
#define SQRT_DIV sqrt_div_f64_avx2
#define AS_BITS(x) _mm256_castpd_si256(x)
#define DIFFER(x, y) (4 - __builtin_popcount((unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(x, y)))))
#elif defined(F64)
#include "../CKernels/src/f64-avx512.c"
#define ISA "avx512 f64"
#define FEATURE "avx512f"
#define NLANES 8
#define DIVISOR divisor_f64_avx512
#define MAKE make_divisor_f64_avx512
#define SQRT_DIV sqrt_div_f64_avx512
#define AS_BITS(x) _mm512_castpd_si512(x)
#define DIFFER(x, y) __builtin_popcount(_mm512_cmpneq_epi64_mask(x, y))
#elif defined(AVX2)
#include "../CKernels/src/f32-avx2.c"
#define ISA "avx2"
#define FEATURE "avx2"
#define NLANES 8
#define DIVISOR divisor_f32_avx2
#define MAKE make_divisor_f32_avx2
#define SQRT_DIV sqrt_div_f32_avx2
#define AS_BITS(x) _mm256_castps_si256(x)
#define FROM_BITS(x) _mm256_castsi256_ps(x)
#define SET1_I _mm256_set1_epi32
#define IOTA _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)
#define ADD_I _mm256_add_epi32
#define DIFFER(x, y) (8 - __builtin_popcount((unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(x, y)))))
#else
#include "../CKernels/src/f32-avx512.c"
#define ISA "avx512"
#define FEATURE "avx512f"
#define NLANES 16
#define DIVISOR divisor_f32_avx512
#define MAKE make_divisor_f32_avx512
#define SQRT_DIV sqrt_div_f32_avx512
#define AS_BITS(x) _mm512_castps_si512(x)
#define FROM_BITS(x) _mm512_castsi512_ps(x)
#define SET1_I _mm512_set1_epi32
#define IOTA _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#define ADD_I _mm512_add_epi32
#define DIFFER(x, y) __builtin_popcount(_mm512_cmpneq_epi32_mask(x, y))
#endif

#if defined(F64)
typedef double real;
__attribute__((target("avx512f,avx2,fma"))) static long check(double b, uint64_t seed) {
    const DIVISOR d = MAKE(b);
    long bad = 0;
    double lanes[NLANES];
    for (long k = 0; k < (1L << 24); k += NLANES) {
        for (int j = 0; j < NLANES; j++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            const uint64_t bits = (0x3ff0000000000000ull + (seed >> 63 << 52)) | (seed & 0xfffffffffffffull);
            memcpy(&lanes[j], &bits, sizeof bits);
        }
        const V v = VLOAD(lanes);
        bad += DIFFER(AS_BITS(SQRT_DIV(v, d)), AS_BITS(VDIV(VSQRT(v), d.b)));
    }
    return bad;
}
#else
typedef float real;
__attribute__((target("avx512f,avx2,fma"))) static long check(float b, uint64_t seed) {
    (void)seed;
    const DIVISOR d = MAKE(b);
    long bad = 0;
    for (uint32_t bits = 0x3f800000u; bits < 0x40800000u; bits += NLANES) {
        const V v = FROM_BITS(ADD_I(SET1_I((int)bits), IOTA));
        bad += DIFFER(AS_BITS(SQRT_DIV(v, d)), AS_BITS(VDIV(VSQRT(v), d.b)));
    }
    return bad;
}
#endif

int main(int argc, char **argv) {
    const long count = argc > 1 ? atol(argv[1]) : 1000;
    if (!__builtin_cpu_supports(FEATURE)) {
        printf("this CPU has no %s\n", ISA);
        return 2;
    }
    uint64_t x = 0x9E3779B97F4A7C15ull;
    long bad = 0;
    for (long i = 0; i < count; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        /* the divisor's significand: the fewest bits set, the most, then random */
#if defined(F64)
        const uint64_t mant = i < 32 ? (uint64_t)i : i < 64 ? 0xfffffffffffffull - (uint64_t)(i - 32) : x & 0xfffffffffffffull;
        const uint64_t bits = (uint64_t)(1023 + (int)((x >> 52) % 49) - 24) << 52 | mant;
#else
        const uint32_t mant = i < 32 ? (uint32_t)i : i < 64 ? 0x7fffffu - (uint32_t)(i - 32) : (uint32_t)x & 0x7fffffu;
        const uint32_t bits = (uint32_t)(127 + (int)((x >> 32) % 49) - 24) << 23 | mant;
#endif
        real b;
        memcpy(&b, &bits, sizeof b);
        bad += check(b, x | 1);
    }
    printf("%s: %ld divisors x 2^24 v: %ld quotients differ from the division\n", ISA, count, bad);
    return bad != 0;
}
