/* The two memory passes read-bandwidth.c and line-sharing.c time, over
 * N floats in P, G and B (the includer's): one reading w and g as the
 * statistics pass does (prefetching `ahead` floats on, if not 0), and an
 * SGD-like update reading three arrays and writing two. Needs AVX-512F. */
#ifndef ADAMP_SCRIPTS_PASSES_H
#define ADAMP_SCRIPTS_PASSES_H
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>

#define N 25500000L
#define TGT __attribute__((target("avx512f,fma")))
static float *P, *G, *B;

/* P, G and B allocated and filled; 0, or 2 on a CPU without AVX-512F. */
static int passes_init(void) {
    if (!__builtin_cpu_supports("avx512f")) return puts("this CPU has no AVX-512F"), 2;
    P = aligned_alloc(64, N * 4), G = aligned_alloc(64, N * 4), B = aligned_alloc(64, N * 4);
    for (long i = 0; i < N; i++) P[i] = 1, G[i] = 0.001f, B[i] = 0;
    return 0;
}

TGT static float read2(long lo, long hi, long ahead) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0;
    for (long i = lo; i < hi; i += 16) {
        if (ahead) _mm_prefetch((const char *)(P + i + ahead), _MM_HINT_T0), _mm_prefetch((const char *)(G + i + ahead), _MM_HINT_T0);
        const __m512 p = _mm512_loadu_ps(P + i), g = _mm512_loadu_ps(G + i);
        s0 = _mm512_fmadd_ps(p, g, s0), s1 = _mm512_fmadd_ps(p, p, s1), s2 = _mm512_fmadd_ps(g, g, s2);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, _mm512_add_ps(s1, s2)));
}

TGT static void update(long lo, long hi) {
    for (long i = lo; i < hi; i += 16) {
        const __m512 p = _mm512_loadu_ps(P + i), g = _mm512_loadu_ps(G + i);
        const __m512 b = _mm512_fmadd_ps(_mm512_loadu_ps(B + i), _mm512_set1_ps(0.9f), g);
        _mm512_storeu_ps(B + i, b);
        _mm512_storeu_ps(P + i, _mm512_fmadd_ps(b, _mm512_set1_ps(-1e-3f), p));
    }
}
#endif
