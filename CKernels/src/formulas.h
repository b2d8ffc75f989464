/* The update maths, written once over a lane type: the including file
 * (kernels-impl.h) defines LANE, the lane operations L_* and LF(name), and
 * includes this for the scalar lane (T, one element: the reference, and
 * every SIMD kernel's tail) and, in SIMD variants, for the vector lane (V, W
 * elements). Every formula is one sequence of IEEE operations, so a vector
 * lane computes bitwise what the scalar lane computes element by element.
 *
 * Each tensor op of the reference is one rounding to T, as PyTorch rounds it
 * on x86-64. Its CPU kernels fuse a multiply-add in `add(x, alpha=a)`,
 * `lerp` and `addcmul` (measured against torch 2.13: bitwise equal with one
 * FMA, about 20% of elements differ without), so those are L_FMA here and
 * nothing else is contracted:
 *   AdamP, SGDP (adamp 0.3.0)                    here
 *   exp_avg.mul_(b1).add_(g, alpha=1-b1)          m = fma(g, 1-b1, m*b1)
 *   exp_avg_sq.mul_(b2).addcmul_(g, g, value=1-b2) v = fma((1-b2)*g, g, v*b2)
 *   (sqrt(v) / sqrt(bc2)).add_(eps)                denom = sqrt(v)/sbc2 + eps
 *   m / denom | (b1*m + (1-b1)*g) / denom          u
 *   buf.mul_(mom).add_(g, alpha=1-damp)            buf = fma(g, 1-damp, buf*mom)
 *   buf | g + mom*buf                              u
 *   view_func(p_n * perturb).sum(dim=1)            s = sum(p*u) / dn, the sum in double
 *   perturb -= p_n * s                             u = u - (p/dn)*s
 *   p.mul_(decay); p.add_(u, alpha=-step)          p = fma(u, -step, p*decay)
 *   Adam, AdamW, SGD (torch.optim, single tensor)
 *   -g; g.add(p, alpha=wd)                         g = fma(p, wd, -g)
 *   p.mul_(1 - lr*wd)                              p = p*decay
 *   exp_avg.lerp_(g, 1-b1)                         m = fma(w, g-m, m) (w >= 0.5: fma(w-1, g-m, g))
 *   torch.maximum(vmax, v)                         NaN wins
 *   p.addcdiv_(m, denom, value=-step)              p = p + (-step*m)/denom
 *   buf = g.clone() | buf.mul_(mom).add_(g, ...)   as SGDP; nesterov fma(buf, mom, g)
 *   p.add_(g, alpha=-lr)                           p = fma(g, -lr, p)
 *
 * Memory: each formula takes its buffers as they are stored (storage.h: the
 * parameter as an adamp_pbuf, the gradient and the state as addresses) and
 * an element index i, and reads and writes them only through L_PLOAD(p, i),
 * L_PSTORE(p, i, x), L_GLOAD(g, i), L_SLOAD(s, i) and L_SSTORE(s, i, x),
 * which widen a stored value exactly to T and round a result to its
 * storage once; the perturbation a kernel keeps is T, at L_LOAD/L_STORE.
 *
 * Operations: LANE L_LOAD(const T *), L_STORE(T *, LANE), L_SET1(T),
 * L_ADD/L_SUB/L_MUL/L_DIV(a, b), L_SQRT(a), L_FMA(a, b, c) = a*b + c rounded
 * once, L_NEG(a) (the sign flipped), L_MAXNAN(a, b) = a > b or a NaN ? a : b;
 * L_SQRT_DIV(v, d) = L_DIV(L_SQRT(v), b) bitwise, for d = L_DIVISOR(b) made
 * once per segment (of type LDIV: a variant may divide by a number it knows
 * in advance faster than its divider does). */

/* The constants in lanes, and the flags that choose a formula. */
typedef struct {
    LANE b1, c1, b2, c2, eps, mom, cd, decay, neg_step, l2, lcoef, gmul;
    LDIV sbc2;
    int nesterov, has_l2, maximize, first, lsmall;
} LF(k);

static inline LF(k) LF(kload)(const E(tconsts) *c) {
    LF(k) k = {L_SET1(c->b1), L_SET1(c->c1), L_SET1(c->b2), L_SET1(c->c2), L_SET1(c->eps),
               L_SET1(c->mom), L_SET1(c->cd), L_SET1(c->decay), L_SET1(c->neg_step), L_SET1(c->l2),
               L_SET1(c->lcoef), L_SET1(c->gmul), L_DIVISOR(c->sbc2), c->nesterov, c->has_l2, c->maximize, c->first,
               c->lsmall};
    return k;
}

/* The gradient as the update sees it: times the call's multiplier (loss
 * unscaling, clipping), as an in-place g.mul_() would leave it. Without one
 * the multiplier is 1, and x * 1 is x exactly: multiplying always costs less
 * than testing (measured: a test per vector made the AdamP step ~8% slower). */
static inline LANE LF(grad)(const void *g, size_t i, const LF(k) *k) {
    return L_MUL(L_GLOAD(g, i), k->gmul); /* times 1 is exact: unscaled gradients read as they are */
}

/* v = v*b2 + (1-b2)*g*g: the second moment of every Adam. */
static inline LANE LF(second_moment)(LANE g, LANE v, const LF(k) *k) { return L_FMA(L_MUL(k->c2, g), g, L_MUL(v, k->b2)); }

static inline LANE LF(adam_denom)(LANE v, const LF(k) *k) { return L_ADD(L_SQRT_DIV(v, k->sbc2), k->eps); }

/* AdamP's perturbation from the updated moments. */
static inline LANE LF(adamp_perturb)(LANE g, LANE m, LANE v, const LF(k) *k) {
    const LANE denom = LF(adam_denom)(v, k);
    if (!k->nesterov) return L_DIV(m, denom);
    return L_DIV(L_ADD(L_MUL(k->b1, m), L_MUL(k->c1, g)), denom);
}

/* AdamP's new moments from those at m and v, written back if `store`;
 * returns the perturbation, from the moments as computed (a narrower
 * storage rounds only what is stored). A projected update takes two sweeps:
 * where the state is stored exactly (STATE_EXACT, storage.h) the first
 * stores the moments and the second reads them; where it is stored
 * narrower, the first only needs the perturbation and the second computes
 * the moments again from the old ones and stores them, so that neither
 * reads a moment rounded to its storage (4 bytes more per element for
 * AdamP's layer view, the same for SGDP). */
static inline LANE LF(adamp_moments)(LANE g, void *m, void *v, size_t i, int store, const LF(k) *k) {
    const LANE mm = L_FMA(g, k->c1, L_MUL(L_SLOAD(m, i), k->b1));
    const LANE vv = LF(second_moment)(g, L_SLOAD(v, i), k);
    if (store) {
        L_SSTORE(m, i, mm);
        L_SSTORE(v, i, vv);
    }
    return LF(adamp_perturb)(g, mm, vv, k);
}

/* buf = buf*mom + (1-damp)*g: the momentum of SGDP and SGD. */
static inline LANE LF(momentum)(LANE g, LANE b, const LF(k) *k) { return L_FMA(g, k->cd, L_MUL(b, k->mom)); }

static inline LANE LF(sgdp_perturb)(LANE g, LANE b, const LF(k) *k) {
    return k->nesterov ? L_ADD(g, L_MUL(k->mom, b)) : b;
}

/* SGDP's new momentum from buf, written back if `store` (as AdamP's); its
 * perturbation in *u, the momentum returned. */
static inline LANE LF(sgdp_moments)(LANE g, void *buf, size_t i, int store, LANE *u, const LF(k) *k) {
    const LANE b = LF(momentum)(g, L_SLOAD(buf, i), k);
    if (store) L_SSTORE(buf, i, b);
    *u = LF(sgdp_perturb)(g, b, k);
    return b;
}

/* u - p_n * s, with p_n = p / dn. */
static inline LANE LF(project)(LANE u, LANE p, LANE dn, LANE s) { return L_SUB(u, L_MUL(L_DIV(p, dn), s)); }

/* p = p*decay - step*u, the last line of AdamP and SGDP. */
static inline void LF(update)(adamp_pbuf pp, size_t i, LANE p, LANE u, const LF(k) *k) {
    L_PSTORE(pp, i, L_FMA(u, k->neg_step, L_MUL(p, k->decay)));
}

/* torch.optim's gradient: maximize negates it, L2 adds wd * p. */
static inline LANE LF(torch_grad)(LANE g, LANE p, const LF(k) *k) {
    if (k->maximize) g = L_NEG(g);
    if (k->has_l2) g = L_FMA(p, k->l2, g);
    return g;
}

/* The kernels' steps at one place (one lane of elements from each pointer). */

/* AdamP, not projected: moments, weight decay and update. */
static inline void LF(adamp_update_at)(adamp_pbuf p, const void *g, void *m, void *v, size_t i, const LF(k) *k) {
    LF(update)(p, i, L_PLOAD(p, i), LF(adamp_moments)(LF(grad)(g, i, k), m, v, i, 1, k), k);
}

/* AdamP, projected, sweep 1: the perturbation, which the kernel sums times
 * p into s (the moments stored where the state is exact). */
static inline LANE LF(adamp_moments_dot_at)(const void *g, void *m, void *v, size_t i, const LF(k) *k) {
    return LF(adamp_moments)(LF(grad)(g, i, k), m, v, i, STATE_EXACT, k);
}

/* AdamP, projected, sweep 2: the perturbation (from the stored moments, or
 * the moments computed again and stored), less p_n * s, decay, update. */
static inline void LF(adamp_apply_projection_at)(adamp_pbuf p, const void *g, void *m, void *v, size_t i,
                                                 const LF(k) *k, LANE dn, LANE s) {
    const LANE pp = L_PLOAD(p, i);
    const LANE u = STATE_EXACT ? LF(adamp_perturb)(LF(grad)(g, i, k), L_SLOAD(m, i), L_SLOAD(v, i), k)
                               : LF(adamp_moments)(LF(grad)(g, i, k), m, v, i, 1, k);
    LF(update)(p, i, pp, LF(project)(u, pp, dn, s), k);
}

/* AdamP, projected, sweep 1 keeping the perturbation in u (a row of
 * scratch), so that sweep 2 reads it instead of computing it again (a
 * square root and a division per element): bitwise the same value. */
static inline LANE LF(adamp_moments_dot_keep_at)(const void *g, void *m, void *v, T *u, size_t i, const LF(k) *k) {
    const LANE pert = LF(adamp_moments)(LF(grad)(g, i, k), m, v, i, 1, k);
    L_STORE(u + i, pert);
    return pert;
}

/* AdamP, projected, sweep 2 from the kept perturbation. */
static inline void LF(adamp_apply_kept_at)(adamp_pbuf p, const T *u, size_t i, const LF(k) *k, LANE dn, LANE s) {
    const LANE pp = L_PLOAD(p, i);
    LF(update)(p, i, pp, LF(project)(L_LOAD(u + i), pp, dn, s), k);
}

static inline void LF(sgdp_update_at)(adamp_pbuf p, const void *g, void *buf, size_t i, const LF(k) *k) {
    LANE u;
    LF(sgdp_moments)(LF(grad)(g, i, k), buf, i, 1, &u, k);
    LF(update)(p, i, L_PLOAD(p, i), u, k);
}

/* SGDP, projected, sweep 1: as AdamP's. */
static inline LANE LF(sgdp_moments_dot_at)(const void *g, void *buf, size_t i, const LF(k) *k) {
    LANE u;
    LF(sgdp_moments)(LF(grad)(g, i, k), buf, i, STATE_EXACT, &u, k);
    return u;
}

/* SGDP, projected, sweep 2: the perturbation (from the stored momentum, or
 * the momentum computed again), projected; d_p is buf itself without
 * nesterov (the official code's in-place projection), stored projected. */
static inline void LF(sgdp_apply_projection_at)(adamp_pbuf p, const void *g, void *buf, size_t i, const LF(k) *k,
                                                LANE dn, LANE s) {
    const LANE pp = L_PLOAD(p, i);
    LANE u, b;
    if (STATE_EXACT) b = L_SLOAD(buf, i), u = LF(sgdp_perturb)(LF(grad)(g, i, k), b, k);
    else b = LF(sgdp_moments)(LF(grad)(g, i, k), buf, i, 0, &u, k);
    u = LF(project)(u, pp, dn, s);
    if (!k->nesterov) L_SSTORE(buf, i, u);
    else if (!STATE_EXACT) L_SSTORE(buf, i, b);
    LF(update)(p, i, pp, u, k);
}

/* torch.optim Adam / AdamW (vmax NULL: no amsgrad). */
static inline void LF(adam_update_at)(adamp_pbuf p, const void *g, void *m, void *v, void *vmax, size_t i,
                                      const LF(k) *k) {
    const LANE pp = L_PLOAD(p, i), mo = L_SLOAD(m, i);
    const LANE gg = LF(torch_grad)(LF(grad)(g, i, k), pp, k);
    const LANE mm = L_FMA(k->lcoef, L_SUB(gg, mo), k->lsmall ? mo : gg); /* lerp */
    LANE vv = LF(second_moment)(gg, L_SLOAD(v, i), k);
    L_SSTORE(m, i, mm);
    L_SSTORE(v, i, vv);
    if (vmax) {
        vv = L_MAXNAN(L_SLOAD(vmax, i), vv);
        L_SSTORE(vmax, i, vv);
    }
    L_PSTORE(p, i, L_ADD(L_MUL(pp, k->decay), L_DIV(L_MUL(k->neg_step, mm), LF(adam_denom)(vv, k))));
}

/* torch.optim SGD (buf NULL: momentum 0). */
static inline void LF(sgd_update_at)(adamp_pbuf p, const void *g, void *buf, size_t i, const LF(k) *k) {
    const LANE pp = L_PLOAD(p, i);
    LANE d = LF(torch_grad)(LF(grad)(g, i, k), pp, k);
    if (buf) {
        const LANE b = k->first ? d : LF(momentum)(d, L_SLOAD(buf, i), k);
        L_SSTORE(buf, i, b);
        d = k->nesterov ? L_FMA(b, k->mom, d) : b;
    }
    L_PSTORE(p, i, L_FMA(d, k->neg_step, pp));
}
