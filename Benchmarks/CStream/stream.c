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

/* 16-bit storage (bfloat16 bits: widening is a shift, narrowing here a
 * truncation; the floor times memory, not rounding). */
#include <stdint.h>
static inline float wide(uint16_t h) {
    union { uint32_t u; float f; } x = {(uint32_t)h << 16};
    return x.f;
}
static inline uint16_t narrow(float f) {
    union { float f; uint32_t u; } x = {f};
    return (uint16_t)(x.u >> 16);
}

typedef struct {
    int states, mode;
    void *const *a;
    size_t n;
} mixed_job;

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

/* The 16-bit modes (stream.h), a loop each, with no branch inside so that
 * the compiler vectorises it: a[0] the parameter (off, split) or master
 * (float32), a[1] the gradient, a[2], a[3] the state, a[4] the trail (split)
 * or the parameter written (float32). S: the state's type; M(...) the
 * second moment's term (Adam's, or none for SGD's one buffer). */
#define MIXED_LOOP(name, attr, S, LOAD_S, STORE_S, SECOND, P_IN, P_OUT)                                   \
    attr static void name(void *const *a, size_t lo, size_t hi) {                                        \
        const uint16_t *restrict g = a[1];                                                                \
        S *restrict m = a[2], *restrict v = a[3];                                                         \
        uint16_t *restrict x = a[4];                                                                      \
        void *restrict p0 = a[0];                                                                         \
        (void)v, (void)x, (void)p0;                                                                       \
        for (size_t i = lo; i < hi; i++) {                                                                \
            float gg = wide(g[i]), mm = 0.9f * LOAD_S(m[i]) + 0.1f * gg, vv = 1.0f;                       \
            SECOND                                                                                        \
            m[i] = STORE_S(mm);                                                                           \
            float w = P_IN - 1e-3f * mm / (vv + 1e-8f);                                                   \
            P_OUT                                                                                         \
        }                                                                                                 \
    }
#define SAME(x) (x)
#define ADAM_V(LOAD_S, STORE_S) vv = 0.999f * LOAD_S(v[i]) + 0.001f * gg * gg; v[i] = STORE_S(vv);
#define OFF_IN wide(((uint16_t *)p0)[i])
#define OFF_OUT ((uint16_t *)p0)[i] = narrow(w);
#define MASTER_IN ((float *)p0)[i]
#define MASTER_OUT ((float *)p0)[i] = w, x[i] = narrow(w);
#define SPLIT_IN split_wide(((uint16_t *)p0)[i], x[i])
#define SPLIT_OUT split_narrow(w, (uint16_t *)p0 + i, x + i);

static inline float split_wide(uint16_t hi, uint16_t lo) {
    union { uint32_t u; float f; } x = {(uint32_t)hi << 16 | lo};
    return x.f;
}
static inline void split_narrow(float f, uint16_t *hi, uint16_t *lo) {
    union { float f; uint32_t u; } x = {f};
    *hi = (uint16_t)(x.u >> 16), *lo = (uint16_t)x.u;
}

#define MIXED(suffix, attr)                                                                                   \
    MIXED_LOOP(adam_off_##suffix, attr, uint16_t, wide, narrow, ADAM_V(wide, narrow), OFF_IN, OFF_OUT)        \
    MIXED_LOOP(sgd_off_##suffix, attr, uint16_t, wide, narrow, , OFF_IN, OFF_OUT)                             \
    MIXED_LOOP(adam_master_##suffix, attr, float, SAME, SAME, ADAM_V(SAME, SAME), MASTER_IN, MASTER_OUT)      \
    MIXED_LOOP(sgd_master_##suffix, attr, float, SAME, SAME, , MASTER_IN, MASTER_OUT)                         \
    MIXED_LOOP(adam_split_##suffix, attr, float, SAME, SAME, ADAM_V(SAME, SAME), SPLIT_IN, SPLIT_OUT)         \
    MIXED_LOOP(sgd_split_##suffix, attr, float, SAME, SAME, , SPLIT_IN, SPLIT_OUT)                            \
    attr static void mixed_##suffix(int states, int mode, void *const *a, size_t lo, size_t hi) {            \
        if (mode == STREAM_OFF) (states > 1 ? adam_off_##suffix : sgd_off_##suffix)(a, lo, hi);                \
        else if (mode == STREAM_MASTER) (states > 1 ? adam_master_##suffix : sgd_master_##suffix)(a, lo, hi); \
        else (states > 1 ? adam_split_##suffix : sgd_split_##suffix)(a, lo, hi);                              \
    }

LOOPS(plain, )
MIXED(plain, )
#if defined(__x86_64__)
LOOPS(avx2, __attribute__((target("avx2,fma"))))
MIXED(avx2, __attribute__((target("avx2,fma"))))
static int has_avx2(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
#else
#define adam_avx2 adam_plain
#define sgd_avx2 sgd_plain
#define mixed_avx2 mixed_plain
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

static void run_mixed(void *data) {
    mixed_job *j = data;
    size_t lo, hi, t = (size_t)TID(), nt = (size_t)NTH();
    lo = j->n * t / nt;
    hi = j->n * (t + 1) / nt;
    if (has_avx2()) mixed_avx2(j->states, j->mode, j->a, lo, hi);
    else mixed_plain(j->states, j->mode, j->a, lo, hi);
}

void stream_mixed(int states, int mode, void *const *arrays, size_t n, int threads) {
    mixed_job j = {states, mode, arrays, n};
    PARALLEL(run_mixed, &j, threads);
}
