/* The phases of a step over many tensors, on threads.
 *
 * Work is cut into items: a batch of whole rows of one tensor (for the
 * statistics and for projected updates, whose per-row sums must each be one
 * thread's, added in one order), or a chunk of elements (for unprojected
 * updates and the second sweep of a layer projection). Every item's result
 * depends only on its data, and the layer view's sum across rows is reduced
 * by one thread in row order, so results are bitwise identical for any
 * number of threads.
 *
 * All tensors are handled in one parallel region. adamp_step goes through
 * blocks of tensors of about `block` elements: the block's statistics, a
 * barrier, thread 0 decides and counts the steps, a barrier, the block's
 * updates, which find p and g still in the cache from the statistics pass.
 * A block with a layer-projected tensor adds two barriers for the reduction.
 *
 * Each thread owns a fixed share of every block's elements and runs the items
 * that start in it, in every phase: the update then reads what the same
 * thread's statistics pass left in its own caches. (Claiming items from a
 * shared counter balanced load as well, but on a VM whose two vCPUs sat on
 * different sockets it made whole runs 2-4x slower.) */
#include <math.h>
#include <stdint.h>
#include "schedule.h"
#include "parallel.h"
#include "tensor.h"

#define CHUNK 16384 /* elements per item */

enum { K_STATS, K_APPLY, K_LAYER2 };

/* Tensors [b0, b1) holding `elems` elements; so0 is the stats row of b0. */
typedef struct {
    size_t b0, b1, so0, elems;
} block;

/* A thread's place in a block: its tensor, that tensor's stats row and first
 * element within the block, and the constants of that tensor. */
typedef struct {
    size_t t, so, e;
    size_t cached;
    adamp_consts k;
} cursor;

static size_t div_up(size_t a, size_t b) { return (a + b - 1) / b; }
static size_t rows_per_item(size_t cols) { return cols >= CHUNK ? 1 : CHUNK / cols; }
static size_t stats_rows(const adamp_tensor *t) { return t->ndim > 1 ? t->rows : 0; }
/* The elements a tensor puts into a block's work: none without a gradient.
 * Their sum over a call was checked to fit (api.c). */
static size_t work_elems(const adamp_tensor *t) { return t->grad ? adamp_numel(t) : 0; }

static size_t items_of(const adamp_tensor *t, int kind) {
    if (!t->grad) return 0;
    const size_t row_items = div_up(t->rows, rows_per_item(t->cols));
    switch (kind) {
    case K_STATS: return t->ndim > 1 ? row_items : 0;
    case K_APPLY: return t->projection == ADAMP_PROJ_NONE ? div_up(adamp_numel(t), CHUNK) : row_items;
    default: return t->projection == ADAMP_PROJ_LAYER ? div_up(adamp_numel(t), CHUNK) : 0;
    }
}

/* A segment of one tensor: its parameter, gradient and state buffers (NULL
 * where the algorithm has none) from element `off` on. */
typedef struct {
    char *p, *m, *v, *x;
    const char *g;
} seg;

static char *at(char *b, size_t off) { return b ? b + off : NULL; }

/* Only the buffers the update uses are handed on: a buffer the caller left
 * in place (SGD's, after momentum was set to 0) is neither read nor written. */
static seg seg_at(const adamp_run *r, const adamp_tensor *t, size_t off) {
    const int used = adamp_state_count(r->algo, t->hparams);
    seg s = {at(t->param, off), at(used > 0 ? t->state0 : NULL, off), at(used > 1 ? t->state1 : NULL, off),
             at(used > 2 ? t->state2 : NULL, off), (const char *)t->grad + off};
    return s;
}

/* The kernels of the run's algorithm. s, the projection coefficient, is
 * returned by the first sweep and taken by the second. */
static void fused(const adamp_run *r, const adamp_consts *k, size_t n, seg a) {
    switch (r->algo) {
    case ADAMP_ALGO_ADAMP: r->kernels->adamp_update(n, a.p, a.g, a.m, a.v, k); break;
    case ADAMP_ALGO_SGDP: r->kernels->sgdp_update(n, a.p, a.g, a.m, k); break;
    case ADAMP_ALGO_ADAM:
    case ADAMP_ALGO_ADAMW: r->kernels->adam_update(n, a.p, a.g, a.m, a.v, a.x, k); break;
    case ADAMP_ALGO_SGD: r->kernels->sgd_update(n, a.p, a.g, a.m, k); break;
    }
}

static double sweep1(const adamp_run *r, const adamp_consts *k, size_t n, seg a, double norm) {
    if (r->algo == ADAMP_ALGO_ADAMP) return r->kernels->adamp_moments_dot(n, a.p, a.g, a.m, a.v, k, norm);
    return r->kernels->sgdp_moments_dot(n, a.p, a.g, a.m, k, norm);
}

static void sweep2(const adamp_run *r, const adamp_consts *k, size_t n, seg a, double norm, double s) {
    if (r->algo == ADAMP_ALGO_ADAMP) r->kernels->adamp_apply_projection(n, a.p, a.g, a.m, a.v, k, norm, s);
    else r->kernels->sgdp_apply_projection(n, a.p, a.g, a.m, k, norm, s);
}

/* The stats rows of tensor t (whose first row is `so`), or NULL if the run
 * keeps none for it. */
static double *stats_of(const adamp_run *r, const adamp_tensor *t, size_t so) {
    return t->ndim > 1 && r->stats ? r->stats + 3 * so : NULL;
}

/* Item j of the cursor's tensor. The stats of a layer-projected tensor hold,
 * once prepared: [0] the layer's sum of p.p, [3r+1] row r's part of s, and
 * after the reduction [1] s. */
static void do_item(const adamp_run *r, cursor *c, int kind, size_t j) {
    adamp_tensor *t = &r->tensors[c->t];
    const size_t es = adamp_dtype_size(r->dtype), cols = t->cols;
    double *st = stats_of(r, t, c->so);
    const int by_rows = kind == K_STATS || (kind == K_APPLY && t->projection != ADAMP_PROJ_NONE);
    if (kind != K_STATS && c->cached != c->t) c->k = adamp_consts_for(r->algo, t), c->cached = c->t;
    if (by_rows) {
        const size_t rpi = rows_per_item(cols), r0 = j * rpi, r1 = r0 + rpi < t->rows ? r0 + rpi : t->rows;
        for (size_t i = r0; i < r1; i++) {
            const seg a = seg_at(r, t, i * cols * es);
            double *row = st + 3 * i;
            if (kind == K_STATS) {
                row[0] = row[1] = row[2] = 0;
                r->kernels->rowstats(cols, a.p, a.g, row);
            } else if (t->projection == ADAMP_PROJ_CHANNEL) {
                const double norm = sqrt(row[2]);
                sweep2(r, &c->k, cols, a, norm, sweep1(r, &c->k, cols, a, norm));
            } else {
                row[1] = sweep1(r, &c->k, cols, a, sqrt(st[0]));
            }
        }
        return;
    }
    const size_t n = adamp_numel(t), e0 = j * CHUNK, len = (e0 + CHUNK < n ? e0 + CHUNK : n) - e0;
    const seg a = seg_at(r, t, e0 * es);
    if (kind == K_APPLY) fused(r, &c->k, len, a);
    else sweep2(r, &c->k, len, a, sqrt(st[0]), st[1]);
}

/* The element (within the tensor) where item j of `kind` starts. */
static size_t item_start(const adamp_tensor *t, int kind, size_t j) {
    const int by_rows = kind == K_STATS || (kind == K_APPLY && t->projection != ADAMP_PROJ_NONE);
    return by_rows ? j * rows_per_item(t->cols) * t->cols : j * CHUNK;
}

/* floor(elems * k / n) without forming elems * k, which can overflow. */
static size_t share(size_t elems, size_t k, size_t n) { return elems / n * k + elems % n * k / n; }

/* Runs the block's items of one kind that start in this thread's share of
 * its elements, [elems * tid / n, elems * (tid + 1) / n). */
static void work(const adamp_run *r, const block *b, int kind, int tid, int nthreads) {
    const size_t lo = share(b->elems, (size_t)tid, (size_t)nthreads);
    const size_t hi = share(b->elems, (size_t)tid + 1, (size_t)nthreads);
    cursor c = {.t = b->b0, .so = b->so0, .e = 0, .cached = SIZE_MAX};
    for (; c.t < b->b1 && c.e < hi; c.so += stats_rows(&r->tensors[c.t]), c.e += work_elems(&r->tensors[c.t]), c.t++) {
        const adamp_tensor *t = &r->tensors[c.t];
        if (c.e + work_elems(t) <= lo) continue;
        const size_t n = items_of(t, kind);
        for (size_t j = 0; j < n; j++) {
            const size_t at = c.e + item_start(t, kind, j);
            if (at < lo) continue;
            if (at >= hi) break;
            do_item(r, &c, kind, j);
        }
    }
}

/* Thread 0, between barriers: decide (in adamp_step), count the step, and
 * sum the layer norms. */
static void prepare(const adamp_run *r, const block *b) {
    size_t so = b->so0;
    for (size_t i = b->b0; i < b->b1; so += stats_rows(&r->tensors[i]), i++) {
        adamp_tensor *t = &r->tensors[i];
        double *st = stats_of(r, t, so);
        if (r->phases & ADAMP_RUN_DECIDE) t->projection = adamp_decide_tensor(r->algo, t, st, r->dtype);
        if (!t->grad) continue;
        t->step += 1;
        if (t->projection == ADAMP_PROJ_LAYER) {
            double ww = 0;
            for (size_t row = 0; row < t->rows; row++) ww += st[3 * row + 2];
            st[0] = ww;
        }
    }
}

static int has_layer(const adamp_run *r, const block *b) {
    for (size_t i = b->b0; i < b->b1; i++)
        if (r->tensors[i].grad && r->tensors[i].projection == ADAMP_PROJ_LAYER) return 1;
    return 0;
}

/* Thread 0, between barriers: s of each layer-projected tensor, in row order. */
static void reduce_layers(const adamp_run *r, const block *b) {
    size_t so = b->so0;
    for (size_t i = b->b0; i < b->b1; so += stats_rows(&r->tensors[i]), i++) {
        const adamp_tensor *t = &r->tensors[i];
        if (!t->grad || t->projection != ADAMP_PROJ_LAYER) continue;
        double *st = stats_of(r, t, so), s = 0;
        for (size_t row = 0; row < t->rows; row++) s += st[3 * row + 1];
        st[1] = s;
    }
}

static void worker(void *ctx, int tid, int nthreads) {
    const adamp_run *r = ctx;
    block b = {0, 0, 0, 0};
    while (b.b0 < r->count) {
        size_t so = b.so0;
        b.b1 = b.b0;
        b.elems = 0;
        do {
            b.elems += work_elems(&r->tensors[b.b1]);
            so += stats_rows(&r->tensors[b.b1]);
            b.b1++;
        } while (b.b1 < r->count && b.elems + work_elems(&r->tensors[b.b1]) <= r->block);

        if (r->phases & ADAMP_RUN_STATS) work(r, &b, K_STATS, tid, nthreads);
        if (r->phases & ADAMP_RUN_APPLY) {
            adamp_barrier(nthreads);
            if (tid == 0) prepare(r, &b);
            adamp_barrier(nthreads);
            work(r, &b, K_APPLY, tid, nthreads);
            if (has_layer(r, &b)) {
                adamp_barrier(nthreads);
                if (tid == 0) reduce_layers(r, &b);
                adamp_barrier(nthreads);
                work(r, &b, K_LAYER2, tid, nthreads);
            }
        }
        b.b0 = b.b1;
        b.so0 = so;
    }
}

void adamp_schedule(const adamp_run *run, int threads) {
    size_t total = 0;
    for (size_t i = 0; i < run->count; i++) total += work_elems(&run->tensors[i]);
    /* A region costs microseconds: not worth it for a few chunks of work;
     * and a thread beyond one per chunk would find no item to run. */
    if (total < 4 * (size_t)CHUNK) threads = 1;
    else if ((size_t)threads > div_up(total, CHUNK)) threads = (int)div_up(total, CHUNK);
    adamp_parallel(threads, worker, (void *)run);
}
