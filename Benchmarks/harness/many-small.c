/* One thread, everything in cache: ns per element of each optimizer's step
 * over N [64, COLS] weights (random gradients: AdamP and SGDP take the
 * paper's test and project nothing), for each ISA, taking turns; the least
 * of 7 rounds. What is left when memory is not the bound: the figures in
 * docs/performance.md, "Many small tensors".
 *   make -C CKernels ../build/c/libcadamp.a   (CC=clang for SwiftPM's compiler)
 *   cc -O2 -ICKernels/include Benchmarks/harness/many-small.c build/c/libcadamp.a -lgomp -lm -o /tmp/many-small
 *   /tmp/many-small [N=64] [COLS=8]
 * Not run by CI. */
#include "timing.h"
#include <stdio.h>
#include <stdlib.h>
#include "adamp.h"

int main(int argc, char **argv) {
    const size_t nt = argc > 1 ? strtoul(argv[1], NULL, 10) : 64, rows = 64, cols = argc > 2 ? strtoul(argv[2], NULL, 10) : 8;
    const size_t e = rows * cols;
    if (nt == 0 || cols == 0) return fprintf(stderr, "usage: many-small [N] [COLS]\n"), 2;
    adamp_tensor *t = calloc(nt, sizeof *t);
    const adamp_hparams h = {.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .delta = 0.1, .wd_ratio = 0.1,
                             .momentum = 0.9};
    srand(1);
    for (size_t i = 0; i < nt; i++) {
        float *b[4];
        for (int k = 0; k < 4; k++) b[k] = calloc(e, sizeof(float));
        for (size_t j = 0; j < e; j++) b[0][j] = (float)rand() / (float)RAND_MAX - 0.5f, b[1][j] = (float)rand() / (float)RAND_MAX - 0.5f;
        t[i] = (adamp_tensor){.param = b[0], .grad = b[1], .state0 = b[2], .state1 = b[3], .hparams = &h,
                              .rows = rows, .cols = cols, .ndim = 2};
    }
    const size_t len = adamp_stats_len(t, nt);
    double *st = malloc(len * sizeof(double));
    const adamp_step_options o = {.size = sizeof o, .grad_mul = 1, .drop_stats = 1}; /* as AdamPKit steps without diagnostics */
    const adamp_isa isas[] = {ADAMP_ISA_SCALAR, ADAMP_ISA_AVX2, ADAMP_ISA_AVX512};
    const adamp_algorithm algos[] = {ADAMP_ALGO_ADAMP, ADAMP_ALGO_SGDP, ADAMP_ALGO_ADAM, ADAMP_ALGO_SGD};
    double best[3][4];
    for (int k = 0; k < 3; k++)
        for (int a = 0; a < 4; a++) best[k][a] = 1e30;
    for (int round = 0; round < 7; round++)
        for (int a = 0; a < 4; a++)
            for (int k = 0; k < 3; k++) {
                if (!adamp_isa_supported(isas[k])) continue;
                const adamp_config c = {.isa = isas[k], .threads = 1};
                const int reps = isas[k] == ADAMP_ISA_SCALAR ? 20 : 200;
                const double t0 = now();
                for (int r = 0; r < reps; r++)
                    if (adamp_step_ex(&c, algos[a], ADAMP_F32, t, nt, st, len, &o) != ADAMP_OK) return 1;
                const double ns = (now() - t0) / reps / (double)(nt * e) * 1e9;
                if (ns < best[k][a]) best[k][a] = ns;
            }
    printf("%zu x [64, %zu] f32, one thread, in cache: ns per element, the least of 7 rounds\n", nt, cols);
    printf("%-8s %7s %7s %7s %7s\n", "isa", "adamp", "sgdp", "adam", "sgd");
    for (int k = 0; k < 3; k++)
        if (adamp_isa_supported(isas[k]))
            printf("%-8s %7.3f %7.3f %7.3f %7.3f\n", adamp_isa_name(isas[k]), best[k][0], best[k][1], best[k][2], best[k][3]);
    return 0;
}
