/* Vectorised by the compiler under an AVX2 target attribute when the CPU has
 * it (no flags: the benchmark builds like the library), threaded through the
 * OpenMP runtime's ABI like the kernels, with a static split of the range. */
#include "stream.h"

#if defined(__linux__)
extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int omp_get_thread_num(void);
extern int omp_get_num_threads(void);
#define PARALLEL(fn, data, n) GOMP_parallel(fn, data, (unsigned)(n), 0)
#define TID() omp_get_thread_num()
#define NTH() omp_get_num_threads()
#else
#define PARALLEL(fn, data, n) fn(data)
#define TID() 0
#define NTH() 1
#endif

typedef struct {
    float *p, *m, *v;
    const float *g;
    size_t n;
} job;

#define LOOPS(suffix, attr)                                                              \
    attr static void adam_##suffix(float *restrict p, const float *restrict g,           \
                                   float *restrict m, float *restrict v, size_t n) {    \
        for (size_t i = 0; i < n; i++) {                                                 \
            float mm = 0.9f * m[i] + 0.1f * g[i];                                        \
            float vv = 0.999f * v[i] + 0.001f * g[i] * g[i];                             \
            m[i] = mm;                                                                   \
            v[i] = vv;                                                                   \
            p[i] = p[i] - 1e-3f * mm / (vv + 1e-8f);                                     \
        }                                                                                \
    }                                                                                    \
    attr static void sgd_##suffix(float *restrict p, const float *restrict g,            \
                                  float *restrict b, size_t n) {                         \
        for (size_t i = 0; i < n; i++) {                                                 \
            float bb = 0.9f * b[i] + g[i];                                               \
            b[i] = bb;                                                                   \
            p[i] = p[i] - 0.1f * bb;                                                     \
        }                                                                                \
    }

LOOPS(plain, )
#if defined(__x86_64__)
LOOPS(avx2, __attribute__((target("avx2,fma"))))
static int has_avx2(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
#else
#define adam_avx2 adam_plain
#define sgd_avx2 sgd_plain
static int has_avx2(void) { return 0; }
#endif

static void range(const job *j, size_t *lo, size_t *hi) {
    size_t t = (size_t)TID(), nt = (size_t)NTH();
    *lo = j->n * t / nt;
    *hi = j->n * (t + 1) / nt;
}

static void run_adam(void *data) {
    job *j = data;
    size_t lo, hi;
    range(j, &lo, &hi);
    if (has_avx2()) adam_avx2(j->p + lo, j->g + lo, j->m + lo, j->v + lo, hi - lo);
    else adam_plain(j->p + lo, j->g + lo, j->m + lo, j->v + lo, hi - lo);
}

static void run_sgd(void *data) {
    job *j = data;
    size_t lo, hi;
    range(j, &lo, &hi);
    if (has_avx2()) sgd_avx2(j->p + lo, j->g + lo, j->m + lo, hi - lo);
    else sgd_plain(j->p + lo, j->g + lo, j->m + lo, hi - lo);
}

void stream_adam(float *p, const float *g, float *m, float *v, size_t n, int threads) {
    job j = {p, m, v, g, n};
    PARALLEL(run_adam, &j, threads);
}

void stream_sgd(float *p, const float *g, float *b, size_t n, int threads) {
    job j = {p, b, 0, g, n};
    PARALLEL(run_sgd, &j, threads);
}
