/* 20,000 [64, 8] weights streaming from memory, laid out as AdamPKit lays
 * them out (each parameter's values and then each gradient allocated one
 * after another, the moments in one arena per buffer), in one process,
 * taking turns step by step: the library's step (adamp_step_ex, drop_stats
 * as the Swift optimizers without diagnostics); a plain loop over the same
 * tensors with the same bytes (the best a step could do on this layout,
 * with no statistics, decision or scheduling); and adamp-bench's streaming
 * floor over one long buffer. Medians, ms. What it showed is in
 * docs/performance.md, "The step's serial start".
 *   make -C CKernels CC=clang ../build/c/libcadamp.a
 *   clang -O2 -ICKernels/include -IBenchmarks/CStream/include Benchmarks/harness/many-small-stream.c \
 *      Benchmarks/CStream/stream.c build/c/libcadamp.a -lgomp -lm -o /tmp/many-small-stream
 * clang, as SwiftPM builds the floor: gcc 12 at -O2 leaves its loops scalar,
 * and the floor is then bound by its divisions (Adam's, one thread: 9.9 ms
 * against 4.8).
 *   /tmp/many-small-stream [ALGO=adam|sgd] [THREADS=2] [STEPS=40]
 * The plain loop is Adam's or SGD's (nesterov off), so ALGO is one of those.
 * Not run by CI. */
#include "timing.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "adamp.h"
#include "stream.h"

extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int omp_get_thread_num(void);
extern int omp_get_num_threads(void);

enum { TENSORS = 20000, ELEMS = 64 * 8 };
static adamp_tensor t[TENSORS];
static int sgd;

/* Adam's and SGD's element-wise step with the bias corrections folded in:
 * the same bytes, no more arithmetic than they need. */
__attribute__((target("avx2,fma"))) static void plain(float *restrict p, const float *restrict g, float *restrict m,
                                                     float *restrict v, size_t n) {
    if (sgd)
        for (size_t i = 0; i < n; i++) m[i] = 0.9f * m[i] + g[i], p[i] -= 0.1f * m[i];
    else
        for (size_t i = 0; i < n; i++) {
            m[i] = 0.9f * m[i] + 0.1f * g[i], v[i] = 0.999f * v[i] + 0.001f * g[i] * g[i];
            p[i] -= 1e-3f * m[i] / (v[i] + 1e-8f);
        }
}

static void plain_share(void *unused) {
    (void)unused;
    const size_t k = (size_t)omp_get_thread_num(), n = (size_t)omp_get_num_threads();
    for (size_t i = TENSORS * k / n; i < TENSORS * (k + 1) / n; i++)
        plain(t[i].param, t[i].grad, t[i].state0, t[i].state1, ELEMS);
}

static float *filled(size_t n, float x) {
    float *b = aligned_alloc(64, n * sizeof(float));
    for (size_t i = 0; i < n; i++) b[i] = x;
    return b;
}

int main(int argc, char **argv) {
    sgd = argc > 1 && strcmp(argv[1], "sgd") == 0;
    const int threads = argc > 2 ? atoi(argv[2]) : 2, steps = argc > 3 ? atoi(argv[3]) : 40;
    if ((argc > 1 && !sgd && strcmp(argv[1], "adam") != 0) || threads < 1 || steps < 1)
        return fprintf(stderr, "usage: many-small-stream [adam|sgd] [THREADS] [STEPS]\n"), 2;
    const adamp_hparams h = {.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .momentum = 0.9};
    const size_t n = (size_t)TENSORS * ELEMS;
    float *m = filled(n, 0), *v = filled(n, 0);
    for (size_t i = 0; i < TENSORS; i++)
        t[i] = (adamp_tensor){.param = filled(ELEMS, 0.5f), .state0 = m + i * ELEMS, .state1 = sgd ? NULL : v + i * ELEMS,
                              .hparams = &h, .rows = 64, .cols = 8, .ndim = 2};
    for (size_t i = 0; i < TENSORS; i++) t[i].grad = filled(ELEMS, 0.01f);
    float *fp = filled(n, 0.5f), *fg = filled(n, 0.01f), *fm = filled(n, 0), *fv = filled(n, 0);
    const size_t len = adamp_stats_len(t, TENSORS);
    double *st = malloc(len * sizeof(double));
    const adamp_step_options o = {.size = sizeof o, .grad_mul = 1, .drop_stats = 1};
    const adamp_config c = {.isa = ADAMP_ISA_AUTO, .threads = threads};
    const adamp_algorithm algo = sgd ? ADAMP_ALGO_SGD : ADAMP_ALGO_ADAM;
    double *ms[3];
    for (int k = 0; k < 3; k++) ms[k] = malloc((size_t)steps * sizeof(double));
    for (int s = 0; s < steps; s++)
        for (int j = 0; j < 3; j++) {
            const int k = (j + s) % 3; /* each goes first in turn */
            const double t0 = now();
            if (k == 0 && adamp_step_ex(&c, algo, ADAMP_F32, t, TENSORS, st, len, &o) != ADAMP_OK) return 1;
            if (k == 1) GOMP_parallel(plain_share, NULL, (unsigned)threads, 0);
            if (k == 2) sgd ? stream_sgd(fp, fg, fm, n, threads) : stream_adam(fp, fg, fm, fv, n, threads);
            ms[k][s] = (now() - t0) * 1e3;
        }
    for (int k = 0; k < 3; k++) qsort(ms[k], (size_t)steps, sizeof(double), cmp);
    const double step = ms[0][steps / 2], loop = ms[1][steps / 2], floor = ms[2][steps / 2];
    printf("%s, %d x [64, 8], %d threads, medians of %d: step %.3f ms, plain loop %.3f, floor %.3f "
           "(step %.0f%% of the floor, plain loop %.0f%%)\n",
           sgd ? "sgd" : "adam", TENSORS, threads, steps, step, loop, floor, 100 * floor / step, 100 * floor / loop);
    return 0;
}
