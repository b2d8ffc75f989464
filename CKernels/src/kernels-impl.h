/* The kernels of one variant and one storage, written once. Included by the
 * variant's file after kernels-shared.h, once per storage it serves, with
 * STORAGE (the storage's name suffix), PK (how the parameter is stored) and
 * GK (how the gradient is: storage.h). The maths is formulas.h, instantiated
 * here for the scalar lane and, in a SIMD variant, for the vector lane; each
 * kernel runs the vector lane over whole vectors and the scalar lane over
 * the tail. The scalar variant is the same code with one lane of one
 * element: it is the reference the other variants are tested against.
 * Element-wise results are therefore bitwise the same in every variant; only
 * sums (row statistics and the projection coefficient, accumulated in
 * double) are added in another order, and never differently for another
 * number of threads. A storage changes only how values are read and written:
 * the arithmetic is T's, so a parameter stored in bfloat16 steps as its
 * float32 value would, rounded once when stored.
 *
 * Vector operations of a SIMD variant: V VLOAD(const T *), VLOAD_FIRST(p, n)
 * (the first n < W elements, zeros after, reading nothing past them),
 * VSTORE(T *, V), VSET1(T), VADD/VSUB/VMUL/VDIV(V, V), VSQRT(V), VFMA(a, b, c),
 * VNEG(V), VMAXNAN(a, b); optionally VFIX_SQRT_DIV(q, a) (kernels-shared.h)
 * with VFMS(a, b, c) = a*b - c and VFNMA(a, b, c) = c - a*b (rounded once);
 * D (DW doubles) DZERO(), D DADD(D, D), DFMA(D, D, D), D DLO(V) (the low DW
 * lanes in double), double DSUM(D),
 * DSUMS(const D v[DW], double out[DW]) (out[k] = DSUM(v[k]), bitwise),
 * ACC(D lo, D hi, V x): lo, hi += x in double; ACC_PROD(lo, hi, a, b): += a*b;
 * optionally ACC_PROD_AT(lo, hi, ptr, b): += (the vector at ptr)*b, and
 * ACC_SQ_AT(lo, hi, ptr): += its square, each half loaded as it is widened
 * (gcc otherwise loads the whole vector and extracts its high half: SGDP's
 * projected step, hot cache, 7-10% slower; the statistics pass 10-15%);
 * for the 16-bit storages of float variants, W packed 16-bit values
 * VU16_LOAD(const uint16_t *) and VU16_FIRST(p, n) (kernels-shared.h),
 * widened by VBF16_WIDEN, VF16_WIDEN, VSPLIT_WIDEN(hi, lo), and stored by
 * VBF16_STORE(uint16_t *, V), VF16_STORE and VSPLIT_STORE(hi, lo, V), each
 * bitwise convert.h's element by element. */

#define VS CAT(VARIANT, STORAGE)
/* A loop over the DW rows of a group of rows, unrolled whole. */
#ifndef ADAMP_UNROLL_ROWS
#if defined(__clang__)
#define ADAMP_UNROLL_ROWS _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__)
#define ADAMP_UNROLL_ROWS _Pragma("GCC unroll 8")
#else
#define ADAMP_UNROLL_ROWS
#endif
#endif
#define FN(name) CAT(name, VS)
#include "storage.h"

/* The scalar lane: one element of T. */
#define LANE T
#define LF(name) CAT(name, CAT(s, VS))
#define L_LOAD(p) (*(p))
#define L_STORE(p, x) (*(p) = (x))
#define L_PLOAD S_PLOAD
#define L_PSTORE S_PSTORE
#define L_GLOAD S_GLOAD
#define L_SLOAD S_SLOAD
#define L_SSTORE S_SSTORE
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
#include "lane-end.h"
#define SF(name) CAT(name, CAT(s, VS))

#if !defined(ADAMP_SCALAR_VARIANT)
/* The vector lane: W elements. */
#define LANE V
#define LF(name) CAT(name, CAT(v, VS))
#define L_LOAD(p) VLOAD(p)
#define L_STORE(p, x) VSTORE(p, x)
#define L_PLOAD V_PLOAD
#define L_PSTORE V_PSTORE
#define L_GLOAD V_GLOAD
#define L_SLOAD V_SLOAD
#define L_SSTORE V_SSTORE
#define L_SET1(x) VSET1(x)
#define L_ADD VADD
#define L_SUB VSUB
#define L_MUL VMUL
#define L_DIV VDIV
#define LDIV VDIV_T
#define L_DIVISOR VDIVISOR
#define L_SQRT_DIV VSQRT_DIV
#define L_SQRT VSQRT
#define L_FMA VFMA
#define L_NEG VNEG
#define L_MAXNAN VMAXNAN
#include "formulas.h"
#include "lane-end.h"
#define VF(name) CAT(name, CAT(v, VS))
#define VK CAT(k, CAT(v, VS))
#else
#define VF SF
#define VK CAT(k, CAT(s, VS))
#endif

/* Runs `step` (a formula's _at function) over [0, n): vector lanes, then the
 * scalar tail. `kv` and `ks` are the constants in the two lanes; the step is
 * given its buffers and the index i. */
#define LANES(n, step, ...)                                                        \
    do {                                                                           \
        size_t i = 0;                                                              \
        for (; i + W <= (n); i += W) VF(step)(__VA_ARGS__, i, &kv);                \
        for (; i < (n); i++) SF(step)(__VA_ARGS__, i, &ks);                        \
    } while (0)

#define CONSTANTS(kc)                                                              \
    const E(tconsts) c = E(load)(kc);                                              \
    const VK kv = VF(kload)(&c);                                                   \
    const CAT(k, CAT(s, VS)) ks = SF(kload)(&c);                                   \
    (void)kv, (void)ks

/* A segment's buffers as the formulas take them. */
#define BUFFERS(sg)                                                                \
    const adamp_pbuf p = {(sg)->p, (sg)->p2};                                      \
    const void *g = (sg)->g;                                                       \
    (void)p, (void)g

/* A row's sums {g.p, g.g, p.p} before their horizontal step, in gw, gg and
 * ww: each lane over the row's whole vectors (its elements from `at` on),
 * then over the rest as one vector padded with zeros, in double; g taken
 * times vgm. `body` runs after each whole vector is summed, and `tail` on
 * each element of the rest after it is (a fused row's update, which
 * overwrites p); both see the element's index i. ROW_LANES_(..., 0, ...)
 * sums ww alone, with the same bits (a constant: the compiler drops the
 * rest). */
#define ROW_LANES(n, at, vgm, body, tail) ROW_LANES_(n, at, vgm, 1, body, tail)
#define ROW_LANES_(n, at, vgm, all, body, tail)                                    \
    VACC(gw);                                                                      \
    VACC(gg);                                                                      \
    VACC(ww);                                                                      \
    size_t i = (at);                                                               \
    for (; i + W <= (at) + (n); i += W) {                                          \
        if (all) {                                                                 \
            const V a_ = VMUL(V_GLOAD(g, i), vgm);                                 \
            V_ACC_PROD_P(gw, p, i, a_);                                            \
            VACC_PROD(gg, a_, a_);                                                 \
        }                                                                          \
        V_ACC_SQ_P(ww, p, i);                                                      \
        body;                                                                      \
    }                                                                              \
    if (i < (at) + (n)) {                                                          \
        const V a_ = VMUL(V_GLOAD_FIRST(g, i, (at) + (n) - i), vgm), b_ = V_PLOAD_FIRST(p, i, (at) + (n) - i); \
        if (all) VACC_PROD(gw, a_, b_);                                            \
        if (all) VACC_PROD(gg, a_, a_);                                            \
        VACC_PROD(ww, b_, b_);                                                     \
    }                                                                              \
    for (; i < (at) + (n); i++) tail

/* out = {x.y, x.x, y.y} lane by lane, exact (products of widened floats, or
 * of doubles from +0), as a row's lanes before their horizontal sums. */
static inline __attribute__((always_inline)) void FN(lane_prods)(D x, D y, D out[3]) {
    out[0] = DFMA(x, y, DZERO()), out[1] = DFMA(x, x, DZERO()), out[2] = DFMA(y, y, DZERO());
}

/* ROW_LANES for the statistics alone, of the row of n elements from `at`.
 * (A row narrower than a vector, a [64, 8] weight's under AVX-512, is one
 * vector step, not an element loop: 20,000 such tensors spent more time in
 * their statistics than in their update when it was.) Always inlined:
 * called, as gcc chose to, each row's lanes went through memory. */
static inline __attribute__((always_inline)) void FN(row_lanes)(size_t n, adamp_pbuf p, const void *g, size_t at, V vgm,
                                                               D out[3]) {
    if (n < W && n <= DW) {
        /* The whole row in the low half (f32's lanes widened to double fill
         * two D): the same bits as below, the high half being zeros. (Its
         * loads shared with the branch below, clang's code for [64, 8] f32
         * statistics took almost twice as long.) */
        const V a = VMUL(V_GLOAD_FIRST(g, at, n), vgm), b = V_PLOAD_FIRST(p, at, n);
        FN(lane_prods)(DLO(a), DLO(b), out);
        return;
    }
#if defined(PROD_HALVES)
    if (n == W) {
        /* One whole vector: what ROW_LANES gives it (its halves' exact
         * products, added once), without the accumulators. */
        const V a = VMUL(V_GLOAD(g, at), vgm), b = V_PLOAD(p, at);
        out[0] = PROD_HALVES(a, b), out[1] = PROD_HALVES(a, a), out[2] = PROD_HALVES(b, b);
        return;
    }
#endif
    ROW_LANES(n, at, vgm, (void)0, (void)0);
    out[0] = VACC_LANES(gw), out[1] = VACC_LANES(gg), out[2] = VACC_LANES(ww);
}

/* out[3r..3r+2] = {g.p, g.g, p.p} of each of `rows` rows of `cols`, with g
 * times grad_mul (rounded to T; times 1 is exact), as the update takes it.
 * The horizontal sums of DW rows' lanes are taken together (DSUMS), with the
 * bits DSUM gives each alone: a row's sums do not depend on the rows beside
 * it, so not on where an item starts. */
static void FN(rowstats)(size_t rows, size_t cols, const adamp_seg *sg, double grad_mul, double *out) {
    BUFFERS(sg);
#if defined(ROWSTATS_8) && GK == GK_NATIVE && (PK == PK_NATIVE || PK == PK_MASTER_BF16 || PK == PK_MASTER_F16)
    /* a variant's own code for rows of 8 floats, with these bits */
    if (cols == 8) {
        ROWSTATS_8(rows, (const T *)p.a, (const T *)g, (T)grad_mul, out);
        return;
    }
#endif
    const V vgm = VSET1((T)grad_mul);
    D lanes[3 * DW];
    size_t r = 0;
#if defined(WHI)
    if (2 * cols == W && DW == cols) {
        /* Two rows a vector ([*, 8] 16-bit under AVX-512, [*, 4] under
         * AVX2): each half is a row, as the narrow path above takes it alone
         * (the same bits), from one load instead of two masked ones. */
        for (; r + DW <= rows; r += DW) {
            ADAMP_UNROLL_ROWS
            for (size_t k = 0; k < DW; k += 2) {
                const V a = VMUL(V_GLOAD(g, (r + k) * cols), vgm), b = V_PLOAD(p, (r + k) * cols);
                FN(lane_prods)(WLO(a), WLO(b), lanes + 3 * k);
                FN(lane_prods)(WHI(a), WHI(b), lanes + 3 * k + 3);
            }
            for (int q = 0; q < 3; q++) DSUMS(lanes + DW * q, out + 3 * r + DW * q);
        }
    }
#endif
    for (; r + DW <= rows; r += DW) {
        /* Unrolled, the DW rows' lanes stay in registers instead of a stack
         * array. */
        ADAMP_UNROLL_ROWS
        for (size_t k = 0; k < DW; k++) FN(row_lanes)(cols, p, g, (r + k) * cols, vgm, lanes + 3 * k);
        for (int q = 0; q < 3; q++) DSUMS(lanes + DW * q, out + 3 * r + DW * q);
    }
    for (; r < rows; r++) {
        FN(row_lanes)(cols, p, g, r * cols, vgm, lanes);
        for (int q = 0; q < 3; q++) out[3 * r + q] = DSUM(lanes[q]);
    }
}

/* acc[0] += g.g; acc[1] = max(acc[1], |g|), a NaN anywhere winning. Four
 * vectors a round in independent sums: one sum's chain of additions would
 * make this latency-bound, not memory-bound. */
static void FN(gradstats)(size_t n, const void *g, double acc[2]) {
    VACC(s0);
    VACC(s1);
    VACC(s2);
    VACC(s3);
    V mx = VSET1((T)0);
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        const V a = V_GLOAD(g, i), b = V_GLOAD(g, i + W), c = V_GLOAD(g, i + 2 * W), d = V_GLOAD(g, i + 3 * W);
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
        const V a = V_GLOAD(g, i);
        VACC_PROD(s0, a, a);
        mx = VMAXNAN(VMAXNAN(a, VNEG(a)), mx);
    }
    T lanes[W], m = (T)0;
    VSTORE(lanes, mx);
    for (int j = 0; j < W; j++) m = E(maxnan)(lanes[j], m);
    double s = (VACC_SUM(s0) + VACC_SUM(s1)) + (VACC_SUM(s2) + VACC_SUM(s3));
    for (; i < n; i++) {
        const T gi = S_GLOAD(g, i);
        s += (double)gi * (double)gi;
        m = E(maxnan)(E(maxnan)(gi, -gi), m);
    }
    acc[0] += s;
    acc[1] = acc[1] != acc[1] || (double)m != (double)m ? NAN : (double)m > acc[1] ? (double)m : acc[1];
}

static void FN(adamp_update)(size_t n, const adamp_seg *sg, const adamp_consts *kc) {
    BUFFERS(sg);
    void *m = sg->s[0], *v = sg->s[1];
    CONSTANTS(kc);
    LANES(n, adamp_update_at, p, g, m, v);
}

static void FN(sgdp_update)(size_t n, const adamp_seg *sg, const adamp_consts *kc) {
    BUFFERS(sg);
    void *buf = sg->s[0];
    CONSTANTS(kc);
    LANES(n, sgdp_update_at, p, g, buf);
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
        const V u_ = VF(step)(__VA_ARGS__, i, &kv);                                \
        V_ACC_PROD_P(acc, p, i, u_);                                               \
    } while (0)
#define DOT_TAIL(step, ...) (tail_ += (double)S_PLOAD(p, i) * (double)SF(step)(__VA_ARGS__, i, &ks))
#define DOT_S(norm) ((VACC_SUM(acc) + tail_) / (double)E(norm_eps)(norm, &c))

static double FN(adamp_moments_dot)(size_t n, const adamp_seg *sg, const adamp_consts *kc, double norm) {
    BUFFERS(sg);
    void *m = sg->s[0], *v = sg->s[1];
    CONSTANTS(kc);
    MOMENTS_DOT(n, adamp_moments_dot_at, g, m, v);
}

static double FN(adamp_moments_dot_keep)(size_t n, const adamp_seg *sg, void *uv, const adamp_consts *kc,
                                         double norm) {
    BUFFERS(sg);
    void *m = sg->s[0], *v = sg->s[1];
    T *u = uv;
    CONSTANTS(kc);
    MOMENTS_DOT(n, adamp_moments_dot_keep_at, g, m, v, u);
}

static double FN(sgdp_moments_dot)(size_t n, const adamp_seg *sg, const adamp_consts *kc, double norm) {
    BUFFERS(sg);
    void *buf = sg->s[0];
    CONSTANTS(kc);
    MOMENTS_DOT(n, sgdp_moments_dot_at, g, buf);
}

/* A row in one sweep (step.c: a tensor its group's rule decides needs no
 * statistics pass): its statistics, and its update (`body` on each whole
 * vector, `tail` on each element of the rest; both see i). The sums are
 * row_lanes' (ROW_LANES: the same operations in the same order over the
 * same loads, so rowstats' bits, which sums a row's lanes with DSUM, or
 * DSUMS with the same bits). Rows of at least one vector: row_lanes'
 * narrow-row branch does not arise. */
#define STATS_SWEEP(n, out, body, tail) STATS_SWEEP_(n, out, 1, body, tail)
/* all = 0: out[2] = p.p alone (bitwise the same), out[0] and out[1] not
 * written, for a caller that drops the statistics but needs |p|. */
#define STATS_SWEEP_(n, out, all, body, tail)                                      \
    do {                                                                           \
        const V vgm_ = VSET1(c.gmul);                                              \
        ROW_LANES_(n, 0, vgm_, all, body, tail);                                   \
        if (all) out[0] = DSUM(VACC_LANES(gw)), out[1] = DSUM(VACC_LANES(gg));    \
        out[2] = DSUM(VACC_LANES(ww));                                             \
    } while (0)

/* Not projected: statistics and update. */
static void FN(adamp_update_stats)(size_t n, const adamp_seg *sg, const adamp_consts *kc, double *out) {
    BUFFERS(sg);
    void *m = sg->s[0], *v = sg->s[1];
    CONSTANTS(kc);
    STATS_SWEEP(n, out, VF(adamp_update_at)(p, g, m, v, i, &kv), SF(adamp_update_at)(p, g, m, v, i, &ks));
}

static void FN(sgdp_update_stats)(size_t n, const adamp_seg *sg, const adamp_consts *kc, double *out) {
    BUFFERS(sg);
    void *buf = sg->s[0];
    CONSTANTS(kc);
    STATS_SWEEP(n, out, VF(sgdp_update_at)(p, g, buf, i, &kv), SF(sgdp_update_at)(p, g, buf, i, &ks));
}

/* Channel-projected, sweep 1: statistics, moments, and s as the
 * *_moments_dot kernels return it (|p| from these statistics, as from
 * rowstats'); AdamP's perturbation kept in u (NULL: not kept, sweep 2
 * computing it again). Sweep 2 is the unfused one's. */
#define STATS_DOT(n, out, all, step, ...)                                          \
    do {                                                                           \
        DOT_ACC;                                                                   \
        STATS_SWEEP_(n, out, all, DOT_VEC(step, __VA_ARGS__), DOT_TAIL(step, __VA_ARGS__)); \
        return DOT_S(sqrt(out[2]));                                                \
    } while (0)

/* Each written once for the whole statistics (all = 1: *_moments_dot_stats)
 * and for |p| alone (0: *_moments_dot_norm, out[2] only). */
static inline __attribute__((always_inline)) double FN(adamp_stats_dot)(size_t n, const adamp_seg *sg, void *uv,
                                                                       const adamp_consts *kc, double *out,
                                                                       const int all) {
    BUFFERS(sg);
    void *m = sg->s[0], *v = sg->s[1];
    T *u = uv;
    CONSTANTS(kc);
    if (u) STATS_DOT(n, out, all, adamp_moments_dot_keep_at, g, m, v, u);
    STATS_DOT(n, out, all, adamp_moments_dot_at, g, m, v);
}

/* SGDP keeps no perturbation (it is the buffer): uv is not used. */
static inline __attribute__((always_inline)) double FN(sgdp_stats_dot)(size_t n, const adamp_seg *sg, void *uv,
                                                                      const adamp_consts *kc, double *out,
                                                                      const int all) {
    BUFFERS(sg);
    void *buf = sg->s[0];
    (void)uv;
    CONSTANTS(kc);
    STATS_DOT(n, out, all, sgdp_moments_dot_at, g, buf);
}

static double FN(adamp_moments_dot_stats)(size_t n, const adamp_seg *sg, void *u, const adamp_consts *k, double *out) {
    return FN(adamp_stats_dot)(n, sg, u, k, out, 1);
}
static double FN(adamp_moments_dot_norm)(size_t n, const adamp_seg *sg, void *u, const adamp_consts *k, double *out) {
    return FN(adamp_stats_dot)(n, sg, u, k, out, 0);
}
static double FN(sgdp_moments_dot_stats)(size_t n, const adamp_seg *sg, void *u, const adamp_consts *k, double *out) {
    return FN(sgdp_stats_dot)(n, sg, u, k, out, 1);
}
static double FN(sgdp_moments_dot_norm)(size_t n, const adamp_seg *sg, void *u, const adamp_consts *k, double *out) {
    return FN(sgdp_stats_dot)(n, sg, u, k, out, 0);
}

/* The second sweep of a projected segment, given |p| and s. */
#define APPLY_PROJECTION(n, step, ...)                                             \
    do {                                                                           \
        const T dn_ = E(norm_eps)(norm, &c), s_ = (T)s;                            \
        const V vdn = VSET1(dn_), vs = VSET1(s_);                                  \
        size_t i = 0;                                                              \
        for (; i + W <= (n); i += W) VF(step)(__VA_ARGS__, i, &kv, vdn, vs);       \
        for (; i < (n); i++) SF(step)(__VA_ARGS__, i, &ks, dn_, s_);               \
    } while (0)

static void FN(adamp_apply_projection)(size_t n, const adamp_seg *sg, const adamp_consts *kc, double norm,
                                       double s) {
    BUFFERS(sg);
    void *m = sg->s[0], *v = sg->s[1];
    CONSTANTS(kc);
    APPLY_PROJECTION(n, adamp_apply_projection_at, p, g, m, v);
}

static void FN(adamp_apply_kept)(size_t n, const adamp_seg *sg, const void *uv, const adamp_consts *kc, double norm,
                                 double s) {
    BUFFERS(sg);
    const T *u = uv;
    CONSTANTS(kc);
    APPLY_PROJECTION(n, adamp_apply_kept_at, p, u);
}

static void FN(sgdp_apply_projection)(size_t n, const adamp_seg *sg, const adamp_consts *kc, double norm,
                                      double s) {
    BUFFERS(sg);
    void *buf = sg->s[0];
    CONSTANTS(kc);
    APPLY_PROJECTION(n, sgdp_apply_projection_at, p, g, buf);
}

static void FN(adam_update)(size_t n, const adamp_seg *sg, const adamp_consts *kc) {
    BUFFERS(sg);
    void *m = sg->s[0], *v = sg->s[1], *vmax = sg->s[2];
    CONSTANTS(kc);
    LANES(n, adam_update_at, p, g, m, v, vmax);
}

static void FN(sgd_update)(size_t n, const adamp_seg *sg, const adamp_consts *kc) {
    BUFFERS(sg);
    void *buf = sg->s[0];
    CONSTANTS(kc);
    LANES(n, sgd_update_at, p, g, buf);
}

/* Each algorithm's kernels, by the family algorithms.inc names (the
 * baselines' updates take no projection). */
#define KERNELS_adamp                                                                                 \
    {FN(adamp_update), FN(adamp_moments_dot), FN(adamp_apply_projection), FN(adamp_update_stats),     \
     FN(adamp_moments_dot_stats), FN(adamp_moments_dot_norm), FN(adamp_moments_dot_keep), FN(adamp_apply_kept)}
#define KERNELS_sgdp                                                                                  \
    {FN(sgdp_update), FN(sgdp_moments_dot), FN(sgdp_apply_projection), FN(sgdp_update_stats),         \
     FN(sgdp_moments_dot_stats), FN(sgdp_moments_dot_norm), NULL, NULL}
#define KERNELS_adam {FN(adam_update), NULL, NULL, NULL, NULL, NULL, NULL, NULL}
#define KERNELS_sgd {FN(sgd_update), NULL, NULL, NULL, NULL, NULL, NULL, NULL}

const adamp_kernels CAT(adamp, VS) = {
    .isa = ISA_NAME,
    .rowstats = FN(rowstats),
    .gradstats = FN(gradstats),
    .algo = {
#define ADAMP_ALGORITHM(id, name, origin, projects, kernels, ...) [id] = KERNELS_##kernels,
#include "algorithms.inc"
#undef ADAMP_ALGORITHM
    },
};

/* Everything above is the storage's own: the next inclusion defines it anew. */
#undef KERNELS_adamp
#undef KERNELS_sgdp
#undef KERNELS_adam
#undef KERNELS_sgd
#undef APPLY_PROJECTION
#undef STATS_DOT
#undef STATS_SWEEP
#undef STATS_SWEEP_
#undef DOT_S
#undef DOT_TAIL
#undef DOT_VEC
#undef DOT_ACC
#undef MOMENTS_DOT
#undef ROW_LANES
#undef ROW_LANES_
#undef BUFFERS
#undef CONSTANTS
#undef LANES
#undef VF
#undef VK
#undef SF
#undef FN
#undef VS
#include "storage-end.h"
