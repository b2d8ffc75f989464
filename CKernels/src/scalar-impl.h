/* The scalar kernels, written once for both element types: the including file
 * defines T (float or double) and VARIANT (the table's name). Operation order
 * follows the official code's tensor ops, each rounded to T as PyTorch does:
 *   m = m*b1;  m = m + (1-b1)*g              exp_avg.mul_(beta1).add_(grad, alpha=1-beta1)
 *   v = v*b2;  v = v + (1-b2)*g*g            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1-beta2)
 *   denom = sqrt(v)/sqrt(bc2) + eps
 *   perturb = m/denom  or  (b1*m + (1-b1)*g)/denom
 *   p = p*decay;  p = p + (-step)*perturb */
#include <math.h>
#include "kernels.h"

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, VARIANT)

/* The constants cast to T once per segment. */
typedef struct {
    T b1, c1, b2, c2, sbc2, eps, mom, cd, decay, neg_step;
    int nesterov;
} FN(tconsts);

static inline FN(tconsts) FN(load)(const adamp_consts *k) {
    FN(tconsts) c = {(T)k->beta1, (T)k->one_minus_beta1, (T)k->beta2, (T)k->one_minus_beta2,
                     (T)k->sqrt_bc2, (T)k->eps, (T)k->momentum, (T)k->one_minus_damp,
                     (T)k->decay, (T)k->neg_step, k->nesterov};
    return c;
}

static inline T FN(adam_moments)(T g, T *m, T *v, const FN(tconsts) *c) {
    T mm = *m * c->b1;
    mm = mm + c->c1 * g;
    T vv = *v * c->b2;
    vv = vv + c->c2 * g * g;
    *m = mm;
    *v = vv;
    return mm;
}

static inline T FN(adam_perturb)(T g, T m, T v, const FN(tconsts) *c) {
    T denom = (T)sqrt(v) / c->sbc2 + c->eps;
    return c->nesterov ? (c->b1 * m + c->c1 * g) / denom : m / denom;
}

static void FN(rowstats)(size_t n, const void *pp, const void *gp, double acc[3]) {
    const T *p = pp, *g = gp;
    double gw = 0, gg = 0, ww = 0;
    for (size_t i = 0; i < n; i++) {
        double gi = g[i], wi = p[i];
        gw += gi * wi;
        gg += gi * gi;
        ww += wi * wi;
    }
    acc[0] += gw;
    acc[1] += gg;
    acc[2] += ww;
}

static void FN(adam_fused)(size_t n, void *pp, const void *gp, void *mp, void *vp,
                           const adamp_consts *k) {
    T *p = pp, *m = mp, *v = vp;
    const T *g = gp;
    const FN(tconsts) c = FN(load)(k);
    for (size_t i = 0; i < n; i++) {
        T mm = FN(adam_moments)(g[i], &m[i], &v[i], &c);
        T u = FN(adam_perturb)(g[i], mm, v[i], &c);
        T w = p[i] * c.decay;
        p[i] = w + c.neg_step * u;
    }
}

static double FN(adam_moments_dot)(size_t n, const void *pp, const void *gp, void *mp, void *vp,
                                   const adamp_consts *k, double norm) {
    const T *p = pp, *g = gp;
    T *m = mp, *v = vp;
    const FN(tconsts) c = FN(load)(k);
    const T dn = (T)norm + c.eps;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        T mm = FN(adam_moments)(g[i], &m[i], &v[i], &c);
        T u = FN(adam_perturb)(g[i], mm, v[i], &c);
        s += (double)(p[i] / dn * u);
    }
    return s;
}

static void FN(adam_apply_proj)(size_t n, void *pp, const void *gp, const void *mp, const void *vp,
                                const adamp_consts *k, double norm, double s) {
    T *p = pp;
    const T *g = gp, *m = mp, *v = vp;
    const FN(tconsts) c = FN(load)(k);
    const T dn = (T)norm + c.eps, st = (T)s;
    for (size_t i = 0; i < n; i++) {
        T u = FN(adam_perturb)(g[i], m[i], v[i], &c);
        u = u - p[i] / dn * st;
        T w = p[i] * c.decay;
        p[i] = w + c.neg_step * u;
    }
}

static void FN(sgd_fused)(size_t n, void *pp, const void *gp, void *bp, const adamp_consts *k) {
    T *p = pp, *buf = bp;
    const T *g = gp;
    const FN(tconsts) c = FN(load)(k);
    for (size_t i = 0; i < n; i++) {
        T b = buf[i] * c.mom;
        b = b + c.cd * g[i];
        buf[i] = b;
        T u = c.nesterov ? g[i] + c.mom * b : b;
        T w = p[i] * c.decay;
        p[i] = w + c.neg_step * u;
    }
}

static double FN(sgd_moments_dot)(size_t n, const void *pp, const void *gp, void *bp,
                                  const adamp_consts *k, double norm) {
    const T *p = pp, *g = gp;
    T *buf = bp;
    const FN(tconsts) c = FN(load)(k);
    const T dn = (T)norm + c.eps;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        T b = buf[i] * c.mom;
        b = b + c.cd * g[i];
        buf[i] = b;
        T u = c.nesterov ? g[i] + c.mom * b : b;
        s += (double)(p[i] / dn * u);
    }
    return s;
}

static void FN(sgd_apply_proj)(size_t n, void *pp, const void *gp, void *bp,
                               const adamp_consts *k, double norm, double s) {
    T *p = pp, *buf = bp;
    const T *g = gp;
    const FN(tconsts) c = FN(load)(k);
    const T dn = (T)norm + c.eps, st = (T)s;
    for (size_t i = 0; i < n; i++) {
        T u = c.nesterov ? g[i] + c.mom * buf[i] : buf[i];
        u = u - p[i] / dn * st;
        if (!c.nesterov) buf[i] = u; /* d_p is buf itself: projected in place */
        T w = p[i] * c.decay;
        p[i] = w + c.neg_step * u;
    }
}

const adamp_kernels CAT(adamp, VARIANT) = {
    .isa = "scalar",
    .rowstats = FN(rowstats),
    .adam_fused = FN(adam_fused),
    .sgd_fused = FN(sgd_fused),
    .adam_moments_dot = FN(adam_moments_dot),
    .sgd_moments_dot = FN(sgd_moments_dot),
    .adam_apply_proj = FN(adam_apply_proj),
    .sgd_apply_proj = FN(sgd_apply_proj),
};
