/* Internal: the 16-bit storage formats, an element at a time: the meaning
 * that every vector variant's conversions are tested against (bitwise, over
 * every 16-bit value and every float32 the tests reach). Widening is exact.
 * Narrowing rounds to nearest, ties to even, as PyTorch rounds a float to
 * bfloat16 or float16; a NaN stays a NaN, quieted, its sign and the high
 * bits of its payload kept, as x86's conversion instructions keep them. */
#ifndef ADAMP_CONVERT_H
#define ADAMP_CONVERT_H
#include <stdint.h>
#include <string.h>

static inline float adamp_bits_to_f32(uint32_t b) {
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static inline uint32_t adamp_f32_to_bits(float f) {
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

/* bfloat16: float32's upper half. */
static inline float adamp_bf16_to_f32(uint16_t h) { return adamp_bits_to_f32((uint32_t)h << 16); }

static inline uint16_t adamp_f32_to_bf16(float f) {
    const uint32_t b = adamp_f32_to_bits(f);
    if ((b & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((b >> 16) | 0x40);
    return (uint16_t)((b + 0x7fffu + ((b >> 16) & 1u)) >> 16); /* a carry into the exponent is the rounding up */
}

/* float16 (IEEE binary16): 5 exponent bits, 10 of significand. */
static inline float adamp_f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu;
    uint32_t m = h & 0x3ffu;
    if (e == 0x1f) return adamp_bits_to_f32(sign | 0x7f800000u | (m << 13) | (m ? 0x400000u : 0)); /* inf, NaN quieted */
    if (e != 0) return adamp_bits_to_f32(sign | ((e + 112) << 23) | (m << 13));
    if (m == 0) return adamp_bits_to_f32(sign);
    uint32_t exponent = 113; /* a subnormal m * 2^-24, normalized */
    while (!(m & 0x400u)) m <<= 1, exponent--;
    return adamp_bits_to_f32(sign | (exponent << 23) | ((m & 0x3ffu) << 13));
}

static inline uint16_t adamp_f32_to_f16(float f) {
    const uint32_t b = adamp_f32_to_bits(f), sign = (b >> 16) & 0x8000u, a = b & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* 65520 and above: the tie above 65504 is odd */
    if (a >= 0x38800000u) { /* normal: rebias the exponent, round away 13 bits */
        const uint32_t r = a - 0x38000000u;
        return (uint16_t)(sign | ((r + 0xfffu + ((r >> 13) & 1u)) >> 13));
    }
    if (a < 0x33000000u) return (uint16_t)sign; /* below 2^-25 (half the least subnormal) */
    const uint32_t shift = 126 - (a >> 23), m = (a & 0x7fffffu) | 0x800000u; /* units of 2^-24 */
    const uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    uint32_t r = m >> shift;
    if (rem > half || (rem == half && (r & 1u))) r++;
    return (uint16_t)(sign | r);
}

/* A float32 master kept as a bfloat16 (its upper half: the model's weight,
 * truncated) and a 16-bit trail (its lower half). */
static inline float adamp_split_to_f32(uint16_t hi, uint16_t lo) { return adamp_bits_to_f32((uint32_t)hi << 16 | lo); }

static inline void adamp_f32_to_split(float f, uint16_t *hi, uint16_t *lo) {
    const uint32_t b = adamp_f32_to_bits(f);
    *hi = (uint16_t)(b >> 16);
    *lo = (uint16_t)b;
}
#endif
