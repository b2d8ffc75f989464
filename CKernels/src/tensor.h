/* Internal: the per-tensor maths of a step (no per-element work): the
 * scale-invariance decision and the constants of the update. */
#ifndef ADAMP_TENSOR_H
#define ADAMP_TENSOR_H
#include <stdint.h>
#include "adamp.h"
#include "algorithm.h"
#include "kernels.h"

static inline size_t adamp_numel(const adamp_tensor *t) { return t->rows * t->cols; }

/* The rows of statistics a tensor has in the stats buffer: its channel-view
 * rows if it has more than one dimension and any elements (adamp.h). */
static inline size_t adamp_stats_rows(const adamp_tensor *t) { return t->ndim > 1 && t->cols > 0 ? t->rows : 0; }

/* The stats buffer (adamp.h): per channel-view row, the statistics (g.p,
 * g.g, p.p), all rows first; then the step's own scratch (the layer view's
 * sums), so that the statistics stay readable. */
#define ADAMP_SCRATCH_PER_ROW (ADAMP_STATS_LEN_PER_ROW - ADAMP_STATS_PER_ROW)

/* Size limits, checked once in validation so that no sum or offset in the
 * library can overflow: a buffer is one C object, at most PTRDIFF_MAX bytes,
 * and so is the stats buffer of one call. */
#define ADAMP_MAX_BYTES ((size_t)PTRDIFF_MAX)
#define ADAMP_MAX_STATS_ROWS (ADAMP_MAX_BYTES / (ADAMP_STATS_LEN_PER_ROW * sizeof(double)))

/* The layer view's sums {g.p, g.g, p.p}: its rows' statistics added in row
 * order, from 0 (the order every path keeps, the sharded one included). */
void adamp_layer_sums(const adamp_tensor *t, const double *stats, double layer[3]);

/* The layer view's sums in four chains, {g.p, g.g, p.p, sum |g.p|}: row r
 * added to chain r % 4 from 0, the chains then added as (c0 + c1) + (c2 + c3).
 * What the layer test first decides from, where the answer cannot differ
 * from row order's (tensor.c). */
void adamp_layer_chain_sums(const adamp_tensor *t, const double *stats, double sum[4]);

/* The projection code of one tensor from its rows' stats (NULL if ndim <= 1
 * or the algorithm does not project). */
int32_t adamp_decide_tensor(adamp_algorithm algo, const adamp_tensor *t, const double *stats, adamp_dtype dtype);

/* What the test saw for `t` (stats: its rows, or NULL): adamp_diagnose(). */
void adamp_diagnose_tensor(adamp_algorithm algo, const adamp_tensor *t, const double *stats, adamp_dtype dtype,
                           adamp_diagnostics *d);

/* The constants of `t`'s update at its current step count (already counted). */
adamp_consts adamp_consts_for(adamp_algorithm algo, const adamp_tensor *t);

/* adamp_consts_for(), reused from `cache` while consecutive tensors share
 * everything it reads (group hyperparameters, step count, whether they
 * project): many small tensors of one group take the same constants, each
 * costing two or three pow(). The cache also holds the group's
 * adamp_state_count(), which the update needs beside them. A zeroed cache
 * is empty. */
typedef struct {
    adamp_algorithm algo;
    const adamp_hparams *h;
    int64_t step;
    int projected, valid, states;
    adamp_consts k;
} adamp_consts_cache;
adamp_consts adamp_consts_cached(adamp_algorithm algo, const adamp_tensor *t, adamp_consts_cache *cache);

#endif
