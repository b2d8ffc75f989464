/* The per-tensor maths, as the official code computes it in Python floats. */
#include "fp.h"
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "tensor.h"

/* x rounded to the arithmetic of dtype's steps. */
static double to_dtype(double x, adamp_dtype dtype) { return adamp_arithmetic(dtype) == ADAMP_F32 ? (double)(float)x : x; }

/* |cos| with PyTorch's cosine_similarity rule: each norm clamped to at least
 * eps (a NaN norm stays NaN, as clamp_min keeps it); *den gets the product of
 * the norms. */
static double cosine(const double st[3], double eps, double *den) {
    double ng = sqrt(st[1]), nw = sqrt(st[2]);
    if (ng < eps) ng = eps;
    if (nw < eps) nw = eps;
    *den = ng * nw;
    return fabs(st[0]) / *den;
}

/* The cosine rounded to the tensor's dtype, like the tensor torch compares. */
static double abs_cosine(const double st[3], double eps, adamp_dtype dtype) {
    double den;
    return to_dtype(cosine(st, eps, &den), dtype);
}

/* delta / sqrt(width), rounded to the dtype as the comparison of a tensor
 * with a Python float rounds it. */
static double threshold(double delta, size_t width, adamp_dtype dtype) {
    return to_dtype(delta / sqrt((double)width), dtype);
}

void adamp_layer_sums(const adamp_tensor *t, const double *st, double layer[3]) {
    layer[0] = layer[1] = layer[2] = 0;
    for (size_t r = 0; r < t->rows; r++) {
        const double *row = st + ADAMP_STATS_PER_ROW * r;
        layer[0] += row[0];
        layer[1] += row[1];
        layer[2] += row[2];
    }
}

void adamp_diagnose_tensor(adamp_algorithm algo, const adamp_tensor *t, const double *st, adamp_dtype dtype,
                           adamp_diagnostics *d) {
    d->projection = t->projection;
    d->channel_cosine = d->channel_threshold = d->layer_cosine = d->layer_threshold = NAN;
    d->weight_norm = d->grad_norm = NAN;
    if (!t->grad || t->ndim <= 1 || adamp_numel(t) == 0 || !st || !adamp_projects(algo)) return;
    const double eps = t->hparams->eps, delta = t->hparams->delta;
    double sum[3], worst = 0;
    for (size_t r = 0; r < t->rows; r++) {
        const double c = abs_cosine(st + ADAMP_STATS_PER_ROW * r, eps, dtype);
        if (!(c <= worst)) worst = c; /* a NaN sticks: it never passes the test */
    }
    adamp_layer_sums(t, st, sum);
    d->channel_cosine = worst;
    d->channel_threshold = threshold(delta, t->cols, dtype);
    d->layer_cosine = abs_cosine(sum, eps, dtype);
    d->layer_threshold = threshold(delta, adamp_numel(t), dtype);
    d->weight_norm = sqrt(sum[2]);
    d->grad_norm = sqrt(sum[1]);
}

/* One of layer_passes' chains of row sums: g.p, g.g, p.p and sum |g.p|. */
typedef struct {
    double gp, gg, pp, agp;
} chain;
static inline void chain_add(chain *c, const double *row) {
    c->gp += row[0], c->gg += row[1], c->pp += row[2], c->agp += fabs(row[0]);
}

/* Two doubles, added by one SSE2 instruction on every x86-64 (gcc's and
 * clang's vector extension); the same additions as two doubles'. */
typedef double pair __attribute__((vector_size(16)));
typedef int64_t pair_bits __attribute__((vector_size(16)));
static inline pair load_pair(const double *x) {
    pair v;
    memcpy(&v, x, sizeof v);
    return v;
}
static inline pair abs_pair(pair v) { return (pair)((pair_bits)v & (pair_bits){INT64_MAX, INT64_MAX}); }

/* Four chains so that the additions of a round of rows do not wait on each
 * other (row order, one chain of dependent additions, was 8% of AdamP's step
 * over 20,000 [64, 8] weights). A round of four rows is 12 consecutive
 * statistics, added as 6 pairs: lane j of pair q holds chain (2q + j) / 3's
 * quantity (2q + j) % 3, and |g.p| (statistics 0, 3, 6, 9) is in lanes of
 * pairs 0, 1, 3 and 4. */
void adamp_layer_chain_sums(const adamp_tensor *t, const double *st, double sum[4]) {
    _Static_assert(ADAMP_STATS_PER_ROW == 3 && ADAMP_STAT_GP == 0, "a row's statistics are g.p, g.g, p.p");
    /* Each in a variable of its own: in an array, gcc kept them in memory. */
    pair a0 = {0, 0}, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, b0 = a0, b1 = a0, b3 = a0, b4 = a0;
    size_t r = 0;
    for (; r + 4 <= t->rows; r += 4) {
        const double *x = st + ADAMP_STATS_PER_ROW * r;
        const pair v0 = load_pair(x), v1 = load_pair(x + 2), v3 = load_pair(x + 6), v4 = load_pair(x + 8);
        a0 += v0, a1 += v1, a2 += load_pair(x + 4), a3 += v3, a4 += v4, a5 += load_pair(x + 10);
        b0 += abs_pair(v0), b1 += abs_pair(v1), b3 += abs_pair(v3), b4 += abs_pair(v4);
    }
    chain ch[4] = {{a0[0], a0[1], a1[0], b0[0]}, {a1[1], a2[0], a2[1], b1[1]},
                   {a3[0], a3[1], a4[0], b3[0]}, {a4[1], a5[0], a5[1], b4[1]}};
    for (size_t k = 0; r < t->rows; r++, k++) chain_add(&ch[k], st + ADAMP_STATS_PER_ROW * r);
    sum[0] = (ch[0].gp + ch[1].gp) + (ch[2].gp + ch[3].gp), sum[1] = (ch[0].gg + ch[1].gg) + (ch[2].gg + ch[3].gg);
    sum[2] = (ch[0].pp + ch[1].pp) + (ch[2].pp + ch[3].pp), sum[3] = (ch[0].agp + ch[1].agp) + (ch[2].agp + ch[3].agp);
}

/* Whether the layer view passes: its cosine, from the rows' sums added in
 * row order (adamp_layer_sums), below `thr` once rounded to the dtype, a test
 * monotone in the cosine, decided from the four chains' sums where it can be.
 * Any order of adding n terms lies within (n-1)u sum|x| of the exact sum
 * (u = 2^-53), so the two orders' g.g and p.p differ by a relative 2(n-1)u at
 * most, and their g.p by 2(n-1)u sum|g.p|: the row-order cosine lies within
 * `slack` (twice that bound, and 16u for the roundings of both evaluations)
 * of this one. Where the test agrees at both ends, that is its answer for
 * row order too; elsewhere, when anything is not finite, and for more rows
 * than the bound is good for (2^43), the rows are added in row order. */
static int layer_passes(const adamp_tensor *t, const double *st, double eps, double thr, adamp_dtype dtype) {
    double sum[4];
    adamp_layer_chain_sums(t, st, sum);
    double den;
    const double c = cosine(sum, eps, &den), e = 4.0 * (double)t->rows * 0x1p-53;
    const double slack = c * (2 * e + 0x1p-49) + 2 * e * sum[3] / den;
    const double big = 0x1p1000; /* far from overflow in either order */
    if (e < 0x1p-8 && sum[1] < big && sum[2] < big && sum[3] < big && den > 0 && slack < big) {
        if (to_dtype(c + slack, dtype) < thr) return 1;
        if (!(to_dtype(c - slack, dtype) < thr)) return 0;
    }
    double layer[3];
    adamp_layer_sums(t, st, layer);
    return abs_cosine(layer, eps, dtype) < thr;
}

/* The paper's test: the channel view if every row's |cos| is below its
 * threshold, else the layer view if the layer's is. NaN never passes. */
int32_t adamp_decide_tensor(adamp_algorithm algo, const adamp_tensor *t, const double *st, adamp_dtype dtype) {
    if (!t->grad) return ADAMP_PROJ_SKIPPED;
    if (t->ndim <= 1 || adamp_numel(t) == 0 || !adamp_projects(algo)) return ADAMP_PROJ_NONE;
    /* A group's rule overrides the test (the statistics still give the norms). */
    switch (t->hparams->projection) {
    case ADAMP_PROJECT_NEVER: return ADAMP_PROJ_NONE;
    case ADAMP_PROJECT_CHANNEL: return ADAMP_PROJ_CHANNEL;
    case ADAMP_PROJECT_LAYER: return ADAMP_PROJ_LAYER;
    default: break;
    }
    /* adamp_diagnose_tensor's numbers, compared as they come: the channel view
     * fails at its first row that does not pass (a NaN never passes), which
     * spares the other rows' square roots. */
    const double eps = t->hparams->eps, delta = t->hparams->delta;
    const double channel_threshold = threshold(delta, t->cols, dtype);
    size_t r = 0;
    while (r < t->rows && abs_cosine(st + ADAMP_STATS_PER_ROW * r, eps, dtype) < channel_threshold) r++;
    if (r == t->rows) return ADAMP_PROJ_CHANNEL;
    if (layer_passes(t, st, eps, threshold(delta, adamp_numel(t), dtype), dtype)) return ADAMP_PROJ_LAYER;
    return ADAMP_PROJ_NONE;
}

/* Adam's constants, as the official code (AdamP: math.sqrt) or torch.optim
 * (x ** 0.5) computes them in Python floats. */
static void adam_consts(adamp_consts *k, const adamp_hparams *h, double step, int torch_style) {
    const double bc1 = 1 - pow(h->beta1, step);
    const double bc2 = 1 - pow(h->beta2, step);
    k->beta1 = h->beta1;
    k->one_minus_beta1 = 1 - h->beta1;
    k->beta2 = h->beta2;
    k->one_minus_beta2 = 1 - h->beta2;
    k->sqrt_bc2 = torch_style ? pow(bc2, 0.5) : sqrt(bc2);
    k->neg_step = -(h->lr / bc1);
}

/* SGD's constants, shared by SGDP and torch.optim's SGD. */
static void sgd_consts(adamp_consts *k, const adamp_hparams *h) {
    k->momentum = h->momentum;
    k->one_minus_damp = 1 - h->dampening;
    k->neg_step = -h->lr;
}

/* The constants of the fields the algorithm reads (algorithms.inc): the
 * Adams' from beta1 and beta2, the SGDs' from momentum; its weight decay. */
adamp_consts adamp_consts_for(adamp_algorithm algo, const adamp_tensor *t) {
    const adamp_algorithm_info *a = adamp_algorithm_find(algo);
    const adamp_hparams *h = t->hparams;
    const double ratio = t->projection > 0 ? h->wd_ratio : 1.0;
    adamp_consts k = {0};
    k.eps = h->eps;
    k.nesterov = h->nesterov;
    k.decay = 1;
    if (adamp_reads(a, ADAMP_FIELD_BETA1)) adam_consts(&k, h, (double)t->step, a->origin == ADAMP_ORIGIN_TORCH);
    if (adamp_reads(a, ADAMP_FIELD_MOMENTUM)) sgd_consts(&k, h);
    if (a->decay == ADAMP_DECAY_L2) k.l2 = h->weight_decay;
    else if (a->decay == ADAMP_DECAY_DECOUPLED) k.decay = 1 - h->lr * h->weight_decay * ratio;
    else k.decay = 1 - h->lr * h->weight_decay * ratio / (1 - h->momentum);
    k.first = t->step == 1; /* counted already: no momentum buffer before this step (SGD) */
    k.has_l2 = k.l2 != 0;
    k.maximize = adamp_reads(a, ADAMP_FIELD_MAXIMIZE) && h->maximize; /* the official AdamP and SGDP have none */
    return k;
}

adamp_consts adamp_consts_cached(adamp_algorithm algo, const adamp_tensor *t, adamp_consts_cache *c) {
    const int projected = t->projection > 0; /* what adamp_consts_for reads: algo and these three of t */
    if (!c->valid || c->algo != algo || c->h != t->hparams || c->step != t->step || c->projected != projected)
        *c = (adamp_consts_cache){algo, t->hparams, t->step, projected, 1, adamp_state_count(algo, t->hparams),
                                  adamp_consts_for(algo, t)};
    return c->k;
}
