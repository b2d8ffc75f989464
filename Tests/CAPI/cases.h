/* What the C tests that step many tensors share: the optimizers' settings
 * they step with, and a reproducible stream of numbers (xorshift64). */
#ifndef ADAMP_TEST_CASES_H
#define ADAMP_TEST_CASES_H
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

/* Uniform in [-1, 1); seed it by setting rng. */
static uint64_t rng = 88172645463325252ull;
static double uniform(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0 * 2 - 1;
}
#endif
