/* Internal: the micro-kernels one (dtype, ISA) variant provides, and the
 * per-tensor constants they take. The scalar variant owns the meaning; every
 * other variant is tested against it. Kernels work on one contiguous segment
 * (a channel-view row, or a whole tensor) and never see threads. */
#ifndef ADAMP_KERNELS_H
#define ADAMP_KERNELS_H

#include <stddef.h>
#include "adamp.h"

/* Per-tensor constants, computed in double by the caller as the official code
 * computes them in Python floats; kernels cast them to the element type, as
 * PyTorch casts a Python scalar to the tensor's dtype. */
typedef struct adamp_consts {
    double beta1, one_minus_beta1;   /* AdamP, Adam, AdamW (1 - beta1: Adam's lerp weight) */
    double beta2, one_minus_beta2;   /* AdamP, Adam, AdamW */
    double sqrt_bc2;                 /* AdamP, Adam, AdamW: (1 - beta2^t)^0.5 */
    double momentum, one_minus_damp; /* SGDP, SGD */
    double eps;                      /* Adam denominator; p_n = p / (|p| + eps) */
    double decay;                    /* 1 - lr * wd * ratio (SGDP: / (1 - momentum)); 1 for Adam, SGD */
    double neg_step;                 /* -lr / (1 - beta1^t) for the Adams, -lr for the SGDs */
    double l2;                       /* Adam, SGD: weight decay added to the gradient */
    double grad_mul;                 /* every gradient element times this (1: as is, exactly) */
    int nesterov;
    int has_l2;                      /* l2 != 0: torch skips the op otherwise */
    int maximize;                    /* Adam, AdamW, SGD: negate the gradient */
    int first;                       /* SGD: the buffer starts as the gradient */
} adamp_consts;

/* One contiguous segment of a tensor: its parameter (and, for a parameter
 * kept with a master, its other half: storage.h), gradient and the state
 * buffers its update uses (state k at s[k]; NULL where it uses none). */
typedef struct adamp_seg {
    void *p, *p2;
    const void *g;
    void *s[ADAMP_MAX_STATES];
} adamp_seg;

/* The parameter of a segment as the formulas take it (storage.h). */
typedef struct adamp_pbuf {
    void *a, *b;
} adamp_pbuf;

/* One algorithm's kernels (kernels-impl.h, KERNELS_<family>; the family is
 * algorithms.inc's). Only `update` is there for every algorithm; the others
 * are the projecting algorithms', NULL for the baselines. `norm` is |p_r| of
 * the segment (from the statistics) and `s` the projection coefficient
 * sum((p/(norm+eps)) * perturb) returned by moments_dot, computed as
 * sum(p * perturb) / (norm+eps), the sum in double. */
typedef struct adamp_algo_kernels {
    /* Not projected: moments, weight decay and update in one sweep. */
    void (*update)(size_t n, const adamp_seg *a, const adamp_consts *k);
    /* Projected, sweep 1: update the moments, return s. */
    double (*moments_dot)(size_t n, const adamp_seg *a, const adamp_consts *k, double norm);
    /* Projected, sweep 2: perturb -= p_n * s, weight decay, update. */
    void (*apply_projection)(size_t n, const adamp_seg *a, const adamp_consts *k, double norm, double s);
    /* A row in one sweep (step.c, for tensors a rule decides): its
     * statistics (rowstats' out, bitwise) and its unprojected update, or a
     * projected update's sweep 1 returning s (|p| from those statistics; u
     * as moments_dot_keep's, or NULL). Rows of at least one vector. */
    void (*update_stats)(size_t n, const adamp_seg *a, const adamp_consts *k, double *out);
    double (*moments_dot_stats)(size_t n, const adamp_seg *a, void *u, const adamp_consts *k, double *out);
    /* moments_dot_stats for a step that drops the statistics: out[2] = p.p
     * alone (bitwise), the two products nobody reads not taken. */
    double (*moments_dot_norm)(size_t n, const adamp_seg *a, void *u, const adamp_consts *k, double *out);
    /* Sweep 1 also storing the perturbation in u (n elements of scratch), and
     * sweep 2 reading it: the same results as the pair above, without
     * computing the perturbation twice. NULL where the perturbation is a
     * state buffer already (SGDP). */
    double (*moments_dot_keep)(size_t n, const adamp_seg *a, void *u, const adamp_consts *k, double norm);
    void (*apply_kept)(size_t n, const adamp_seg *a, const void *u, const adamp_consts *k, double norm, double s);
} adamp_algo_kernels;

/* Algorithm ids are below this (checked where algorithms.inc is expanded). */
#define ADAMP_ALGO_SLOTS 8

typedef struct adamp_kernels {
    const char *isa;
    /* out[3r], out[3r+1], out[3r+2] = g.p, g.g, p.p of each of `rows`
     * contiguous rows of `cols`, g taken times grad_mul (rounded to the
     * element type) as the update takes it. */
    void (*rowstats)(size_t rows, size_t cols, const adamp_seg *a, double grad_mul, double *out);
    /* acc[0] += g.g; acc[1] = the largest |g| of acc[1] and g (NaN if either holds one). */
    void (*gradstats)(size_t n, const void *g, double acc[2]);
    /* By algorithm id. */
    adamp_algo_kernels algo[ADAMP_ALGO_SLOTS];
} adamp_kernels;

/* The storages each arithmetic serves (kernels-<type>.h instantiates
 * kernels-impl.h for each): X(suffix, param dtype, master, grad dtype, ...),
 * the rest of X's arguments passed on. */
/* float arithmetic: float32 parameters; bfloat16 and float16 ones, without a
 * master, with a float32 one ("m"), or split; each with float32, bfloat16
 * or float16 gradients (the parameter's own first). */
#define ADAMP_F32_STORAGES(X, ...) \
    X(f32, ADAMP_F32, ADAMP_MASTER_OFF, ADAMP_F32, __VA_ARGS__) \
    X(f32_gbf16, ADAMP_F32, ADAMP_MASTER_OFF, ADAMP_BF16, __VA_ARGS__) \
    X(f32_gf16, ADAMP_F32, ADAMP_MASTER_OFF, ADAMP_F16, __VA_ARGS__) \
    X(bf16, ADAMP_BF16, ADAMP_MASTER_OFF, ADAMP_BF16, __VA_ARGS__) \
    X(bf16_gf32, ADAMP_BF16, ADAMP_MASTER_OFF, ADAMP_F32, __VA_ARGS__) \
    X(bf16_gf16, ADAMP_BF16, ADAMP_MASTER_OFF, ADAMP_F16, __VA_ARGS__) \
    X(f16, ADAMP_F16, ADAMP_MASTER_OFF, ADAMP_F16, __VA_ARGS__) \
    X(f16_gf32, ADAMP_F16, ADAMP_MASTER_OFF, ADAMP_F32, __VA_ARGS__) \
    X(f16_gbf16, ADAMP_F16, ADAMP_MASTER_OFF, ADAMP_BF16, __VA_ARGS__) \
    X(mbf16, ADAMP_BF16, ADAMP_MASTER_FLOAT32, ADAMP_BF16, __VA_ARGS__) \
    X(mbf16_gf32, ADAMP_BF16, ADAMP_MASTER_FLOAT32, ADAMP_F32, __VA_ARGS__) \
    X(mbf16_gf16, ADAMP_BF16, ADAMP_MASTER_FLOAT32, ADAMP_F16, __VA_ARGS__) \
    X(mf16, ADAMP_F16, ADAMP_MASTER_FLOAT32, ADAMP_F16, __VA_ARGS__) \
    X(mf16_gf32, ADAMP_F16, ADAMP_MASTER_FLOAT32, ADAMP_F32, __VA_ARGS__) \
    X(mf16_gbf16, ADAMP_F16, ADAMP_MASTER_FLOAT32, ADAMP_BF16, __VA_ARGS__) \
    X(split, ADAMP_BF16, ADAMP_MASTER_SPLIT, ADAMP_BF16, __VA_ARGS__) \
    X(split_gf32, ADAMP_BF16, ADAMP_MASTER_SPLIT, ADAMP_F32, __VA_ARGS__) \
    X(split_gf16, ADAMP_BF16, ADAMP_MASTER_SPLIT, ADAMP_F16, __VA_ARGS__)
#define ADAMP_F64_STORAGES(X, ...) X(f64, ADAMP_F64, ADAMP_MASTER_OFF, ADAMP_F64, __VA_ARGS__)

/* The table of a variant's storage. */
#define ADAMP_TABLE_(variant, suffix) adamp_##variant##_##suffix
#define ADAMP_TABLE(variant, suffix) ADAMP_TABLE_(variant, suffix)

#define ADAMP_DECLARE_(suffix, dtype, master, grad, variant) extern const adamp_kernels ADAMP_TABLE(variant, suffix);
#define ADAMP_VARIANT(type, isa, variant) ADAMP_##type##_STORAGES(ADAMP_DECLARE_, variant)
#include "variants.inc"
#undef ADAMP_VARIANT
#undef ADAMP_DECLARE_

#endif
