/* Where AdamP's time over Adam's goes (docs/performance.md, "Why AdamP with the paper's test costs more than Adam"): the memory
 * pattern of a ResNet-50 step (25.5M f32 parameters, 2 threads, blocks of
 * 1M elements, rows of 2304) with stand-in arithmetic, a square root and
 * two divisions per element as AdamP's update has, in six arrangements:
 *   one pass          read p, g, m, v; write p, m, v (Adam's pattern)
 *   stats | update    per block, a pass reading p and g, then the update
 *   + products f64    the update's sum of p*u in double, as the kernels take it
 *   + two sweeps      per row, the update's second half after the row's sum,
 *                     from the perturbation kept in a row of scratch
 *   pipelined rows    the second sweep of a row in the loop of the next's first
 *   m in stats pass   the first moment updated by the statistics pass
 * Medians of the steps, taking turns:
 *   cc -O2 -fopenmp Benchmarks/harness/pass-patterns.c -o /tmp/pass-patterns && /tmp/pass-patterns 20
 * Needs AVX-512F. Not run by CI. */
#include "timing.h"
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>

#define N 25500000L
#define BLK (1L << 20)
#define COLS 2304L
#define TGT __attribute__((target("avx512f,fma")))
#define WLO(x) _mm512_cvtps_pd(_mm512_castps512_ps256(x))
#define WHI(x) _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)))

static float *P, *G, *M, *V;
enum { ONE_PASS, STATS, PRODUCTS, SWEEPS, PIPELINED, M_IN_STATS, MODES };
static const char *NAMES[MODES] = {"one pass", "stats | update", "+ products f64", "+ two sweeps",
                                   "pipelined rows", "m in stats pass"};

/* The statistics pass: g.p, p.p, g.g in float (the pattern is what counts);
 * with do_m, also m = 0.9 m + 0.1 g. */
TGT static float stats(long lo, long hi, int do_m) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0;
    for (long i = lo; i < hi; i += 16) {
        const __m512 p = _mm512_loadu_ps(P + i), g = _mm512_loadu_ps(G + i);
        s0 = _mm512_fmadd_ps(p, g, s0), s1 = _mm512_fmadd_ps(p, p, s1), s2 = _mm512_fmadd_ps(g, g, s2);
        if (do_m) _mm512_storeu_ps(M + i, _mm512_fmadd_ps(_mm512_loadu_ps(M + i), _mm512_set1_ps(0.9f), _mm512_mul_ps(g, _mm512_set1_ps(0.1f))));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, _mm512_add_ps(s1, s2)));
}

/* Moments (m too unless the statistics pass did it) and u = m / (sqrt(v) + eps). */
TGT static __m512 moments(long i, int do_m) {
    const __m512 g = _mm512_loadu_ps(G + i), a = _mm512_set1_ps(0.9f);
    __m512 m = _mm512_loadu_ps(M + i), v = _mm512_fmadd_ps(_mm512_loadu_ps(V + i), a, _mm512_mul_ps(g, g));
    if (do_m) m = _mm512_fmadd_ps(m, a, _mm512_mul_ps(g, _mm512_set1_ps(0.1f))), _mm512_storeu_ps(M + i, m);
    _mm512_storeu_ps(V + i, v);
    return _mm512_div_ps(m, _mm512_add_ps(_mm512_sqrt_ps(v), _mm512_set1_ps(1e-8f)));
}

/* p = 0.9 p - 1e-3 (u - (p / 3) s): the projection's second division. */
TGT static void project(long i, __m512 u, __m512 s) {
    const __m512 p = _mm512_loadu_ps(P + i);
    const __m512 w = _mm512_sub_ps(u, _mm512_mul_ps(_mm512_div_ps(p, _mm512_set1_ps(3.f)), s));
    _mm512_storeu_ps(P + i, _mm512_fnmadd_ps(w, _mm512_set1_ps(1e-3f), _mm512_mul_ps(p, _mm512_set1_ps(0.9f))));
}

/* The update of [lo, hi) in one sweep per row, or two (products: sum p*u in double). */
TGT static void update(long lo, long hi, int do_m, int products, int sweeps) {
    static __thread float keep[COLS];
    for (long r = lo; r < hi; r += COLS) {
        const long re = r + COLS < hi ? r + COLS : hi;
        __m512d d0 = _mm512_setzero_pd(), d1 = d0;
        __m512 df = _mm512_setzero_ps();
        for (long i = r; i < re; i += 16) {
            const __m512 u = moments(i, do_m), p = _mm512_loadu_ps(P + i);
            if (products) d0 = _mm512_fmadd_pd(WLO(p), WLO(u), d0), d1 = _mm512_fmadd_pd(WHI(p), WHI(u), d1);
            else df = _mm512_fmadd_ps(p, u, df);
            if (sweeps) _mm512_storeu_ps(keep + (i - r), u);
            else project(i, u, _mm512_set1_ps(1e-3f));
        }
        if (!sweeps) continue;
        const __m512 s = _mm512_set1_ps((float)_mm512_reduce_add_pd(_mm512_add_pd(d0, d1)) + _mm512_reduce_add_ps(df));
        for (long i = r; i < re; i += 16) project(i, _mm512_loadu_ps(keep + (i - r)), s);
    }
}

/* Two sweeps, the second of row r in the loop of the first of row r + 1. */
TGT static void update_pipelined(long lo, long hi) {
    static __thread float keep[2][COLS];
    __m512 s_prev = _mm512_setzero_ps();
    long prev = -1;
    for (long r = lo, k = 0; r <= hi; r += COLS, k++) {
        const long n1 = r < hi ? (r + COLS < hi ? COLS : hi - r) : 0, n2 = prev < 0 ? 0 : prev + COLS < hi ? COLS : hi - prev;
        const long n = n1 > n2 ? n1 : n2;
        __m512d d0 = _mm512_setzero_pd(), d1 = d0;
        for (long i = 0; i < n; i += 16) {
            if (i < n1) {
                const __m512 u = moments(r + i, 1), p = _mm512_loadu_ps(P + r + i);
                d0 = _mm512_fmadd_pd(WLO(p), WLO(u), d0), d1 = _mm512_fmadd_pd(WHI(p), WHI(u), d1);
                _mm512_storeu_ps(keep[k & 1] + i, u);
            }
            if (i < n2) project(prev + i, _mm512_loadu_ps(keep[(k & 1) ^ 1] + i), s_prev);
        }
        s_prev = _mm512_set1_ps((float)_mm512_reduce_add_pd(_mm512_add_pd(d0, d1)));
        prev = r < hi ? r : -1;
    }
}

int main(int argc, char **argv) {
    const int steps = argc > 1 ? atoi(argv[1]) : 20;
    if (!__builtin_cpu_supports("avx512f")) return puts("this CPU has no AVX-512F"), 2;
    if (steps < 1 || steps > 1000) return fprintf(stderr, "usage: pass-patterns [STEPS, 1 to 1000]\n"), 2;
    P = aligned_alloc(64, N * 4), G = aligned_alloc(64, N * 4), M = aligned_alloc(64, N * 4), V = aligned_alloc(64, N * 4);
    for (long i = 0; i < N; i++) P[i] = 1, G[i] = 0.001f, M[i] = 0, V[i] = 1;
    static double t[MODES][1000];
    volatile float sink = 0;
    for (int s = 0; s < steps + 2; s++)
        for (int mode = 0; mode < MODES; mode++) {
            const double t0 = now();
#pragma omp parallel num_threads(2)
            {
                const long id = omp_get_thread_num();
                for (long b = 0; b < N; b += BLK) {
                    /* each thread a half of the block, in whole vectors */
                    const long e = b + BLK < N ? b + BLK : N, mid = b + (e - b) / 2 / 16 * 16;
                    const long lo = id ? mid : b, hi = id ? e / 16 * 16 : mid;
                    if (mode != ONE_PASS) sink += stats(lo, hi, mode == M_IN_STATS);
                    if (mode == PIPELINED) update_pipelined(lo, hi);
                    else update(lo, hi, mode != M_IN_STATS, mode == PRODUCTS || mode == SWEEPS, mode == SWEEPS);
                }
            }
            if (s >= 2) t[mode][s - 2] = now() - t0;
        }
    for (int m = 0; m < MODES; m++) {
        qsort(t[m], (size_t)steps, sizeof(double), cmp);
        printf("%-18s %6.2f ms  (%.2fx one pass)\n", NAMES[m], t[m][steps / 2] * 1e3, t[m][steps / 2] / t[ONE_PASS][steps / 2]);
    }
    return 0;
}
