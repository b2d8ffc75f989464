/* The gradients' norms: one threaded pass over every gradient giving, per
 * tensor, the sum of squares and the largest magnitude (for clipping by the
 * global norm, and for the non-finite guard: the largest magnitude is NaN or
 * +Inf exactly when the gradient holds a NaN or an infinity).
 *
 * Items are fixed chunks of ADAMP_CHUNK elements; each writes its partial
 * sums to the caller's workspace (2 doubles per chunk), and one thread adds
 * them per tensor in chunk order, so the result does not depend on the
 * number of threads. */
#include "fp.h"
#include <math.h>
#include "norms.h"
#include "schedule.h"
#include "tensor.h"

typedef struct {
    const adamp_kernels *kernels;
    const adamp_tensor *tensors;
    size_t count, es;
    double *sumsq, *maxabs, *work;
} norms_run;

static const adamp_tensor *tensor(const void *ctx, size_t t) { return &((const norms_run *)ctx)->tensors[t]; }
static size_t elems(const void *ctx, size_t t) { return tensor(ctx, t)->grad ? adamp_numel(tensor(ctx, t)) : 0; }
size_t adamp_norm_chunks(const adamp_tensor *t) { return adamp_div_up(adamp_numel(t), ADAMP_CHUNK); }
static size_t slots(const void *ctx, size_t t) { return adamp_norm_chunks(tensor(ctx, t)); }

/* The tensor's chunks that start in [lo, hi): their partial sums. */
static void run(const void *ctx, size_t t, size_t slot, int kind, size_t lo, size_t hi, adamp_local *local) {
    (void)kind, (void)local;
    const norms_run *r = ctx;
    const adamp_tensor *x = &r->tensors[t];
    const size_t n = adamp_numel(x);
    size_t j0, j1;
    adamp_items_in(adamp_norm_chunks(x), ADAMP_CHUNK, lo, hi, &j0, &j1);
    for (size_t j = j0; j < j1; j++) {
        const size_t e0 = j * ADAMP_CHUNK, len = (e0 + ADAMP_CHUNK < n ? e0 + ADAMP_CHUNK : n) - e0;
        double *acc = r->work + 2 * (slot + j);
        acc[0] = acc[1] = 0;
        r->kernels->gradstats(len, (const char *)x->grad + e0 * r->es, acc);
    }
}

/* Serial, in chunk order: each tensor's sums. */
static void reduce(const void *ctx, size_t b0, size_t b1, size_t slot) {
    const norms_run *r = ctx;
    for (size_t t = b0; t < b1; slot += slots(ctx, t), t++) {
        double s = 0, m = 0;
        for (size_t j = 0, n = tensor(ctx, t)->grad ? slots(ctx, t) : 0; j < n; j++) {
            const double *acc = r->work + 2 * (slot + j);
            s += acc[0];
            m = isnan(m) || isnan(acc[1]) ? NAN : acc[1] > m ? acc[1] : m;
        }
        r->sumsq[t] = s;
        r->maxabs[t] = m;
    }
}

static const adamp_phase PHASES[] = {{0, NULL, NULL}, {0, reduce, NULL}};

void adamp_run_norms(const adamp_kernels *kernels, adamp_dtype dtype, const adamp_tensor *tensors, size_t count,
                     double *sumsq, double *maxabs, double *work, int threads) {
    const norms_run r = {kernels, tensors, count, adamp_dtype_size(dtype), sumsq, maxabs, work};
    const adamp_plan plan = {&r, count, SIZE_MAX, elems, slots, run, PHASES, 2, 0};
    adamp_schedule(&plan, threads);
}
