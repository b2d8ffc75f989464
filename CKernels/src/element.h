/* The per-element maths of every kernel, once, for one element type: the
 * including file defines T (float or double) and E(name) (a name suffixed
 * with the type). The scalar kernels are loops over these functions, and the
 * SIMD kernels use them for their tails, so a tail never differs from the
 * reference.
 *
 * Each tensor op of the reference is one rounding to T, as PyTorch rounds it
 * on x86-64. Its CPU kernels fuse a multiply-add in `add(x, alpha=a)`,
 * `lerp` and `addcmul` (measured against torch 2.13: bitwise equal with one
 * FMA, about 20% of elements differ without), so those are fma() here and
 * nothing else is contracted:
 *   AdamP, SGDP (adamp 0.3.0)                    here
 *   exp_avg.mul_(b1).add_(g, alpha=1-b1)          m = fma(g, 1-b1, m*b1)
 *   exp_avg_sq.mul_(b2).addcmul_(g, g, value=1-b2) v = fma((1-b2)*g, g, v*b2)
 *   (sqrt(v) / sqrt(bc2)).add_(eps)                denom = sqrt(v)/sbc2 + eps
 *   m / denom | (b1*m + (1-b1)*g) / denom          u
 *   buf.mul_(mom).add_(g, alpha=1-damp)            buf = fma(g, 1-damp, buf*mom)
 *   buf | g + mom*buf                              u
 *   perturb -= p_n * s                             u = u - (p/dn)*s
 *   p.mul_(decay); p.add_(u, alpha=-step)          p = fma(u, -step, p*decay)
 *   Adam, AdamW, SGD (torch.optim, single tensor)
 *   -g; g.add(p, alpha=wd)                         g = fma(p, wd, -g)
 *   p.mul_(1 - lr*wd)                              p = p*decay
 *   exp_avg.lerp_(g, 1-b1)                         m = fma(w, g-m, m) (w >= 0.5: fma(w-1, g-m, g))
 *   torch.maximum(vmax, v)                         NaN wins
 *   p.addcdiv_(m, denom, value=-step)              p = p + (-step*m)/denom
 *   buf = g.clone() | buf.mul_(mom).add_(g, ...)   as SGDP; nesterov fma(buf, mom, g)
 *   p.add_(g, alpha=-lr)                           p = fma(g, -lr, p) */
#include <math.h>
#include "kernels.h"

/* clang contracts a*b+c within an expression unless told not to; gcc in ISO C
 * mode (-std=c11) never does. The fused operations are explicit fma() calls. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* The constants cast to T once per segment. */
typedef struct {
    T b1, c1, b2, c2, sbc2, eps, mom, cd, decay, neg_step, l2, lcoef;
    int nesterov, has_l2, maximize, first, lsmall;
} E(tconsts);

static inline E(tconsts) E(load)(const adamp_consts *k) {
    const T w = (T)k->one_minus_beta1;
    /* torch's lerp: self + w*(end-self) if |w| < 0.5, else end + (w-1)*(end-self) */
    const int small = (w < 0 ? -w : w) < (T)0.5;
    E(tconsts) c = {(T)k->beta1, w, (T)k->beta2, (T)k->one_minus_beta2,
                    (T)k->sqrt_bc2, (T)k->eps, (T)k->momentum, (T)k->one_minus_damp,
                    (T)k->decay, (T)k->neg_step, (T)k->l2, small ? w : w - (T)1,
                    k->nesterov, k->has_l2, k->maximize, k->first, small};
    return c;
}

static inline T E(sqrt)(T x) { return (T)sqrt((double)x); } /* exact for float too */

#define ADAMP_FMA_(t) ADAMP_FMA_##t
#define ADAMP_FMA_float fmaf
#define ADAMP_FMA_double fma
#define ADAMP_FMA(t) ADAMP_FMA_(t)
/* a*b + c, rounded once. */
static inline T E(fma)(T a, T b, T c) { return ADAMP_FMA(T)(a, b, c); }

/* torch.maximum: a NaN in either wins. */
static inline T E(maxnan)(T a, T b) { return (a != a || a > b) ? a : b; }

/* v = v*b2 + (1-b2)*g*g: the second moment of every Adam. */
static inline T E(second_moment1)(T g, T v, const E(tconsts) *c) { return E(fma)(c->c2 * g, g, v * c->b2); }

static inline T E(adam_denom1)(T v, const E(tconsts) *c) { return E(sqrt)(v) / c->sbc2 + c->eps; }

/* AdamP's perturbation from the updated moments. */
static inline T E(adam_perturb1)(T g, T m, T v, const E(tconsts) *c) {
    T denom = E(adam_denom1)(v, c);
    if (!c->nesterov) return m / denom;
    T a = c->b1 * m, b = c->c1 * g;
    return (a + b) / denom;
}

/* AdamP moments of one element, written back; returns the perturbation. */
static inline T E(adam_moments1)(T g, T *m, T *v, const E(tconsts) *c) {
    T mm = E(fma)(g, c->c1, *m * c->b1);
    T vv = E(second_moment1)(g, *v, c);
    *m = mm;
    *v = vv;
    return E(adam_perturb1)(g, mm, vv, c);
}

/* buf = buf*mom + (1-damp)*g: the momentum of SGDP and SGD. */
static inline T E(momentum1)(T g, T buf, const E(tconsts) *c) { return E(fma)(g, c->cd, buf * c->mom); }

static inline T E(sgd_perturb1)(T g, T buf, const E(tconsts) *c) {
    if (!c->nesterov) return buf;
    T mb = c->mom * buf;
    return g + mb;
}

/* SGDP momentum of one element, written back; returns d. */
static inline T E(sgd_moments1)(T g, T *buf, const E(tconsts) *c) {
    T b = E(momentum1)(g, *buf, c);
    *buf = b;
    return E(sgd_perturb1)(g, b, c);
}

static inline T E(project1)(T u, T p, T dn, T st) {
    T pn = p / dn;
    T r = pn * st;
    return u - r;
}

static inline void E(update1)(T *p, T u, const E(tconsts) *c) { *p = E(fma)(u, c->neg_step, *p * c->decay); }

/* (p/dn)*u, the term of s. */
static inline T E(dot1)(T p, T u, T dn) {
    T pn = p / dn;
    return pn * u;
}

/* torch.optim's gradient: maximize negates it, L2 adds wd * p. */
static inline T E(torch_grad1)(T g, T p, const E(tconsts) *c) {
    if (c->maximize) g = -g;
    if (c->has_l2) g = E(fma)(p, c->l2, g);
    return g;
}

static inline T E(lerp1)(T m, T g, const E(tconsts) *c) { return E(fma)(c->lcoef, g - m, c->lsmall ? m : g); }

/* torch.optim Adam / AdamW on one element (vmax NULL: no amsgrad). */
static inline void E(adam_torch1)(T *p, T g, T *m, T *v, T *vmax, const E(tconsts) *c) {
    T pp = *p;
    g = E(torch_grad1)(g, pp, c);
    pp = pp * c->decay;
    T mm = E(lerp1)(*m, g, c);
    T vv = E(second_moment1)(g, *v, c);
    *m = mm;
    *v = vv;
    if (vmax) *vmax = vv = E(maxnan)(*vmax, vv);
    T num = c->neg_step * mm;
    *p = pp + num / E(adam_denom1)(vv, c);
}

/* torch.optim SGD on one element (buf NULL: momentum 0). */
static inline void E(sgd_torch1)(T *p, T g, T *buf, const E(tconsts) *c) {
    T pp = *p;
    g = E(torch_grad1)(g, pp, c);
    if (buf) {
        T b = c->first ? g : E(momentum1)(g, *buf, c);
        *buf = b;
        g = c->nesterov ? E(fma)(b, c->mom, g) : b;
    }
    *p = E(fma)(g, c->neg_step, pp);
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

static inline void E(adam_torch_tail)(size_t i, size_t n, T *p, const T *g, T *m, T *v, T *vmax,
                                      const E(tconsts) *c) {
    for (; i < n; i++) E(adam_torch1)(&p[i], g[i], &m[i], &v[i], vmax ? &vmax[i] : NULL, c);
}

static inline void E(sgd_torch_tail)(size_t i, size_t n, T *p, const T *g, T *buf, const E(tconsts) *c) {
    for (; i < n; i++) E(sgd_torch1)(&p[i], g[i], buf ? &buf[i] : NULL, c);
}

static inline void E(rowstats_tail)(size_t i, size_t n, const T *p, const T *g, double acc[3]) {
    for (; i < n; i++) {
        double gi = g[i], wi = p[i];
        acc[0] += gi * wi;
        acc[1] += gi * gi;
        acc[2] += wi * wi;
    }
}
