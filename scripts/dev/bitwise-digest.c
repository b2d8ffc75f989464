/* Prints a digest of everything the library writes, case by case, over
 * every algorithm, dtype, ISA this CPU has, 1 and 2 threads, projection
 * rule, a few hyperparameter variants and three ways of calling it (a
 * step; a step with a tensor without gradient, dropping statistics; the
 * phases with the split update and small blocks), three steps each, with
 * gradients made orthogonal to their rows so that the projected paths run:
 * parameters, state, step counts, projections, statistics, diagnostics and
 * gradient norms. Uses only what adamp.h has had since 1.0 plus the
 * options, so that two builds of different versions compare
 * (scripts/dev/bitwise-vs.sh). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "adamp.h"

static uint64_t rng = 88172645463325252ull;
static double uniform(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0 * 2 - 1;
}
static uint64_t fnv(uint64_t h, const void *d, size_t n) {
    const unsigned char *b = d;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

typedef struct { size_t rows, cols; int ndim; } shape;
static const shape SHAPES[] = {{64, 8}, {64, 8}, {300, 100}, {1, 20000}, {1, 7}, {96, 3}, {512, 300}, {4, 9000}, {3, 5}, {200, 200}};
#define NS (sizeof SHAPES / sizeof SHAPES[0])

int main(void) {
    const adamp_isa isas[] = {ADAMP_ISA_SCALAR, ADAMP_ISA_AVX2, ADAMP_ISA_AVX512};
    for (int algo = 1; algo <= 5; algo++)
    for (int dt = 1; dt <= 2; dt++)
    for (int ii = 0; ii < 3; ii++)
    for (int thr = 1; thr <= 2; thr++)
    for (int rule = 0; rule < 4; rule++)
    for (int variant = 0; variant < 3; variant++)
    for (int mode = 0; mode < 3; mode++) {
        if (!adamp_isa_supported(isas[ii])) continue;
        if (rule && !adamp_algorithm_projects(algo)) continue;
        const size_t es = dt == ADAMP_F32 ? 4 : 8;
        adamp_hparams h = {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = variant ? 0.05 : 0,
                           .delta = 0.1, .wd_ratio = 0.1, .momentum = algo == 5 && variant == 2 ? 0 : 0.9,
                           .dampening = variant == 1 && algo != 5 ? 0.1 : 0, .nesterov = variant == 1 && algo != 5,
                           .amsgrad = variant == 1, .maximize = variant == 2, .projection = rule};
        if (algo == 5 && variant == 1) h.nesterov = 1, h.dampening = 0;
        adamp_config cfg = {isas[ii], thr, mode == 2 ? 5000 : 0};
        adamp_tensor t[NS];
        void *bufs[NS][5];
        for (size_t i = 0; i < NS; i++) {
            const size_t n = SHAPES[i].rows * SHAPES[i].cols;
            for (int b = 0; b < 5; b++) bufs[i][b] = calloc(n, es);
            t[i] = (adamp_tensor){bufs[i][0], i == 1 && mode == 1 ? NULL : bufs[i][1], bufs[i][2], bufs[i][3], bufs[i][4], &h,
                                  SHAPES[i].rows, SHAPES[i].cols, SHAPES[i].ndim ? SHAPES[i].ndim : (SHAPES[i].rows > 1 ? 2 : 1), 0, 0};
            for (size_t k = 0; k < n; k++) {
                const double pv = uniform(), gv = uniform() * 0.1;
                if (dt == 1) ((float *)bufs[i][0])[k] = (float)pv, ((float *)bufs[i][1])[k] = (float)gv;
                else ((double *)bufs[i][0])[k] = pv, ((double *)bufs[i][1])[k] = gv;
            }
        }
        const size_t len = adamp_stats_len(t, NS);
        double *st = calloc(len + 1, sizeof(double));
        uint64_t hsh = 0xcbf29ce484222325ull;
        for (int step = 0; step < 3; step++) {
            /* Make some gradients orthogonal to their rows (the projected paths). */
            for (size_t i = 0; i < NS; i++) {
                if (!t[i].grad || (i % 2 == 0 && step != 1)) continue;
                const size_t R = t[i].rows, C = t[i].cols;
                for (size_t r = 0; r < R; r++) {
                    double pp = 0, gp = 0;
                    for (size_t c = 0; c < C; c++) {
                        const size_t k = r * C + c;
                        const double pv = dt == 1 ? ((float *)bufs[i][0])[k] : ((double *)bufs[i][0])[k];
                        const double gv = dt == 1 ? ((float *)bufs[i][1])[k] : ((double *)bufs[i][1])[k];
                        pp += pv * pv, gp += pv * gv;
                    }
                    for (size_t c = 0; c < C && pp > 0; c++) {
                        const size_t k = r * C + c;
                        const double pv = dt == 1 ? ((float *)bufs[i][0])[k] : ((double *)bufs[i][0])[k];
                        if (dt == 1) ((float *)bufs[i][1])[k] -= (float)(gp / pp * pv);
                        else ((double *)bufs[i][1])[k] -= gp / pp * pv;
                    }
                }
            }
            adamp_step_options o = {sizeof o, step == 2 ? 0.5 : 1.0, mode == 1};
            adamp_status s;
            if (mode == 2 && adamp_algorithm_projects(algo)) {
                /* Phases, and the split update. */
                s = adamp_row_stats_ex(&cfg, dt, t, NS, st, len, &o);
                if (s == ADAMP_OK) s = adamp_decide(algo, dt, t, NS, st, len);
                double pp[NS], ss[NS], *row_s = calloc(len / 6 + 1, sizeof(double));
                for (size_t i = 0, so = 0; i < NS; so += t[i].ndim > 1 ? t[i].rows : 0, i++) {
                    pp[i] = 0;
                    for (size_t r = 0; t[i].ndim > 1 && r < t[i].rows; r++) pp[i] += st[3 * (so + r) + 2];
                }
                if (s == ADAMP_OK) s = adamp_apply_layer_begin(&cfg, algo, dt, t, NS, st, len, &o, pp, row_s);
                for (size_t i = 0, so = 0; i < NS; so += t[i].ndim > 1 ? t[i].rows : 0, i++) {
                    ss[i] = 0;
                    for (size_t r = 0; t[i].projection == 2 && r < t[i].rows; r++) ss[i] += row_s[so + r];
                }
                if (s == ADAMP_OK) s = adamp_apply_layer_end(&cfg, algo, dt, t, NS, st, len, &o, pp, ss);
                free(row_s);
            } else {
                s = adamp_step_ex(&cfg, algo, dt, t, NS, st, len, &o);
            }
            hsh = fnv(hsh, &s, sizeof s);
            for (size_t i = 0; i < NS; i++) {
                const size_t n = SHAPES[i].rows * SHAPES[i].cols;
                for (int b = 0; b < 5; b++) if (b != 1) hsh = fnv(hsh, bufs[i][b], n * es);
                hsh = fnv(hsh, &t[i].step, 8), hsh = fnv(hsh, &t[i].projection, 4);
            }
            if (!o.drop_stats) hsh = fnv(hsh, st, len / 2 * sizeof(double));
            adamp_diagnostics d[NS];
            memset(d, 0, sizeof d);
            if (adamp_diagnose(algo, dt, t, NS, st, len, d) == ADAMP_OK && !o.drop_stats) hsh = fnv(hsh, d, sizeof d);
            double sq[NS], mx[NS], work[4096];
            if (adamp_grad_norms(&cfg, dt, t, NS, sq, mx, work, 4096) == ADAMP_OK) hsh = fnv(hsh, sq, sizeof sq), hsh = fnv(hsh, mx, sizeof mx);
        }
        printf("algo %d dtype %d isa %d threads %d rule %d variant %d mode %d: %016llx\n", algo, dt, isas[ii], thr, rule,
               variant, mode, (unsigned long long)hsh);
        for (size_t i = 0; i < NS; i++) for (int b = 0; b < 5; b++) free(bufs[i][b]);
        free(st);
    }
    return 0;
}
