/* Puts every function that follows under a target attribute (Highway's way:
 * per-ISA code with no compiler flags). The including file defines
 * ADAMP_TARGET ("avx2,fma", ...) and includes x86-target-end.h at its end. */
#include <immintrin.h>
#include <stdint.h>
#if defined(__clang__)
#define ADAMP_PRAGMA_(x) _Pragma(#x)
#define ADAMP_PRAGMA(x) ADAMP_PRAGMA_(x)
ADAMP_PRAGMA(clang attribute push(__attribute__((target(ADAMP_TARGET))), apply_to = function))
#else
#define ADAMP_PRAGMA_(x) _Pragma(#x)
#define ADAMP_PRAGMA(x) ADAMP_PRAGMA_(x)
#pragma GCC push_options
ADAMP_PRAGMA(GCC target(ADAMP_TARGET))
#endif
