/* One thread, state in cache: ns per element of each optimizer's step over
 * one [rows, cols] weight whose gradient is orthogonal to each row (AdamP
 * and SGDP project it by channel), and of the statistics pass alone. The
 * figures in docs/performance.md, "The divider", come from it:
 *   make -C CKernels CC=clang ../build/c/libcadamp.a   (or the system cc)
 *   cc -O2 -ICKernels/include Benchmarks/harness/hot-step.c build/c/libcadamp.a -lgomp -lm -o /tmp/hot-step
 *   /tmp/hot-step 16 4608 f32        (ADAMP_ISA=avx2 to force a variant)
 * Best of 5 runs of 200 steps each. Not run by CI. */
#include "timing.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "adamp.h"

/* Best seconds per call of `fn` over 5 runs of 200 calls. */
static double best_of(adamp_status (*fn)(const adamp_config *, adamp_algorithm, adamp_dtype, adamp_tensor *, size_t,
                                         double *, size_t),
                      adamp_algorithm algo, adamp_dtype dt, adamp_tensor *t, double *st, size_t len) {
    const adamp_config c = {.threads = 1};
    double best = 1e9;
    for (int rep = 0; rep < 5; rep++) {
        const double t0 = now();
        for (int s = 0; s < 200; s++) fn(&c, algo, dt, t, 1, st, len);
        const double d = (now() - t0) / 200;
        if (d < best) best = d;
    }
    return best;
}

static adamp_status stats_only(const adamp_config *c, adamp_algorithm algo, adamp_dtype dt, adamp_tensor *t, size_t n,
                               double *st, size_t len) {
    (void)algo;
    return adamp_row_stats(c, dt, t, n, st, len);
}

int main(int argc, char **argv) {
    const size_t rows = argc > 1 ? strtoul(argv[1], NULL, 10) : 16, cols = argc > 2 ? strtoul(argv[2], NULL, 10) : 4608;
    const adamp_dtype dt = argc > 3 && strcmp(argv[3], "f64") == 0 ? ADAMP_F64 : ADAMP_F32;
    const size_t e = rows * cols, es = dt == ADAMP_F64 ? sizeof(double) : sizeof(float);
    if (rows == 0 || cols < 2) return fprintf(stderr, "usage: hot-step ROWS COLS [f32|f64] (COLS >= 2)\n"), 2;
    adamp_hparams h = {.lr = 1e-9, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 1e-4, .delta = 0.1,
                       .wd_ratio = 0.1, .momentum = 0.9};
    char *buf = calloc(5 * e, es); /* p, three state buffers, g */
    double *st = malloc(6 * rows * sizeof(double));
    for (size_t j = 0; j < e; j++) {
        const double w = (double)((j * 2654435761u) % 1000) / 1000 - 0.5;
        if (dt == ADAMP_F64) ((double *)buf)[j] = w;
        else ((float *)buf)[j] = (float)w;
    }
    /* g = each pair of p rotated by 90 degrees, times 0.01: orthogonal per row */
    for (size_t r = 0; r < rows; r++)
        for (size_t j = r * cols; j + 1 < (r + 1) * cols; j += 2) {
            if (dt == ADAMP_F64) {
                double *p = (double *)buf, *g = p + 4 * e;
                g[j] = -p[j + 1] * 0.01, g[j + 1] = p[j] * 0.01;
            } else {
                float *p = (float *)buf, *g = p + 4 * e;
                g[j] = -p[j + 1] * 0.01f, g[j + 1] = p[j] * 0.01f;
            }
        }
    adamp_tensor t = {.param = buf, .grad = buf + 4 * e * es, .state0 = buf + e * es, .state1 = buf + 2 * e * es,
                      .state2 = buf + 3 * e * es, .hparams = &h, .rows = rows, .cols = cols, .ndim = 2};
    printf("[%zu, %zu] %s, %s, one thread: ns per element\n", rows, cols, dt == ADAMP_F64 ? "f64" : "f32",
           adamp_isa_name(adamp_isa_selected(ADAMP_ISA_AUTO)));
    printf("  statistics alone %.3f\n", best_of(stats_only, 0, dt, &t, st, 6 * rows) / (double)e * 1e9);
    const adamp_algorithm algos[] = {ADAMP_ALGO_ADAM, ADAMP_ALGO_ADAMP, ADAMP_ALGO_SGD, ADAMP_ALGO_SGDP};
    for (int a = 0; a < 4; a++) {
        const double s = best_of(adamp_step, algos[a], dt, &t, st, 6 * rows);
        printf("  %-6s %.3f (projection %d)\n", adamp_algorithm_name(algos[a]), s / (double)e * 1e9, t.projection);
    }
    free(buf);
    free(st);
    return 0;
}
