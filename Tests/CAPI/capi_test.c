/* The C API used from C alone: step AdamP, SGDP and the baselines, check the results and
 * that every bad call returns its status and writes nothing. Prints
 * "N passed, N failed" and exits non-zero on any failure. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "adamp.h"

static int passed, failed;
#define CHECK(cond)                                                        \
    do {                                                                   \
        if (cond) passed++;                                                \
        else { failed++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
    } while (0)

/* A [2, 3] weight whose gradient is orthogonal to each row, and a bias. */
static float w[6], g[6], m[6], v[6], b[3], gb[3], mb[3], vb[3];
static double stats[6];
static adamp_tensor tensors[2];
static adamp_hparams h;

static void setup(void) {
    const float w0[6] = {1, 2, 2, 0, 3, 4}, g0[6] = {2, -1, 0, 0, 4, -3};
    memcpy(w, w0, sizeof w);
    memcpy(g, g0, sizeof g);
    memset(m, 0, sizeof m); memset(v, 0, sizeof v); memset(mb, 0, sizeof mb); memset(vb, 0, sizeof vb);
    for (int i = 0; i < 3; i++) { b[i] = 0.5f; gb[i] = (float)(i + 1); }
    h = (adamp_hparams){.lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.1,
                        .delta = 0.1, .wd_ratio = 0.1, .momentum = 0.9};
    tensors[0] = (adamp_tensor){.param = w, .grad = g, .state0 = m, .state1 = v, .hparams = &h,
                                .rows = 2, .cols = 3, .ndim = 2};
    tensors[1] = (adamp_tensor){.param = b, .grad = gb, .state0 = mb, .state1 = vb, .hparams = &h,
                                .rows = 1, .cols = 3, .ndim = 1};
}

/* Calls that must fail with `want` and leave every buffer as it was
 * (setup() left the state zero and the step counts as they are now). */
static void expect_rejected(adamp_status got, adamp_status want, const float *w_before) {
    static const float zeros[6];
    CHECK(got == want);
    CHECK(memcmp(w, w_before, sizeof w) == 0);
    CHECK(memcmp(m, zeros, sizeof m) == 0 && memcmp(v, zeros, sizeof v) == 0);
    CHECK(memcmp(mb, zeros, sizeof mb) == 0 && tensors[1].step == 0);
}

int main(void) {
    setup();
    CHECK(adamp_stats_len(tensors, 2) == 6);
    CHECK(adamp_step(NULL, ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 6) == ADAMP_OK);
    CHECK(tensors[0].projection == ADAMP_PROJ_CHANNEL && tensors[1].projection == ADAMP_PROJ_NONE);
    CHECK(tensors[0].step == 1 && tensors[1].step == 1);
    /* Bias (ndim 1): Adam's first step moves by lr * g / (|g| + eps) after
     * the decay factor 1 - lr * wd. */
    for (int i = 0; i < 3; i++) CHECK(fabsf(b[i] - (0.5f * (1 - 0.01f) - 0.1f)) < 1e-6f);
    /* The weight: projected per row, so after the decay (scaled by wd_ratio)
     * the update has no component along the row: first step, u = 0.1 g/(|g|+eps)
     * elementwise, step size lr / (1 - beta1) = 1. */
    const float w0[6] = {1, 2, 2, 0, 3, 4}, g0[6] = {2, -1, 0, 0, 4, -3};
    const double decay = 1 - 0.1 * 0.1 * 0.1;
    for (int r = 0; r < 2; r++) {
        double u[3], nw = 0, s = 0, radial = 0;
        for (int j = 0; j < 3; j++) {
            u[j] = 0.1 * g0[3 * r + j] / (fabs(g0[3 * r + j]) + 1e-8);
            nw += (double)w0[3 * r + j] * w0[3 * r + j];
        }
        nw = sqrt(nw) + 1e-8;
        for (int j = 0; j < 3; j++) s += w0[3 * r + j] / nw * u[j];
        for (int j = 0; j < 3; j++) {
            double want = w0[3 * r + j] * decay - (u[j] - w0[3 * r + j] / nw * s);
            CHECK(fabs(w[3 * r + j] - want) < 1e-6);
            radial += (w[3 * r + j] - w0[3 * r + j] * decay) * w0[3 * r + j];
        }
        CHECK(fabs(radial) < 1e-5);
    }

    /* SGDP: the first buffer is g, already orthogonal to the rows, so the
     * projection keeps it; decay is 1 - lr * wd * wd_ratio / (1 - momentum). */
    setup();
    CHECK(adamp_step(NULL, ADAMP_ALGO_SGDP, ADAMP_F32, tensors, 2, stats, 6) == ADAMP_OK);
    CHECK(tensors[0].projection == ADAMP_PROJ_CHANNEL);
    for (int i = 0; i < 6; i++) {
        CHECK(fabsf(m[i] - g0[i]) < 1e-6f);
        CHECK(fabs(w[i] - (w0[i] * (1 - 0.1 * 0.1 * 0.1 / 0.1) - 0.1 * g0[i])) < 1e-6);
    }
    for (int i = 0; i < 3; i++) CHECK(mb[i] == gb[i] && fabsf(b[i] - (0.5f * 0.9f - 0.1f * gb[i])) < 1e-6f);

    /* Bad calls. */
    setup();
    float before[6];
    memcpy(before, w, sizeof w);
    expect_rejected(adamp_step(NULL, ADAMP_ALGO_ADAMP, ADAMP_F32, NULL, 2, stats, 6), ADAMP_E_NULL_POINTER, before);
    expect_rejected(adamp_step(NULL, ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, NULL, 6), ADAMP_E_NULL_POINTER, before);
    expect_rejected(adamp_step(NULL, ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 5), ADAMP_E_STATS_TOO_SMALL, before);
    expect_rejected(adamp_step(NULL, (adamp_algorithm)9, ADAMP_F32, tensors, 2, stats, 6), ADAMP_E_INVALID_ENUM, before);
    expect_rejected(adamp_step(NULL, ADAMP_ALGO_ADAMP, (adamp_dtype)0, tensors, 2, stats, 6), ADAMP_E_INVALID_ENUM, before);
    tensors[1].rows = 0;
    expect_rejected(adamp_step(NULL, ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 6), ADAMP_E_INVALID_SIZE, before);
    tensors[1].rows = 1;
    tensors[1].state1 = NULL; /* AdamP needs exp_avg_sq */
    expect_rejected(adamp_step(NULL, ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 6), ADAMP_E_NULL_POINTER, before);
    tensors[1].state1 = vb;
    tensors[1].param = NULL;
    expect_rejected(adamp_step(NULL, ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 6), ADAMP_E_NULL_POINTER, before);
    tensors[1].param = b;
    h.beta2 = 1.0;
    expect_rejected(adamp_step(NULL, ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 6), ADAMP_E_INVALID_HPARAM, before);
    adamp_field field;
    const char *rule;
    CHECK(adamp_hparams_check(ADAMP_ALGO_ADAMP, &h, &field, &rule) == ADAMP_E_INVALID_HPARAM);
    CHECK(field == ADAMP_FIELD_BETA2 && strcmp(adamp_field_name(field), "betas[1]") == 0 && rule[0] != 0);
    h.beta2 = 0.999;
    tensors[0].step = -1;
    expect_rejected(adamp_step(NULL, ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 6), ADAMP_E_INVALID_SIZE, before);
    CHECK(tensors[0].step == -1);
    tensors[0].step = 0;
    CHECK(adamp_step(NULL, ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 0, NULL, 0) == ADAMP_OK);
    CHECK(adamp_status_string(ADAMP_E_NULL_POINTER)[0] != 0);

    /* The baselines need no stats. Adam's first step moves every element by
     * lr (m/sqrt(v) = sign(g) after bias correction, up to eps). */
    setup();
    memcpy(before, w, sizeof w);
    h.weight_decay = 0;
    CHECK(adamp_step(NULL, ADAMP_ALGO_ADAM, ADAMP_F32, tensors, 2, NULL, 0) == ADAMP_OK);
    CHECK(tensors[0].projection == ADAMP_PROJ_NONE && tensors[0].step == 1);
    for (int i = 0; i < 6; i++) {
        const float s = g[i] > 0 ? 1.0f : g[i] < 0 ? -1.0f : 0.0f;
        CHECK(fabsf(w[i] - (before[i] - 0.1f * s)) < 1e-5f);
    }
    /* AdamW decays first; maximize ascends. */
    setup();
    memcpy(before, w, sizeof w);
    h.maximize = 1;
    CHECK(adamp_step(NULL, ADAMP_ALGO_ADAMW, ADAMP_F32, tensors, 2, NULL, 0) == ADAMP_OK);
    for (int i = 0; i < 6; i++) {
        const float s = g[i] > 0 ? 1.0f : g[i] < 0 ? -1.0f : 0.0f;
        CHECK(fabsf(w[i] - (before[i] * (1 - 0.1f * 0.1f) + 0.1f * s)) < 1e-5f);
    }
    /* SGD: the buffer starts as the gradient (plus L2), then accumulates;
     * with momentum 0 it needs no buffer at all. */
    setup();
    memcpy(before, w, sizeof w);
    h.dampening = 0.5;
    CHECK(adamp_step(NULL, ADAMP_ALGO_SGD, ADAMP_F32, tensors, 2, NULL, 0) == ADAMP_OK);
    for (int i = 0; i < 6; i++) CHECK(fabsf(m[i] - (g[i] + 0.1f * before[i])) < 1e-6f);
    float w1[6], m1[6];
    memcpy(w1, w, sizeof w);
    memcpy(m1, m, sizeof m);
    CHECK(adamp_step(NULL, ADAMP_ALGO_SGD, ADAMP_F32, tensors, 2, NULL, 0) == ADAMP_OK);
    for (int i = 0; i < 6; i++) CHECK(fabsf(m[i] - (0.9f * m1[i] + 0.5f * (g[i] + 0.1f * w1[i]))) < 1e-5f);
    setup();
    h.momentum = 0;
    tensors[0].state0 = tensors[1].state0 = NULL;
    tensors[0].state1 = tensors[1].state1 = NULL;
    memcpy(before, w, sizeof w);
    CHECK(adamp_step(NULL, ADAMP_ALGO_SGD, ADAMP_F32, tensors, 2, NULL, 0) == ADAMP_OK);
    for (int i = 0; i < 6; i++) CHECK(fabsf(w[i] - (before[i] - 0.1f * (g[i] + 0.1f * before[i]))) < 1e-6f);
    /* torch.optim's rules, and the buffers they need. */
    setup();
    memcpy(before, w, sizeof w);
    h.nesterov = 1;
    h.dampening = 0.1;
    expect_rejected(adamp_step(NULL, ADAMP_ALGO_SGD, ADAMP_F32, tensors, 2, NULL, 0), ADAMP_E_INVALID_HPARAM, before);
    CHECK(adamp_hparams_check(ADAMP_ALGO_SGD, &h, &field, &rule) == ADAMP_E_INVALID_HPARAM && field == ADAMP_FIELD_NESTEROV);
    h.nesterov = 0;
    h.momentum = 2.0; /* torch accepts momentum >= 1 for SGD, not for SGDP */
    CHECK(adamp_hparams_check(ADAMP_ALGO_SGD, &h, NULL, NULL) == ADAMP_OK);
    CHECK(adamp_hparams_check(ADAMP_ALGO_SGDP, &h, NULL, NULL) == ADAMP_E_INVALID_HPARAM);
    h.momentum = 0.9;
    h.amsgrad = 2;
    expect_rejected(adamp_step(NULL, ADAMP_ALGO_ADAM, ADAMP_F32, tensors, 2, NULL, 0), ADAMP_E_INVALID_HPARAM, before);
    CHECK(adamp_hparams_check(ADAMP_ALGO_ADAMW, &h, &field, NULL) == ADAMP_E_INVALID_HPARAM && field == ADAMP_FIELD_AMSGRAD);
    h.amsgrad = 1; /* without state2 */
    expect_rejected(adamp_step(NULL, ADAMP_ALGO_ADAMW, ADAMP_F32, tensors, 2, NULL, 0), ADAMP_E_NULL_POINTER, before);
    tensors[0].state0 = NULL;
    h.amsgrad = 0;
    expect_rejected(adamp_step(NULL, ADAMP_ALGO_SGD, ADAMP_F32, tensors, 2, NULL, 0), ADAMP_E_NULL_POINTER, before);

    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
