/* Steps in one sweep (step.c): a tensor its group's rule decides (NEVER,
 * CHANNEL) takes its statistics in its update. Every rule (AUTO and LAYER
 * are not fused: the control), AdamP and SGDP with and without nesterov,
 * f32 and f64, every ISA this CPU has, 1-3 threads, two block sizes:
 * parameters, state, statistics, projections and step counts bitwise those
 * of the public phases run one after another (adamp_row_stats_ex,
 * adamp_decide, adamp_apply_layer_begin/_end), which never fuse. Shapes
 * include rows too narrow to fuse, rows too long for AdamP to keep their
 * perturbation, a bias and a tensor without a gradient. With drop_stats
 * (a fused row then takes |p| alone, or no statistics) the same, but for
 * the statistics. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "adamp.h"
#include "cases.h"
#include "check.h"

/* Each above the 16,384 elements of a tensor stepped whole: channel-orthogonal
 * gradients (rows short enough for AdamP to keep the perturbation, and rows
 * too long), layer-orthogonal ones, random ones, a bias, a tensor without a
 * gradient, and one whose rows are too narrow to be fused. */
enum { COUNT = 7, STEPS = 3 };
static const size_t ROWS[COUNT] = {64, 20, 40, 50, 1, 30, 3000}, COLS[COUNT] = {600, 9000, 1000, 500, 20000, 700, 10};
static const int32_t NDIM[COUNT] = {2, 4, 3, 2, 1, 2, 2};
enum { ORTHO_ROWS, ORTHO_ROWS_LONG, ORTHO_LAYER, RANDOM, BIAS, NO_GRAD, NARROW };

typedef struct {
    char *p[COUNT], *g[COUNT], *s[2][COUNT];
    double *stats;
    adamp_hparams *h;
    adamp_tensor t[COUNT];
} run_state;

static void make(run_state *b, adamp_dtype dtype, const adamp_hparams *h) {
    const size_t es = dtype == ADAMP_F32 ? sizeof(float) : sizeof(double);
    rng = 88172645463325252ull;
    for (int i = 0; i < COUNT; i++) {
        const size_t n = ROWS[i] * COLS[i];
        double *p = malloc(n * sizeof(double)), *g = malloc(n * sizeof(double));
        for (size_t j = 0; j < n; j++) p[j] = uniform(), g[j] = 0.01 * uniform();
        if (i == ORTHO_ROWS || i == ORTHO_ROWS_LONG || i == NO_GRAD) orthogonalize(g, p, ROWS[i], n / ROWS[i]);
        if (i == ORTHO_LAYER) orthogonalize(g, p, 1, n);
        b->p[i] = malloc(n * es), b->g[i] = malloc(n * es);
        for (size_t j = 0; j < n; j++) {
            if (es == sizeof(float)) ((float *)b->p[i])[j] = (float)p[j], ((float *)b->g[i])[j] = (float)g[j];
            else ((double *)b->p[i])[j] = p[j], ((double *)b->g[i])[j] = g[j];
        }
        for (int k = 0; k < 2; k++) b->s[k][i] = calloc(n, es);
        b->t[i] = (adamp_tensor){.param = b->p[i], .grad = i == NO_GRAD ? NULL : b->g[i], .state0 = b->s[0][i],
                                 .state1 = b->s[1][i], .hparams = h, .rows = ROWS[i], .cols = COLS[i],
                                 .ndim = NDIM[i]};
        free(p), free(g);
    }
    b->stats = calloc(adamp_stats_len(b->t, COUNT), sizeof(double));
}

static void release(run_state *b) {
    for (int i = 0; i < COUNT; i++) free(b->p[i]), free(b->g[i]), free(b->s[0][i]), free(b->s[1][i]);
    free(b->stats);
    free(b->h);
    b->h = NULL;
}

static int same(const run_state *a, const run_state *b, adamp_dtype dtype, int stats) {
    const size_t es = dtype == ADAMP_F32 ? sizeof(float) : sizeof(double);
    for (int i = 0; i < COUNT; i++) {
        const size_t bytes = ROWS[i] * COLS[i] * es;
        if (memcmp(a->p[i], b->p[i], bytes) || memcmp(a->s[0][i], b->s[0][i], bytes) ||
            memcmp(a->s[1][i], b->s[1][i], bytes))
            return 0;
        if (a->t[i].projection != b->t[i].projection || a->t[i].step != b->t[i].step) return 0;
    }
    /* the statistics half of the stats buffer */
    return !stats || memcmp(a->stats, b->stats, adamp_stats_len(a->t, COUNT) / 2 * sizeof(double)) == 0;
}

static const variant VARIANTS[] = {PROJECTING_VARIANTS};

/* The phases of a step, one after another: the reference. */
static void phases(const variant *v, adamp_dtype dtype, const adamp_config *cfg, run_state *b,
                   const adamp_step_options *o) {
    const size_t len = adamp_stats_len(b->t, COUNT), rows = len / 6;
    double *layer_pp = calloc(COUNT, sizeof(double)), *row_s = calloc(rows, sizeof(double)), *layer_s = calloc(COUNT, sizeof(double));
    CHECK(adamp_row_stats_ex(cfg, dtype, b->t, COUNT, b->stats, len, o) == ADAMP_OK);
    CHECK(adamp_decide(v->algo, dtype, b->t, COUNT, b->stats, len) == ADAMP_OK);
    layer_pp_of(b->t, COUNT, b->stats, layer_pp);
    CHECK(adamp_apply_layer_begin(cfg, v->algo, dtype, b->t, COUNT, b->stats, len, o, layer_pp, row_s) == ADAMP_OK);
    layer_s_of(b->t, COUNT, row_s, layer_s);
    CHECK(adamp_apply_layer_end(cfg, v->algo, dtype, b->t, COUNT, b->stats, len, o, layer_pp, layer_s) == ADAMP_OK);
    free(layer_pp), free(row_s), free(layer_s);
}

/* STEPS steps under `rule`, by the phases or by adamp_step_ex. */
static void steps(const variant *v, int32_t rule, adamp_dtype dtype, const adamp_config *cfg, run_state *b,
                  int by_phases, int32_t drop) {
    adamp_hparams *h = malloc(sizeof *h);
    *h = v->h;
    h->projection = rule;
    b->h = h;
    make(b, dtype, h);
    const adamp_step_options o = {.size = sizeof o, .grad_mul = 0.5, .drop_stats = by_phases ? 0 : drop};
    const size_t len = adamp_stats_len(b->t, COUNT);
    for (int s = 0; s < STEPS; s++) {
        if (by_phases) phases(v, dtype, cfg, b, &o);
        else CHECK(adamp_step_ex(cfg, v->algo, dtype, b->t, COUNT, b->stats, len, &o) == ADAMP_OK);
    }
}

int main(void) {
    const int32_t threads[] = {1, 2, 3};
    const int64_t blocks[] = {0, 30000};
    printf("fused steps: ISAs exercised:");
    for (adamp_isa isa = ADAMP_ISA_SCALAR; isa <= isa_last(); isa++)
        if (adamp_isa_supported(isa)) printf(" %s", adamp_isa_name(isa));
    printf("\n");
    static const int32_t RULES[] = {ADAMP_PROJECT_AUTO, ADAMP_PROJECT_NEVER, ADAMP_PROJECT_CHANNEL, ADAMP_PROJECT_LAYER};
    for (size_t vi = 0; vi < sizeof VARIANTS / sizeof VARIANTS[0]; vi++)
        for (adamp_dtype dtype = ADAMP_F32; dtype <= ADAMP_F64; dtype++)
            for (adamp_isa isa = ADAMP_ISA_SCALAR; isa <= isa_last(); isa++)
                for (size_t ri = 0; adamp_isa_supported(isa) && ri < sizeof RULES / sizeof RULES[0]; ri++) {
                    const variant *v = &VARIANTS[vi];
                    const adamp_config one = {isa, 1, 0};
                    run_state ref, got;
                    steps(v, RULES[ri], dtype, &one, &ref, 1, 0);
                    for (size_t ti = 0; ti < 3; ti++)
                        for (size_t bi = 0; bi < 2; bi++)
                            for (int32_t drop = 0; drop <= 1; drop++) {
                                const adamp_config cfg = {isa, threads[ti], blocks[bi]};
                                steps(v, RULES[ri], dtype, &cfg, &got, 0, drop);
                                const int ok = same(&ref, &got, dtype, !drop);
                                if (!ok)
                                    fprintf(stderr, "%s %s %s rule %d threads %d block %lld drop_stats %d: differs from the phases\n",
                                            v->name, dtype == ADAMP_F32 ? "f32" : "f64", adamp_isa_name(isa), RULES[ri],
                                            threads[ti], (long long)blocks[bi], (int)drop);
                                CHECK(ok);
                                release(&got);
                            }
                    release(&ref);
                }
    return report();
}
