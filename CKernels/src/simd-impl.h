/* The SIMD kernels, written once over a vector abstraction. The including
 * file (<type>-<isa>.c) puts its functions under a target attribute and
 * defines T, E(name), VARIANT, ISA_NAME, W (lanes) and the operations below;
 * it is compiled with no ISA flags, and dispatch only calls it on a CPU that
 * has the ISA.
 *
 * Element-wise work does the same IEEE operations in the same order as the
 * scalar reference (element.h), so it is bitwise identical to it; tails call
 * element.h directly. Sums (the row statistics and s) are accumulated in
 * double in lanes and added in a fixed order, so they differ from the
 * reference only by rounding, and never with the number of threads.
 *
 *   V VLOAD(const T *)   VSTORE(T *, V)   V VSET1(T)
 *   V VADD/VSUB/VMUL/VDIV(V, V)   V VSQRT(V)   V VFMA(a, b, c): a*b + c rounded once
 *   V VNEG(V): sign flipped   V VMAXNAN(a, b): a > b or a NaN ? a : b, per lane
 *   D DZERO()   ACC_PROD(D lo, D hi, V a, V b): lo, hi += a*b in double
 *   ACC(D lo, D hi, V x): lo, hi += x in double   double DSUM(D)   D DADD(D, D) */
#include "element.h"

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, VARIANT)

typedef struct {
    V b1, c1, b2, c2, sbc2, eps, mom, cd, decay, neg_step, l2, lcoef;
} FN(vconsts);

static inline FN(vconsts) FN(vload)(const E(tconsts) *c) {
    FN(vconsts) v = {VSET1(c->b1), VSET1(c->c1), VSET1(c->b2), VSET1(c->c2), VSET1(c->sbc2), VSET1(c->eps),
                     VSET1(c->mom), VSET1(c->cd), VSET1(c->decay), VSET1(c->neg_step), VSET1(c->l2),
                     VSET1(c->lcoef)};
    return v;
}

/* element.h's functions of the same names, in lanes. */
static inline V FN(vsecond_moment)(V g, V v, const FN(vconsts) *k) { return VFMA(VMUL(k->c2, g), g, VMUL(v, k->b2)); }

static inline V FN(vdenom)(V v, const FN(vconsts) *k) { return VADD(VDIV(VSQRT(v), k->sbc2), k->eps); }

static inline V FN(vperturb_adam)(V g, V m, V v, const FN(vconsts) *k, int nesterov) {
    V denom = FN(vdenom)(v, k);
    if (!nesterov) return VDIV(m, denom);
    return VDIV(VADD(VMUL(k->b1, m), VMUL(k->c1, g)), denom);
}

static inline V FN(vmoments_adam)(V g, T *mp, T *vp, const FN(vconsts) *k, int nesterov) {
    V m = VFMA(g, k->c1, VMUL(VLOAD(mp), k->b1));
    V v = FN(vsecond_moment)(g, VLOAD(vp), k);
    VSTORE(mp, m);
    VSTORE(vp, v);
    return FN(vperturb_adam)(g, m, v, k, nesterov);
}

static inline V FN(vmomentum)(V g, V b, const FN(vconsts) *k) { return VFMA(g, k->cd, VMUL(b, k->mom)); }

static inline V FN(vperturb_sgd)(V g, V b, const FN(vconsts) *k, int nesterov) {
    return nesterov ? VADD(g, VMUL(k->mom, b)) : b;
}

static inline V FN(vmoments_sgd)(V g, T *bp, const FN(vconsts) *k, int nesterov) {
    V b = FN(vmomentum)(g, VLOAD(bp), k);
    VSTORE(bp, b);
    return FN(vperturb_sgd)(g, b, k, nesterov);
}

static inline V FN(vproject)(V u, V p, V dn, V st) { return VSUB(u, VMUL(VDIV(p, dn), st)); }

static inline void FN(vupdate)(T *pp, V p, V u, const FN(vconsts) *k) {
    VSTORE(pp, VFMA(u, k->neg_step, VMUL(p, k->decay)));
}

static inline V FN(vtorch_grad)(V g, V p, const FN(vconsts) *k, const E(tconsts) *c) {
    if (c->maximize) g = VNEG(g);
    if (c->has_l2) g = VFMA(p, k->l2, g);
    return g;
}

static void FN(rowstats)(size_t n, const void *pv, const void *gv, double acc[3]) {
    const T *p = pv, *g = gv;
    D gw0 = DZERO(), gw1 = DZERO(), gg0 = DZERO(), gg1 = DZERO(), ww0 = DZERO(), ww1 = DZERO();
    size_t i = 0;
    for (; i + W <= n; i += W) {
        V a = VLOAD(g + i), b = VLOAD(p + i);
        ACC_PROD(gw0, gw1, a, b);
        ACC_PROD(gg0, gg1, a, a);
        ACC_PROD(ww0, ww1, b, b);
    }
    double a[3] = {DSUM(DADD(gw0, gw1)), DSUM(DADD(gg0, gg1)), DSUM(DADD(ww0, ww1))};
    E(rowstats_tail)(i, n, p, g, a);
    acc[0] += a[0];
    acc[1] += a[1];
    acc[2] += a[2];
}

static void FN(adam_fused)(size_t n, void *pv, const void *gv, void *mv, void *vv, const adamp_consts *kc) {
    T *p = pv, *m = mv, *v = vv;
    const T *g = gv;
    const E(tconsts) c = E(load)(kc);
    const FN(vconsts) k = FN(vload)(&c);
    size_t i = 0;
    for (; i + W <= n; i += W) {
        V u = FN(vmoments_adam)(VLOAD(g + i), m + i, v + i, &k, c.nesterov);
        FN(vupdate)(p + i, VLOAD(p + i), u, &k);
    }
    E(adam_fused_tail)(i, n, p, g, m, v, &c);
}

static double FN(adam_moments_dot)(size_t n, const void *pv, const void *gv, void *mv, void *vv,
                                   const adamp_consts *kc, double norm) {
    const T *p = pv, *g = gv;
    T *m = mv, *v = vv;
    const E(tconsts) c = E(load)(kc);
    const FN(vconsts) k = FN(vload)(&c);
    const T dn = (T)norm + c.eps;
    const V vdn = VSET1(dn);
    D s0 = DZERO(), s1 = DZERO();
    size_t i = 0;
    for (; i + W <= n; i += W) {
        V u = FN(vmoments_adam)(VLOAD(g + i), m + i, v + i, &k, c.nesterov);
        ACC(s0, s1, VMUL(VDIV(VLOAD(p + i), vdn), u));
    }
    return DSUM(DADD(s0, s1)) + E(adam_moments_dot_tail)(i, n, p, g, m, v, &c, dn);
}

static void FN(adam_apply_proj)(size_t n, void *pv, const void *gv, const void *mv, const void *vv,
                                const adamp_consts *kc, double norm, double s) {
    T *p = pv;
    const T *g = gv, *m = mv, *v = vv;
    const E(tconsts) c = E(load)(kc);
    const FN(vconsts) k = FN(vload)(&c);
    const T dn = (T)norm + c.eps, st = (T)s;
    const V vdn = VSET1(dn), vst = VSET1(st);
    size_t i = 0;
    for (; i + W <= n; i += W) {
        V pp = VLOAD(p + i);
        V u = FN(vperturb_adam)(VLOAD(g + i), VLOAD(m + i), VLOAD(v + i), &k, c.nesterov);
        FN(vupdate)(p + i, pp, FN(vproject)(u, pp, vdn, vst), &k);
    }
    E(adam_apply_proj_tail)(i, n, p, g, m, v, &c, dn, st);
}

static void FN(sgd_fused)(size_t n, void *pv, const void *gv, void *bv, const adamp_consts *kc) {
    T *p = pv, *buf = bv;
    const T *g = gv;
    const E(tconsts) c = E(load)(kc);
    const FN(vconsts) k = FN(vload)(&c);
    size_t i = 0;
    for (; i + W <= n; i += W) {
        V u = FN(vmoments_sgd)(VLOAD(g + i), buf + i, &k, c.nesterov);
        FN(vupdate)(p + i, VLOAD(p + i), u, &k);
    }
    E(sgd_fused_tail)(i, n, p, g, buf, &c);
}

static double FN(sgd_moments_dot)(size_t n, const void *pv, const void *gv, void *bv,
                                  const adamp_consts *kc, double norm) {
    const T *p = pv, *g = gv;
    T *buf = bv;
    const E(tconsts) c = E(load)(kc);
    const FN(vconsts) k = FN(vload)(&c);
    const T dn = (T)norm + c.eps;
    const V vdn = VSET1(dn);
    D s0 = DZERO(), s1 = DZERO();
    size_t i = 0;
    for (; i + W <= n; i += W) {
        V u = FN(vmoments_sgd)(VLOAD(g + i), buf + i, &k, c.nesterov);
        ACC(s0, s1, VMUL(VDIV(VLOAD(p + i), vdn), u));
    }
    return DSUM(DADD(s0, s1)) + E(sgd_moments_dot_tail)(i, n, p, g, buf, &c, dn);
}

static void FN(sgd_apply_proj)(size_t n, void *pv, const void *gv, void *bv,
                               const adamp_consts *kc, double norm, double s) {
    T *p = pv, *buf = bv;
    const T *g = gv;
    const E(tconsts) c = E(load)(kc);
    const FN(vconsts) k = FN(vload)(&c);
    const T dn = (T)norm + c.eps, st = (T)s;
    const V vdn = VSET1(dn), vst = VSET1(st);
    size_t i = 0;
    for (; i + W <= n; i += W) {
        V pp = VLOAD(p + i);
        V u = FN(vproject)(FN(vperturb_sgd)(VLOAD(g + i), VLOAD(buf + i), &k, c.nesterov), pp, vdn, vst);
        if (!c.nesterov) VSTORE(buf + i, u); /* d_p is buf itself: projected in place */
        FN(vupdate)(p + i, pp, u, &k);
    }
    E(sgd_apply_proj_tail)(i, n, p, g, buf, &c, dn, st);
}

static void FN(adam_torch)(size_t n, void *pv, const void *gv, void *mv, void *vv, void *xv,
                           const adamp_consts *kc) {
    T *p = pv, *m = mv, *v = vv, *vmax = xv;
    const T *g = gv;
    const E(tconsts) c = E(load)(kc);
    const FN(vconsts) k = FN(vload)(&c);
    size_t i = 0;
    for (; i + W <= n; i += W) {
        V pp = VLOAD(p + i), mo = VLOAD(m + i);
        V gg = FN(vtorch_grad)(VLOAD(g + i), pp, &k, &c);
        V mm = VFMA(k.lcoef, VSUB(gg, mo), c.lsmall ? mo : gg);
        V vn = FN(vsecond_moment)(gg, VLOAD(v + i), &k);
        VSTORE(m + i, mm);
        VSTORE(v + i, vn);
        if (vmax) {
            vn = VMAXNAN(VLOAD(vmax + i), vn);
            VSTORE(vmax + i, vn);
        }
        VSTORE(p + i, VADD(VMUL(pp, k.decay), VDIV(VMUL(k.neg_step, mm), FN(vdenom)(vn, &k))));
    }
    E(adam_torch_tail)(i, n, p, g, m, v, vmax, &c);
}

static void FN(sgd_torch)(size_t n, void *pv, const void *gv, void *bv, const adamp_consts *kc) {
    T *p = pv, *buf = bv;
    const T *g = gv;
    const E(tconsts) c = E(load)(kc);
    const FN(vconsts) k = FN(vload)(&c);
    size_t i = 0;
    for (; i + W <= n; i += W) {
        V pp = VLOAD(p + i);
        V d = FN(vtorch_grad)(VLOAD(g + i), pp, &k, &c);
        if (buf) {
            V b = c.first ? d : FN(vmomentum)(d, VLOAD(buf + i), &k);
            VSTORE(buf + i, b);
            d = c.nesterov ? VFMA(b, k.mom, d) : b;
        }
        VSTORE(p + i, VFMA(d, k.neg_step, pp));
    }
    E(sgd_torch_tail)(i, n, p, g, buf, &c);
}

ADAMP_KERNEL_TABLE(CAT(adamp, VARIANT), ISA_NAME);
