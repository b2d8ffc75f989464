/* The kernels of one variant, written once. The including file
 * (<type>-<isa>.c) defines T (float or double), E(name) (a name suffixed with
 * the type), VARIANT and ISA_NAME; a SIMD variant also defines W (lanes), the
 * vector type V and its operations (below), and puts its functions under a
 * target attribute. The maths is formulas.h, instantiated here for the scalar
 * lane and, in a SIMD variant, for the vector lane; each kernel runs the
 * vector lane over whole vectors and the scalar lane over the tail. The
 * scalar variant is the same code with one lane of one element: it is the
 * reference the other variants are tested against. Element-wise results are
 * therefore bitwise the same in every variant; only sums (row statistics and
 * the projection coefficient, accumulated in double) are added in another
 * order, and never differently for another number of threads.
 *
 * Vector operations of a SIMD variant: V VLOAD(const T *), VLOAD_FIRST(p, n)
 * (the first n < W elements, zeros after, reading nothing past them),
 * VSTORE(T *, V), VSET1(T), VADD/VSUB/VMUL/VDIV(V, V), VSQRT(V), VFMA(a, b, c),
 * VNEG(V), VMAXNAN(a, b); optionally VFIX_SQRT_DIV(q, a) (below) with
 * VFMS(a, b, c) = a*b - c and VFNMA(a, b, c) = c - a*b (rounded once); D (DW
 * doubles) DZERO(), D DADD(D, D), DFMA(D, D, D), D DLO(V) (the low DW lanes
 * in double), double DSUM(D),
 * DSUMS(const D v[DW], double out[DW]) (out[k] = DSUM(v[k]), bitwise),
 * ACC(D lo, D hi, V x): lo, hi += x in double; ACC_PROD(lo, hi, a, b): += a*b;
 * optionally ACC_PROD_AT(lo, hi, ptr, b): += (the vector at ptr)*b, and
 * ACC_SQ_AT(lo, hi, ptr): += its square, each half loaded as it is widened
 * (gcc otherwise loads the whole vector and extracts its high half: SGDP's
 * projected step, hot cache, 7-10% slower; the statistics pass 10-15%). */
#include <math.h>
#include "kernels.h"

#include "fp.h"

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, VARIANT)

/* The constants cast to T once per segment, as PyTorch casts a Python scalar
 * to the tensor's dtype. */
typedef struct {
    T b1, c1, b2, c2, sbc2, eps, mom, cd, decay, neg_step, l2, lcoef, gmul;
    int nesterov, has_l2, maximize, first, lsmall;
} E(tconsts);

static inline E(tconsts) E(load)(const adamp_consts *k) {
    const T w = (T)k->one_minus_beta1;
    /* torch's lerp: self + w*(end-self) if |w| < 0.5, else end + (w-1)*(end-self) */
    const int small = (w < 0 ? -w : w) < (T)0.5;
    E(tconsts) c = {(T)k->beta1, w, (T)k->beta2, (T)k->one_minus_beta2,
                    (T)k->sqrt_bc2, (T)k->eps, (T)k->momentum, (T)k->one_minus_damp,
                    (T)k->decay, (T)k->neg_step, (T)k->l2, small ? w : w - (T)1, (T)k->grad_mul,
                    k->nesterov, k->has_l2, k->maximize, k->first, small};
    return c;
}

/* p_n's denominator |p| + eps, in T as torch's norm(...).add_(eps): the one
 * both sweeps of a projected segment divide by. */
static inline T E(norm_eps)(double norm, const E(tconsts) *c) { return (T)norm + c->eps; }

#define ADAMP_FMA_(t) ADAMP_FMA_##t
#define ADAMP_FMA_float fmaf
#define ADAMP_FMA_double fma
#define ADAMP_FMA(t) ADAMP_FMA_(t)
static inline T E(sqrt)(T x) { return (T)sqrt((double)x); } /* exact for float too */
/* torch.maximum: a NaN in either wins. */
static inline T E(maxnan)(T a, T b) { return (a != a || a > b) ? a : b; }

/* The scalar lane: one element of T. */
#define LANE T
#define LF(name) CAT(name, CAT(s, VARIANT))
#define L_LOAD(p) (*(p))
#define L_STORE(p, x) (*(p) = (x))
#define L_SET1(x) (x)
#define L_ADD(a, b) ((a) + (b))
#define L_SUB(a, b) ((a) - (b))
#define L_MUL(a, b) ((a) * (b))
#define L_DIV(a, b) ((a) / (b))
#define L_SQRT(a) E(sqrt)(a)
#define L_FMA(a, b, c) ADAMP_FMA(T)(a, b, c)
#define L_NEG(a) (-(a))
#define L_MAXNAN(a, b) E(maxnan)(a, b)
#define LDIV T
#define L_DIVISOR(b) (b)
#define L_SQRT_DIV(v, b) (E(sqrt)(v) / (b))
#include "formulas.h"
#undef LANE
#undef LF
#undef L_LOAD
#undef L_STORE
#undef L_SET1
#undef L_ADD
#undef L_SUB
#undef L_MUL
#undef L_DIV
#undef L_SQRT
#undef L_FMA
#undef L_NEG
#undef L_MAXNAN
#undef LDIV
#undef L_DIVISOR
#undef L_SQRT_DIV
#define SF(name) CAT(name, CAT(s, VARIANT))

#if defined(W)
/* The vector lane: W elements. */
#define LANE V
#define LF(name) CAT(name, CAT(v, VARIANT))
#define L_LOAD(p) VLOAD(p)
#define L_STORE(p, x) VSTORE(p, x)
#define L_SET1(x) VSET1(x)
#define L_ADD VADD
#define L_SUB VSUB
#define L_MUL VMUL
#define L_DIV VDIV
/* sqrt(v) / b for b known in advance (formulas.h: L_SQRT_DIV; sqrt(1 -
 * beta2^t) in every Adam's denominator), bitwise the division. A variant
 * that defines VFIX_SQRT_DIV(q, a) (q, or a itself where a is infinite or
 * NaN) computes it without the divider, which the update waits on (Zen 4,
 * hot cache: Adam's update 0.39 -> 0.32 ns per element in float, 1.20 ->
 * 0.90 in double, AdamP's projected one 2.87 -> 2.30). With y = 1/b
 * rounded and q = a*y, the residual r = q*b - a is exact and q - r*y
 * rounds to a/b (Markstein 1990; "one multiplication plus two fused-macs",
 * Muller, Raina and Brisebarre, IEEE TC 53(8), 2004).
 * It holds here for b a normal positive number within 2^-24..2^24 (else
 * this divides) and a = sqrt(v) a square root: zero, within 2^-75..2^64
 * (float) or 2^-537..2^512 (double), infinite or NaN. A finite nonzero a
 * keeps q normal and r exact (a multiple of 2^(e_a - 2p + 1), p the
 * precision: far above the smallest subnormal); zeros keep their sign (r is
 * +0, and q - (+0) is q); an infinity or a NaN, which the sequence turns
 * into NaN, is put back: a / b is a itself for b > 0. Checked against the
 * division: in float, the sequence for every significand of a, at three
 * exponents, over 100,000 random divisors and the 64 with the fewest and
 * most mantissa bits set (2.5e12 quotients), and these functions for every
 * v in [1, 4) over 60,000 divisors (scripts/check-sqrt-div.c); in double,
 * these functions for 2^24 random v in [1, 4) over 10,000 divisors
 * (the same script, -DF64); the C tests (adam_denominator_is_the_division)
 * in both on every build. */
#if defined(VFIX_SQRT_DIV)
typedef struct {
    V b, y;
    int fast;
} FN(divisor);

static inline FN(divisor) FN(make_divisor)(T b) {
    const FN(divisor) d = {VSET1(b), VSET1((T)1 / b), b >= (T)0x1p-24 && b <= (T)0x1p24};
    return d;
}

static inline V FN(sqrt_div)(V v, FN(divisor) d) {
    const V a = VSQRT(v);
    if (!d.fast) return VDIV(a, d.b);
    const V q = VMUL(a, d.y), r = VFMS(q, d.b, a);
    return VFIX_SQRT_DIV(VFNMA(r, d.y, q), a);
}
#define VDIV_T FN(divisor)
#define VDIVISOR FN(make_divisor)
#define VSQRT_DIV FN(sqrt_div)
#else
#define VDIV_T V
#define VDIVISOR(b) VSET1(b)
#define VSQRT_DIV(v, b) VDIV(VSQRT(v), b)
#endif
#define LDIV VDIV_T
#define L_DIVISOR VDIVISOR
#define L_SQRT_DIV VSQRT_DIV
#define L_SQRT VSQRT
#define L_FMA VFMA
#define L_NEG VNEG
#define L_MAXNAN VMAXNAN
#include "formulas.h"
#define VF(name) CAT(name, CAT(v, VARIANT))
#define VK CAT(k, CAT(v, VARIANT))
/* Sums in double, in two accumulators of the vector's lanes. */
#define VACC(a) D a##0 = DZERO(), a##1 = DZERO()
#define VACC_ADD(a, x)                                                             \
    do {                                                                           \
        const V x_ = (x); /* ACC reads its operand twice */                       \
        ACC(a##0, a##1, x_);                                                       \
    } while (0)
#define VACC_PROD(a, x, y) ACC_PROD(a##0, a##1, x, y)
#if defined(ACC_PROD_AT)
#define VACC_PROD_AT(a, ptr, y) ACC_PROD_AT(a##0, a##1, ptr, y)
#define VACC_SQ_AT(a, ptr) ACC_SQ_AT(a##0, a##1, ptr)
#endif
#define VACC_LANES(a) DADD(a##0, a##1)
#define VACC_SUM(a) DSUM(VACC_LANES(a))
#else
/* The scalar variant: its vectors are the scalar lane, and no tail is left. */
#define W 1
typedef T V;
#define VF SF
#define VK CAT(k, CAT(s, VARIANT))
#define VLOAD(p) (*(p))
#define VSTORE(p, x) (*(p) = (x))
#define VSET1(x) (x)
#define VMUL(a, b) ((a) * (b))
#define VNEG(a) (-(a))
#define VMAXNAN(a, b) E(maxnan)(a, b)
#define VACC(a) double a = 0
#define VACC_ADD(a, x) (a += (double)(x))
#define VACC_PROD(a, x, y) (a += (double)(x) * (double)(y))
#define VACC_LANES(a) (a)
#define VACC_SUM(a) (a)
#define VLOAD_FIRST(p, n) (*(p)) /* never used: one lane leaves no part of a vector */
typedef double D;
#define DW 1
#define DLO(x) ((double)(x))
#define DFMA(a, b, c) fma(a, b, c)
#define DZERO() 0.0
#define DSUM(d) (d)
#define DSUMS(v, out) (*(out) = *(v))
#endif
#if !defined(VACC_PROD_AT)
#define VACC_PROD_AT(a, ptr, y) VACC_PROD(a, VLOAD(ptr), y)
#define VACC_SQ_AT(a, ptr) VACC_PROD(a, VLOAD(ptr), VLOAD(ptr))
#endif

/* Runs `step` (a formula's _at function) over [0, n): vector lanes, then the
 * scalar tail. `kv` and `ks` are the constants in the two lanes. */
#define LANES(n, step, ...)                                                        \
    do {                                                                           \
        size_t i = 0;                                                              \
        for (; i + W <= (n); i += W) VF(step)(__VA_ARGS__, &kv);                   \
        for (; i < (n); i++) SF(step)(__VA_ARGS__, &ks);                           \
    } while (0)

#define CONSTANTS(kc)                                                              \
    const E(tconsts) c = E(load)(kc);                                              \
    const VK kv = VF(kload)(&c);                                                   \
    const CAT(k, CAT(s, VARIANT)) ks = SF(kload)(&c);                              \
    (void)kv, (void)ks

/* A row's sums {g.p, g.g, p.p} before their horizontal step, in gw, gg and
 * ww: each lane over the row's whole vectors, then over the rest as one
 * vector padded with zeros, in double; g (at g) taken times vgm, p at p.
 * `body` runs after each whole vector is summed, and `tail` on each element
 * of the rest after it is (a fused row's update, which overwrites p). */
#define ROW_LANES(n, vgm, body, tail)                                              \
    VACC(gw);                                                                      \
    VACC(gg);                                                                      \
    VACC(ww);                                                                      \
    size_t i = 0;                                                                  \
    for (; i + W <= (n); i += W) {                                                 \
        const V a_ = VMUL(VLOAD(g + i), vgm);                                      \
        VACC_PROD_AT(gw, p + i, a_);                                               \
        VACC_PROD(gg, a_, a_);                                                     \
        VACC_SQ_AT(ww, p + i);                                                     \
        body;                                                                      \
    }                                                                              \
    if (i < (n)) {                                                                 \
        const V a_ = VMUL(VLOAD_FIRST(g + i, (n) - i), vgm), b_ = VLOAD_FIRST(p + i, (n) - i); \
        VACC_PROD(gw, a_, b_);                                                     \
        VACC_PROD(gg, a_, a_);                                                     \
        VACC_PROD(ww, b_, b_);                                                     \
    }                                                                              \
    for (; i < (n); i++) tail

/* ROW_LANES for the statistics alone. (A row narrower than a vector, a
 * [64, 8] weight's under AVX-512, is one vector step, not an element loop:
 * 20,000 such tensors spent more time in their statistics than in their
 * update when it was.) */
static inline void FN(row_lanes)(size_t n, const T *p, const T *g, V vgm, D out[3]) {
    if (n < W && n <= DW) {
        /* The whole row in the low half (f32's lanes widened to double fill
         * two D): the same bits as below, the high half being zeros. (Its
         * loads shared with the branch below, clang's code for [64, 8] f32
         * statistics took 0.076 ms instead of 0.043.) */
        const V a = VMUL(VLOAD_FIRST(g, n), vgm), b = VLOAD_FIRST(p, n);
        const D x = DLO(a), y = DLO(b);
        out[0] = DFMA(x, y, DZERO()), out[1] = DFMA(x, x, DZERO()), out[2] = DFMA(y, y, DZERO());
        return;
    }
    ROW_LANES(n, vgm, (void)0, (void)0);
    out[0] = VACC_LANES(gw), out[1] = VACC_LANES(gg), out[2] = VACC_LANES(ww);
}

/* out[3r..3r+2] = {g.p, g.g, p.p} of each of `rows` rows of `cols`, with g
 * times grad_mul (rounded to T; times 1 is exact), as the update takes it.
 * The horizontal sums of DW rows' lanes are taken together (DSUMS), with the
 * bits DSUM gives each alone: a row's sums do not depend on the rows beside
 * it, so not on where an item starts. */
static void FN(rowstats)(size_t rows, size_t cols, const void *pv, const void *gv, double grad_mul, double *out) {
    const T *p = pv, *g = gv;
    const V vgm = VSET1((T)grad_mul);
    D lanes[3 * DW];
    size_t r = 0;
    for (; r + DW <= rows; r += DW) {
        /* Unrolled, the DW rows' lanes stay in registers instead of a stack
         * array (clang: [64, 8] f32 statistics 15% faster, AdamP many-small
         * 66-69% -> 68-71% of the floor). */
#if defined(__clang__)
#pragma clang loop unroll(full)
#elif defined(__GNUC__)
#pragma GCC unroll 8
#endif
        for (size_t k = 0; k < DW; k++) FN(row_lanes)(cols, p + (r + k) * cols, g + (r + k) * cols, vgm, lanes + 3 * k);
        for (int q = 0; q < 3; q++) DSUMS(lanes + DW * q, out + 3 * r + DW * q);
    }
    for (; r < rows; r++) {
        FN(row_lanes)(cols, p + r * cols, g + r * cols, vgm, lanes);
        for (int q = 0; q < 3; q++) out[3 * r + q] = DSUM(lanes[q]);
    }
}

/* acc[0] += g.g; acc[1] = max(acc[1], |g|), a NaN anywhere winning. Four
 * vectors a round in independent sums: one sum's chain of additions would
 * make this latency-bound, not memory-bound. */
static void FN(gradstats)(size_t n, const void *gv, double acc[2]) {
    const T *g = gv;
    VACC(s0);
    VACC(s1);
    VACC(s2);
    VACC(s3);
    V mx = VSET1((T)0);
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        const V a = VLOAD(g + i), b = VLOAD(g + i + W), c = VLOAD(g + i + 2 * W), d = VLOAD(g + i + 3 * W);
        VACC_PROD(s0, a, a);
        VACC_PROD(s1, b, b);
        VACC_PROD(s2, c, c);
        VACC_PROD(s3, d, d);
        mx = VMAXNAN(VMAXNAN(a, VNEG(a)), mx);
        mx = VMAXNAN(VMAXNAN(b, VNEG(b)), mx);
        mx = VMAXNAN(VMAXNAN(c, VNEG(c)), mx);
        mx = VMAXNAN(VMAXNAN(d, VNEG(d)), mx);
    }
    for (; i + W <= n; i += W) {
        const V a = VLOAD(g + i);
        VACC_PROD(s0, a, a);
        mx = VMAXNAN(VMAXNAN(a, VNEG(a)), mx);
    }
    T lanes[W], m = (T)0;
    VSTORE(lanes, mx);
    for (int j = 0; j < W; j++) m = E(maxnan)(lanes[j], m);
    double s = (VACC_SUM(s0) + VACC_SUM(s1)) + (VACC_SUM(s2) + VACC_SUM(s3));
    for (; i < n; i++) {
        const double gi = g[i];
        s += gi * gi;
        m = E(maxnan)(E(maxnan)(g[i], -g[i]), m);
    }
    acc[0] += s;
    acc[1] = acc[1] != acc[1] || (double)m != (double)m ? NAN : (double)m > acc[1] ? (double)m : acc[1];
}

static void FN(adamp_update)(size_t n, const adamp_seg *sg, const adamp_consts *kc) {
    T *p = sg->p, *m = sg->s[0], *v = sg->s[1];
    const T *g = sg->g;
    CONSTANTS(kc);
    LANES(n, adamp_update_at, p + i, g + i, m + i, v + i);
}

static void FN(sgdp_update)(size_t n, const adamp_seg *sg, const adamp_consts *kc) {
    T *p = sg->p, *buf = sg->s[0];
    const T *g = sg->g;
    CONSTANTS(kc);
    LANES(n, sgdp_update_at, p + i, g + i, buf + i);
}

/* The moments of a projected segment, and s = sum(p_n * u) as
 * sum(p * u) / dn: the products and their sum in double (vector lanes, then
 * the tail's own sum added), one division at the end. torch rounds each
 * p_n = p / dn and each product to float and sums in float; the sum was
 * never torch's, and this is nearer the exact one, without a division per
 * element (AdamP's projected update, hot cache: 0.77 -> 0.67 ns per
 * element). */
#define MOMENTS_DOT(n, step, ...)                                                  \
    do {                                                                           \
        DOT_ACC;                                                                   \
        size_t i = 0;                                                              \
        for (; i + W <= (n); i += W) DOT_VEC(step, __VA_ARGS__);                   \
        for (; i < (n); i++) DOT_TAIL(step, __VA_ARGS__);                          \
        return DOT_S(norm);                                                        \
    } while (0)
/* Its parts, which the fused kernels' STATS_DOT shares: the sums, a whole
 * vector's u = step(...) times p (u first: ACC_PROD_AT reads its operand
 * twice), one element of the tail, and s from them given |p|. */
#define DOT_ACC                                                                    \
    VACC(acc);                                                                     \
    double tail_ = 0
#define DOT_VEC(step, ...)                                                         \
    do {                                                                           \
        const V u_ = VF(step)(__VA_ARGS__, &kv);                                   \
        VACC_PROD_AT(acc, p + i, u_);                                              \
    } while (0)
#define DOT_TAIL(step, ...) (tail_ += (double)p[i] * (double)SF(step)(__VA_ARGS__, &ks))
#define DOT_S(norm) ((VACC_SUM(acc) + tail_) / (double)E(norm_eps)(norm, &c))

static double FN(adamp_moments_dot)(size_t n, const adamp_seg *sg, const adamp_consts *kc, double norm) {
    const T *p = sg->p, *g = sg->g;
    T *m = sg->s[0], *v = sg->s[1];
    CONSTANTS(kc);
    MOMENTS_DOT(n, adamp_moments_dot_at, g + i, m + i, v + i);
}

static double FN(adamp_moments_dot_keep)(size_t n, const adamp_seg *sg, void *uv, const adamp_consts *kc,
                                         double norm) {
    const T *p = sg->p, *g = sg->g;
    T *m = sg->s[0], *v = sg->s[1], *u = uv;
    CONSTANTS(kc);
    MOMENTS_DOT(n, adamp_moments_dot_keep_at, g + i, m + i, v + i, u + i);
}

static double FN(sgdp_moments_dot)(size_t n, const adamp_seg *sg, const adamp_consts *kc, double norm) {
    const T *p = sg->p, *g = sg->g;
    T *buf = sg->s[0];
    CONSTANTS(kc);
    MOMENTS_DOT(n, sgdp_moments_dot_at, g + i, buf + i);
}

/* A row in one sweep (step.c: a tensor its group's rule decides needs no
 * statistics pass): its statistics, and its update (`body` on each whole
 * vector, `tail` on each element of the rest; both see i). The sums are
 * row_lanes' (ROW_LANES: the same operations in the same order over the
 * same loads, so rowstats' bits, which sums a row's lanes with DSUM, or
 * DSUMS with the same bits). Rows of at least one vector: row_lanes'
 * narrow-row branch does not arise. */
#define STATS_SWEEP(n, out, body, tail)                                            \
    do {                                                                           \
        const V vgm_ = VSET1(c.gmul);                                              \
        ROW_LANES(n, vgm_, body, tail);                                            \
        out[0] = DSUM(VACC_LANES(gw)), out[1] = DSUM(VACC_LANES(gg)), out[2] = DSUM(VACC_LANES(ww)); \
    } while (0)

/* Not projected: statistics and update. */
static void FN(adamp_update_stats)(size_t n, const adamp_seg *sg, const adamp_consts *kc, double *out) {
    T *p = sg->p, *m = sg->s[0], *v = sg->s[1];
    const T *g = sg->g;
    CONSTANTS(kc);
    STATS_SWEEP(n, out, VF(adamp_update_at)(p + i, g + i, m + i, v + i, &kv),
                SF(adamp_update_at)(p + i, g + i, m + i, v + i, &ks));
}

static void FN(sgdp_update_stats)(size_t n, const adamp_seg *sg, const adamp_consts *kc, double *out) {
    T *p = sg->p, *buf = sg->s[0];
    const T *g = sg->g;
    CONSTANTS(kc);
    STATS_SWEEP(n, out, VF(sgdp_update_at)(p + i, g + i, buf + i, &kv), SF(sgdp_update_at)(p + i, g + i, buf + i, &ks));
}

/* Channel-projected, sweep 1: statistics, moments, and s as the
 * *_moments_dot kernels return it (|p| from these statistics, as from
 * rowstats'); AdamP's perturbation kept in u (NULL: not kept, sweep 2
 * computing it again). Sweep 2 is the unfused one's. */
#define STATS_DOT(n, out, step, ...)                                               \
    do {                                                                           \
        DOT_ACC;                                                                   \
        STATS_SWEEP(n, out, DOT_VEC(step, __VA_ARGS__), DOT_TAIL(step, __VA_ARGS__)); \
        return DOT_S(sqrt(out[2]));                                                \
    } while (0)

static double FN(adamp_moments_dot_stats)(size_t n, const adamp_seg *sg, void *uv, const adamp_consts *kc,
                                          double *out) {
    const T *p = sg->p, *g = sg->g;
    T *m = sg->s[0], *v = sg->s[1], *u = uv;
    CONSTANTS(kc);
    if (u) STATS_DOT(n, out, adamp_moments_dot_keep_at, g + i, m + i, v + i, u + i);
    STATS_DOT(n, out, adamp_moments_dot_at, g + i, m + i, v + i);
}

/* SGDP keeps no perturbation (it is the buffer): uv is not used. */
static double FN(sgdp_moments_dot_stats)(size_t n, const adamp_seg *sg, void *uv, const adamp_consts *kc,
                                         double *out) {
    const T *p = sg->p, *g = sg->g;
    T *buf = sg->s[0];
    (void)uv;
    CONSTANTS(kc);
    STATS_DOT(n, out, sgdp_moments_dot_at, g + i, buf + i);
}

/* The second sweep of a projected segment, given |p| and s. */
#define APPLY_PROJECTION(n, step, ...)                                             \
    do {                                                                           \
        const T dn_ = E(norm_eps)(norm, &c), s_ = (T)s;                            \
        const V vdn = VSET1(dn_), vs = VSET1(s_);                                  \
        size_t i = 0;                                                              \
        for (; i + W <= (n); i += W) VF(step)(__VA_ARGS__, &kv, vdn, vs);          \
        for (; i < (n); i++) SF(step)(__VA_ARGS__, &ks, dn_, s_);                  \
    } while (0)

static void FN(adamp_apply_projection)(size_t n, const adamp_seg *sg, const adamp_consts *kc, double norm,
                                       double s) {
    T *p = sg->p;
    const T *g = sg->g, *m = sg->s[0], *v = sg->s[1];
    CONSTANTS(kc);
    APPLY_PROJECTION(n, adamp_apply_projection_at, p + i, g + i, m + i, v + i);
}

static void FN(adamp_apply_kept)(size_t n, void *pv, const void *uv, const adamp_consts *kc, double norm, double s) {
    T *p = pv;
    const T *u = uv;
    CONSTANTS(kc);
    APPLY_PROJECTION(n, adamp_apply_kept_at, p + i, u + i);
}

static void FN(sgdp_apply_projection)(size_t n, const adamp_seg *sg, const adamp_consts *kc, double norm,
                                      double s) {
    T *p = sg->p, *buf = sg->s[0];
    const T *g = sg->g;
    CONSTANTS(kc);
    APPLY_PROJECTION(n, sgdp_apply_projection_at, p + i, g + i, buf + i);
}

static void FN(adam_update)(size_t n, const adamp_seg *sg, const adamp_consts *kc) {
    T *p = sg->p, *m = sg->s[0], *v = sg->s[1], *vmax = sg->s[2];
    const T *g = sg->g;
    CONSTANTS(kc);
    LANES(n, adam_update_at, p + i, g + i, m + i, v + i, vmax ? vmax + i : NULL);
}

static void FN(sgd_update)(size_t n, const adamp_seg *sg, const adamp_consts *kc) {
    T *p = sg->p, *buf = sg->s[0];
    const T *g = sg->g;
    CONSTANTS(kc);
    LANES(n, sgd_update_at, p + i, g + i, buf ? buf + i : NULL);
}

/* Each algorithm's kernels, by the family algorithms.inc names (the
 * baselines' updates take no projection). */
#define KERNELS_adamp                                                                                 \
    {FN(adamp_update), FN(adamp_moments_dot), FN(adamp_apply_projection), FN(adamp_update_stats),     \
     FN(adamp_moments_dot_stats), FN(adamp_moments_dot_keep), FN(adamp_apply_kept)}
#define KERNELS_sgdp                                                                                  \
    {FN(sgdp_update), FN(sgdp_moments_dot), FN(sgdp_apply_projection), FN(sgdp_update_stats),         \
     FN(sgdp_moments_dot_stats), NULL, NULL}
#define KERNELS_adam {FN(adam_update), NULL, NULL, NULL, NULL, NULL, NULL}
#define KERNELS_sgd {FN(sgd_update), NULL, NULL, NULL, NULL, NULL, NULL}

const adamp_kernels CAT(adamp, VARIANT) = {
    .isa = ISA_NAME,
    .rowstats = FN(rowstats),
    .gradstats = FN(gradstats),
    .algo = {
#define ADAMP_ALGORITHM(id, name, origin, projects, kernels, ...) [id] = KERNELS_##kernels,
#include "algorithms.inc"
#undef ADAMP_ALGORITHM
    },
};
