/* The f32 variant for AVX-512 with BF16 (f32-avx512.h): Zen 4, Sapphire
 * Rapids and later round to bfloat16 in one instruction. */
#define ADAMP_AVX512_BF16 1
#include "f32-avx512.h"
