/* What it costs when one core updates lines another core just read
 * (README, "When cores share lines slowly"): per block of 1M floats, each
 * of 2 threads reads half the block's w and g (as the statistics pass
 * does), then updates its half SGD-style; against that, each thread reads
 * the other's half first. On most machines the two cost the same; on this
 * VM, at times, the second was 5-7x slower. Run it a few times, a minute
 * apart:
 *   cc -O2 -fopenmp scripts/line-sharing.c -o /tmp/line-sharing && /tmp/line-sharing 15
 * Needs AVX-512F. Not run by CI. */
#include "timing.h"
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#define N 25500000L
#define BLOCK (1L << 20)
#define TGT __attribute__((target("avx512f,fma")))
static float *P, *G, *B;
enum { ALONE, OWN, OTHER, MODES };
static const char *NAMES[MODES] = {"update alone", "read own half, update it", "read other's half, update own"};

TGT static float read2(long lo, long hi) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0;
    for (long i = lo; i < hi; i += 16) {
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

int main(int argc, char **argv) {
    const int steps = argc > 1 ? atoi(argv[1]) : 15;
    if (!__builtin_cpu_supports("avx512f")) return puts("this CPU has no AVX-512F"), 2;
    if (steps < 1 || steps > 1000) return fprintf(stderr, "usage: line-sharing [STEPS, 1 to 1000]\n"), 2;
    P = aligned_alloc(64, N * 4), G = aligned_alloc(64, N * 4), B = aligned_alloc(64, N * 4);
    for (long i = 0; i < N; i++) P[i] = 1, G[i] = 0.001f, B[i] = 0;
    static double t[MODES][1000];
    volatile float sink = 0;
    for (int s = 0; s < steps + 1; s++)
        for (int mode = 0; mode < MODES; mode++) {
            const double t0 = now();
#pragma omp parallel num_threads(2)
            {
                const long id = omp_get_thread_num();
                if (mode == ALONE) update(id ? N / 2 / 16 * 16 : 0, id ? N / 16 * 16 : N / 2 / 16 * 16);
                else
                    for (long b = 0; b < N; b += BLOCK) {
                        const long e = (b + BLOCK < N ? b + BLOCK : N) / 16 * 16, mid = b + (e - b) / 2 / 16 * 16;
                        const long lo = id ? mid : b, hi = id ? e : mid;
                        sink += mode == OWN ? read2(lo, hi) : read2(id ? b : mid, id ? mid : e);
#pragma omp barrier
                        update(lo, hi);
#pragma omp barrier
                    }
            }
            if (s >= 1) t[mode][s - 1] = now() - t0;
        }
    for (int m = 0; m < MODES; m++) {
        qsort(t[m], (size_t)steps, sizeof(double), cmp);
        printf("%-32s %6.2f ms  (%.2fx the update alone)\n", NAMES[m], t[m][steps / 2] * 1e3, t[m][steps / 2] / t[ALONE][steps / 2]);
    }
    return 0;
}
