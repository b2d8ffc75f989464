/* Internal: running work over many tensors on threads. The scheduler knows
 * tensors only as amounts of work, cut into items of a few kinds, and a plan
 * of phases per block of tensors; it knows nothing of optimizers (step.c
 * gives it the plan of an optimizer step). */
#ifndef ADAMP_SCHEDULE_H
#define ADAMP_SCHEDULE_H
#include <stddef.h>

/* a / b rounded up (b > 0). */
static inline size_t adamp_div_up(size_t a, size_t b) { return (a + b - 1) / b; }

/* Elements per item of work (a whole row is never cut, so a row item may be longer). */
#define ADAMP_CHUNK 16384

/* Scratch of the thread running an item, the same for every item it runs
 * in a region, zeroed when the region starts (e.g. a cache of what
 * consecutive items share). */
typedef union {
    double d[32];
    void *p[32];
} adamp_local;

/* One phase of a block: the items of `kind` on every thread (serial NULL), or
 * `serial` on the one thread that finished the phase before it. `wanted`
 * NULL: always. */
typedef struct adamp_phase {
    int kind;
    void (*serial)(const void *ctx, size_t b0, size_t b1, size_t slot0);
    int (*wanted)(const void *ctx, size_t b0, size_t b1);
} adamp_phase;

/* The work: `count` tensors, tensor t holding elems(t) elements of work and
 * slots(t) slots of some per-tensor array (the callbacks get the running sum,
 * the offset of t's first slot). Its items of each kind start at elements
 * of the tensor below elems(t) (a tensor of none has none); run(t, slot,
 * kind, lo, hi) runs, in order, those of `kind` that start in [lo, hi), a
 * range of the tensor's elements (hi may pass its end). Over a phase the
 * ranges a tensor is given cover [0, elems(t)) once, so each item runs
 * once. One call per tensor and range, not a call per item and per
 * question about it (how many, where each starts), each working out the
 * tensor's path again: over 1,000 [64, 8] weights in cache, one thread
 * (Benchmarks/harness/many-small.c), SGD's step 0.199-0.201 -> 0.181-0.193
 * ns per element. Blocks hold about `block` elements (SIZE_MAX: one block). */
typedef struct adamp_plan {
    const void *ctx;
    size_t count, block;
    size_t (*elems)(const void *ctx, size_t t);
    size_t (*slots)(const void *ctx, size_t t);
    void (*run)(const void *ctx, size_t t, size_t slot, int kind, size_t lo, size_t hi, adamp_local *local);
    const adamp_phase *phases;
    size_t nphases;
    size_t min_grain; /* the least elements of a grain (schedule.c); 0: the scheduler's own */
} adamp_plan;

/* For run(): of n items of `len` elements each, item j starting at j * len,
 * those that start in [lo, hi) are [*j0, *j1). */
static inline void adamp_items_in(size_t n, size_t len, size_t lo, size_t hi, size_t *j0, size_t *j1) {
    const size_t a = adamp_div_up(lo, len), b = adamp_div_up(hi, len);
    *j0 = a < n ? a : n;
    *j1 = b < n ? b : n;
}

/* Runs the plan on up to `threads` threads; cannot fail. Each item's result
 * must depend only on its data, so that any thread count gives the same. */
void adamp_schedule(const adamp_plan *plan, int threads);

#endif
