/* What a variant's kernels share, whatever their storage: included once by
 * the variant's file (<type>-<isa>.c), which defines T (float or double, the
 * arithmetic), E(name) (a name suffixed with the type), VARIANT and ISA_NAME;
 * a SIMD variant also defines W (lanes), the vector type V and its
 * operations (kernels-impl.h lists them) and puts its functions under a
 * target attribute. Then kernels-impl.h is included once per storage. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "convert.h"
#include "kernels.h"

#include "fp.h"

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define FV(name) CAT(name, VARIANT)

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

#if defined(W)
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
 * v in [1, 4) over 60,000 divisors (scripts/dev/check-sqrt-div.c); in double,
 * these functions for 2^24 random v in [1, 4) over 10,000 divisors
 * (the same script, -DF64); the C tests (adam_denominator_is_the_division)
 * in both on every build. */
#if defined(VFIX_SQRT_DIV)
typedef struct {
    V b, y;
    int fast;
} FV(divisor);

static inline FV(divisor) FV(make_divisor)(T b) {
    const FV(divisor) d = {VSET1(b), VSET1((T)1 / b), b >= (T)0x1p-24 && b <= (T)0x1p24};
    return d;
}

static inline V FV(sqrt_div)(V v, FV(divisor) d) {
    const V a = VSQRT(v);
    if (!d.fast) return VDIV(a, d.b);
    const V q = VMUL(a, d.y), r = VFMS(q, d.b, a);
    return VFIX_SQRT_DIV(VFNMA(r, d.y, q), a);
}
#define VDIV_T FV(divisor)
#define VDIVISOR FV(make_divisor)
#define VSQRT_DIV FV(sqrt_div)
#else
#define VDIV_T V
#define VDIVISOR(b) VSET1(b)
#define VSQRT_DIV(v, b) VDIV(VSQRT(v), b)
#endif
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
#define ADAMP_SCALAR_VARIANT 1
typedef T V;
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
/* Its 16-bit storages, an element at a time (convert.h). */
#define VBF16_LOAD(p) adamp_bf16_to_f32(*(p))
#define VBF16_STORE(p, x) (*(p) = adamp_f32_to_bf16(x))
#define VF16_LOAD(p) adamp_f16_to_f32(*(p))
#define VF16_STORE(p, x) (*(p) = adamp_f32_to_f16(x))
#define VSPLIT_LOAD(hi, lo) adamp_split_to_f32(*(hi), *(lo))
#define VSPLIT_STORE(hi, lo, x) adamp_f32_to_split(x, hi, lo)
#endif
#if !defined(VACC_PROD_AT)
#define VACC_PROD_AT(a, ptr, y) VACC_PROD(a, VLOAD(ptr), y)
#define VACC_SQ_AT(a, ptr) VACC_PROD(a, VLOAD(ptr), VLOAD(ptr))
#endif

#if !defined(ADAMP_SCALAR_VARIANT) && defined(VBF16_WIDEN)
/* A vector variant gives its 16-bit loads as W packed values (VU16_LOAD; the
 * first n < W of them, zeros after, reading nothing past them: VU16_FIRST)
 * widened to V. */
#define VBF16_LOAD(p) VBF16_WIDEN(VU16_LOAD(p))
#define VF16_LOAD(p) VF16_WIDEN(VU16_LOAD(p))
#define VSPLIT_LOAD(hi, lo) VSPLIT_WIDEN(VU16_LOAD(hi), VU16_LOAD(lo))
static inline V FV(bf16_first)(const void *ptr, size_t at, size_t n) { return VBF16_WIDEN(VU16_FIRST((const uint16_t *)ptr + at, n)); }
static inline V FV(f16_first)(const void *ptr, size_t at, size_t n) { return VF16_WIDEN(VU16_FIRST((const uint16_t *)ptr + at, n)); }
static inline V FV(split_first)(const void *hi, const void *lo, size_t at, size_t n) {
    return VSPLIT_WIDEN(VU16_FIRST((const uint16_t *)hi + at, n), VU16_FIRST((const uint16_t *)lo + at, n));
}
#elif defined(ADAMP_SCALAR_VARIANT)
static inline V FV(bf16_first)(const void *ptr, size_t at, size_t n) { (void)n; return VBF16_LOAD((const uint16_t *)ptr + at); }
static inline V FV(f16_first)(const void *ptr, size_t at, size_t n) { (void)n; return VF16_LOAD((const uint16_t *)ptr + at); }
static inline V FV(split_first)(const void *hi, const void *lo, size_t at, size_t n) {
    (void)n;
    return VSPLIT_LOAD((const uint16_t *)hi + at, (const uint16_t *)lo + at);
}
#endif
