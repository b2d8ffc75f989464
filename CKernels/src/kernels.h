/* Internal: the micro-kernels one (dtype, ISA) variant provides, and the
 * per-tensor constants they take. The scalar variant owns the meaning; every
 * other variant is tested against it. Kernels work on one contiguous segment
 * (a channel-view row, or a whole tensor) and never see threads. */
#ifndef ADAMP_KERNELS_H
#define ADAMP_KERNELS_H

#include <stddef.h>

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

/* `norm` is |p_r| of the segment (from the statistics) and `s` the projection
 * coefficient sum((p/(norm+eps)) * perturb) returned by the *_dot kernel,
 * computed as sum(p * perturb) / (norm+eps), the sum in double. */
typedef struct adamp_kernels {
    const char *isa;
    /* out[3r], out[3r+1], out[3r+2] = g.p, g.g, p.p of each of `rows`
     * contiguous rows of `cols`, g taken times grad_mul (rounded to the
     * element type) as the update takes it. */
    void (*rowstats)(size_t rows, size_t cols, const void *p, const void *g, double grad_mul, double *out);
    /* acc[0] += g.g; acc[1] = the largest |g| of acc[1] and g (NaN if either holds one). */
    void (*gradstats)(size_t n, const void *g, double acc[2]);
    /* AdamP, SGDP not projected: moments, weight decay and update in one sweep. */
    void (*adamp_update)(size_t n, void *p, const void *g, void *m, void *v, const adamp_consts *k);
    void (*sgdp_update)(size_t n, void *p, const void *g, void *buf, const adamp_consts *k);
    /* Projected, sweep 1: update the moments, return s. */
    double (*adamp_moments_dot)(size_t n, const void *p, const void *g, void *m, void *v,
                                const adamp_consts *k, double norm);
    double (*sgdp_moments_dot)(size_t n, const void *p, const void *g, void *buf,
                               const adamp_consts *k, double norm);
    /* AdamP's sweep 1 also storing the perturbation in u (n elements of
     * scratch), and sweep 2 reading it: the same results as the pair above,
     * without computing the perturbation twice. */
    double (*adamp_moments_dot_keep)(size_t n, const void *p, const void *g, void *m, void *v, void *u,
                                     const adamp_consts *k, double norm);
    void (*adamp_apply_kept)(size_t n, void *p, const void *u, const adamp_consts *k, double norm, double s);
    /* Projected, sweep 2: perturb -= p_n * s, weight decay, update. */
    void (*adamp_apply_projection)(size_t n, void *p, const void *g, const void *m, const void *v,
                                   const adamp_consts *k, double norm, double s);
    void (*sgdp_apply_projection)(size_t n, void *p, const void *g, void *buf,
                                  const adamp_consts *k, double norm, double s);
    /* A row in one sweep (step.c, for tensors a rule decides): its
     * statistics (rowstats' out, bitwise) and its unprojected update, or a
     * projected update's sweep 1 returning s (|p| from those statistics; u
     * as adamp_moments_dot_keep's, or NULL). Rows of at least one vector. */
    void (*adamp_update_stats)(size_t n, void *p, const void *g, void *m, void *v, const adamp_consts *k,
                               double *out);
    void (*sgdp_update_stats)(size_t n, void *p, const void *g, void *buf, const adamp_consts *k, double *out);
    double (*adamp_moments_dot_stats)(size_t n, const void *p, const void *g, void *m, void *v, void *u,
                                      const adamp_consts *k, double *out);
    double (*sgdp_moments_dot_stats)(size_t n, const void *p, const void *g, void *buf, const adamp_consts *k,
                                     double *out);
    /* torch.optim Adam and AdamW (vmax NULL: no amsgrad), and SGD (buf NULL:
     * momentum 0), in one sweep. */
    void (*adam_update)(size_t n, void *p, const void *g, void *m, void *v, void *vmax, const adamp_consts *k);
    void (*sgd_update)(size_t n, void *p, const void *g, void *buf, const adamp_consts *k);
} adamp_kernels;

/* Defines a variant's table from the kernels its file names with FN(). */
#define ADAMP_KERNEL_TABLE(table, isa_name)                                                   \
    const adamp_kernels table = {                                                            \
        .isa = isa_name,                                                                     \
        .rowstats = FN(rowstats),                                                            \
        .gradstats = FN(gradstats),                                                          \
        .adamp_update = FN(adamp_update),                                                    \
        .sgdp_update = FN(sgdp_update),                                                      \
        .adamp_moments_dot = FN(adamp_moments_dot),                                          \
        .sgdp_moments_dot = FN(sgdp_moments_dot),                                            \
        .adamp_moments_dot_keep = FN(adamp_moments_dot_keep),                                \
        .adamp_apply_kept = FN(adamp_apply_kept),                                            \
        .adamp_apply_projection = FN(adamp_apply_projection),                                \
        .sgdp_apply_projection = FN(sgdp_apply_projection),                                  \
        .adamp_update_stats = FN(adamp_update_stats),                                        \
        .sgdp_update_stats = FN(sgdp_update_stats),                                          \
        .adamp_moments_dot_stats = FN(adamp_moments_dot_stats),                              \
        .sgdp_moments_dot_stats = FN(sgdp_moments_dot_stats),                                \
        .adam_update = FN(adam_update),                                                      \
        .sgd_update = FN(sgd_update),                                                        \
    }

#define ADAMP_VARIANT(dtype, isa, table) extern const adamp_kernels table;
#include "variants.inc"
#undef ADAMP_VARIANT

#endif
