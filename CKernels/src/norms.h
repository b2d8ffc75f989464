/* Internal: the gradients' norms pass (norms.c). */
#ifndef ADAMP_NORMS_H
#define ADAMP_NORMS_H
#include "adamp.h"
#include "kernels.h"

/* Workspace chunks of one tensor: 2 doubles each. */
size_t adamp_norm_chunks(const adamp_tensor *t);

/* Runs the pass over validated tensors (cannot fail). */
void adamp_run_norms(const adamp_kernels *kernels, adamp_dtype dtype, const adamp_tensor *tensors, size_t count,
                     double *sumsq, double *maxabs, double *work, int threads);

#endif
