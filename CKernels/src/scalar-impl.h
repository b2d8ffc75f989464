/* The scalar kernels for one element type: the reference every other variant
 * is tested against. The including file defines T, E(name) and VARIANT. */
#include "element.h"

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, VARIANT)

static void FN(rowstats)(size_t n, const void *p, const void *g, double acc[3]) {
    double a[3] = {0, 0, 0};
    E(rowstats_tail)(0, n, p, g, a);
    acc[0] += a[0];
    acc[1] += a[1];
    acc[2] += a[2];
}

static void FN(adam_fused)(size_t n, void *p, const void *g, void *m, void *v, const adamp_consts *k) {
    const E(tconsts) c = E(load)(k);
    E(adam_fused_tail)(0, n, p, g, m, v, &c);
}

static double FN(adam_moments_dot)(size_t n, const void *p, const void *g, void *m, void *v,
                                   const adamp_consts *k, double norm) {
    const E(tconsts) c = E(load)(k);
    return E(adam_moments_dot_tail)(0, n, p, g, m, v, &c, (T)norm + c.eps);
}

static void FN(adam_apply_proj)(size_t n, void *p, const void *g, const void *m, const void *v,
                                const adamp_consts *k, double norm, double s) {
    const E(tconsts) c = E(load)(k);
    E(adam_apply_proj_tail)(0, n, p, g, m, v, &c, (T)norm + c.eps, (T)s);
}

static void FN(sgd_fused)(size_t n, void *p, const void *g, void *buf, const adamp_consts *k) {
    const E(tconsts) c = E(load)(k);
    E(sgd_fused_tail)(0, n, p, g, buf, &c);
}

static double FN(sgd_moments_dot)(size_t n, const void *p, const void *g, void *buf,
                                  const adamp_consts *k, double norm) {
    const E(tconsts) c = E(load)(k);
    return E(sgd_moments_dot_tail)(0, n, p, g, buf, &c, (T)norm + c.eps);
}

static void FN(sgd_apply_proj)(size_t n, void *p, const void *g, void *buf,
                               const adamp_consts *k, double norm, double s) {
    const E(tconsts) c = E(load)(k);
    E(sgd_apply_proj_tail)(0, n, p, g, buf, &c, (T)norm + c.eps, (T)s);
}

static void FN(adam_torch)(size_t n, void *p, const void *g, void *m, void *v, void *vmax, const adamp_consts *k) {
    const E(tconsts) c = E(load)(k);
    E(adam_torch_tail)(0, n, p, g, m, v, vmax, &c);
}

static void FN(sgd_torch)(size_t n, void *p, const void *g, void *buf, const adamp_consts *k) {
    const E(tconsts) c = E(load)(k);
    E(sgd_torch_tail)(0, n, p, g, buf, &c);
}

ADAMP_KERNEL_TABLE(CAT(adamp, VARIANT), "scalar");
