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
 * the offset of t's first slot); items(t, kind) items of each kind, item j
 * starting at element item_start(t, kind, j) of the tensor. Blocks hold
 * about `block` elements (SIZE_MAX: one block). */
typedef struct adamp_plan {
    const void *ctx;
    size_t count, block;
    size_t (*elems)(const void *ctx, size_t t);
    size_t (*slots)(const void *ctx, size_t t);
    size_t (*items)(const void *ctx, size_t t, int kind);
    size_t (*item_start)(const void *ctx, size_t t, int kind, size_t j);
    void (*item)(const void *ctx, size_t t, size_t slot, int kind, size_t j, adamp_local *local);
    const adamp_phase *phases;
    size_t nphases;
} adamp_plan;

/* Runs the plan on up to `threads` threads; cannot fail. Each item's result
 * must depend only on its data, so that any thread count gives the same. */
void adamp_schedule(const adamp_plan *plan, int threads);

#endif
