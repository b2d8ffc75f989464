/* The C API used from C alone: step AdamP, SGDP and the baselines, check the results and
 * that every bad call returns its status and writes nothing. Prints
 * "N passed, N failed" and exits non-zero on any failure. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "adamp.h"
#include "check.h"
#include "../../CKernels/src/tensor.h"

/* A [2, 3] weight whose gradient is orthogonal to each row, and a bias. */
static float w[6], g[6], m[6], v[6], b[3], gb[3], mb[3], vb[3];
static double stats[12]; /* adamp_stats_len: 6 per row of w */
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

/* adamp_step(), after checking that adamp_validate() says the same of the
 * call (and, as expect_rejected() checks of a failed step, writes nothing). */
static adamp_status validated_step(adamp_algorithm algo, adamp_dtype dtype, adamp_tensor *t, size_t count,
                                   double *st, size_t len) {
    const adamp_status v = adamp_validate(NULL, algo, dtype, t, count, st, len, NULL);
    const adamp_status s = adamp_step(NULL, algo, dtype, t, count, st, len);
    CHECK(v == s);
    return s;
}

/* The regressions of defects found by fuzzing and hostile use, one each. */

/* SGD with momentum 0 neither reads nor writes a buffer left in place (as
 * after momentum was switched off): torch.optim.SGD gives p = 1 - 0.1 * 1. */
static void sgd_momentum_zero_leaves_buffer_alone(void) {
    for (adamp_isa isa = ADAMP_ISA_SCALAR; isa <= isa_last(); isa++) {
        if (!adamp_isa_supported(isa)) continue;
        const adamp_config cfg = {isa, 1, 0};
        enum { N = 37 }; /* vector lanes and a tail */
        float p[N], g[N], buf[N];
        for (int i = 0; i < N; i++) p[i] = g[i] = 1, buf[i] = i % 2 ? INFINITY : 123;
        adamp_hparams hz = {.lr = 0.1, .dampening = 0.5};
        for (int64_t step = 0; step < 3; step += 2) {
            adamp_tensor t = {.param = p, .grad = g, .state0 = buf, .hparams = &hz, .rows = 1, .cols = N, .ndim = 1,
                              .step = step};
            for (int i = 0; i < N; i++) p[i] = 1;
            CHECK(adamp_step(&cfg, ADAMP_ALGO_SGD, ADAMP_F32, &t, 1, NULL, 0) == ADAMP_OK);
            int ok = 1;
            for (int i = 0; i < N; i++) ok &= p[i] == 0.9f && (i % 2 ? isinf(buf[i]) : buf[i] == 123);
            CHECK(ok);
        }
        double pd = 1, gd = 1, bd = NAN;
        adamp_tensor td = {.param = &pd, .grad = &gd, .state0 = &bd, .hparams = &hz, .rows = 1, .cols = 1, .ndim = 1};
        CHECK(adamp_step(&cfg, ADAMP_ALGO_SGD, ADAMP_F64, &td, 1, NULL, 0) == ADAMP_OK);
        CHECK(pd == 0.9 && isnan(bd));
    }
}

/* After a step (fused, or the three phases), the stats buffer's first half
 * holds the step's statistics, as adamp_row_stats gives them, also for a
 * layer-projected tensor, whose sums the update keeps in the scratch half
 * (before, it overwrote two of the statistics). AdamP and SGDP, f32 and f64,
 * every ISA, 1 and 2 threads, a tensor large enough to be cut into items. */
static void stats_readable_after_step(void) {
    enum { R = 8, C = 4096, N = R * C };
    static double p[N], g[N], m[N], v[N], p0[N], stats[6 * R], expected[6 * R];
    for (int algo = ADAMP_ALGO_ADAMP; algo <= ADAMP_ALGO_SGDP; algo++)
        for (adamp_dtype dt = ADAMP_F32; dt <= ADAMP_F64; dt++)
            for (adamp_isa isa = ADAMP_ISA_SCALAR; isa <= isa_last(); isa++)
                for (int threads = 1; threads <= 2 && adamp_isa_supported(isa); threads++)
                    for (int fused = 0; fused < 2; fused++) {
                        const adamp_config cfg = {isa, threads, 0};
                        /* Rows in pairs: g = w on the first, g = -w on the
                         * second: each row's cosine is 1 (the channel view
                         * fails) and the layer's is 0 (the layer view passes). */
                        for (int i = 0; i < N; i++) {
                            const double w = 0.5 + 0.25 * sin(i % C), sign = (i / C) % 2 ? -1 : 1;
                            if (dt == ADAMP_F32) ((float *)p)[i] = (float)w, ((float *)g)[i] = (float)(sign * w);
                            else p[i] = w, g[i] = sign * w;
                        }
                        memset(m, 0, sizeof m), memset(v, 0, sizeof v);
                        memcpy(p0, p, sizeof p);
                        adamp_hparams hs = {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .momentum = 0.9, .eps = 1e-8,
                                            .weight_decay = 0.1, .delta = 0.1, .wd_ratio = 0.1};
                        adamp_tensor t = {.param = p, .grad = g, .state0 = m, .state1 = v, .hparams = &hs,
                                          .rows = R, .cols = C, .ndim = 2};
                        CHECK(adamp_stats_len(&t, 1) == 6 * R);
                        CHECK(adamp_row_stats(&cfg, dt, &t, 1, expected, 6 * R) == ADAMP_OK);
                        for (int i = 0; i < 6 * R; i++) stats[i] = -1;
                        if (fused) {
                            CHECK(adamp_step(&cfg, (adamp_algorithm)algo, dt, &t, 1, stats, 6 * R) == ADAMP_OK);
                        } else {
                            CHECK(adamp_row_stats(&cfg, dt, &t, 1, stats, 6 * R) == ADAMP_OK);
                            CHECK(adamp_decide((adamp_algorithm)algo, dt, &t, 1, stats, 6 * R) == ADAMP_OK);
                            CHECK(adamp_apply(&cfg, (adamp_algorithm)algo, dt, &t, 1, stats, 6 * R) == ADAMP_OK);
                        }
                        CHECK(t.projection == ADAMP_PROJ_LAYER && memcmp(p, p0, sizeof p) != 0);
                        CHECK(memcmp(stats, expected, 3 * R * sizeof(double)) == 0);
                        /* adamp_diagnose reads them: rows' |cos| 1, the layer's 0. */
                        adamp_diagnostics d;
                        CHECK(adamp_diagnose((adamp_algorithm)algo, dt, &t, 1, stats, 6 * R, &d) == ADAMP_OK);
                        double ww = 0;
                        for (int i = 0; i < N; i++) {
                            const double w = dt == ADAMP_F32 ? ((float *)p0)[i] : p0[i];
                            ww += w * w;
                        }
                        const double thr_c = 0.1 / sqrt(C), thr_l = 0.1 / sqrt(N);
                        CHECK(d.projection == ADAMP_PROJ_LAYER && fabs(d.channel_cosine - 1) < 1e-6 && d.layer_cosine < 1e-6);
                        CHECK(fabs(d.channel_threshold - thr_c) < 1e-7 * thr_c && fabs(d.layer_threshold - thr_l) < 1e-7 * thr_l);
                        CHECK(fabs(d.weight_norm - sqrt(ww)) < 1e-9 * sqrt(ww) && fabs(d.grad_norm - sqrt(ww)) < 1e-9 * sqrt(ww));
                    }
}

/* A row's statistics are the same bits whichever rows surround it: a tensor
 * of 19 rows (the kernels sum the rows' lanes several rows at once) against
 * each row as a tensor of its own, for widths below, at and past a vector
 * and its low half, every ISA, f32 and f64, g times 1 and 0.75. And each is
 * the sum it claims: against long double, to the rounding of its terms. */
static void row_stats_do_not_depend_on_neighbours(void) {
    enum { R = 19, MAXC = 1031 };
    static double p[R * MAXC], g[R * MAXC], all[6 * R], one[6];
    const size_t widths[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 24, 31, 33, 100, 1031};
    for (adamp_dtype dt = ADAMP_F32; dt <= ADAMP_F64; dt++)
        for (adamp_isa isa = ADAMP_ISA_SCALAR; isa <= isa_last(); isa++)
            for (size_t wi = 0; wi < sizeof widths / sizeof widths[0] && adamp_isa_supported(isa); wi++)
                for (int mul = 0; mul < 2; mul++) {
                    const size_t C = widths[wi];
                    const double gm = mul ? 0.75 : 1;
                    for (size_t i = 0; i < R * C; i++) {
                        const double a = sin(0.7 * (double)i + (double)C), b = cos(1.3 * (double)i) * 1e-3;
                        if (dt == ADAMP_F32) ((float *)p)[i] = (float)a, ((float *)g)[i] = (float)b;
                        else p[i] = a, g[i] = b;
                    }
                    const adamp_config cfg = {isa, 1, 0};
                    const adamp_step_options o = {.size = sizeof o, .grad_mul = gm};
                    adamp_tensor t = {.param = p, .grad = g, .rows = R, .cols = C, .ndim = 2};
                    CHECK(adamp_row_stats_ex(&cfg, dt, &t, 1, all, 6 * R, &o) == ADAMP_OK);
                    int same = 1, exact = 1;
                    for (size_t r = 0; r < R; r++) {
                        const size_t es = dt == ADAMP_F32 ? sizeof(float) : sizeof(double);
                        adamp_tensor u = {.param = (char *)p + r * C * es, .grad = (char *)g + r * C * es,
                                          .rows = 1, .cols = C, .ndim = 2};
                        CHECK(adamp_row_stats_ex(&cfg, dt, &u, 1, one, 6, &o) == ADAMP_OK);
                        same &= memcmp(one, all + 3 * r, 3 * sizeof(double)) == 0;
                        long double ref[3] = {0, 0, 0}, mag[3] = {0, 0, 0};
                        for (size_t i = r * C; i < (r + 1) * C; i++) {
                            const long double w = dt == ADAMP_F32 ? ((float *)p)[i] : p[i];
                            const long double x = dt == ADAMP_F32 ? (long double)(float)(((float *)g)[i] * (float)gm)
                                                                   : (long double)(g[i] * gm);
                            ref[0] += x * w, ref[1] += x * x, ref[2] += w * w;
                            mag[0] += fabsl(x * w), mag[1] += x * x, mag[2] += w * w;
                        }
                        for (int k = 0; k < 3; k++) exact &= fabsl(all[3 * r + k] - ref[k]) <= 1e-15L * (long double)C * mag[k];
                    }
                    if (!same || !exact) printf("row stats: dtype %d isa %d width %zu mul %g: %s\n", (int)dt, (int)isa, C, gm,
                                                !same ? "a row's bits depend on its neighbours" : "not the sum");
                    CHECK(same && exact);
                }
}

/* The baselines take no statistics and set every tensor's projection as
 * adamp_decide would, whatever it held: NONE with a gradient, SKIPPED
 * without. Small tensors and one cut into several items. */
static void baselines_decide_without_stats(void) {
    enum { N = 64 * 1024 };
    static float p[N], g[N], s0[N], s1[N], s2[N];
    const size_t shapes[][2] = {{2, 3}, {64, 8}, {64, 1024}};
    for (int algo = ADAMP_ALGO_ADAM; algo <= ADAMP_ALGO_SGD; algo++)
        for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
            for (int with_grad = 0; with_grad < 2; with_grad++) {
                adamp_hparams hs = {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .momentum = 0.9};
                adamp_tensor t = {.param = p, .grad = with_grad ? g : NULL, .state0 = s0, .state1 = s1, .state2 = s2,
                                  .hparams = &hs, .rows = shapes[k][0], .cols = shapes[k][1], .ndim = 2,
                                  .projection = ADAMP_PROJ_CHANNEL};
                CHECK(adamp_step(NULL, (adamp_algorithm)algo, ADAMP_F32, &t, 1, NULL, 0) == ADAMP_OK);
                CHECK(t.projection == (with_grad ? ADAMP_PROJ_NONE : ADAMP_PROJ_SKIPPED));
            }
}

/* adamp_grad_norms: exact sums where they are exact, NaN and Inf found where
 * they are, 0 without a gradient, and the same bits for 1, 2, 3 threads. */
static void grad_norms(void) {
    enum { A = 40000, B = 37, C = 3 * 16384 + 5 };
    static float ga[A], gb[B], gc[C];
    float dummy[4] = {0};
    for (int i = 0; i < A; i++) ga[i] = i % 2 ? 0.5f : -0.25f; /* squares 1/4, 1/16: exact in double */
    for (int i = 0; i < B; i++) gb[i] = (float)i;
    for (int i = 0; i < C; i++) gc[i] = sinf((float)i) * 3;
    adamp_tensor t[4] = {
        {.param = ga, .grad = ga, .rows = 100, .cols = 400, .ndim = 2},
        {.param = gb, .grad = gb, .rows = 1, .cols = B, .ndim = 1},
        {.param = gc, .grad = gc, .rows = 1, .cols = C, .ndim = 1},
        {.param = dummy, .rows = 1, .cols = 4, .ndim = 1}, /* no gradient */
    };
    const size_t len = adamp_grad_norms_len(t, 4);
    CHECK(len == 2 * (3 + 1 + 4 + 1));
    double work[18], sumsq[4], maxabs[4], first[4] = {0};
    for (adamp_isa isa = ADAMP_ISA_SCALAR; isa <= isa_last(); isa++)
        for (int threads = 1; threads <= 3 && adamp_isa_supported(isa); threads++) {
            const adamp_config cfg = {isa, threads, 0};
            CHECK(adamp_grad_norms(&cfg, ADAMP_F32, t, 4, sumsq, maxabs, work, len) == ADAMP_OK);
            CHECK(sumsq[0] == A / 2 * (0.25 + 0.0625) && maxabs[0] == 0.5);
            CHECK(sumsq[1] == (B - 1) * B * (2 * B - 1) / 6.0 && maxabs[1] == B - 1);
            CHECK(sumsq[3] == 0 && maxabs[3] == 0);
            double ref = 0, mx = 0;
            for (int i = 0; i < C; i++) ref += (double)gc[i] * gc[i], mx = fmax(mx, fabs(gc[i]));
            CHECK(fabs(sumsq[2] - ref) <= 1e-12 * ref && maxabs[2] == mx);
            if (threads == 1) first[2] = sumsq[2];
            CHECK(sumsq[2] == first[2]); /* the same bits on any number of threads */
        }
    gc[C - 1] = INFINITY, gb[3] = -INFINITY, ga[A / 2] = NAN;
    CHECK(adamp_grad_norms(NULL, ADAMP_F32, t, 4, sumsq, maxabs, work, len) == ADAMP_OK);
    CHECK(isnan(maxabs[0]) && maxabs[1] == INFINITY && maxabs[2] == INFINITY && maxabs[3] == 0);
    CHECK(adamp_grad_norms(NULL, ADAMP_F32, t, 4, sumsq, maxabs, work, len - 1) == ADAMP_E_STATS_TOO_SMALL);
    CHECK(adamp_grad_norms(NULL, ADAMP_F32, t, 4, NULL, maxabs, work, len) == ADAMP_E_NULL_POINTER);
    CHECK(adamp_grad_norms(NULL, (adamp_dtype)7, t, 4, sumsq, maxabs, work, len) == ADAMP_E_INVALID_ENUM);
    CHECK(adamp_grad_norms(NULL, ADAMP_F32, NULL, 0, NULL, NULL, NULL, 0) == ADAMP_OK);
}

/* Every Adam's denominator sqrt(v) / sqrt(1 - beta2^t) + eps, which the
 * SIMD variants compute without a division where the divisor allows
 * (kernels-impl.h, VFIX_SQRT_DIV): bitwise the scalar variant's division, in
 * float and double, for v of every kind (random bit patterns: subnormal,
 * huge, infinite and NaN ones among them; zeros), divisors on both sides of
 * the fast path's range, and the vector tail. With p = 0, g = 0 and no
 * decay, p becomes -step * m / denom: a denominator an ulp off shows in it. */
static void adam_denominator_is_the_division(void) {
    enum { N = (1 << 18) + 13 };
    char *st = malloc(sizeof(double) * N * 8); /* p, m, v, g: the scalar variant's, then another's */
    uint64_t x = 0x2545F4914F6CDD1Dull;
    const double beta2s[3] = {0.999, 1 - 1e-7, 1 - 1e-16}; /* sqrt(bc2) at t = 1: 0.03, 3e-4, 1e-8 (below 2^-24) */
    const int64_t steps[2] = {0, 99999};
    int compared = 0;
    for (adamp_dtype dt = ADAMP_F32; dt <= ADAMP_F64; dt++)
        for (int bi = 0; bi < 3; bi++)
            for (int si = 0; si < 2; si++)
                for (int amsgrad = 0; amsgrad < 2; amsgrad++) {
                    adamp_hparams ha = {.lr = 1e-3, .beta1 = 0.9, .beta2 = beta2s[bi], .eps = amsgrad ? 0 : 1e-8,
                                        .amsgrad = amsgrad};
                    const size_t es = dt == ADAMP_F32 ? sizeof(float) : sizeof(double), bytes = es * N;
                    char *ref = st;
                    for (adamp_isa isa = ADAMP_ISA_SCALAR; isa <= isa_last(); isa++) {
                        if (!adamp_isa_supported(isa)) continue;
                        char *p = isa == ADAMP_ISA_SCALAR ? ref : ref + 4 * bytes, *m = p + bytes, *v = m + bytes;
                        char *gz = v + bytes;
                        uint64_t y = x;
                        memset(p, 0, bytes), memset(gz, 0, bytes);
                        for (int i = 0; i < N; i++) {
                            y ^= y << 13, y ^= y >> 7, y ^= y << 17;
                            const double mi = (double)((y >> 40) + 1) * 0x1p-24;
                            if (dt == ADAMP_F32) {
                                uint32_t bits = (uint32_t)y & 0x7fffffffu;
                                if (i % 101 == 0) bits = 0;           /* v = 0: sqrt 0 */
                                if (i % 103 == 0) bits = 0x7f800000u; /* v = inf (random bits: 1 in 2^31) */
                                memcpy(v + 4 * (size_t)i, &bits, 4);
                                ((float *)m)[i] = (float)mi;
                            } else {
                                uint64_t bits = y & 0x7fffffffffffffffull;
                                if (i % 101 == 0) bits = 0;
                                if (i % 103 == 0) bits = 0x7ff0000000000000ull;
                                memcpy(v + 8 * (size_t)i, &bits, 8);
                                ((double *)m)[i] = mi;
                            }
                        }
                        char *vmax = malloc(bytes);
                        memcpy(vmax, v, bytes);
                        adamp_tensor t = {.param = p, .grad = gz, .state0 = m, .state1 = v, .state2 = vmax, .hparams = &ha,
                                          .rows = 1, .cols = N, .ndim = 1, .step = steps[si]};
                        const adamp_config cfg = {isa, 2, 0};
                        CHECK(adamp_step(&cfg, ADAMP_ALGO_ADAM, dt, &t, 1, NULL, 0) == ADAMP_OK);
                        free(vmax);
                        if (isa == ADAMP_ISA_SCALAR) continue;
                        CHECK(memcmp(p, ref, bytes * 3) == 0);
                        compared++;
                    }
                    x += 0x9E3779B97F4A7C15ull;
                }
    CHECK(compared == 0 || compared >= 24);
    free(st);
}

/* adamp_step_ex's grad_mul: bitwise the step over gradients scaled in place
 * first, for every algorithm, dtype and ISA; 1 (or no options) is adamp_step;
 * a bad value is refused, changing nothing. */
static void step_grad_mul(void) {
    enum { R = 6, C = 301, N = R * C };
    static double p[2][N], g[2][N], s[2][3][N], stats[6 * R];
    const adamp_algorithm algos[5] = {ADAMP_ALGO_ADAMP, ADAMP_ALGO_SGDP, ADAMP_ALGO_ADAM, ADAMP_ALGO_ADAMW, ADAMP_ALGO_SGD};
    const double mul = 0.37;
    for (int a = 0; a < 5; a++)
        for (adamp_dtype dt = ADAMP_F32; dt <= ADAMP_F64; dt++)
            for (adamp_isa isa = ADAMP_ISA_SCALAR; isa <= isa_last(); isa++) {
                if (!adamp_isa_supported(isa)) continue;
                const adamp_config cfg = {isa, 2, 0};
                adamp_hparams h = {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .momentum = 0.9, .eps = 1e-8,
                                   .weight_decay = 0.01, .delta = 0.1, .wd_ratio = 0.1, .amsgrad = 1};
                adamp_tensor t[2];
                for (int k = 0; k < 2; k++) {
                    memset(s[k], 0, sizeof s[k]), memset(p[k], 0, sizeof p[k]), memset(g[k], 0, sizeof g[k]);
                    for (int i = 0; i < N; i++) {
                        /* rows in pairs, g = +-w/100: the layer view projects */
                        const double w = cos((i % C) * 0.1), gr = ((i / C) % 2 ? -0.01 : 0.01) * w;
                        /* run 1 gets g, run 0 g already times mul (rounded to the dtype) */
                        if (dt == ADAMP_F32) ((float *)p[k])[i] = (float)w, ((float *)g[k])[i] = k ? (float)gr : (float)gr * (float)mul;
                        else p[k][i] = w, g[k][i] = k ? gr : gr * mul;
                    }
                    t[k] = (adamp_tensor){.param = p[k], .grad = g[k], .state0 = s[k][0], .state1 = s[k][1],
                                          .state2 = s[k][2], .hparams = &h, .rows = R, .cols = C, .ndim = 2};
                }
                const adamp_step_options o = {.size = sizeof o, .grad_mul = mul}, bad = {.size = sizeof bad, .grad_mul = NAN},
                                         neg = {.size = sizeof neg, .grad_mul = -1};
                int32_t first = 0;
                for (int step = 0; step < 3; step++) {
                    CHECK(adamp_step(&cfg, algos[a], dt, &t[0], 1, stats, 6 * R) == ADAMP_OK);
                    CHECK(adamp_step_ex(&cfg, algos[a], dt, &t[1], 1, stats, 6 * R, &o) == ADAMP_OK);
                    if (step == 0) first = t[1].projection;
                }
                CHECK(memcmp(p[0], p[1], sizeof p[0]) == 0 && memcmp(s[0], s[1], sizeof s[0]) == 0);
                CHECK(t[0].projection == t[1].projection);
                CHECK(first == (a < 2 ? ADAMP_PROJ_LAYER : ADAMP_PROJ_NONE)); /* the gradient is fixed; w moves */
                memcpy(p[1], p[0], sizeof p[0]);
                CHECK(adamp_step_ex(&cfg, algos[a], dt, &t[1], 1, stats, 6 * R, &bad) == ADAMP_E_INVALID_CONFIG);
                CHECK(adamp_step_ex(&cfg, algos[a], dt, &t[1], 1, stats, 6 * R, &neg) == ADAMP_E_INVALID_CONFIG);
                CHECK(memcmp(p[0], p[1], sizeof p[0]) == 0 && t[1].step == 3);
                const adamp_step_options none = {.size = 0, .grad_mul = 5.0}; /* size 0: no field given */
                memcpy(g[1], g[0], sizeof g[0]);
                CHECK(adamp_step(&cfg, algos[a], dt, &t[0], 1, stats, 6 * R) == ADAMP_OK);
                CHECK(adamp_step_ex(&cfg, algos[a], dt, &t[1], 1, stats, 6 * R, &none) == ADAMP_OK);
                CHECK(memcmp(p[0], p[1], sizeof p[0]) == 0 && memcmp(s[0], s[1], sizeof s[0]) == 0);
            }
}

/* drop_stats = 1 changes nothing but the statistics of the tensors stepped
 * whole with at most 256 rows, and of those their group's rule decides
 * (fused, or stepped whole and never projected), which stay as they were;
 * every other row gets the default's statistics. Small tensors projected
 * by channel, by layer and not at all, one of more than 256 rows, one cut
 * into items, a bias, and under rules: fused tensors never and always
 * projected by channel, a small one of more than 256 rows never projected;
 * AdamP and SGDP on 1 and 2 threads. 2 is rejected, changing nothing. */
static void drop_stats(void) {
    enum { T = 9, N = 64 * 1024 };
    const size_t shape[T][2] = {{64, 8}, {4, 301}, {300, 2}, {64, 1024}, {1, 37}, {16, 16}, {80, 256}, {80, 256}, {300, 2}};
    const int dropped[T] = {1, 1, 0, 0, 0, 1, 1, 1, 1}; /* whole with at most 256 rows, or rule-decided */
    const int32_t first[T] = {ADAMP_PROJ_CHANNEL, ADAMP_PROJ_LAYER, ADAMP_PROJ_LAYER, ADAMP_PROJ_CHANNEL, ADAMP_PROJ_NONE,
                              ADAMP_PROJ_CHANNEL, ADAMP_PROJ_NONE, ADAMP_PROJ_CHANNEL, ADAMP_PROJ_NONE}; /* the first step's */
    const int32_t rule[T] = {ADAMP_PROJECT_AUTO, ADAMP_PROJECT_AUTO, ADAMP_PROJECT_AUTO, ADAMP_PROJECT_AUTO,
                             ADAMP_PROJECT_AUTO, ADAMP_PROJECT_AUTO, ADAMP_PROJECT_NEVER, ADAMP_PROJECT_CHANNEL,
                             ADAMP_PROJECT_NEVER};
    static float p[2][T][N], g[T][N], st[2][T][2][N];
    static double stats[2][6 * 2048];
    for (int algo = ADAMP_ALGO_ADAMP; algo <= ADAMP_ALGO_SGDP; algo++)
        for (int threads = 1; threads <= 2; threads++) {
            adamp_hparams hp[T];
            adamp_tensor t[2][T];
            for (int i = 0; i < T; i++) {
                const size_t rows = shape[i][0], cols = shape[i][1];
                hp[i] = (adamp_hparams){.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.1,
                                        .delta = 0.1, .wd_ratio = 0.1, .momentum = 0.9, .projection = rule[i]};
                for (size_t e = 0; e < rows * cols; e++) {
                    const size_t c = e % cols;
                    p[0][i][e] = p[1][i][e] = cosf((float)(e * 7 % 19)) + 0.1f;
                    /* 0, 5, 7: each row's gradient orthogonal to it (channel); 1: +-w/100 (layer); else random */
                    const int ortho = i == 0 || i == 5 || i == 7;
                    g[i][e] = ortho ? 0 : i == 1 ? ((e / cols) % 2 ? -0.01f : 0.01f) * p[0][i][e] : sinf((float)e * 1.3f);
                    if (ortho && c % 2 == 1) g[i][e - 1] = -p[0][i][e], g[i][e] = p[0][i][e - 1];
                }
                memset(st[0][i], 0, sizeof st[0][i]), memset(st[1][i], 0, sizeof st[1][i]);
                for (int k = 0; k < 2; k++)
                    t[k][i] = (adamp_tensor){.param = p[k][i], .grad = g[i], .state0 = st[k][i][0], .state1 = st[k][i][1],
                                             .hparams = &hp[i], .rows = rows, .cols = cols, .ndim = i == 4 ? 1 : 2};
            }
            const size_t len = adamp_stats_len(t[0], T);
            const adamp_config cfg = {ADAMP_ISA_AUTO, threads, 0};
            const adamp_step_options keep = {.size = sizeof keep, .grad_mul = 1}; /* drop_stats 0 */
            const adamp_step_options off = {.size = sizeof off, .grad_mul = 1, .drop_stats = 1};
            const adamp_step_options bad = {.size = sizeof bad, .grad_mul = 1, .drop_stats = 2};
            for (int step = 0; step < 3; step++) {
                for (size_t q = 0; q < len; q++) stats[1][q] = 12345;
                CHECK(adamp_step_ex(&cfg, (adamp_algorithm)algo, ADAMP_F32, t[0], T, stats[0], len, &keep) == ADAMP_OK);
                CHECK(adamp_step_ex(&cfg, (adamp_algorithm)algo, ADAMP_F32, t[1], T, stats[1], len, &off) == ADAMP_OK);
                CHECK(memcmp(p[0], p[1], sizeof p[0]) == 0 && memcmp(st[0], st[1], sizeof st[0]) == 0);
                for (int i = 0; step == 0 && i < T; i++) CHECK(t[0][i].projection == first[i]);
                size_t row = 0;
                for (int i = 0; i < T; i++) {
                    CHECK(t[0][i].projection == t[1][i].projection && t[0][i].step == t[1][i].step);
                    if (t[0][i].ndim < 2) continue;
                    const size_t n = 3 * t[0][i].rows;
                    int kept = 1, untouched = 1;
                    for (size_t q = 3 * row; q < 3 * row + n; q++)
                        kept &= stats[1][q] == stats[0][q], untouched &= stats[1][q] == 12345;
                    CHECK(dropped[i] ? untouched : kept);
                    row += t[0][i].rows;
                }
            }
            CHECK(adamp_step_ex(&cfg, (adamp_algorithm)algo, ADAMP_F32, t[1], T, stats[1], len, &bad) == ADAMP_E_INVALID_CONFIG);
            CHECK(memcmp(p[0], p[1], sizeof p[0]) == 0 && memcmp(st[0], st[1], sizeof st[0]) == 0 && t[1][0].step == 3);
        }
}

/* Sizes whose bytes, sums or offsets do not fit are rejected, with or without
 * a gradient; what fits is updated correctly on any number of threads. */
static void overflowing_sizes(void) {
    enum { N = 200000 };
    float *p = malloc(N * sizeof(float)), *g = malloc(N * sizeof(float)), dummy[16] = {0};
    for (int i = 0; i < N; i++) p[i] = g[i] = 1;
    adamp_hparams hs = {.lr = 0.5, .beta1 = 0.9, .beta2 = 0.999, .delta = 0.1, .wd_ratio = 0.1};
    adamp_tensor t[2] = {
        {.param = dummy, .hparams = &hs, .rows = SIZE_MAX / 8, .cols = 1, .ndim = 2}, /* no gradient */
        {.param = p, .grad = g, .state0 = dummy, .state1 = dummy, .hparams = &hs, .rows = 1, .cols = N, .ndim = 1},
    };
    double stats[4];
    /* Its statistics would take more than PTRDIFF_MAX bytes. */
    CHECK(adamp_stats_len(t, 2) == SIZE_MAX);
    CHECK(adamp_step(NULL, ADAMP_ALGO_ADAMP, ADAMP_F32, t, 2, stats, SIZE_MAX) == ADAMP_E_INVALID_SIZE);
    CHECK(adamp_step(NULL, ADAMP_ALGO_SGD, ADAMP_F32, t, 2, NULL, 0) == ADAMP_E_INVALID_SIZE);
    CHECK(adamp_row_stats(NULL, ADAMP_F32, t, 2, stats, SIZE_MAX) == ADAMP_E_INVALID_SIZE);
    CHECK(adamp_decide(ADAMP_ALGO_ADAMP, ADAMP_F32, t, 2, stats, SIZE_MAX) == ADAMP_E_INVALID_SIZE);
    CHECK(p[0] == 1 && p[N - 1] == 1 && t[1].step == 0);
    t[0].rows = SIZE_MAX / 6 + 1; /* 6 * rows wraps to 6 */
    CHECK(adamp_stats_len(t, 2) == SIZE_MAX);
    /* 2^63 - 4 bytes of f32: fits in one object, but not as f64. */
    t[0].rows = 1, t[0].cols = SIZE_MAX / 8, t[0].ndim = 1;
    CHECK(adamp_stats_len(t, 2) == 0);
    CHECK(adamp_step(NULL, ADAMP_ALGO_SGD, ADAMP_F64, t, 2, NULL, 0) == ADAMP_E_INVALID_SIZE);
    for (int threads = 1; threads <= 16; threads *= 2) {
        const adamp_config cfg = {ADAMP_ISA_AUTO, threads, 0};
        for (int i = 0; i < N; i++) p[i] = 1;
        CHECK(adamp_step(&cfg, ADAMP_ALGO_SGD, ADAMP_F32, t, 2, NULL, 0) == ADAMP_OK);
        int ok = 1;
        for (int i = 0; i < N; i++) ok &= p[i] == 0.5f;
        CHECK(ok);
    }
    CHECK(t[1].step == 5 && t[0].step == 0);
    t[0].cols = SIZE_MAX / 4; /* more than PTRDIFF_MAX bytes */
    CHECK(adamp_step(NULL, ADAMP_ALGO_SGD, ADAMP_F32, t, 2, NULL, 0) == ADAMP_E_INVALID_SIZE);
    t[0].rows = 3, t[0].cols = SIZE_MAX / 2; /* rows * cols wraps */
    CHECK(adamp_step(NULL, ADAMP_ALGO_SGD, ADAMP_F32, t, 2, NULL, 0) == ADAMP_E_INVALID_SIZE);
    /* Two tensors that fit alone but not together (never touched: rejected). */
    adamp_tensor two[2] = {{.param = dummy, .grad = dummy, .hparams = &hs, .rows = 1, .cols = PTRDIFF_MAX / 4 - 8, .ndim = 1}};
    two[1] = two[0];
    CHECK(adamp_step(NULL, ADAMP_ALGO_SGD, ADAMP_F32, two, 2, NULL, 0) == ADAMP_E_INVALID_SIZE);
    CHECK(p[0] == 0.5f && t[1].step == 5);
    free(p);
    free(g);
}

/* Thread counts: what the config may ask for is bounded and documented, and
 * the rest is an error status, never the end of the process. */
static void thread_counts(void) {
    enum { N = 200000 };
    float *p = calloc(N, sizeof(float)), *g = calloc(N, sizeof(float));
    adamp_hparams hs = {.lr = 0.5};
    for (int i = 0; i < N; i++) g[i] = 1;
    adamp_tensor t = {.param = p, .grad = g, .hparams = &hs, .rows = 1, .cols = N, .ndim = 1};
    const int32_t bad[] = {INT32_MAX, 100000, ADAMP_MAX_THREADS + 1, -1, INT32_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const adamp_config cfg = {ADAMP_ISA_AUTO, bad[i], 0};
        CHECK(adamp_step(&cfg, ADAMP_ALGO_SGD, ADAMP_F32, &t, 1, NULL, 0) == ADAMP_E_INVALID_CONFIG);
    }
    const adamp_config negative_block = {ADAMP_ISA_AUTO, 1, -1};
    CHECK(adamp_step(&negative_block, ADAMP_ALGO_SGD, ADAMP_F32, &t, 1, NULL, 0) == ADAMP_E_INVALID_CONFIG);
    CHECK(t.step == 0 && p[0] == 0 && p[N - 1] == 0);
    CHECK(adamp_status_string(ADAMP_E_INVALID_CONFIG)[0] != 0);
    const adamp_config most = {ADAMP_ISA_AUTO, ADAMP_MAX_THREADS, 0};
    CHECK(adamp_step(&most, ADAMP_ALGO_SGD, ADAMP_F32, &t, 1, NULL, 0) == ADAMP_OK);
    int ok = 1;
    for (int i = 0; i < N; i++) ok &= p[i] == -0.5f;
    CHECK(ok && t.step == 1);
    CHECK(adamp_default_threads() >= 1 && adamp_default_threads() <= ADAMP_MAX_THREADS);
    free(p);
    free(g);
}

/* The layer view's test is taken on its rows' sums added in row order
 * (adamp_diagnose's numbers), although adamp_decide first adds them in four
 * interleaved chains and decides from those when the answer cannot differ
 * (tensor.c, layer_passes). Rows whose g.p nearly cancel make the two orders
 * give cosines far apart; the layer cosine is put at distances from the
 * threshold (after rounding to the dtype) from 2^-45 to 2^-17 relative, on
 * both sides. Every decision must be row order's, and among them must be
 * some that the four chains alone would have got wrong. */
static void layer_decision_in_row_order(void) {
    enum { R = 64, C = 8 };
    static float p[R * C], gr[R * C], s0[R * C], s1[R * C];
    adamp_hparams hp = {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .delta = 0.1, .wd_ratio = 0.1};
    uint64_t x = 0x9E3779B97F4A7C15ull;
    int outcomes[3] = {0}, chains_wrong = 0;
    for (adamp_dtype dt = ADAMP_F32; dt <= ADAMP_F64; dt++)
        for (int trial = 0; trial < 400; trial++) {
            double st[6 * R], sum[3] = {0}, chain[4][3] = {{0}};
            for (int r = 0; r < R; r++) {
                double u[3];
                for (int k = 0; k < 3; k++) x = x * 6364136223846793005ull + 1442695040888963407ull, u[k] = (double)(x >> 11) * 0x1p-53;
                st[3 * r + 1] = ldexp(1 + u[1], 40), st[3 * r + 2] = ldexp(1 + u[2], 40);
                st[3 * r] = (r % 2 ? -1 : 1) * ldexp(1 + u[0], 30 + (int)(x >> 60)); /* cancelling */
            }
            st[0] = 0.5 * sqrt(st[1] * st[2]); /* row 0 fails the channel view */
            for (int r = 0; r < R - 1; r++)
                for (int k = 0; k < 3; k++) sum[k] += st[3 * r + k];
            sum[1] += st[3 * (R - 1) + 1], sum[2] += st[3 * (R - 1) + 2];
            /* The layer cosine wanted: at the threshold's rounding boundary
             * (float: halfway to the float below it), moved by d. */
            const double thr = 0.1 / sqrt((double)(R * C));
            const double edge = dt == ADAMP_F32 ? ((double)(float)thr + (double)nextafterf((float)thr, 0)) / 2 : thr;
            const double d = ldexp((double)(trial % 40 - 20) / 20, -17 - (trial / 40) * 3);
            st[3 * (R - 1)] = edge * (1 + d) * sqrt(sum[1]) * sqrt(sum[2]) - sum[0];
            sum[0] += st[3 * (R - 1)];
            for (int r = 0; r < R; r++)
                for (int k = 0; k < 3; k++) chain[r % 4][k] += st[3 * r + k];
            adamp_tensor t = {.param = p, .grad = gr, .state0 = s0, .state1 = s1, .hparams = &hp, .rows = R, .cols = C, .ndim = 2};
            adamp_diagnostics dg;
            CHECK(adamp_decide(ADAMP_ALGO_ADAMP, dt, &t, 1, st, 6 * R) == ADAMP_OK);
            CHECK(adamp_diagnose(ADAMP_ALGO_ADAMP, dt, &t, 1, st, 6 * R, &dg) == ADAMP_OK);
            const int want = dg.layer_cosine < dg.layer_threshold ? ADAMP_PROJ_LAYER : ADAMP_PROJ_NONE;
            CHECK(t.projection == want && !(dg.channel_cosine < dg.channel_threshold));
            outcomes[t.projection]++;
            double four[3];
            for (int k = 0; k < 3; k++) four[k] = (chain[0][k] + chain[1][k]) + (chain[2][k] + chain[3][k]);
            double c4 = fabs(four[0]) / (sqrt(four[1]) * sqrt(four[2]));
            if (dt == ADAMP_F32) c4 = (float)c4;
            chains_wrong += (c4 < dg.layer_threshold) != (want == ADAMP_PROJ_LAYER);
        }
    CHECK(outcomes[ADAMP_PROJ_NONE] > 100 && outcomes[ADAMP_PROJ_LAYER] > 100 && chains_wrong > 10);
}

/* The four chains' sums that the layer test decides from first
 * (adamp_layer_chain_sums, added two lanes at a time) are bitwise the
 * readable loop's: row r added to chain r % 4 in row order, the chains then
 * added as (c0 + c1) + (c2 + c3); for every count of rows up to 70, so every
 * remainder of four, over values of both signs and many scales, with zeros,
 * infinities and NaNs among them. */
static void layer_chain_sums_are_the_readable_loops(void) {
    enum { R = 70 };
    static const double special[] = {0.0, -0.0, INFINITY, -INFINITY, NAN};
    double st[3 * R];
    uint64_t x = 0x243F6A8885A308D3ull;
    for (size_t rows = 0; rows <= R; rows++)
        for (int trial = 0; trial < 6; trial++) {
            for (size_t i = 0; i < 3 * rows; i++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                st[i] = ldexp((double)(x >> 11) * 0x1p-53 - 0.5, (int)(x >> 58) - 32);
                if (trial > 0 && (x >> 8) % 16 == 0) st[i] = special[(trial - 1) % 5];
            }
            double chain[4][4] = {{0}}, want[4], got[4];
            for (size_t r = 0; r < rows; r++) {
                for (int q = 0; q < 3; q++) chain[r % 4][q] += st[3 * r + q];
                chain[r % 4][3] += fabs(st[3 * r]);
            }
            for (int q = 0; q < 4; q++) want[q] = (chain[0][q] + chain[1][q]) + (chain[2][q] + chain[3][q]);
            const adamp_tensor t = {.rows = rows, .cols = 1, .ndim = 2};
            adamp_layer_chain_sums(&t, st, got);
            CHECK(memcmp(want, got, sizeof want) == 0);
        }
}

/* A count a step takes to INT64_MAX (from INT64_MAX - 1, e.g. loaded) can
 * still be decided and diagnosed (adamp_diagnose refused it, and the Swift
 * layer trapped on the refusal); the next step refuses it and writes
 * nothing; a split update's second half, which counts nothing, takes it. */
static void step_count_at_its_limit(void) {
    setup();
    tensors[0].step = tensors[1].step = INT64_MAX - 1;
    CHECK(adamp_step(NULL, ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 12) == ADAMP_OK);
    CHECK(tensors[0].step == INT64_MAX && tensors[1].step == INT64_MAX);
    adamp_diagnostics d[2];
    CHECK(adamp_diagnose(ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 12, d) == ADAMP_OK);
    CHECK(adamp_decide(ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 12) == ADAMP_OK);
    float w_before[6], m_before[6];
    memcpy(w_before, w, sizeof w);
    memcpy(m_before, m, sizeof m);
    CHECK(validated_step(ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 12) == ADAMP_E_INVALID_SIZE);
    CHECK(!memcmp(w, w_before, sizeof w) && !memcmp(m, m_before, sizeof m) && tensors[0].step == INT64_MAX);
    setup();
    tensors[0].step = tensors[1].step = INT64_MAX - 1;
    const double layer_pp[2] = {0, 0}, layer_s[2] = {0, 0};
    double row_s[2];
    tensors[0].projection = tensors[1].projection = ADAMP_PROJ_NONE;
    CHECK(adamp_apply_layer_begin(NULL, ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 12, NULL, layer_pp, row_s) == ADAMP_OK);
    CHECK(tensors[0].step == INT64_MAX);
    CHECK(adamp_apply_layer_end(NULL, ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 12, NULL, layer_pp, layer_s) == ADAMP_OK);
}

/* What a checkpoint reader refuses: non-finite state, negative second
 * moments (-0 is not negative); first moments and momenta may be negative. */
static void state_values(void) {
    const float ok[4] = {1, 0, -0.0f, 3e38f};
    const double neg[3] = {1, -1e-300, 2}, nan3[3] = {0, 1, NAN};
    size_t at = 99;
    CHECK(adamp_state_check(ADAMP_ALGO_ADAMP, ADAMP_STATE_EXP_AVG_SQ, ADAMP_F32, ok, 4, &at) == ADAMP_OK && at == 99);
    CHECK(adamp_state_check(ADAMP_ALGO_ADAM, ADAMP_STATE_MAX_EXP_AVG_SQ, ADAMP_F64, neg, 3, &at) == ADAMP_E_INVALID_STATE && at == 1);
    CHECK(adamp_state_check(ADAMP_ALGO_ADAMW, ADAMP_STATE_EXP_AVG, ADAMP_F64, neg, 3, NULL) == ADAMP_OK);
    CHECK(adamp_state_check(ADAMP_ALGO_SGD, ADAMP_STATE_MOMENTUM, ADAMP_F64, neg, 3, NULL) == ADAMP_OK);
    CHECK(adamp_state_check(ADAMP_ALGO_SGDP, ADAMP_STATE_MOMENTUM, ADAMP_F64, nan3, 3, &at) == ADAMP_E_INVALID_STATE && at == 2);
    const float inf[1] = {INFINITY};
    CHECK(adamp_state_check(ADAMP_ALGO_ADAMP, ADAMP_STATE_EXP_AVG, ADAMP_F32, inf, 1, &at) == ADAMP_E_INVALID_STATE && at == 0);
    CHECK(adamp_state_check(ADAMP_ALGO_SGD, 1, ADAMP_F32, ok, 4, NULL) == ADAMP_E_INVALID_ENUM);
    CHECK(adamp_state_check((adamp_algorithm)0, 0, ADAMP_F32, ok, 4, NULL) == ADAMP_E_INVALID_ENUM);
    CHECK(adamp_state_check(ADAMP_ALGO_ADAM, 0, (adamp_dtype)9, ok, 4, NULL) == ADAMP_E_INVALID_ENUM);
    CHECK(adamp_state_check(ADAMP_ALGO_ADAM, 0, ADAMP_F32, NULL, 4, NULL) == ADAMP_E_NULL_POINTER);
    CHECK(adamp_state_check(ADAMP_ALGO_ADAM, 0, ADAMP_F32, NULL, 0, NULL) == ADAMP_OK);
    CHECK(strcmp(adamp_status_string(ADAMP_E_INVALID_STATE), "unknown status") != 0);
}

/* adamp_field_used agrees with adamp_hparams_check: a field an algorithm
 * reads is checked (NaN, or 7 for a flag or choice, is refused naming it),
 * one it does not read is not (the same values pass). Every field of the
 * list, by its description. */
static void fields_used(void) {
    const adamp_hparams base = {.lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .momentum = 0.9, .eps = 1e-8,
                                .weight_decay = 0.1, .delta = 0.1, .wd_ratio = 0.1};
    int32_t a;
    for (size_t k = 0; adamp_enum_entry(ADAMP_ENUM_ALGORITHM, k, &a, NULL); k++) {
        CHECK(adamp_field_used((adamp_algorithm)a, ADAMP_FIELD_LR)); /* every algorithm has a learning rate */
        for (adamp_field f = ADAMP_FIELD_NONE + 1; f < ADAMP_FIELD_END; f++) {
            adamp_hparams h = base;
            CHECK(adamp_hparams_set(&h, f, adamp_field_describe(f)->kind == ADAMP_FIELD_REAL ? NAN : 7) == ADAMP_OK);
            adamp_field bad = ADAMP_FIELD_NONE;
            const adamp_status s = adamp_hparams_check((adamp_algorithm)a, &h, &bad, NULL);
            CHECK(adamp_field_used((adamp_algorithm)a, f) ? s == ADAMP_E_INVALID_HPARAM && bad == f : s == ADAMP_OK);
        }
    }
    CHECK(!adamp_field_used((adamp_algorithm)0, ADAMP_FIELD_LR) && !adamp_field_used(ADAMP_ALGO_SGD, ADAMP_FIELD_NONE));
}

static void regressions(void) {
    fields_used();
    state_values();
    step_count_at_its_limit();
    sgd_momentum_zero_leaves_buffer_alone();
    overflowing_sizes();
    thread_counts();
}

/* Tensors of one group that differ in step count, or in whether they
 * project, each take their own constants (a thread reuses them from tensor to
 * tensor while nothing they depend on differs: tensor.c). Every algorithm:
 * one call over all of them gives the bits of one call per tensor. */
static void shared_group_each_its_own_constants(void) {
    enum { N = 6, R = 4, C = 8 };
    const int64_t steps[N] = {0, 3, 3, 7, 0, 1};
    const int32_t ndims[N] = {2, 2, 1, 2, 1, 2};
    for (int algo = ADAMP_ALGO_ADAMP; algo <= ADAMP_ALGO_SGD; algo++) {
        const adamp_hparams hp = {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.1,
                                  .delta = 0.1, .wd_ratio = 0.1, .momentum = 0.9};
        float p[2][N][R * C], gr[N][R * C], st[2][N][2][R * C];
        adamp_tensor t[2][N];
        for (int i = 0; i < N; i++) {
            for (int e = 0; e < R * C; e++) {
                p[0][i][e] = p[1][i][e] = (float)((e * 7 + i * 3) % 13) / 5 - 1;
                st[0][i][0][e] = st[1][i][0][e] = (float)(e % 5) / 50;
                st[0][i][1][e] = st[1][i][1][e] = (float)(e % 3) / 300;
            }
            /* Even tensors: each row's gradient orthogonal to it (pairs
             * rotated), so AdamP and SGDP project them; odd ones not. */
            for (int e = 0; e < R * C; e += 2)
                gr[i][e] = i % 2 ? 0.5f : -p[0][i][e + 1], gr[i][e + 1] = i % 2 ? 0.25f : p[0][i][e];
            for (int k = 0; k < 2; k++)
                t[k][i] = (adamp_tensor){.param = p[k][i], .grad = gr[i], .state0 = st[k][i][0], .state1 = st[k][i][1],
                                         .hparams = &hp, .rows = ndims[i] > 1 ? R : 1, .cols = ndims[i] > 1 ? C : R * C,
                                         .ndim = ndims[i], .step = steps[i]};
        }
        double all[6 * N * R], one[6 * R];
        const adamp_config cfg = {ADAMP_ISA_AUTO, 1, 0};
        CHECK(adamp_step(&cfg, (adamp_algorithm)algo, ADAMP_F32, t[0], N, all, adamp_stats_len(t[0], N)) == ADAMP_OK);
        for (int i = 0; i < N; i++)
            CHECK(adamp_step(&cfg, (adamp_algorithm)algo, ADAMP_F32, &t[1][i], 1, one, adamp_stats_len(&t[1][i], 1)) == ADAMP_OK);
        CHECK(memcmp(p[0], p[1], sizeof p[0]) == 0 && memcmp(st[0], st[1], sizeof st[0]) == 0);
        if (adamp_algorithm_projects((adamp_algorithm)algo))
            CHECK(t[0][0].projection == ADAMP_PROJ_CHANNEL && t[0][1].projection == ADAMP_PROJ_NONE);
    }
}

int main(void) {
    char version[32];
    snprintf(version, sizeof version, "%d.%d.%d", ADAMP_VERSION_MAJOR, ADAMP_VERSION_MINOR, ADAMP_VERSION_PATCH);
    CHECK(strcmp(adamp_version(), version) == 0);
    /* The algorithm list: names, and the state buffers a step uses. */
    adamp_hparams hz = {0};
    CHECK(strcmp(adamp_algorithm_name(ADAMP_ALGO_ADAMW), "adamw") == 0 && strcmp(adamp_algorithm_name(0), "unknown") == 0);
    CHECK(adamp_state_count(ADAMP_ALGO_ADAMP, &hz) == 2 && adamp_state_count(ADAMP_ALGO_SGDP, &hz) == 1);
    CHECK(adamp_state_count(ADAMP_ALGO_ADAM, &hz) == 2 && adamp_state_count(ADAMP_ALGO_SGD, &hz) == 0);
    hz.amsgrad = 1, hz.momentum = 0.9;
    CHECK(adamp_state_count(ADAMP_ALGO_ADAMW, &hz) == 3 && adamp_state_count(ADAMP_ALGO_SGD, &hz) == 1);
    CHECK(adamp_state_count((adamp_algorithm)9, &hz) == -1 && adamp_state_count(ADAMP_ALGO_SGD, NULL) == -1);
    CHECK(strcmp(adamp_state_name(ADAMP_ALGO_ADAM, ADAMP_STATE_MAX_EXP_AVG_SQ), "max_exp_avg_sq") == 0);
    CHECK(strcmp(adamp_state_name(ADAMP_ALGO_SGD, ADAMP_STATE_MOMENTUM), "momentum_buffer") == 0);
    CHECK(strcmp(adamp_state_name(ADAMP_ALGO_SGDP, ADAMP_STATE_MOMENTUM), "momentum") == 0);
    CHECK(adamp_state_name(ADAMP_ALGO_SGD, 1) == NULL && adamp_state_name(ADAMP_ALGO_ADAMP, 3) == NULL);
    stats_readable_after_step();
    row_stats_do_not_depend_on_neighbours();
    baselines_decide_without_stats();
    shared_group_each_its_own_constants();
    grad_norms();
    step_grad_mul();
    drop_stats();
    adam_denominator_is_the_division();
    layer_decision_in_row_order();
    layer_chain_sums_are_the_readable_loops();
    setup();
    CHECK(adamp_stats_len(tensors, 2) == 12);
    CHECK(adamp_step(NULL, ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 12) == ADAMP_OK);
    CHECK(tensors[0].projection == ADAMP_PROJ_CHANNEL && tensors[1].projection == ADAMP_PROJ_NONE);
    CHECK(tensors[0].step == 1 && tensors[1].step == 1);
    /* A group's projection rule overrides the test: never, or a forced view. */
    {
        const int32_t rules[4] = {ADAMP_PROJECT_AUTO, ADAMP_PROJECT_NEVER, ADAMP_PROJECT_CHANNEL, ADAMP_PROJECT_LAYER};
        const int32_t want[4] = {ADAMP_PROJ_CHANNEL, ADAMP_PROJ_NONE, ADAMP_PROJ_CHANNEL, ADAMP_PROJ_LAYER};
        for (int k = 0; k < 4; k++) {
            adamp_hparams hr = h;
            hr.projection = rules[k];
            adamp_tensor tr[2] = {tensors[0], tensors[1]};
            tr[0].hparams = tr[1].hparams = &hr;
            CHECK(adamp_row_stats(NULL, ADAMP_F32, tr, 2, stats, 12) == ADAMP_OK);
            CHECK(adamp_decide(ADAMP_ALGO_ADAMP, ADAMP_F32, tr, 2, stats, 12) == ADAMP_OK);
            CHECK(tr[0].projection == want[k] && tr[1].projection == ADAMP_PROJ_NONE);
        }
        adamp_hparams bad = h;
        adamp_field f = ADAMP_FIELD_NONE;
        for (int32_t v = -1; v <= 4; v += 5) {
            bad.projection = v;
            CHECK(adamp_hparams_check(ADAMP_ALGO_SGDP, &bad, &f, NULL) == ADAMP_E_INVALID_HPARAM && f == ADAMP_FIELD_PROJECTION);
        }
        CHECK(strcmp(adamp_field_name(ADAMP_FIELD_PROJECTION), "projection") == 0);
    }
    {
        adamp_diagnostics d[2];
        CHECK(adamp_diagnose(ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 12, d) == ADAMP_OK);
        CHECK(d[0].projection == ADAMP_PROJ_CHANNEL && d[0].channel_cosine < d[0].channel_threshold);
        CHECK(d[1].projection == ADAMP_PROJ_NONE && isnan(d[1].channel_cosine) && isnan(d[1].weight_norm));
        CHECK(adamp_diagnose(ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 12, NULL) == ADAMP_E_NULL_POINTER);
        CHECK(adamp_diagnose(ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 11, d) == ADAMP_E_STATS_TOO_SMALL);
    }
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
    CHECK(adamp_step(NULL, ADAMP_ALGO_SGDP, ADAMP_F32, tensors, 2, stats, 12) == ADAMP_OK);
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
    expect_rejected(validated_step(ADAMP_ALGO_ADAMP, ADAMP_F32, NULL, 2, stats, 6), ADAMP_E_NULL_POINTER, before);
    expect_rejected(validated_step(ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, NULL, 6), ADAMP_E_NULL_POINTER, before);
    expect_rejected(validated_step(ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 11), ADAMP_E_STATS_TOO_SMALL, before);
    expect_rejected(validated_step((adamp_algorithm)9, ADAMP_F32, tensors, 2, stats, 12), ADAMP_E_INVALID_ENUM, before);
    expect_rejected(validated_step(ADAMP_ALGO_ADAMP, (adamp_dtype)0, tensors, 2, stats, 12), ADAMP_E_INVALID_ENUM, before);
    tensors[1].rows = SIZE_MAX;
    expect_rejected(validated_step(ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 12), ADAMP_E_INVALID_SIZE, before);
    tensors[1].rows = 1;
    tensors[1].state1 = NULL; /* AdamP needs exp_avg_sq */
    expect_rejected(validated_step(ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 12), ADAMP_E_NULL_POINTER, before);
    tensors[1].state1 = vb;
    tensors[1].param = NULL;
    expect_rejected(validated_step(ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 12), ADAMP_E_NULL_POINTER, before);
    tensors[1].param = b;
    h.beta2 = 1.0;
    expect_rejected(validated_step(ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 12), ADAMP_E_INVALID_HPARAM, before);
    adamp_field field;
    const char *rule;
    CHECK(adamp_hparams_check(ADAMP_ALGO_ADAMP, &h, &field, &rule) == ADAMP_E_INVALID_HPARAM);
    CHECK(field == ADAMP_FIELD_BETA2 && strcmp(adamp_field_name(field), "betas[1]") == 0 && rule[0] != 0);
    h.beta2 = 0.999;
    tensors[0].step = -1;
    expect_rejected(validated_step(ADAMP_ALGO_ADAMP, ADAMP_F32, tensors, 2, stats, 12), ADAMP_E_INVALID_SIZE, before);
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
    expect_rejected(validated_step(ADAMP_ALGO_SGD, ADAMP_F32, tensors, 2, NULL, 0), ADAMP_E_INVALID_HPARAM, before);
    CHECK(adamp_hparams_check(ADAMP_ALGO_SGD, &h, &field, &rule) == ADAMP_E_INVALID_HPARAM && field == ADAMP_FIELD_NESTEROV);
    h.nesterov = 0;
    h.momentum = 2.0; /* torch accepts momentum >= 1 for SGD, not for SGDP */
    CHECK(adamp_hparams_check(ADAMP_ALGO_SGD, &h, NULL, NULL) == ADAMP_OK);
    CHECK(adamp_hparams_check(ADAMP_ALGO_SGDP, &h, NULL, NULL) == ADAMP_E_INVALID_HPARAM);
    h.momentum = 0.9;
    h.amsgrad = 2;
    expect_rejected(validated_step(ADAMP_ALGO_ADAM, ADAMP_F32, tensors, 2, NULL, 0), ADAMP_E_INVALID_HPARAM, before);
    CHECK(adamp_hparams_check(ADAMP_ALGO_ADAMW, &h, &field, NULL) == ADAMP_E_INVALID_HPARAM && field == ADAMP_FIELD_AMSGRAD);
    h.amsgrad = 1; /* without state2 */
    expect_rejected(validated_step(ADAMP_ALGO_ADAMW, ADAMP_F32, tensors, 2, NULL, 0), ADAMP_E_NULL_POINTER, before);
    tensors[0].state0 = NULL;
    h.amsgrad = 0;
    expect_rejected(validated_step(ADAMP_ALGO_SGD, ADAMP_F32, tensors, 2, NULL, 0), ADAMP_E_NULL_POINTER, before);

    regressions();
    return report();
}
