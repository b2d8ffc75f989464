/* The public entry points: validate everything, then run the phases. The
 * per-tensor maths (constants, the scale-invariance test) lives here; the
 * per-element work lives in the kernels of the selected variant. */
#include <math.h>
#include <stdint.h>
#include "adamp.h"
#include "kernels.h"
#include "dispatch.h"

static int is_algo(adamp_algorithm a) { return a == ADAMP_ALGO_ADAMP || a == ADAMP_ALGO_SGDP; }
static int is_dtype(adamp_dtype d) { return d == ADAMP_F32 || d == ADAMP_F64; }
static size_t dtype_size(adamp_dtype d) { return d == ADAMP_F64 ? sizeof(double) : sizeof(float); }

size_t adamp_stats_len(const adamp_tensor *tensors, size_t count) {
    size_t n = 0;
    if (!tensors) return 0;
    for (size_t i = 0; i < count; i++)
        if (tensors[i].ndim > 1) n += 3 * tensors[i].rows;
    return n;
}

/* Checks every tensor (and the stats buffer when need_stats) before anything
 * is written. algo == 0 skips the hyperparameter and state checks that only
 * the update needs. */
static adamp_status validate(adamp_algorithm algo, const adamp_tensor *tensors, size_t count,
                             const double *stats, size_t stats_len, int need_stats) {
    if (count == 0) return ADAMP_OK;
    if (!tensors) return ADAMP_E_NULL_POINTER;
    size_t needed = 0;
    for (size_t i = 0; i < count; i++) {
        const adamp_tensor *t = &tensors[i];
        if (!t->param) return ADAMP_E_NULL_POINTER;
        if (t->rows == 0 || t->cols == 0) return ADAMP_E_INVALID_SIZE;
        if (t->rows > SIZE_MAX / sizeof(double) / t->cols) return ADAMP_E_INVALID_SIZE;
        if (t->ndim > 1) {
            if (t->rows > (SIZE_MAX - needed) / 3) return ADAMP_E_INVALID_SIZE;
            needed += 3 * t->rows;
        }
        if (algo == 0) continue;
        if (!t->hparams) return ADAMP_E_NULL_POINTER;
        adamp_status s = adamp_hparams_check(algo, t->hparams, NULL, NULL);
        if (s != ADAMP_OK) return s;
        if (t->step < 0 || t->step == INT64_MAX) return ADAMP_E_INVALID_SIZE;
        if (t->grad && !t->state0) return ADAMP_E_NULL_POINTER;
        if (t->grad && algo == ADAMP_ALGO_ADAMP && !t->state1) return ADAMP_E_NULL_POINTER;
    }
    if (need_stats && needed > 0) {
        if (!stats) return ADAMP_E_NULL_POINTER;
        if (stats_len < needed) return ADAMP_E_STATS_TOO_SMALL;
    }
    return ADAMP_OK;
}

adamp_status adamp_row_stats(adamp_dtype dtype, const adamp_tensor *tensors, size_t count,
                             double *stats, size_t stats_len) {
    if (!is_dtype(dtype)) return ADAMP_E_INVALID_ENUM;
    adamp_status s = validate(0, tensors, count, stats, stats_len, 1);
    if (s != ADAMP_OK) return s;
    const adamp_kernels *k = adamp_select_kernels(dtype);
    const size_t es = dtype_size(dtype);
    size_t off = 0;
    for (size_t i = 0; i < count; i++) {
        const adamp_tensor *t = &tensors[i];
        if (t->ndim <= 1) continue;
        if (t->grad) {
            for (size_t r = 0; r < t->rows; r++) {
                double *acc = stats + 3 * (off + r);
                acc[0] = acc[1] = acc[2] = 0;
                size_t at = r * t->cols * es;
                k->rowstats(t->cols, (const char *)t->param + at, (const char *)t->grad + at, acc);
            }
        }
        off += t->rows;
    }
    return ADAMP_OK;
}

/* |cos| with PyTorch's cosine_similarity rule: each norm clamped to at least
 * eps (a NaN norm stays NaN, as clamp_min keeps it), rounded to the tensor's
 * dtype like the tensor torch compares. */
static double abs_cosine(const double st[3], double eps, adamp_dtype dtype) {
    double ng = sqrt(st[1]), nw = sqrt(st[2]);
    if (ng < eps) ng = eps;
    if (nw < eps) nw = eps;
    double c = fabs(st[0]) / (ng * nw);
    return dtype == ADAMP_F32 ? (double)(float)c : c;
}

/* cos < delta / sqrt(width), the threshold rounded to the dtype as the
 * comparison of a tensor with a Python float rounds it. NaN never passes. */
static int below(double cos, double delta, size_t width, adamp_dtype dtype) {
    double thr = delta / sqrt((double)width);
    if (dtype == ADAMP_F32) thr = (double)(float)thr;
    return cos < thr;
}

static int32_t decide_one(const adamp_tensor *t, const double *st, adamp_dtype dtype) {
    if (!t->grad) return ADAMP_PROJ_SKIPPED;
    if (t->ndim <= 1) return ADAMP_PROJ_NONE;
    const double eps = t->hparams->eps, delta = t->hparams->delta;
    int channel = 1;
    double sum[3] = {0, 0, 0};
    for (size_t r = 0; r < t->rows; r++) {
        const double *row = st + 3 * r;
        if (channel && !below(abs_cosine(row, eps, dtype), delta, t->cols, dtype)) channel = 0;
        sum[0] += row[0];
        sum[1] += row[1];
        sum[2] += row[2];
    }
    if (channel) return ADAMP_PROJ_CHANNEL;
    if (below(abs_cosine(sum, eps, dtype), delta, t->rows * t->cols, dtype)) return ADAMP_PROJ_LAYER;
    return ADAMP_PROJ_NONE;
}

adamp_status adamp_decide(adamp_algorithm algorithm, adamp_dtype dtype, adamp_tensor *tensors,
                          size_t count, const double *stats, size_t stats_len) {
    if (!is_algo(algorithm) || !is_dtype(dtype)) return ADAMP_E_INVALID_ENUM;
    adamp_status s = validate(algorithm, tensors, count, stats, stats_len, 1);
    if (s != ADAMP_OK) return s;
    size_t off = 0;
    for (size_t i = 0; i < count; i++) {
        adamp_tensor *t = &tensors[i];
        t->projection = decide_one(t, t->ndim > 1 ? stats + 3 * off : NULL, dtype);
        if (t->ndim > 1) off += t->rows;
    }
    return ADAMP_OK;
}

/* The official code's Python-float arithmetic, in its order. */
static adamp_consts consts_for(adamp_algorithm algo, const adamp_tensor *t, int64_t step) {
    const adamp_hparams *h = t->hparams;
    const double ratio = t->projection > 0 ? h->wd_ratio : 1.0;
    adamp_consts k = {0};
    k.eps = h->eps;
    k.nesterov = h->nesterov;
    if (algo == ADAMP_ALGO_ADAMP) {
        const double bc1 = 1 - pow(h->beta1, (double)step);
        const double bc2 = 1 - pow(h->beta2, (double)step);
        k.beta1 = h->beta1;
        k.one_minus_beta1 = 1 - h->beta1;
        k.beta2 = h->beta2;
        k.one_minus_beta2 = 1 - h->beta2;
        k.sqrt_bc2 = sqrt(bc2);
        k.neg_step = -(h->lr / bc1);
        k.decay = 1 - h->lr * h->weight_decay * ratio;
    } else {
        k.momentum = h->momentum;
        k.one_minus_damp = 1 - h->dampening;
        k.neg_step = -h->lr;
        k.decay = 1 - h->lr * h->weight_decay * ratio / (1 - h->momentum);
    }
    return k;
}

/* One projected segment (a channel-view row, or the whole tensor for the
 * layer view): sweep 1 updates the moments and gives s; sweep 2 applies. */
static void apply_projected(adamp_algorithm algo, const adamp_kernels *kn, const adamp_consts *k,
                            size_t n, char *p, const char *g, char *m, char *v, double ww) {
    const double norm = sqrt(ww);
    if (algo == ADAMP_ALGO_ADAMP) {
        double s = kn->adam_moments_dot(n, p, g, m, v, k, norm);
        kn->adam_apply_proj(n, p, g, m, v, k, norm, s);
    } else {
        double s = kn->sgd_moments_dot(n, p, g, m, k, norm);
        kn->sgd_apply_proj(n, p, g, m, k, norm, s);
    }
}

adamp_status adamp_apply(adamp_algorithm algorithm, adamp_dtype dtype, adamp_tensor *tensors,
                         size_t count, const double *stats, size_t stats_len) {
    if (!is_algo(algorithm) || !is_dtype(dtype)) return ADAMP_E_INVALID_ENUM;
    int need_stats = 0;
    for (size_t i = 0; tensors && i < count; i++) {
        const adamp_tensor *t = &tensors[i];
        if (!t->grad) continue;
        if (t->projection < ADAMP_PROJ_NONE || t->projection > ADAMP_PROJ_LAYER)
            return ADAMP_E_INVALID_ENUM;
        if (t->projection != ADAMP_PROJ_NONE) {
            if (t->ndim <= 1) return ADAMP_E_INVALID_ENUM;
            need_stats = 1;
        }
    }
    adamp_status s = validate(algorithm, tensors, count, stats, stats_len, need_stats);
    if (s != ADAMP_OK) return s;
    const adamp_kernels *kn = adamp_select_kernels(dtype);
    const size_t es = dtype_size(dtype);
    size_t off = 0;
    for (size_t i = 0; i < count; i++) {
        adamp_tensor *t = &tensors[i];
        const double *st = t->ndim > 1 ? stats + 3 * off : NULL;
        if (t->ndim > 1) off += t->rows;
        if (!t->grad) continue;
        const adamp_consts k = consts_for(algorithm, t, t->step + 1);
        char *p = t->param, *m = t->state0, *v = t->state1;
        const char *g = t->grad;
        const size_t n = t->rows * t->cols;
        if (t->projection == ADAMP_PROJ_NONE) {
            if (algorithm == ADAMP_ALGO_ADAMP) kn->adam_fused(n, p, g, m, v, &k);
            else kn->sgd_fused(n, p, g, m, &k);
        } else if (t->projection == ADAMP_PROJ_CHANNEL) {
            const size_t rb = t->cols * es;
            for (size_t r = 0; r < t->rows; r++)
                apply_projected(algorithm, kn, &k, t->cols, p + r * rb, g + r * rb, m + r * rb,
                                v ? v + r * rb : NULL, st[3 * r + 2]);
        } else {
            double ww = 0;
            for (size_t r = 0; r < t->rows; r++) ww += st[3 * r + 2];
            apply_projected(algorithm, kn, &k, n, p, g, m, v, ww);
        }
        t->step += 1;
    }
    return ADAMP_OK;
}

adamp_status adamp_step(adamp_algorithm algorithm, adamp_dtype dtype, adamp_tensor *tensors,
                        size_t count, double *stats, size_t stats_len) {
    if (!is_algo(algorithm) || !is_dtype(dtype)) return ADAMP_E_INVALID_ENUM;
    /* Validate the whole call first, so that no phase can fail halfway. */
    adamp_status s = validate(algorithm, tensors, count, stats, stats_len, 1);
    if (s != ADAMP_OK) return s;
    if (count == 0) return ADAMP_OK;
    adamp_row_stats(dtype, tensors, count, stats, stats_len);
    adamp_decide(algorithm, dtype, tensors, count, stats, stats_len);
    return adamp_apply(algorithm, dtype, tensors, count, stats, stats_len);
}
