/* Work over many tensors, on threads.
 *
 * Work is cut into items (a batch of rows, or a chunk of elements: the plan
 * says). All tensors are handled in one parallel region, in blocks of about
 * `block` elements; each block runs the plan's phases in order: the items of
 * one kind on every thread, or a serial step on thread 0 between two
 * barriers (an optimizer step: statistics, a barrier, the decision, a
 * barrier, the update, whose threads find p and g still in their caches).
 *
 * Each thread owns a fixed share of every block's elements and runs the items
 * that start in it, in every phase: the update then reads what the same
 * thread's statistics pass left in its own caches. (Claiming items from a
 * shared counter balanced load as well, but on a VM whose two vCPUs sat on
 * different sockets it made whole runs 2-4x slower.) */
#include <stdint.h>
#include "schedule.h"
#include "parallel.h"

/* Tensors [b0, b1) holding `elems` elements; slot0 is b0's first slot. */
typedef struct {
    size_t b0, b1, slot0, elems;
} block;


/* floor(elems * k / n) without forming elems * k, which can overflow. */
static size_t share(size_t elems, size_t k, size_t n) { return elems / n * k + elems % n * k / n; }

/* Runs the block's items of one kind that start in this thread's share of
 * its elements, [elems * tid / n, elems * (tid + 1) / n). */
static void work(const adamp_plan *p, const block *b, int kind, int tid, int nthreads) {
    const size_t lo = share(b->elems, (size_t)tid, (size_t)nthreads);
    const size_t hi = share(b->elems, (size_t)tid + 1, (size_t)nthreads);
    size_t e = 0, slot = b->slot0;
    for (size_t t = b->b0; t < b->b1 && e < hi; slot += p->slots(p->ctx, t), e += p->elems(p->ctx, t), t++) {
        if (e + p->elems(p->ctx, t) <= lo) continue;
        const size_t n = p->items(p->ctx, t, kind);
        for (size_t j = 0; j < n; j++) {
            const size_t at = e + p->item_start(p->ctx, t, kind, j);
            if (at < lo) continue;
            if (at >= hi) break;
            p->item(p->ctx, t, slot, kind, j);
        }
    }
}

static void worker(void *ctx, adamp_team *team, int tid, int nthreads) {
    const adamp_plan *p = ctx;
    block b = {0, 0, 0, 0};
    while (b.b0 < p->count) {
        size_t slot = b.slot0;
        b.b1 = b.b0;
        b.elems = 0;
        do {
            b.elems += p->elems(p->ctx, b.b1);
            slot += p->slots(p->ctx, b.b1);
            b.b1++;
        } while (b.b1 < p->count && b.elems + p->elems(p->ctx, b.b1) <= p->block);
        for (size_t i = 0; i < p->nphases; i++) {
            const adamp_phase *ph = &p->phases[i];
            if (ph->wanted && !ph->wanted(p->ctx, b.b0, b.b1)) continue;
            if (!ph->serial) {
                work(p, &b, ph->kind, tid, nthreads);
                continue;
            }
            adamp_barrier(team);
            if (tid == 0) ph->serial(p->ctx, b.b0, b.b1, b.slot0);
            adamp_barrier(team);
        }
        b.b0 = b.b1;
        b.slot0 = slot;
    }
}

void adamp_schedule(const adamp_plan *plan, int threads) {
    size_t total = 0;
    for (size_t t = 0; t < plan->count; t++) total += plan->elems(plan->ctx, t);
    /* A region costs microseconds: not worth it for a few chunks of work;
     * and a thread beyond one per chunk would find no item to run. */
    if (total < 4 * (size_t)ADAMP_CHUNK) threads = 1;
    else if ((size_t)threads > adamp_div_up(total, ADAMP_CHUNK)) threads = (int)adamp_div_up(total, ADAMP_CHUNK);
    adamp_parallel(threads, worker, (void *)plan);
}
