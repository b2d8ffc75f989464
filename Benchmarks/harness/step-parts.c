/* Where a projected step's time goes, through the library as users call it:
 * in one process, taking turns step by step, Adam; AdamP with gradients
 * orthogonal to each row of the 4-D weights (channel-projected, re-made
 * before every step, untimed); AdamP with the same random gradients (no
 * projection: the statistics pass, then one sweep per element);
 * adamp_row_stats() alone (the statistics pass); SGD; SGDP projecting; and
 * AdamP and SGDP projecting with the rules a user who knows the model
 * gives (4-D weights, behind BatchNorm: ADAMP_PROJECT_CHANNEL; the rest:
 * NEVER), which step in one sweep (step.c).
 * Ratios are to Adam's step of the same turn. docs/performance.md's "Say which weights
 * are scale-invariant" table and docs/performance.md quote it:
 *   make -C CKernels ../build/c/libcadamp.a
 *   cc -O2 -ICKernels/include Benchmarks/harness/step-parts.c build/c/libcadamp.a -lgomp -lm -o /tmp/step-parts
 *   swift run -c release adamp-bench --model resnet50 --list-shapes | /tmp/step-parts 20 2
 * (STEPS, THREADS). Shapes: a JSON list of lists, as --list-shapes prints.
 * Not run by CI. */
#include "timing.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "adamp.h"

enum { MAXT = 4096, KINDS = 8 };
static const char *NAMES[KINDS] = {"adam", "adamp, projecting", "adamp, random g", "row_stats alone", "sgd",
                                   "sgdp, projecting", "adamp, rules", "sgdp, rules"};

static unsigned long long rs = 88172645463325252ull;
static float rnd(void) {
    rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
    return (float)((double)(rs >> 11) * 0x1p-53 - 0.5);
}

/* The shapes on stdin: [[64,3,7,7],[64],...]. Returns how many. */
static size_t read_shapes(size_t rows[], size_t cols[], int ndim[]) {
    size_t n = 0;
    int depth = 0, c;
    while ((c = getchar()) != EOF) {
        if (c == '[' && ++depth == 2) {
            if (n == MAXT) return 0;
            rows[n] = 0, cols[n] = 1, ndim[n] = 0;
        } else if (c == ']' && depth-- == 2) n++;
        else if (c >= '0' && c <= '9' && depth == 2) {
            ungetc(c, stdin);
            size_t d;
            if (scanf("%zu", &d) != 1) return 0;
            if (ndim[n]++ == 0) rows[n] = d;
            else cols[n] *= d;
        }
    }
    return n;
}

typedef struct {
    adamp_tensor *t;
    float **g;
    double *stats;
    size_t len;
} model;

/* h: the group of every tensor; with `rule` (not NULL), 4-D weights' group. */
static void make(model *m, size_t n, const size_t rows[], const size_t cols[], const int ndim[], adamp_hparams *h,
                 adamp_hparams *rule) {
    m->t = calloc(n, sizeof *m->t), m->g = calloc(n, sizeof *m->g);
    rs = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        const size_t e = rows[i] * cols[i];
        float *p = malloc(e * 4 * sizeof(float)), *g = malloc(e * sizeof(float));
        for (size_t j = 0; j < e; j++) p[j] = rnd(), g[j] = rnd() * 0.01f;
        memset(p + e, 0, e * 3 * sizeof(float));
        m->g[i] = g;
        m->t[i] = (adamp_tensor){.param = p, .grad = g, .state0 = p + e, .state1 = p + 2 * e, .state2 = p + 3 * e,
                                 .hparams = rule && ndim[i] == 4 ? rule : h, .rows = rows[i], .cols = cols[i],
                                 .ndim = ndim[i]};
    }
    m->len = adamp_stats_len(m->t, n);
    m->stats = malloc((m->len + 1) * sizeof(double));
}

/* Each row of every 4-D weight's gradient loses its component along the row. */
static void orthogonalize(model *m, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (m->t[i].ndim != 4) continue;
        float *p = m->t[i].param, *g = m->g[i];
        const size_t c = m->t[i].cols;
        for (size_t r = 0; r < m->t[i].rows; r++, p += c, g += c) {
            double gp = 0, pp = 0;
            for (size_t j = 0; j < c; j++) gp += (double)g[j] * p[j], pp += (double)p[j] * p[j];
            for (size_t j = 0; j < c; j++) g[j] -= (float)(gp / pp) * p[j];
        }
    }
}

int main(int argc, char **argv) {
    const int steps = argc > 1 ? atoi(argv[1]) : 20, threads = argc > 2 ? atoi(argv[2]) : 2;
    static size_t rows[MAXT], cols[MAXT];
    static int ndim[MAXT];
    const size_t n = read_shapes(rows, cols, ndim);
    if (n == 0 || steps < 1 || steps > 1000) return fprintf(stderr, "usage: step-parts [STEPS] [THREADS] < shapes.json\n"), 2;
    adamp_hparams h = {.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 1e-4, .delta = 0.1,
                       .wd_ratio = 0.1, .momentum = 0.9};
    /* the rules a user who knows the model gives: 4-D weights (behind BatchNorm) CHANNEL, the rest NEVER */
    adamp_hparams channel = h, never = h;
    channel.projection = ADAMP_PROJECT_CHANNEL, never.projection = ADAMP_PROJECT_NEVER;
    static model m[KINDS];
    for (int k = 0; k < KINDS; k++) make(&m[k], n, rows, cols, ndim, k >= 6 ? &never : &h, k >= 6 ? &channel : NULL);
    static double t[KINDS][1000], ratio[KINDS][1000], to_sgd[2][1000];
    const adamp_config c = {.threads = threads};
    const adamp_algorithm algo[KINDS] = {ADAMP_ALGO_ADAM, ADAMP_ALGO_ADAMP, ADAMP_ALGO_ADAMP, ADAMP_ALGO_ADAMP,
                                         ADAMP_ALGO_SGD,  ADAMP_ALGO_SGDP,  ADAMP_ALGO_ADAMP, ADAMP_ALGO_SGDP};
    const adamp_step_options o = {.size = sizeof o, .grad_mul = 1, .drop_stats = 1};
    for (int s = 0; s < steps + 2; s++)
        for (int k = 0; k < KINDS; k++) {
            if (k == 1 || k >= 5) orthogonalize(&m[k], n);
            const double t0 = now();
            const adamp_status st = k == 3 ? adamp_row_stats(&c, ADAMP_F32, m[k].t, n, m[k].stats, m[k].len)
                                           : adamp_step_ex(&c, algo[k], ADAMP_F32, m[k].t, n, m[k].stats, m[k].len, &o);
            const double dt = now() - t0;
            if (st != ADAMP_OK) return fprintf(stderr, "%s: %s\n", NAMES[k], adamp_status_string(st)), 1;
            if (s >= 2) t[k][s - 2] = dt;
        }
    printf("%zu tensors, %d threads, %s; medians of %d steps taking turns\n", n, threads,
           adamp_isa_name(adamp_isa_selected(ADAMP_ISA_AUTO)), steps);
    /* the SGDs' ratio to SGD, before the times are sorted */
    for (int s = 0; s < steps; s++) to_sgd[0][s] = t[5][s] / t[4][s], to_sgd[1][s] = t[7][s] / t[4][s];
    for (int k = 0; k < KINDS; k++) {
        int channel = 0;
        for (size_t i = 0; i < n; i++) channel += m[k].t[i].projection == ADAMP_PROJ_CHANNEL;
        for (int s = 0; s < steps; s++) ratio[k][s] = t[k][s] / t[0][s];
        qsort(t[k], (size_t)steps, sizeof(double), cmp);
        qsort(ratio[k], (size_t)steps, sizeof(double), cmp);
        printf("%-18s %7.2f ms  %.2fx adam (%.2f-%.2f)  channel-projected: %d\n", NAMES[k], t[k][steps / 2] * 1e3,
               ratio[k][steps / 2], ratio[k][steps / 10], ratio[k][steps - 1 - steps / 10], k == 3 ? 0 : channel);
    }
    for (int q = 0; q < 2; q++) {
        qsort(to_sgd[q], (size_t)steps, sizeof(double), cmp);
        printf("%-18s %.2fx sgd (%.2f-%.2f)\n", NAMES[q ? 7 : 5], to_sgd[q][steps / 2], to_sgd[q][steps / 10],
               to_sgd[q][steps - 1 - steps / 10]);
    }
    return 0;
}
