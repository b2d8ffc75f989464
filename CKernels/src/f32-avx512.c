/* The f32 AVX-512F variant (f32-avx512.h). */
#include "f32-avx512.h"
