/* What a pass that only reads gets from this machine's memory, against one
 * that reads and writes (README, "Why AdamP still costs more than Adam"):
 * over 25.5M floats, a pass reading two arrays (as the statistics pass reads
 * w and g), with and without software prefetching, and an SGD-like pass
 * reading three and writing two; on 1 and on 2 threads, taking turns.
 *   cc -O2 -fopenmp scripts/read-bandwidth.c -o /tmp/read-bandwidth && /tmp/read-bandwidth 15
 * Needs AVX-512F. Not run by CI. */
#include "timing.h"
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#define N 25500000L
#define TGT __attribute__((target("avx512f,fma")))
static float *P, *G, *B;
enum { READ, READ_PF1K, READ_PF4K, MIXED, MODES };
static const char *NAMES[MODES] = {"read 2 arrays", "  + prefetch 1 KiB ahead", "  + prefetch 4 KiB ahead",
                                   "read 3, write 2 (SGD)"};

TGT static float read2(long lo, long hi, long ahead) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0;
    for (long i = lo; i < hi; i += 16) {
        if (ahead) _mm_prefetch((const char *)(P + i + ahead), _MM_HINT_T0), _mm_prefetch((const char *)(G + i + ahead), _MM_HINT_T0);
        const __m512 p = _mm512_loadu_ps(P + i), g = _mm512_loadu_ps(G + i);
        s0 = _mm512_fmadd_ps(p, g, s0), s1 = _mm512_fmadd_ps(p, p, s1), s2 = _mm512_fmadd_ps(g, g, s2);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, _mm512_add_ps(s1, s2)));
}

TGT static void mixed(long lo, long hi) {
    for (long i = lo; i < hi; i += 16) {
        const __m512 p = _mm512_loadu_ps(P + i), g = _mm512_loadu_ps(G + i);
        const __m512 b = _mm512_fmadd_ps(_mm512_loadu_ps(B + i), _mm512_set1_ps(0.9f), g);
        _mm512_storeu_ps(B + i, b);
        _mm512_storeu_ps(P + i, _mm512_fmadd_ps(b, _mm512_set1_ps(-1e-3f), p));
    }
}

int main(int argc, char **argv) {
    const int steps = argc > 1 ? atoi(argv[1]) : 15;
    if (!__builtin_cpu_supports("avx512f")) return puts("this CPU has no AVX-512F"), 2;
    if (steps < 1 || steps > 1000) return fprintf(stderr, "usage: read-bandwidth [STEPS, 1 to 1000]\n"), 2;
    P = aligned_alloc(64, N * 4), G = aligned_alloc(64, N * 4), B = aligned_alloc(64, N * 4);
    for (long i = 0; i < N; i++) P[i] = 1, G[i] = 0.001f, B[i] = 0;
    static double t[2][MODES][1000];
    volatile float sink = 0;
    for (int s = 0; s < steps + 1; s++)
        for (int th = 1; th <= 2; th++)
            for (int mode = 0; mode < MODES; mode++) {
                const double t0 = now();
#pragma omp parallel num_threads(th)
                {
                    const long id = omp_get_thread_num(), per = N / th / 16 * 16;
                    const long lo = id * per, hi = id == th - 1 ? N / 16 * 16 : lo + per;
                    if (mode == MIXED) mixed(lo, hi);
                    else sink += read2(lo, hi, mode == READ_PF1K ? 256 : mode == READ_PF4K ? 1024 : 0);
                }
                if (s >= 1) t[th - 1][mode][s - 1] = now() - t0;
            }
    for (int th = 1; th <= 2; th++) {
        printf("%d thread%s, medians of %d passes:\n", th, th > 1 ? "s" : "", steps);
        for (int m = 0; m < MODES; m++) {
            qsort(t[th - 1][m], (size_t)steps, sizeof(double), cmp);
            const double sec = t[th - 1][m][steps / 2], read = (m == MIXED ? 12.0 : 8.0) * N / sec / 1e9;
            printf("  %-26s %6.2f ms  reads %5.1f GB/s", NAMES[m], sec * 1e3, read);
            if (m == MIXED) printf(", writes %.1f GB/s", 8.0 * N / sec / 1e9);
            printf("\n");
        }
    }
    return 0;
}
