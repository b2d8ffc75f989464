/* kernels_bench's roofline: what one core of this machine can do, measured
 * with the same clock as the kernels. Bandwidth over 256 MiB (far past any
 * L3): read (a sum of two arrays, as the statistics read p and g, in eight
 * independent vector sums), write (two arrays stored) and read-modify-write
 * (adamp-bench's streaming floor, CStream's stream_adam: p, g, m, v read and
 * p, m, v written, counted both ways); the vector FMA rate in float with
 * twelve independent chains (enough to hide the FMA latency on the cores
 * measured). The best of five of each. */
#include "stream.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

typedef struct {
    double read, write, rmw, gflops; /* GB/s, GB/s, GB/s, GFLOP/s */
    const char *isa;
} roofline;

#if defined(__x86_64__)
__attribute__((target("avx2"))) static float read_sum_avx2(const float *a, const float *b, size_t n) {
    __m256 s[8];
    for (int j = 0; j < 8; j++) s[j] = _mm256_setzero_ps();
    for (size_t i = 0; i + 32 <= n; i += 32)
        for (int j = 0; j < 4; j++)
            s[j] = _mm256_add_ps(s[j], _mm256_load_ps(a + i + 8 * j)), s[4 + j] = _mm256_add_ps(s[4 + j], _mm256_load_ps(b + i + 8 * j));
    for (int j = 1; j < 8; j++) s[0] = _mm256_add_ps(s[0], s[j]);
    float out[8];
    _mm256_storeu_ps(out, s[0]);
    return out[0] + out[7];
}

__attribute__((target("avx2"))) static void write_avx2(float *a, float *b, size_t n, float x) {
    const __m256 v = _mm256_set1_ps(x);
    for (size_t i = 0; i + 8 <= n; i += 8) _mm256_store_ps(a + i, v), _mm256_store_ps(b + i, v);
}

/* The FMA rate's loop, once per vector width: twelve chains of x = x*b + c. */
#define FMA_LOOP(name, isa, V, set1, fmadd, add, first)                             \
    __attribute__((target(isa))) static float name(long iters) {                     \
        V x[12];                                                                     \
        const V b = set1(0.999999f), c = set1(1e-7f);                                \
        for (int j = 0; j < 12; j++) x[j] = set1((float)j);                          \
        for (long i = 0; i < iters; i++)                                             \
            _Pragma("GCC unroll 12") for (int j = 0; j < 12; j++) x[j] = fmadd(x[j], b, c); \
        for (int j = 1; j < 12; j++) x[0] = add(x[0], x[j]);                         \
        return first(x[0]);                                                          \
    }
FMA_LOOP(fma_avx2, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_cvtss_f32)
FMA_LOOP(fma_avx512, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_cvtss_f32)
#endif

static roofline measure_roofline(void) {
    roofline rf = {0, 0, 0, 0, "none"};
    const size_t n = (size_t)16 << 20; /* floats per array: 4 x 64 MiB */
    float *a[4];
    for (int k = 0; k < 4; k++) {
        a[k] = aligned_alloc(64, n * sizeof(float));
        if (!a[k]) { fprintf(stderr, "kernels_bench: out of memory\n"); exit(1); }
        memset(a[k], 0, n * sizeof(float));
    }
    volatile float sink = 0;
    for (int t = 0; t < 5; t++) {
        double t0 = now();
#if defined(__x86_64__)
        if (__builtin_cpu_supports("avx2")) sink += read_sum_avx2(a[0], a[1], n);
        else
#endif
            for (size_t i = 0; i < n; i += 16) sink += a[0][i] + a[1][i];
        double r = 8 * n * 1e-9 / (now() - t0);
        if (r > rf.read) rf.read = r;
        t0 = now();
#if defined(__x86_64__)
        if (__builtin_cpu_supports("avx2")) write_avx2(a[0], a[1], n, (float)t);
        else
#endif
            for (size_t i = 0; i < n; i++) a[0][i] = a[1][i] = (float)t;
        r = 8 * n * 1e-9 / (now() - t0);
        if (r > rf.write) rf.write = r;
        t0 = now();
        stream_adam(a[0], a[1], a[2], a[3], n, 1);
        r = 28 * n * 1e-9 / (now() - t0);
        if (r > rf.rmw) rf.rmw = r;
    }
    for (int k = 0; k < 4; k++) free(a[k]);
#if defined(__x86_64__)
    const long iters = 20000000;
    const int w = __builtin_cpu_supports("avx512f") ? 16 : __builtin_cpu_supports("avx2") ? 8 : 0;
    for (int t = 0; w && t < 5; t++) {
        const double t0 = now();
        sink += w == 16 ? fma_avx512(iters) : fma_avx2(iters);
        const double g = 2.0 * w * 12 * iters / (now() - t0) * 1e-9;
        if (g > rf.gflops) rf.gflops = g;
    }
    rf.isa = w == 16 ? "avx512" : w == 8 ? "avx2" : "none";
#endif
    (void)sink;
    return rf;
}
