/* Every algorithm on tensors big enough to run on several threads, under
 * every ISA this CPU has, with 1, 2, 3 and 8 threads and several block sizes:
 * results are bitwise those of one thread (adamp.h's promise), and for the
 * baselines, which have no sums, bitwise those of the scalar kernels. Says
 * which ISAs it exercised. Built with sanitizers by `make -C CKernels sanitize`. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "adamp.h"
#include "cases.h"
#include "check.h"

/* Shapes: channel-orthogonal, layer-orthogonal, a bias, a random gradient;
 * the same three kinds small enough to be stepped whole by one item (step.c);
 * one without a gradient; 238,000 elements, above the 131,072 below which a
 * call runs on one thread. */
enum { COUNT = 8, STEPS = 3 };
static const size_t ROWS[COUNT] = {256, 40, 1, 100, 12, 6, 30, 8}, COLS[COUNT] = {300, 2000, 5000, 700, 9, 20, 33, 9};
static const int32_t NDIM[COUNT] = {2, 4, 1, 2, 2, 2, 2, 2};

typedef struct {
    double *p[COUNT], *g[COUNT], *s[3][COUNT];
} batch;

/* Fresh buffers of `es` bytes per element, the same values every time. */
static void make(batch *b, size_t es) {
    rng = 88172645463325252ull;
    for (int i = 0; i < COUNT; i++) {
        const size_t n = ROWS[i] * COLS[i];
        double *p = malloc(n * sizeof(double)), *g = malloc(n * sizeof(double));
        for (size_t j = 0; j < n; j++) p[j] = uniform(), g[j] = 0.01 * uniform();
        if (i == 0 || i == 4) orthogonalize(g, p, ROWS[i], COLS[i]);
        if (i == 1 || i == 5) orthogonalize(g, p, 1, n);
        b->p[i] = calloc(n, es), b->g[i] = calloc(n, es);
        for (size_t j = 0; j < n; j++) {
            if (es == sizeof(float)) ((float *)b->p[i])[j] = (float)p[j], ((float *)b->g[i])[j] = (float)g[j];
            else b->p[i][j] = p[j], b->g[i][j] = g[j];
        }
        for (int k = 0; k < 3; k++) b->s[k][i] = calloc(n, es);
        free(p);
        free(g);
    }
}

static void release(batch *b) {
    for (int i = 0; i < COUNT; i++) {
        free(b->p[i]), free(b->g[i]);
        for (int k = 0; k < 3; k++) free(b->s[k][i]);
    }
}

static int same(const batch *a, const batch *b, size_t es) {
    for (int i = 0; i < COUNT; i++) {
        const size_t bytes = ROWS[i] * COLS[i] * es;
        if (memcmp(a->p[i], b->p[i], bytes)) return 0;
        for (int k = 0; k < 3; k++)
            if (memcmp(a->s[k][i], b->s[k][i], bytes)) return 0;
    }
    return 1;
}

/* The largest difference between two runs' parameters, relative to 1. */
static double max_diff(const batch *a, const batch *b, size_t es) {
    double d = 0;
    for (int i = 0; i < COUNT; i++)
        for (size_t j = 0; j < ROWS[i] * COLS[i]; j++) {
            const double x = es == sizeof(float) ? ((float *)a->p[i])[j] : a->p[i][j];
            const double y = es == sizeof(float) ? ((float *)b->p[i])[j] : b->p[i][j];
            d = fmax(d, fabs(x - y));
        }
    return d;
}

static const variant VARIANTS[] = {
    PROJECTING_VARIANTS,
    {ADAMP_ALGO_ADAM, {.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.1, .amsgrad = 1}, "adam amsgrad"},
    {ADAMP_ALGO_ADAMW, {.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01, .maximize = 1}, "adamw maximize"},
    {ADAMP_ALGO_SGD, {.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-4, .nesterov = 1}, "sgd nesterov"},
    {ADAMP_ALGO_SGD, {.lr = 0.1, .dampening = 0.3}, "sgd momentum 0"},
};

/* STEPS steps of `v` with `cfg`; the projections of the first step in `proj`
 * (the gradients are fixed, so only the first finds them orthogonal). */
static void run(const variant *v, adamp_dtype dtype, const adamp_config *cfg, batch *b, int32_t proj[COUNT]) {
    const size_t es = dtype == ADAMP_F32 ? sizeof(float) : sizeof(double);
    make(b, es);
    adamp_tensor t[COUNT];
    for (int i = 0; i < COUNT; i++)
        t[i] = (adamp_tensor){.param = b->p[i], .grad = i == COUNT - 1 ? NULL : b->g[i], .state0 = b->s[0][i],
                              .state1 = b->s[1][i], .state2 = b->s[2][i], .hparams = &v->h, .rows = ROWS[i],
                              .cols = COLS[i], .ndim = NDIM[i]};
    const size_t len = adamp_stats_len(t, COUNT);
    double *stats = malloc(len * sizeof(double));
    const adamp_step_options o = {.size = sizeof o, .grad_mul = 0.5};
    for (int s = 0; s < STEPS; s++) {
        CHECK(adamp_step_ex(cfg, v->algo, dtype, t, COUNT, stats, len, &o) == ADAMP_OK);
        for (int i = 0; s == 0 && i < COUNT; i++) proj[i] = t[i].projection;
    }
    CHECK(t[0].step == STEPS && t[COUNT - 1].step == 0);
    free(stats);
}

/* run() as a sharded optimizer does it: every tensor of more than one row cut
 * into slices of rows (each tensor's first row alone, then the rest in two),
 * stepped through the public phases (adamp_row_stats_ex, adamp_decide on the
 * whole tensors, adamp_apply_layer_begin/_end on the slices) with the layer
 * view's sums made over the whole tensors in row order. adamp.h promises the
 * step's result bitwise; the gradients are multiplied by 0.5 as they go. */
enum { MAX_SLICES = 3 * COUNT };
static void run_sliced(const variant *v, adamp_dtype dtype, const adamp_config *cfg, batch *b) {
    const size_t es = dtype == ADAMP_F32 ? sizeof(float) : sizeof(double);
    make(b, es);
    adamp_tensor t[COUNT], sl[MAX_SLICES];
    size_t of[MAX_SLICES], n = 0;
    for (int i = 0; i < COUNT; i++) {
        t[i] = (adamp_tensor){.param = b->p[i], .grad = i == COUNT - 1 ? NULL : b->g[i], .state0 = b->s[0][i],
                              .state1 = b->s[1][i], .state2 = b->s[2][i], .hparams = &v->h, .rows = ROWS[i],
                              .cols = COLS[i], .ndim = NDIM[i]};
        const size_t cut[4] = {0, 1, 1 + (ROWS[i] - 1) / 2, ROWS[i]};
        for (int k = 0; k < 3; k++) {
            if (cut[k + 1] == cut[k]) continue;
            const size_t off = cut[k] * COLS[i] * es;
            sl[n] = t[i];
            sl[n].param = (char *)b->p[i] + off;
            sl[n].grad = t[i].grad ? (const char *)t[i].grad + off : NULL;
            sl[n].state0 = (char *)b->s[0][i] + off, sl[n].state1 = (char *)b->s[1][i] + off;
            sl[n].state2 = (char *)b->s[2][i] + off;
            sl[n].rows = cut[k + 1] - cut[k];
            of[n++] = (size_t)i;
        }
    }
    const size_t len = adamp_stats_len(t, COUNT), rows = len / 6;
    CHECK(adamp_stats_len(sl, n) == len);
    double *stats = malloc(len * sizeof(double)), *row_s = malloc(rows * sizeof(double));
    double layer_pp[COUNT], layer_s[COUNT], pp[MAX_SLICES], s_of[MAX_SLICES];
    const adamp_step_options o = {.size = sizeof o, .grad_mul = 0.5};
    for (int step = 0; step < STEPS; step++) {
        CHECK(adamp_row_stats_ex(cfg, dtype, sl, n, stats, len, &o) == ADAMP_OK);
        CHECK(adamp_decide(v->algo, dtype, t, COUNT, stats, len) == ADAMP_OK);
        layer_pp_of(t, COUNT, stats, layer_pp);
        for (size_t k = 0; k < n; k++) sl[k].projection = t[of[k]].projection, pp[k] = layer_pp[of[k]];
        CHECK(adamp_apply_layer_begin(cfg, v->algo, dtype, sl, n, stats, len, &o, pp, row_s) == ADAMP_OK);
        layer_s_of(t, COUNT, row_s, layer_s);
        for (size_t k = 0; k < n; k++) s_of[k] = layer_s[of[k]];
        CHECK(adamp_apply_layer_end(cfg, v->algo, dtype, sl, n, stats, len, &o, pp, s_of) == ADAMP_OK);
    }
    CHECK(sl[0].step == STEPS);
    free(stats);
    free(row_s);
}

/* The scheduler with many blocks in flight: 48 tensors of mixed kinds (row-
 * and tensor-orthogonal gradients, random ones, biases, some without a
 * gradient), each its own block or a few per block, so that its window of
 * open blocks is reused many times, and grains are taken over by other
 * threads; 2, 3, 5 and 8 threads on however many cores, ten runs each, all
 * bitwise one thread's. (schedule.c: phases are opened by whichever thread
 * finishes the last grain, and nobody waits at a barrier.) */
enum { MANY = 48 };
static void many_blocks(adamp_algorithm algo, const adamp_hparams *h) {
    static float p0[MANY][4096], g[MANY][4096], p[2][MANY][4096], st[2][MANY][3][4096]; /* a tensor holds at most 3,850 */
    adamp_tensor t[2][MANY];
    size_t rows[MANY], cols[MANY];
    rng = 88172645463325252ull;
    for (int i = 0; i < MANY; i++) {
        const int kind = i % 6;
        rows[i] = kind == 3 ? 1 : 8 + (size_t)(i * 7) % 28, cols[i] = kind == 3 ? 1000 + (size_t)i * 50 : 64 + (size_t)i;
        const size_t n = rows[i] * cols[i];
        double dp[4096], dg[4096];
        for (size_t j = 0; j < n; j++) dp[j] = uniform(), dg[j] = 0.01 * uniform();
        if (kind == 0) orthogonalize(dg, dp, rows[i], cols[i]);
        if (kind == 1) orthogonalize(dg, dp, 1, n);
        for (size_t j = 0; j < n; j++) p0[i][j] = (float)dp[j], g[i][j] = (float)dg[j];
    }
    const int32_t threads[] = {2, 3, 5, 8};
    const int64_t blocks[] = {1, 3000};
    for (size_t ti = 0; ti < sizeof threads / sizeof threads[0]; ti++)
        for (size_t bi = 0; bi < sizeof blocks / sizeof blocks[0]; bi++)
            for (int rep = 0; rep < 10; rep++) {
                for (int k = 0; k < 2; k++)
                    for (int i = 0; i < MANY; i++) {
                        memcpy(p[k][i], p0[i], sizeof p0[i]);
                        memset(st[k][i], 0, sizeof st[k][i]);
                        t[k][i] = (adamp_tensor){.param = p[k][i], .grad = i % 6 == 5 ? NULL : g[i], .state0 = st[k][i][0],
                                                 .state1 = st[k][i][1], .state2 = st[k][i][2], .hparams = h, .rows = rows[i], .cols = cols[i],
                                                 .ndim = i % 6 == 3 ? 1 : 2};
                    }
                const size_t len = adamp_stats_len(t[0], MANY);
                double *stats = malloc(len * sizeof(double));
                const adamp_config one = {ADAMP_ISA_AUTO, 1, blocks[bi]}, many = {ADAMP_ISA_AUTO, threads[ti], blocks[bi]};
                for (int s = 0; s < 2; s++) {
                    CHECK(adamp_step(&one, algo, ADAMP_F32, t[0], MANY, stats, len) == ADAMP_OK);
                    CHECK(adamp_step(&many, algo, ADAMP_F32, t[1], MANY, stats, len) == ADAMP_OK);
                    /* The gradients are fixed: only the first step finds them orthogonal. */
                    if (s == 0 && adamp_algorithm_projects(algo))
                        CHECK(t[0][0].projection == ADAMP_PROJ_CHANNEL && t[0][1].projection == ADAMP_PROJ_LAYER);
                }
                int ok = memcmp(p[0], p[1], sizeof p[0]) == 0 && memcmp(st[0], st[1], sizeof st[0]) == 0;
                for (int i = 0; i < MANY; i++) ok = ok && t[0][i].projection == t[1][i].projection && t[0][i].step == t[1][i].step;
                if (!ok) fprintf(stderr, "%s: %d threads, block %lld: 48 tensors differ from 1 thread\n",
                                 adamp_algorithm_name(algo), threads[ti], (long long)blocks[bi]);
                CHECK(ok);
                free(stats);
            }
}

/* More threads than the scheduler keeps shares for (256, schedule.c): the
 * threads beyond take other shares' grains. A channel-projected AdamP step
 * over 5M elements (307 chunks of work, so 300 threads all start) is
 * bitwise one thread's. */
static void more_threads_than_shares(void) {
    enum { R = 1200, C = 4200 };
    const size_t n = (size_t)R * C;
    adamp_hparams h = {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01, .delta = 0.1,
                       .wd_ratio = 0.1};
    float *g = malloc(n * sizeof(float)), *b[2];
    double *dp = malloc(C * sizeof(double)), *dg = malloc(C * sizeof(double));
    for (int k = 0; k < 2; k++) b[k] = calloc(3 * n, sizeof(float));
    rng = 88172645463325252ull;
    for (size_t r = 0; r < R; r++) {
        for (size_t j = 0; j < C; j++) dp[j] = uniform(), dg[j] = 0.01 * uniform();
        orthogonalize(dg, dp, 1, C);
        for (size_t j = 0; j < C; j++) b[0][r * C + j] = b[1][r * C + j] = (float)dp[j], g[r * C + j] = (float)dg[j];
    }
    adamp_tensor t[2];
    for (int k = 0; k < 2; k++)
        t[k] = (adamp_tensor){.param = b[k], .grad = g, .state0 = b[k] + n, .state1 = b[k] + 2 * n, .hparams = &h,
                              .rows = R, .cols = C, .ndim = 2};
    const size_t len = adamp_stats_len(t, 1);
    double *st = malloc(len * sizeof(double));
    const adamp_config one = {ADAMP_ISA_AUTO, 1, 0}, many = {ADAMP_ISA_AUTO, 300, 0};
    CHECK(adamp_step(&one, ADAMP_ALGO_ADAMP, ADAMP_F32, &t[0], 1, st, len) == ADAMP_OK);
    CHECK(adamp_step(&many, ADAMP_ALGO_ADAMP, ADAMP_F32, &t[1], 1, st, len) == ADAMP_OK);
    CHECK(t[0].projection == ADAMP_PROJ_CHANNEL && t[1].projection == ADAMP_PROJ_CHANNEL);
    const int ok = memcmp(b[0], b[1], 3 * n * sizeof(float)) == 0;
    if (!ok) fprintf(stderr, "adamp: 300 threads differ from 1 thread\n");
    CHECK(ok);
    for (int k = 0; k < 2; k++) free(b[k]);
    free(g), free(dp), free(dg), free(st);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--isas") == 0) { /* for scripts: the ISAs this CPU has */
        for (adamp_isa isa = ADAMP_ISA_SCALAR; isa <= isa_last(); isa++)
            if (adamp_isa_supported(isa)) printf("%s\n", adamp_isa_name(isa));
        return 0;
    }
    /* 8: more threads than cores, so that waiting threads go to sleep (parallel.c). */
    const int32_t threads[] = {1, 2, 3, 8};
    const int64_t blocks[] = {0, 50000, 1};
    printf("ISAs exercised:");
    for (adamp_isa isa = ADAMP_ISA_SCALAR; isa <= isa_last(); isa++)
        if (adamp_isa_supported(isa)) printf(" %s", adamp_isa_name(isa));
    printf(" (threads 1, 2, 3, 8; OMP default %d)\n", adamp_default_threads());
    for (size_t vi = 0; vi < sizeof VARIANTS / sizeof VARIANTS[0]; vi++) {
        const variant *v = &VARIANTS[vi];
        for (adamp_dtype dtype = ADAMP_F32; dtype <= ADAMP_F64; dtype++) {
            const size_t es = dtype == ADAMP_F32 ? sizeof(float) : sizeof(double);
            batch scalar, one, many;
            int32_t proj_scalar[COUNT], proj[COUNT], proj_many[COUNT];
            const adamp_config scalar_cfg = {ADAMP_ISA_SCALAR, 1, 0};
            run(v, dtype, &scalar_cfg, &scalar, proj_scalar);
            if (v->algo == ADAMP_ALGO_ADAMP || v->algo == ADAMP_ALGO_SGDP)
                CHECK(proj_scalar[0] == ADAMP_PROJ_CHANNEL && proj_scalar[1] == ADAMP_PROJ_LAYER &&
                      proj_scalar[3] == ADAMP_PROJ_NONE && proj_scalar[4] == ADAMP_PROJ_CHANNEL &&
                      proj_scalar[5] == ADAMP_PROJ_LAYER && proj_scalar[6] == ADAMP_PROJ_NONE &&
                      proj_scalar[7] == ADAMP_PROJ_SKIPPED);
            for (adamp_isa isa = ADAMP_ISA_SCALAR; isa <= isa_last(); isa++) {
                if (!adamp_isa_supported(isa)) continue;
                const adamp_config base = {isa, 1, 0};
                run(v, dtype, &base, &one, proj);
                /* Element-wise maths is the same in every variant; only sums round differently. */
                if (v->algo == ADAMP_ALGO_ADAMP || v->algo == ADAMP_ALGO_SGDP)
                    CHECK(memcmp(proj, proj_scalar, sizeof proj) == 0 && max_diff(&one, &scalar, es) < 1e-5);
                else CHECK(same(&one, &scalar, es));
                for (size_t ti = 0; ti < sizeof threads / sizeof threads[0]; ti++)
                    for (size_t bi = 0; bi < sizeof blocks / sizeof blocks[0]; bi++) {
                        const adamp_config cfg = {isa, threads[ti], blocks[bi]};
                        run(v, dtype, &cfg, &many, proj_many);
                        const int ok = same(&many, &one, es) && memcmp(proj, proj_many, sizeof proj) == 0;
                        if (!ok) fprintf(stderr, "%s %s %s threads %d block %lld differs from 1 thread\n", v->name,
                                         dtype == ADAMP_F32 ? "f32" : "f64", adamp_isa_name(isa), threads[ti],
                                         (long long)blocks[bi]);
                        CHECK(ok);
                        release(&many);
                    }
                const adamp_config cfg = {isa, 2, 0};
                run_sliced(v, dtype, &cfg, &many);
                if (!same(&many, &one, es))
                    fprintf(stderr, "%s %s %s: the phases over row slices differ from the step\n", v->name,
                            dtype == ADAMP_F32 ? "f32" : "f64", adamp_isa_name(isa));
                CHECK(same(&many, &one, es));
                release(&many);
                release(&one);
            }
            release(&scalar);
        }
    }
    for (size_t vi = 0; vi < sizeof VARIANTS / sizeof VARIANTS[0]; vi++) many_blocks(VARIANTS[vi].algo, &VARIANTS[vi].h);
    more_threads_than_shares();
    return report();
}
