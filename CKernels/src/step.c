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
 * p when the guess was wrong, was exact but no faster on the machine it was
 * measured on: the copy's writes cost what the second read saved. See the
 * branch experiment/speculation.) */
#include <math.h>
#include "step.h"
#include "schedule.h"
#include "tensor.h"

enum { K_STATS, K_APPLY, K_LAYER2 };

static size_t rows_per_item(size_t cols) { return cols >= ADAMP_CHUNK ? 1 : ADAMP_CHUNK / cols; }
static const adamp_tensor *tensor(const void *ctx, size_t t) { return &((const adamp_run *)ctx)->tensors[t]; }

/* A tensor's work: none without a gradient. The sum over a call was checked
 * to fit (api.c). */
static size_t elems(const void *ctx, size_t t) { return tensor(ctx, t)->grad ? adamp_numel(tensor(ctx, t)) : 0; }
static size_t stats_rows(const void *ctx, size_t t) { return tensor(ctx, t)->ndim > 1 ? tensor(ctx, t)->rows : 0; }

/* Rows narrower than this (64 f32 elements) are not fused: a kernel call per
 * row would cost more than the chunked update it replaces (and a row of at
 * least a vector never takes row_lanes' narrow-row branch). */
enum { MIN_ROW_BYTES = 256 };

/* Whether tensor i is stepped in one sweep, its statistics taken in its
 * update: decided before its statistics by its group's rule (NEVER or
 * CHANNEL; the LAYER view needs the layer's |p| first), in a whole step, and
 * not stepped whole by one item. */
static int fused(const adamp_run *r, size_t i) {
    const adamp_tensor *t = &r->tensors[i];
    const int32_t rule = t->hparams ? t->hparams->projection : ADAMP_PROJECT_AUTO;
    return (rule == ADAMP_PROJECT_NEVER || rule == ADAMP_PROJECT_CHANNEL) && adamp_projects(r->algo) &&
           r->phases == (ADAMP_RUN_STATS | ADAMP_RUN_DECIDE | ADAMP_RUN_APPLY) && r->part == ADAMP_PART_WHOLE &&
           t->ndim > 1 && adamp_numel(t) > ADAMP_CHUNK && t->cols * adamp_dtype_size(r->dtype) >= MIN_ROW_BYTES;
}

/* Items by rows: the statistics, a fused update, and a projected one. */
static int by_rows(const adamp_run *r, size_t i, int kind) {
    if (kind == K_STATS) return 1;
    return kind == K_APPLY && (r->tensors[i].projection != ADAMP_PROJ_NONE || fused(r, i));
}

/* A small tensor in a whole step (its statistics one item, its update one
 * chunk) is stepped whole by its statistics item: statistics, decision, step
 * count, update, on one thread, while its p and g are in L1. Stepped phase by
 * phase, 20,000 [64, 8] tensors were decided one block at a time on one
 * thread (the decision's chain of additions over rows was 5% of the step),
 * and read p and g in one pass and the moments in another, re-reading p and
 * g from L3 (AdamP at 54-58% of the streaming floor; so, 65-68%). The same
 * functions in the same order, so the same bits. */
static int whole_in_item(const adamp_run *r, const adamp_tensor *t) {
    const int all = ADAMP_RUN_STATS | ADAMP_RUN_DECIDE | ADAMP_RUN_APPLY;
    /* At most a chunk of elements is at most one item of rows: rows * cols <= CHUNK gives rows <= CHUNK / cols. */
    return r->phases == all && r->part == ADAMP_PART_WHOLE && t->grad && t->ndim > 1 && adamp_numel(t) <= ADAMP_CHUNK;
}

/* The items of `kind` tensor i's work is cut into (a fused tensor's
 * statistics are its update's). */
static size_t items_of(const adamp_run *r, size_t i, int kind) {
    const adamp_tensor *t = &r->tensors[i];
    if (!t->grad) return 0;
    if (kind == K_STATS && (t->ndim <= 1 || fused(r, i))) return 0;
    if (kind == K_LAYER2 && t->projection != ADAMP_PROJ_LAYER) return 0;
    return by_rows(r, i, kind) ? adamp_div_up(t->rows, rows_per_item(t->cols)) : adamp_div_up(adamp_numel(t), ADAMP_CHUNK);
}

/* The items the scheduler runs: a tensor stepped whole has its statistics item only. */
static size_t items(const void *ctx, size_t i, int kind) {
    return kind != K_STATS && whole_in_item(ctx, tensor(ctx, i)) ? 0 : items_of(ctx, i, kind);
}

static size_t item_start(const void *ctx, size_t i, int kind, size_t j) {
    const adamp_tensor *t = tensor(ctx, i);
    return by_rows(ctx, i, kind) ? j * rows_per_item(t->cols) * t->cols : j * ADAMP_CHUNK;
}

/* A segment of one tensor: its parameter, gradient and state buffers from
 * element `off` on. Only the buffers the update uses are handed on: a buffer
 * the caller left in place (SGD's, after momentum was set to 0) is neither
 * read nor written. */
typedef struct {
    char *p, *m, *v, *x;
    const char *g;
} seg;

static char *at(char *b, size_t off) { return b ? b + off : NULL; }

static seg seg_at(const adamp_tensor *t, int used, size_t off) {
    seg s = {at(t->param, off), at(used > 0 ? t->state0 : NULL, off), at(used > 1 ? t->state1 : NULL, off),
             at(used > 2 ? t->state2 : NULL, off), (const char *)t->grad + off};
    return s;
}

/* Each algorithm's kernels: the unprojected update; and for AdamP and SGDP
 * the two sweeps of a projected one (s, the projection coefficient, is
 * returned by the first and taken by the second). */
static void update(const adamp_run *r, const adamp_consts *k, size_t n, seg a) {
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

/* A fused row: its statistics to rs and its unprojected update; or its
 * statistics and a projected update's sweep 1, returning s. */
static void update_stats(const adamp_run *r, const adamp_consts *k, size_t n, seg a, double *rs) {
    if (r->algo == ADAMP_ALGO_ADAMP) r->kernels->adamp_update_stats(n, a.p, a.g, a.m, a.v, k, rs);
    else r->kernels->sgdp_update_stats(n, a.p, a.g, a.m, k, rs);
}

static double moments_dot_stats(const adamp_run *r, const adamp_consts *k, size_t n, seg a, void *u, double *rs) {
    if (r->algo == ADAMP_ALGO_ADAMP) return r->kernels->adamp_moments_dot_stats(n, a.p, a.g, a.m, a.v, u, k, rs);
    return r->kernels->sgdp_moments_dot_stats(n, a.p, a.g, a.m, k, rs);
}

static void sweep2(const adamp_run *r, const adamp_consts *k, size_t n, seg a, double norm, double s) {
    if (r->algo == ADAMP_ALGO_ADAMP) r->kernels->adamp_apply_projection(n, a.p, a.g, a.m, a.v, k, norm, s);
    else r->kernels->sgdp_apply_projection(n, a.p, a.g, a.m, k, norm, s);
}

/* The stats rows of a tensor whose first row is `so`, or NULL if the run
 * keeps none for it. */
static double *stats_of(const adamp_run *r, const adamp_tensor *t, size_t so) {
    return t->ndim > 1 && r->stats ? r->stats + ADAMP_STATS_PER_ROW * so : NULL;
}

/* The layer view's sums, in the tensor's scratch (ADAMP_SCRATCH_PER_ROW per
 * row, at least rows + 2): the layer's p.p, then s, then each row's part of s. */
enum { LAYER_PP = 0, LAYER_S = 1, LAYER_ROW_S = 2 };
_Static_assert(ADAMP_SCRATCH_PER_ROW >= 3, "a one-row tensor's scratch holds its three layer sums");
static double *scratch_of(const adamp_run *r, const adamp_tensor *t, size_t so) {
    return t->ndim > 1 && r->scratch ? r->scratch + ADAMP_SCRATCH_PER_ROW * so : NULL;
}

/* The longest channel-view row (in bytes) whose AdamP perturbation item()
 * keeps on its stack between the row's two sweeps. */
enum { ADAMP_KEEP_BYTES = 32768 };

/* The thread's constants cache lives in its scheduler scratch. */
_Static_assert(sizeof(adamp_consts_cache) <= sizeof(adamp_local), "the cache fits a thread's scratch");

/* Item j of tensor i, whose statistics rows are `st`. The statistics are
 * only read here; the layer view's sums go to the scratch. */
static void run_item(const adamp_run *r, size_t i, size_t so, double *st, int kind, size_t j, adamp_local *local) {
    adamp_tensor *t = &r->tensors[i];
    const size_t es = adamp_dtype_size(r->dtype), cols = t->cols;
    double *sc = scratch_of(r, t, so);
    adamp_consts k = kind == K_STATS ? (adamp_consts){0} : adamp_consts_cached(r->algo, t, (adamp_consts_cache *)local);
    k.grad_mul = r->grad_mul;
    const int used = adamp_state_count(r->algo, t->hparams); /* -1 for the statistics alone: no state */
    if (by_rows(r, i, kind)) {
        /* AdamP's perturbation of a channel-projected row, kept between its
         * two sweeps (rows longer than this compute it twice). */
        union {
            float f[ADAMP_KEEP_BYTES / sizeof(float)];
            double d[ADAMP_KEEP_BYTES / sizeof(double)];
        } keep;
        void *const kept = r->dtype == ADAMP_F32 ? (void *)keep.f : (void *)keep.d;
        const size_t rpi = rows_per_item(cols), r0 = j * rpi, r1 = r0 + rpi < t->rows ? r0 + rpi : t->rows;
        const int keeps = r->algo == ADAMP_ALGO_ADAMP && cols * es <= sizeof keep;
        if (kind == K_STATS) {
            const seg a = seg_at(t, used, r0 * cols * es);
            r->kernels->rowstats(r1 - r0, cols, a.p, a.g, r->grad_mul, st + ADAMP_STATS_PER_ROW * r0);
            return;
        }
        if (fused(r, i)) {
            for (size_t row = r0; row < r1; row++) {
                const seg a = seg_at(t, used, row * cols * es);
                double *rs = st + ADAMP_STATS_PER_ROW * row;
                if (t->projection == ADAMP_PROJ_NONE) {
                    update_stats(r, &k, cols, a, rs);
                    continue;
                }
                const double s = moments_dot_stats(r, &k, cols, a, keeps ? kept : NULL, rs);
                if (keeps) r->kernels->adamp_apply_kept(cols, a.p, kept, &k, sqrt(rs[2]), s);
                else sweep2(r, &k, cols, a, sqrt(rs[2]), s);
            }
            return;
        }
        for (size_t row = r0; row < r1; row++) {
            const seg a = seg_at(t, used, row * cols * es);
            double *rs = st + ADAMP_STATS_PER_ROW * row;
            if (t->projection == ADAMP_PROJ_CHANNEL) {
                const double norm = sqrt(rs[2]);
                if (keeps) {
                    const double s = r->kernels->adamp_moments_dot_keep(cols, a.p, a.g, a.m, a.v, kept, &k, norm);
                    r->kernels->adamp_apply_kept(cols, a.p, kept, &k, norm, s);
                    continue;
                }
                sweep2(r, &k, cols, a, norm, sweep1(r, &k, cols, a, norm));
            } else {
                sc[LAYER_ROW_S + row] = sweep1(r, &k, cols, a, sqrt(sc[LAYER_PP]));
            }
        }
        return;
    }
    const size_t n = adamp_numel(t), e0 = j * ADAMP_CHUNK, len = (e0 + ADAMP_CHUNK < n ? e0 + ADAMP_CHUNK : n) - e0;
    const seg a = seg_at(t, used, e0 * es);
    if (kind == K_APPLY) update(r, &k, len, a);
    else sweep2(r, &k, len, a, sqrt(sc[LAYER_PP]), sc[LAYER_S]);
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
    if (r->part != ADAMP_PART_END) t->step += 1;
    if (t->projection != ADAMP_PROJ_LAYER) return;
    double *sc = scratch_of(r, t, so);
    if (r->part == ADAMP_PART_WHOLE) {
        double layer[3];
        adamp_layer_sums(t, st, layer);
        sc[LAYER_PP] = layer[2];
    } else {
        sc[LAYER_PP] = r->layer_pp[i];
        if (r->part == ADAMP_PART_END) sc[LAYER_S] = r->layer_s[i];
    }
}

static void prepare(const void *ctx, size_t b0, size_t b1, size_t so) {
    const adamp_run *r = ctx;
    for (size_t i = b0; i < b1; so += stats_rows(ctx, i), i++)
        if (!whole_in_item(r, &r->tensors[i])) prepare_one(r, i, so, stats_of(r, &r->tensors[i], so));
}

/* Whether a phase over the block has items: a tensor not stepped whole
 * with a gradient (and, for `layer`, projected by layer). */
static int has_work(const void *ctx, size_t b0, size_t b1, int layer) {
    for (size_t i = b0; i < b1; i++) {
        const adamp_tensor *t = tensor(ctx, i);
        if (t->grad && !whole_in_item(ctx, t) && (!layer || t->projection == ADAMP_PROJ_LAYER)) return 1;
    }
    return 0;
}

/* Serial: s of a layer-projected tensor, in row order (or, in the first
 * half of a split update, each row's part of it, for the caller to sum). */
static void reduce_one(const adamp_run *r, const adamp_tensor *t, size_t so) {
    if (!t->grad || t->projection != ADAMP_PROJ_LAYER) return;
    double *sc = scratch_of(r, t, so), s = 0;
    if (r->part == ADAMP_PART_BEGIN) {
        for (size_t row = 0; row < t->rows; row++) r->row_s[so + row] = sc[LAYER_ROW_S + row];
        return;
    }
    for (size_t row = 0; row < t->rows; row++) s += sc[LAYER_ROW_S + row];
    sc[LAYER_S] = s;
}

static void reduce_layers(const void *ctx, size_t b0, size_t b1, size_t so) {
    const adamp_run *r = ctx;
    for (size_t i = b0; i < b1; so += stats_rows(ctx, i), i++)
        if (!whole_in_item(r, &r->tensors[i])) reduce_one(r, &r->tensors[i], so);
}

/* The most rows of statistics (6 KiB) a tensor stepped whole keeps on the
 * stack instead of the caller's buffer when the caller does not keep them
 * (adamp_step_options.drop_stats): writing them there was 15-18% of AdamP's
 * step over 20,000 [64, 8] weights, whose statistics are a tenth of the
 * bytes the step must move. */
enum { LOCAL_ROWS = 256 };

/* An item as the scheduler runs it; a tensor stepped whole runs every phase
 * here, in the order the phases would. */
static void item(const void *ctx, size_t i, size_t so, int kind, size_t j, adamp_local *local) {
    const adamp_run *r = ctx;
    adamp_tensor *t = &r->tensors[i];
    const int whole = kind == K_STATS && whole_in_item(r, t);
    double rows[ADAMP_STATS_PER_ROW * LOCAL_ROWS];
    double *st = whole && r->drop_stats && t->rows <= LOCAL_ROWS ? rows : stats_of(r, t, so);
    run_item(r, i, so, st, kind, j, local);
    if (!whole) return;
    prepare_one(r, i, so, st);
    for (size_t a = 0, n = items_of(r, i, K_APPLY); a < n; a++) run_item(r, i, so, st, K_APPLY, a, local);
    reduce_one(r, t, so);
    for (size_t a = 0, n = items_of(r, i, K_LAYER2); a < n; a++) run_item(r, i, so, st, K_LAYER2, a, local);
}

static int stats_phase(const void *ctx, size_t b0, size_t b1) {
    (void)b0, (void)b1;
    return ((const adamp_run *)ctx)->phases & ADAMP_RUN_STATS;
}

static int apply_phase(const void *ctx, size_t b0, size_t b1) {
    (void)b0, (void)b1;
    return (((const adamp_run *)ctx)->phases & ADAMP_RUN_APPLY) != 0;
}

static int part(const void *ctx) { return ((const adamp_run *)ctx)->part; }
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
    const adamp_plan plan = {run, run->count, run->block, elems, stats_rows, items, item_start, item,
                             PHASES, sizeof PHASES / sizeof PHASES[0]};
    adamp_schedule(&plan, threads);
}
