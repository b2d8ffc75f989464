/* Internal: the per-tensor maths of a step (no per-element work): the
 * scale-invariance decision and the constants of the update. */
#ifndef ADAMP_TENSOR_H
#define ADAMP_TENSOR_H
#include "adamp.h"
#include "kernels.h"

static inline size_t adamp_numel(const adamp_tensor *t) { return t->rows * t->cols; }
static inline size_t adamp_dtype_size(adamp_dtype d) { return d == ADAMP_F64 ? sizeof(double) : sizeof(float); }

/* AdamP and SGDP project, and need the statistics; the baselines do not. */
static inline int adamp_projects(adamp_algorithm a) { return a == ADAMP_ALGO_ADAMP || a == ADAMP_ALGO_SGDP; }

/* The projection code of one tensor from its rows' stats (NULL if ndim <= 1
 * or the algorithm does not project). */
int32_t adamp_decide_tensor(adamp_algorithm algo, const adamp_tensor *t, const double *stats, adamp_dtype dtype);

/* The constants of `t`'s update at its current step count (already counted). */
adamp_consts adamp_consts_for(adamp_algorithm algo, const adamp_tensor *t);

#endif
