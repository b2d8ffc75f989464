/* What the C tests that step many tensors share: the optimizers' settings
 * they step with, and a reproducible stream of numbers (xorshift64). */
#ifndef ADAMP_TEST_CASES_H
#define ADAMP_TEST_CASES_H
#include <stddef.h>
#include <stdint.h>
#include "adamp.h"

typedef struct {
    adamp_algorithm algo;
    adamp_hparams h;
    const char *name;
} variant;

/* AdamP and SGDP, with weight decay, and with nesterov. */
#define PROJECTING_VARIANTS                                                                                            \
    {ADAMP_ALGO_ADAMP, {.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.1, .delta = 0.1, .wd_ratio = 0.1}, "adamp"}, \
    {ADAMP_ALGO_ADAMP, {.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .delta = 0.1, .wd_ratio = 0.1, .nesterov = 1}, "adamp nesterov"}, \
    {ADAMP_ALGO_SGDP, {.lr = 0.1, .momentum = 0.9, .eps = 1e-8, .weight_decay = 1e-4, .delta = 0.1, .wd_ratio = 0.1}, "sgdp"}, \
    {ADAMP_ALGO_SGDP, {.lr = 0.1, .momentum = 0.9, .eps = 1e-8, .delta = 0.1, .wd_ratio = 0.1, .nesterov = 1}, "sgdp nesterov"}

/* What a caller of adamp_apply_layer_begin/_end sums over whole tensors,
 * in row order: before, each tensor's layer p.p from its rows' statistics;
 * between, each layer-projected tensor's s from its rows' parts. */
static inline void layer_pp_of(const adamp_tensor *t, size_t count, const double *stats, double *layer_pp) {
    for (size_t i = 0, so = 0; i < count; so += t[i].ndim > 1 ? t[i].rows : 0, i++) {
        layer_pp[i] = 0;
        for (size_t r = 0; t[i].ndim > 1 && r < t[i].rows; r++) layer_pp[i] += stats[3 * (so + r) + 2];
    }
}

static inline void layer_s_of(const adamp_tensor *t, size_t count, const double *row_s, double *layer_s) {
    for (size_t i = 0, so = 0; i < count; so += t[i].ndim > 1 ? t[i].rows : 0, i++) {
        layer_s[i] = 0;
        for (size_t r = 0; t[i].projection == ADAMP_PROJ_LAYER && r < t[i].rows; r++) layer_s[i] += row_s[so + r];
    }
}

/* Uniform in [-1, 1); seed it by setting rng. */
static uint64_t rng = 88172645463325252ull;
static double uniform(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0 * 2 - 1;
}
/* Removes from g its component along p, per row (`rows` of `cols`), or over
 * the tensor (rows 1): a gradient behind normalisation, which AdamP projects. */
static inline void orthogonalize(double *g, const double *p, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        double gp = 0, pp = 0;
        for (size_t j = 0; j < cols; j++) gp += g[r * cols + j] * p[r * cols + j], pp += p[r * cols + j] * p[r * cols + j];
        for (size_t j = 0; j < cols; j++) g[r * cols + j] -= gp / pp * p[r * cols + j];
    }
}

#endif
