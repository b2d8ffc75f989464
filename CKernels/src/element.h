/* The per-element maths of every kernel, once, for one element type: the
 * including file defines T (float or double) and E(name) (a name suffixed
 * with the type). The scalar kernels are loops over these functions, and the
 * SIMD kernels use them for their tails, so a tail never differs from the
 * reference.
 *
 * Operation order follows the official code's tensor ops, each rounded to T
 * as PyTorch rounds it, with no contraction into FMA (which would round
 * differently from the reference):
 *   m = m*b1;  m = m + (1-b1)*g              exp_avg.mul_(beta1).add_(grad, alpha=1-beta1)
 *   v = v*b2;  v = v + ((1-b2)*g)*g          exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1-beta2)
 *   denom = sqrt(v)/sqrt(bc2) + eps
 *   u = m/denom  or  (b1*m + (1-b1)*g)/denom
 *   buf = buf*mom;  buf = buf + (1-damp)*g   d = buf  or  g + mom*buf
 *   u = u - (p/dn)*s                          perturb -= p_n * (p_n . perturb), dn = |p| + eps
 *   p = p*decay;  p = p + (-step)*u */
#include <math.h>
#include "kernels.h"

/* clang contracts a*b+c within an expression unless told not to; gcc in ISO C
 * mode (-std=c11) never does. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* The constants cast to T once per segment. */
typedef struct {
    T b1, c1, b2, c2, sbc2, eps, mom, cd, decay, neg_step;
    int nesterov;
} E(tconsts);

static inline E(tconsts) E(load)(const adamp_consts *k) {
    E(tconsts) c = {(T)k->beta1, (T)k->one_minus_beta1, (T)k->beta2, (T)k->one_minus_beta2,
                    (T)k->sqrt_bc2, (T)k->eps, (T)k->momentum, (T)k->one_minus_damp,
                    (T)k->decay, (T)k->neg_step, k->nesterov};
    return c;
}

static inline T E(sqrt)(T x) { return (T)sqrt((double)x); } /* exact for float too */

/* Adam moments of one element, written back; returns the perturbation. */
static inline T E(adam_moments1)(T g, T *m, T *v, const E(tconsts) *c) {
    T mm = *m * c->b1;
    mm = mm + c->c1 * g;
    T cg = c->c2 * g;
    T vv = *v * c->b2;
    vv = vv + cg * g;
    *m = mm;
    *v = vv;
    T denom = E(sqrt)(vv) / c->sbc2 + c->eps;
    if (!c->nesterov) return mm / denom;
    T a = c->b1 * mm, b = c->c1 * g;
    return (a + b) / denom;
}

static inline T E(adam_perturb1)(T g, T m, T v, const E(tconsts) *c) {
    T denom = E(sqrt)(v) / c->sbc2 + c->eps;
    if (!c->nesterov) return m / denom;
    T a = c->b1 * m, b = c->c1 * g;
    return (a + b) / denom;
}

/* SGD momentum of one element, written back; returns d. */
static inline T E(sgd_moments1)(T g, T *buf, const E(tconsts) *c) {
    T b = *buf * c->mom;
    T cg = c->cd * g;
    b = b + cg;
    *buf = b;
    if (!c->nesterov) return b;
    T mb = c->mom * b;
    return g + mb;
}

static inline T E(sgd_perturb1)(T g, T buf, const E(tconsts) *c) {
    if (!c->nesterov) return buf;
    T mb = c->mom * buf;
    return g + mb;
}

static inline T E(project1)(T u, T p, T dn, T st) {
    T pn = p / dn;
    T r = pn * st;
    return u - r;
}

static inline void E(update1)(T *p, T u, const E(tconsts) *c) {
    T w = *p * c->decay;
    T step = c->neg_step * u;
    *p = w + step;
}

/* (p/dn)*u, the term of s. */
static inline T E(dot1)(T p, T u, T dn) {
    T pn = p / dn;
    return pn * u;
}

/* The loops the scalar kernels are, over [i, n): SIMD kernels call them on
 * their tails. */
static inline void E(adam_fused_tail)(size_t i, size_t n, T *p, const T *g, T *m, T *v, const E(tconsts) *c) {
    for (; i < n; i++) E(update1)(&p[i], E(adam_moments1)(g[i], &m[i], &v[i], c), c);
}

static inline double E(adam_moments_dot_tail)(size_t i, size_t n, const T *p, const T *g, T *m, T *v,
                                             const E(tconsts) *c, T dn) {
    double s = 0;
    for (; i < n; i++) s += (double)E(dot1)(p[i], E(adam_moments1)(g[i], &m[i], &v[i], c), dn);
    return s;
}

static inline void E(adam_apply_proj_tail)(size_t i, size_t n, T *p, const T *g, const T *m, const T *v,
                                           const E(tconsts) *c, T dn, T st) {
    for (; i < n; i++) E(update1)(&p[i], E(project1)(E(adam_perturb1)(g[i], m[i], v[i], c), p[i], dn, st), c);
}

static inline void E(sgd_fused_tail)(size_t i, size_t n, T *p, const T *g, T *buf, const E(tconsts) *c) {
    for (; i < n; i++) E(update1)(&p[i], E(sgd_moments1)(g[i], &buf[i], c), c);
}

static inline double E(sgd_moments_dot_tail)(size_t i, size_t n, const T *p, const T *g, T *buf,
                                             const E(tconsts) *c, T dn) {
    double s = 0;
    for (; i < n; i++) s += (double)E(dot1)(p[i], E(sgd_moments1)(g[i], &buf[i], c), dn);
    return s;
}

static inline void E(sgd_apply_proj_tail)(size_t i, size_t n, T *p, const T *g, T *buf,
                                          const E(tconsts) *c, T dn, T st) {
    for (; i < n; i++) {
        T u = E(project1)(E(sgd_perturb1)(g[i], buf[i], c), p[i], dn, st);
        if (!c->nesterov) buf[i] = u; /* d_p is buf itself: projected in place */
        E(update1)(&p[i], u, c);
    }
}

static inline void E(rowstats_tail)(size_t i, size_t n, const T *p, const T *g, double acc[3]) {
    for (; i < n; i++) {
        double gi = g[i], wi = p[i];
        acc[0] += gi * wi;
        acc[1] += gi * gi;
        acc[2] += wi * wi;
    }
}
