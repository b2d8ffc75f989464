/* Internal: the per-tensor maths of a step (no per-element work): the
 * scale-invariance decision and the constants of the update. */
#ifndef ADAMP_TENSOR_H
#define ADAMP_TENSOR_H
#include <stdint.h>
#include "adamp.h"
#include "kernels.h"

static inline size_t adamp_numel(const adamp_tensor *t) { return t->rows * t->cols; }
static inline size_t adamp_dtype_size(adamp_dtype d) { return d == ADAMP_F64 ? sizeof(double) : sizeof(float); }

/* AdamP and SGDP project, and need the statistics; the baselines do not. */
static inline int adamp_projects(adamp_algorithm a) { return a == ADAMP_ALGO_ADAMP || a == ADAMP_ALGO_SGDP; }

/* The state buffers an update reads and writes, as a mask of state0 (1),
 * state1 (2) and state2 (4): the one rule that validation (which requires
 * them) and the kernels (which are handed no others) follow. SGD with
 * momentum 0 has none, as torch.optim.SGD keeps no buffer then. */
enum { ADAMP_STATE0 = 1, ADAMP_STATE1 = 2, ADAMP_STATE2 = 4 };
static inline unsigned adamp_state_used(adamp_algorithm a, const adamp_hparams *h) {
    switch (a) {
    case ADAMP_ALGO_SGDP: return ADAMP_STATE0;
    case ADAMP_ALGO_SGD: return h->momentum != 0 ? ADAMP_STATE0 : 0;
    case ADAMP_ALGO_ADAM:
    case ADAMP_ALGO_ADAMW: return ADAMP_STATE0 | ADAMP_STATE1 | (h->amsgrad ? ADAMP_STATE2 : 0);
    default: return ADAMP_STATE0 | ADAMP_STATE1;
    }
}

/* Size limits, checked once in validation so that no sum or offset in the
 * library can overflow: a buffer is one C object, at most PTRDIFF_MAX bytes,
 * and so are the statistics of one call (3 doubles per row). */
#define ADAMP_MAX_BYTES ((size_t)PTRDIFF_MAX)
#define ADAMP_MAX_STATS_ROWS (ADAMP_MAX_BYTES / (3 * sizeof(double)))

/* The projection code of one tensor from its rows' stats (NULL if ndim <= 1
 * or the algorithm does not project). */
int32_t adamp_decide_tensor(adamp_algorithm algo, const adamp_tensor *t, const double *stats, adamp_dtype dtype);

/* The constants of `t`'s update at its current step count (already counted). */
adamp_consts adamp_consts_for(adamp_algorithm algo, const adamp_tensor *t);

#endif
