/* An optimizer step as the scheduler runs it: what its items are, what each
 * computes, and the serial steps between them (the decision, step counting,
 * the layer view's reduction). The scheduler (schedule.c) knows none of this.
 *
 * Items: a batch of whole rows of one tensor (the statistics, and projected
 * updates, whose per-row sums must each be one thread's, added in one
 * order), or a chunk of elements (unprojected updates and the second sweep
 * of a layer projection). Every item's result depends only on its data, and
 * the layer view's sum across rows is reduced by one thread in row order, so
 * results are bitwise identical for any number of threads. A tensor's
 * statistics rows are its scheduler slots.
 *
 * One sweep. AdamP's decision is the tensor's (the largest cosine over all
 * its rows), so an update cannot start before the statistics pass has read
 * all of p and g, and then reads them again: ResNet-50's step reads 24
 * bytes per parameter to Adam's 16, on a machine that rations reads. A
 * tensor whose group's rule decides (NEVER, CHANNEL) needs no test: its
 * rows' statistics are taken in its update, row by row, in one sweep as
 * Adam's (the channel view's |p| is the row's own). (Guessing the test's
 * answer from the last step instead, and redoing the update from a copy of
 * p when the guess was wrong, was exact but no faster: the copy's writes
 * cost what the second read saved; docs/performance.md.) */
#include "fp.h"
#include <math.h>
#include "step.h"
#include "schedule.h"
#include "tensor.h"

enum { K_STATS, K_APPLY, K_LAYER2 };

/* Rows narrower than this (64 f32 elements) are not fused: a kernel call per
 * row would cost more than the chunked update it replaces (and a row of at
 * least a vector never takes row_lanes' narrow-row branch). */
enum { MIN_ROW_BYTES = 256 };

/* The call's plan: what is the same for every tensor, worked out once after
 * validation; each tensor's path follows from it and the tensor (path_of). */
typedef struct {
    const adamp_run *r;
    const adamp_algo_kernels *k; /* NULL for the statistics alone */
    adamp_sizes z;               /* bytes per element of each buffer, and of the arithmetic */
    int whole_step;              /* every phase, not split: small tensors are stepped whole */
    int projects;                /* the algorithm takes statistics */
    int whole_kind;              /* the items that step a small tensor whole: the first phase's */
    int fuses;                   /* a whole step of an algorithm that projects: rule-decided tensors are fused */
} call;

/* How a tensor is stepped. */
typedef enum {
    /* No gradient, or no elements: no item; its decision and step count are
     * its block's serial step. */
    PATH_NONE,
    /* A small tensor in a whole step (at most a chunk of elements: its
     * statistics one item, its update one chunk) is stepped whole by one
     * item, of the step's first phase (whole_kind): statistics where the
     * algorithm takes them, decision, step count, update, on one thread,
     * while its p and g are in L1. Stepped phase by phase, 20,000 [64, 8]
     * tensors were decided and counted one block at a time on one thread
     * (for AdamP the decision's chain of additions over rows was a twentieth
     * of the step; for SGD, counting steps alone, 17 ns a tensor, while the
     * other thread waited at the first block and ran ahead at the others),
     * and AdamP's read p and g in one pass and the moments in another,
     * re-reading p and g from L3. The same functions in the same order, so
     * the same bits. */
    PATH_WHOLE,
    /* Decided before its statistics by its group's rule (NEVER or CHANNEL; the
     * LAYER view needs the layer's |p| first), in a whole step: its rows'
     * statistics are taken in its update, one sweep. */
    PATH_FUSED,
    /* Statistics (ndim > 1), then the decision, then the update. */
    PATH_PHASED,
} path;

static path path_of(const call *c, const adamp_tensor *t) {
    const size_t n = adamp_numel(t);
    if (!t->grad || n == 0) return PATH_NONE;
    if (c->whole_step && n <= ADAMP_CHUNK) return PATH_WHOLE;
    if (c->fuses && t->ndim > 1 && t->cols * c->z.arithmetic >= MIN_ROW_BYTES &&
        (t->hparams->projection == ADAMP_PROJECT_NEVER || t->hparams->projection == ADAMP_PROJECT_CHANNEL))
        return PATH_FUSED;
    return PATH_PHASED;
}

static const call *call_of(const void *ctx) { return ctx; }
static const adamp_tensor *tensor(const void *ctx, size_t t) { return &call_of(ctx)->r->tensors[t]; }

/* A tensor's work: none without a gradient. The sum over a call was checked
 * to fit (api.c). */
static size_t elems(const void *ctx, size_t t) { return tensor(ctx, t)->grad ? adamp_numel(tensor(ctx, t)) : 0; }
static size_t stats_rows(const void *ctx, size_t t) { return adamp_stats_rows(tensor(ctx, t)); }

static size_t rows_per_item(size_t cols) { return cols >= ADAMP_CHUNK ? 1 : ADAMP_CHUNK / cols; }

/* Whether items of `kind` are batches of rows (the statistics, a fused
 * update and a projected one), else chunks of elements. */
static int by_rows(path p, const adamp_tensor *t, int kind) {
    return kind == K_STATS || (kind == K_APPLY && (p == PATH_FUSED || t->projection != ADAMP_PROJ_NONE));
}

/* The items of `kind` a tensor of path p (not NONE) is cut into, as its
 * phases would run them. */
static size_t items_of(const adamp_tensor *t, path p, int kind) {
    if (kind == K_STATS && (t->ndim <= 1 || p == PATH_FUSED)) return 0;
    if (kind == K_LAYER2 && t->projection != ADAMP_PROJ_LAYER) return 0;
    return by_rows(p, t, kind) ? adamp_div_up(t->rows, rows_per_item(t->cols)) : adamp_div_up(adamp_numel(t), ADAMP_CHUNK);
}

/* A segment of one tensor from element `off` on. Only the buffers the update
 * uses are handed on: a buffer the caller left in place (SGD's, after
 * momentum was set to 0) is neither read nor written. */
static char *at(void *b, size_t e, size_t size) { return b ? (char *)b + e * size : NULL; }

/* Tensor i's segment from element e on. With a float32 master, the kernels'
 * parameter is the master and its other half the stored parameter; split,
 * the stored parameter and its trail (storage.h). */
static adamp_seg seg_at(const call *c, size_t i, int used, size_t e) {
    const adamp_tensor *t = &c->r->tensors[i];
    const adamp_storage *st = &c->r->storage;
    void *const state[ADAMP_MAX_STATES] = {t->state0, t->state1, t->state2};
    void *master = st->master ? at(st->masters[i], e, c->z.master) : NULL;
    adamp_seg s = {at(t->param, e, c->z.param), master, (const char *)t->grad + e * c->z.grad, {NULL}};
    if (st->master == ADAMP_MASTER_FLOAT32) s.p = master, s.p2 = at(t->param, e, c->z.param);
    for (int k = 0; k < used; k++) s.s[k] = at(state[k], e, c->z.state);
    return s;
}

/* The stats rows of a tensor whose first row is `so`, or NULL if the run
 * keeps none for it. */
static double *stats_of(const adamp_run *r, const adamp_tensor *t, size_t so) {
    return adamp_stats_rows(t) && r->stats ? r->stats + ADAMP_STATS_PER_ROW * so : NULL;
}

/* The layer view's sums, in the tensor's scratch (ADAMP_SCRATCH_PER_ROW per
 * row, at least rows + 2): the layer's p.p, then s, then each row's part of s. */
enum { LAYER_PP = 0, LAYER_S = 1, LAYER_ROW_S = 2 };
_Static_assert(ADAMP_SCRATCH_PER_ROW >= 3, "a one-row tensor's scratch holds its three layer sums");
static double *scratch_of(const adamp_run *r, const adamp_tensor *t, size_t so) {
    return adamp_stats_rows(t) && r->scratch ? r->scratch + ADAMP_SCRATCH_PER_ROW * so : NULL;
}

/* The longest channel-view row (in bytes) whose AdamP perturbation item()
 * keeps on its stack between the row's two sweeps. */
enum { ADAMP_KEEP_BYTES = 32768 };

/* The thread's constants cache lives in its scheduler scratch. */
_Static_assert(sizeof(adamp_consts_cache) <= sizeof(adamp_local), "the cache fits a thread's scratch");

/* The rows [r0, r1) of a row item of `kind` (a tensor's statistics, fused
 * update, or projected update), whose statistics rows are `st`. The
 * statistics are only read here but by K_STATS and a fused update, which
 * write them; the layer view's sums go to the scratch. */
static void run_rows(const call *c, size_t i, path p, double *st, double *sc, int kind, size_t r0, size_t r1,
                     const adamp_consts *k, int used) {
    const adamp_run *r = c->r;
    adamp_tensor *t = &r->tensors[i];
    const size_t cols = t->cols;
    if (kind == K_STATS) {
        const adamp_seg a = seg_at(c, i, 0, r0 * cols);
        r->kernels->rowstats(r1 - r0, cols, &a, r->grad_mul, st + ADAMP_STATS_PER_ROW * r0);
        return;
    }
    const adamp_algo_kernels *ak = c->k;
    if (p == PATH_FUSED && r->drop_stats && t->projection == ADAMP_PROJ_NONE) {
        /* Statistics nobody reads: the rows' update alone, in one call. */
        const adamp_seg a = seg_at(c, i, used, r0 * cols);
        ak->update((r1 - r0) * cols, &a, k);
        return;
    }
    /* The perturbation of a channel-projected row, kept between its two
     * sweeps where the algorithm has kernels for that and the row fits
     * (longer rows compute it twice). */
    union {
        float f[ADAMP_KEEP_BYTES / sizeof(float)];
        double d[ADAMP_KEEP_BYTES / sizeof(double)];
    } keep;
    void *const kept = keep.d;
    const int keeps = ak->moments_dot_keep && cols * c->z.arithmetic <= sizeof keep;
    /* A fused row whose statistics are dropped takes |p| alone, here. */
    double own[ADAMP_STATS_PER_ROW];
    const int own_stats = p == PATH_FUSED && r->drop_stats;
    for (size_t row = r0; row < r1; row++) {
        const adamp_seg a = seg_at(c, i, used, row * cols);
        double *rs = own_stats ? own : st + ADAMP_STATS_PER_ROW * row;
        if (p == PATH_FUSED) {
            if (t->projection == ADAMP_PROJ_NONE) {
                ak->update_stats(cols, &a, k, rs);
                continue;
            }
            const double s = (own_stats ? ak->moments_dot_norm : ak->moments_dot_stats)(cols, &a, keeps ? kept : NULL, k, rs);
            if (keeps) ak->apply_kept(cols, &a, kept, k, sqrt(rs[ADAMP_STAT_PP]), s);
            else ak->apply_projection(cols, &a, k, sqrt(rs[ADAMP_STAT_PP]), s);
        } else if (t->projection == ADAMP_PROJ_CHANNEL) {
            const double norm = sqrt(rs[ADAMP_STAT_PP]);
            if (keeps) {
                const double s = ak->moments_dot_keep(cols, &a, kept, k, norm);
                ak->apply_kept(cols, &a, kept, k, norm, s);
            } else {
                ak->apply_projection(cols, &a, k, norm, ak->moments_dot(cols, &a, k, norm));
            }
        } else {
            sc[LAYER_ROW_S + row] = ak->moments_dot(cols, &a, k, sqrt(sc[LAYER_PP]));
        }
    }
}

/* Item j of `kind` of tensor i (path p), whose statistics rows are `st`. */
static void run_item(const call *c, size_t i, path p, size_t so, double *st, int kind, size_t j, adamp_local *local) {
    const adamp_run *r = c->r;
    adamp_tensor *t = &r->tensors[i];
    double *sc = scratch_of(r, t, so);
    adamp_consts_cache *cache = (adamp_consts_cache *)local;
    adamp_consts k = kind == K_STATS ? (adamp_consts){0} : adamp_consts_cached(r->algo, t, cache);
    k.grad_mul = r->grad_mul;
    const int used = kind == K_STATS ? 0 : cache->states;
    if (by_rows(p, t, kind)) {
        const size_t rpi = rows_per_item(t->cols), r0 = j * rpi, r1 = r0 + rpi < t->rows ? r0 + rpi : t->rows;
        run_rows(c, i, p, st, sc, kind, r0, r1, &k, used);
        return;
    }
    const size_t n = adamp_numel(t), e0 = j * ADAMP_CHUNK, len = (e0 + ADAMP_CHUNK < n ? e0 + ADAMP_CHUNK : n) - e0;
    const adamp_seg a = seg_at(c, i, used, e0);
    if (kind == K_APPLY) c->k->update(len, &a, &k);
    else c->k->apply_projection(len, &a, &k, sqrt(sc[LAYER_PP]), sc[LAYER_S]);
}

/* Before a tensor's update (in its block's serial step, or in the item of a
 * tensor stepped whole): decide (in adamp_step), count the step, and sum the
 * layer norms (the halves of a split update take them from the caller; the
 * second half counts nothing). */
static void prepare_one(const adamp_run *r, size_t i, size_t so, const double *st) {
    adamp_tensor *t = &r->tensors[i];
    /* a fused tensor's rule decides it before its statistics exist: st is not read */
    if (r->phases & ADAMP_RUN_DECIDE) t->projection = adamp_decide_tensor(r->algo, t, st, r->dtype);
    if (!t->grad) return;
    if (r->split.part != ADAMP_PART_END) t->step += 1;
    if (t->projection != ADAMP_PROJ_LAYER) return;
    double *sc = scratch_of(r, t, so);
    if (r->split.part == ADAMP_PART_WHOLE) {
        double layer[3];
        adamp_layer_sums(t, st, layer);
        sc[LAYER_PP] = layer[ADAMP_STAT_PP];
    } else {
        sc[LAYER_PP] = r->split.layer_pp[i];
        if (r->split.part == ADAMP_PART_END) sc[LAYER_S] = r->split.layer_s[i];
    }
}

static void prepare(const void *ctx, size_t b0, size_t b1, size_t so) {
    const call *c = ctx;
    for (size_t i = b0; i < b1; so += stats_rows(ctx, i), i++) {
        const adamp_tensor *t = tensor(ctx, i);
        if (path_of(c, t) != PATH_WHOLE) prepare_one(c->r, i, so, stats_of(c->r, t, so));
    }
}

/* Whether the update phase over the block has items (a tensor stepped by
 * phases, or whole where the update is the first phase), or, for `layer`,
 * the layer view's second sweep (a tensor stepped by phases and projected
 * by layer). */
static int has_work(const void *ctx, size_t b0, size_t b1, int layer) {
    const call *c = ctx;
    if (layer && !c->projects) return 0; /* no tensor can be projected: spare the scan */
    for (size_t i = b0; i < b1; i++) {
        const adamp_tensor *t = tensor(ctx, i);
        const path p = path_of(ctx, t);
        if (layer ? (p == PATH_PHASED || p == PATH_FUSED) && t->projection == ADAMP_PROJ_LAYER
                  : p == PATH_PHASED || p == PATH_FUSED || (p == PATH_WHOLE && c->whole_kind == K_APPLY))
            return 1;
    }
    return 0;
}

/* Serial: s of a layer-projected tensor, in row order (or, in the first
 * half of a split update, each row's part of it, for the caller to sum). */
static void reduce_one(const adamp_run *r, const adamp_tensor *t, size_t so) {
    if (!t->grad || t->projection != ADAMP_PROJ_LAYER) return;
    double *sc = scratch_of(r, t, so), s = 0;
    if (r->split.part == ADAMP_PART_BEGIN) {
        for (size_t row = 0; row < t->rows; row++) r->split.row_s[so + row] = sc[LAYER_ROW_S + row];
        return;
    }
    for (size_t row = 0; row < t->rows; row++) s += sc[LAYER_ROW_S + row];
    sc[LAYER_S] = s;
}

static void reduce_layers(const void *ctx, size_t b0, size_t b1, size_t so) {
    const call *c = ctx;
    for (size_t i = b0; i < b1; so += stats_rows(ctx, i), i++)
        if (path_of(c, tensor(ctx, i)) != PATH_WHOLE) reduce_one(c->r, tensor(ctx, i), so);
}

/* The most rows of statistics (6 KiB) a tensor stepped whole keeps on the
 * stack instead of the caller's buffer when the caller does not keep them
 * (adamp_step_options.drop_stats): writing them there was 15-18% of AdamP's
 * step over 20,000 [64, 8] weights, whose statistics are a tenth of the
 * bytes the step must move. */
enum { LOCAL_ROWS = 256 };

/* A tensor stepped whole: every phase in its one item, in the order the
 * phases would run them. */
static void run_whole(const call *c, size_t i, size_t so, adamp_local *local) {
    const adamp_run *r = c->r;
    adamp_tensor *t = &r->tensors[i];
    double rows[ADAMP_STATS_PER_ROW * LOCAL_ROWS];
    double *st = r->drop_stats && t->rows <= LOCAL_ROWS ? rows : stats_of(r, t, so);
    /* The statistics where the algorithm takes them, but not of a tensor
     * its rule leaves unprojected when nobody reads them (its decision reads none). */
    if (c->projects && adamp_stats_rows(t) && (!r->drop_stats || t->hparams->projection != ADAMP_PROJECT_NEVER))
        run_item(c, i, PATH_PHASED, so, st, K_STATS, 0, local);
    prepare_one(r, i, so, st);
    for (size_t a = 0, n = items_of(t, PATH_PHASED, K_APPLY); a < n; a++)
        run_item(c, i, PATH_PHASED, so, st, K_APPLY, a, local);
    reduce_one(r, t, so);
    for (size_t a = 0, n = items_of(t, PATH_PHASED, K_LAYER2); a < n; a++)
        run_item(c, i, PATH_PHASED, so, st, K_LAYER2, a, local);
}

/* Tensor i's items of `kind` that start in [lo, hi) of its elements, as the
 * scheduler runs them: a batch of rows or a chunk each (items_of), or, for a
 * tensor stepped whole, its one item, of whole_kind, starting at 0. Its path
 * is worked out once here, not per item. */
static void run_items(const void *ctx, size_t i, size_t so, int kind, size_t lo, size_t hi, adamp_local *local) {
    const call *c = ctx;
    const adamp_run *r = c->r;
    const adamp_tensor *t = &r->tensors[i];
    const path p = path_of(c, t);
    if (p == PATH_WHOLE) {
        if (kind == c->whole_kind && lo == 0) run_whole(c, i, so, local);
        return;
    }
    if (p == PATH_NONE) return;
    const size_t len = by_rows(p, t, kind) ? rows_per_item(t->cols) * t->cols : ADAMP_CHUNK;
    size_t j0, j1;
    adamp_items_in(items_of(t, p, kind), len, lo, hi, &j0, &j1);
    double *st = stats_of(r, t, so);
    for (size_t j = j0; j < j1; j++) run_item(c, i, p, so, st, kind, j, local);
}

static const adamp_run *run_of(const void *ctx) { return call_of(ctx)->r; }

static int stats_phase(const void *ctx, size_t b0, size_t b1) {
    (void)b0, (void)b1;
    return run_of(ctx)->phases & ADAMP_RUN_STATS;
}

static int apply_phase(const void *ctx, size_t b0, size_t b1) {
    (void)b0, (void)b1;
    return (run_of(ctx)->phases & ADAMP_RUN_APPLY) != 0;
}

static int part(const void *ctx) { return run_of(ctx)->split.part; }
static int first_half(const void *ctx, size_t b0, size_t b1) {
    return apply_phase(ctx, b0, b1) && part(ctx) != ADAMP_PART_END && has_work(ctx, b0, b1, 0);
}
static int layer_sums(const void *ctx, size_t b0, size_t b1) {
    return first_half(ctx, b0, b1) && has_work(ctx, b0, b1, 1);
}
static int layer_sweep(const void *ctx, size_t b0, size_t b1) {
    return apply_phase(ctx, b0, b1) && part(ctx) != ADAMP_PART_BEGIN && has_work(ctx, b0, b1, 1);
}

/* Per block: statistics, then the decision and the update (a fused
 * tensor's statistics with it), then the layer view's reduction and second
 * sweep where a tensor needs it. */
static const adamp_phase PHASES[] = {
    {K_STATS, NULL, stats_phase},
    {0, prepare, apply_phase},
    {K_APPLY, NULL, first_half},
    {0, reduce_layers, layer_sums},
    {K_LAYER2, NULL, layer_sweep},
};

void adamp_run_step(const adamp_run *run, int threads) {
    const int update = ADAMP_RUN_DECIDE | ADAMP_RUN_APPLY, all = ADAMP_RUN_STATS | update;
    const int projects = run->algo && adamp_projects(run->algo);
    /* An algorithm without projection takes no statistics: its whole step is the update's two phases (api.c). */
    const int whole_step = run->algo && run->phases == (projects ? all : update) && run->split.part == ADAMP_PART_WHOLE;
    const call c = {run, run->algo ? &run->kernels->algo[run->algo] : NULL, adamp_sizes_of(&run->storage), whole_step,
                    projects, projects ? K_STATS : K_APPLY, whole_step && projects};
    /* Grains as fine as the scheduler cuts them (16 a share) where a block
     * has statistics and then updates: a thread then updates the rows whose
     * statistics it took, and a coarser grain taken by another thread moved
     * more rows' lines between cores (ResNet-50 with the paper's test,
     * slower memory: AdamP 101-102% of its two-pass floor with 16 grains a
     * share, 98-100% with 2). */
    const adamp_plan plan = {&c, run->count, run->block, elems, stats_rows, run_items,
                             PHASES, sizeof PHASES / sizeof PHASES[0], projects ? 1 : 0};
    adamp_schedule(&plan, threads);
}
