/* bfloat16 and float16 storage (adamp.h: ADAMP_DTYPES, ADAMP_MASTERS, the
 * step options' grad_dtype, master and masters), against its definition:
 * every step is the float32 step of the widened values, each stored value
 * rounded once (no master), or the float32 step itself on the master, the
 * parameter its rounding (FLOAT32) or its upper half (SPLIT). Every
 * algorithm, storage and gradient dtype, under every ISA this CPU has and
 * 1 to 3 threads, checked bitwise against this library's own float32 step
 * on the same ISA; the vector conversions against convert.h's over special
 * and random bit patterns; that no kernel reads or writes a byte past a
 * narrow row (every buffer ending at an inaccessible page); what a call
 * refuses. Built with sanitizers by
 * `make -C CKernels sanitize`. */
#define _DEFAULT_SOURCE /* mmap's MAP_ANONYMOUS */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "../../CKernels/src/convert.h"
#include "adamp.h"
#include "cases.h"
#include "check.h"

/* Shapes: channel- and layer-orthogonal gradients, a bias, a random one,
 * small tensors stepped whole, one without a gradient, one of no elements;
 * widths that leave every vector tail. */
enum { COUNT = 9, STEPS = 3 };
static const size_t ROWS[COUNT] = {64, 20, 1, 70, 12, 6, 30, 8, 0}, COLS[COUNT] = {300, 1030, 3001, 97, 9, 21, 33, 9, 5};
static const int32_t NDIM[COUNT] = {2, 4, 1, 2, 2, 2, 2, 2, 2};

/* One storage: the parameters' dtype, the master, the gradients' dtype. */
typedef struct {
    adamp_dtype dtype;
    adamp_master master;
    adamp_dtype grad;
} storage;

static size_t size_of(adamp_dtype d) { return adamp_dtype_size(d); }

/* Element j of a buffer of dtype d, widened; and x stored there (rounded). */
static float get(adamp_dtype d, const void *b, size_t j) {
    if (d == ADAMP_F32) return ((const float *)b)[j];
    const uint16_t h = ((const uint16_t *)b)[j];
    return d == ADAMP_BF16 ? adamp_bf16_to_f32(h) : adamp_f16_to_f32(h);
}

static void put(adamp_dtype d, void *b, size_t j, float x) {
    if (d == ADAMP_F32) ((float *)b)[j] = x;
    else ((uint16_t *)b)[j] = d == ADAMP_BF16 ? adamp_f32_to_bf16(x) : adamp_f32_to_f16(x);
}

/* A run's buffers: per tensor its parameter, gradient, master or trail, and
 * states, in the storage's dtypes. */
typedef struct {
    void *p[COUNT], *g[COUNT], *m[COUNT], *s[3][COUNT];
} buffers;

/* The state's dtype: the parameter's without a master, else float32. */
static adamp_dtype state_dtype(storage s) { return adamp_state_dtype(s.dtype, s.master); }

/* Fresh buffers, the same values every time: parameters and gradients as
 * the storage keeps them (a master, or a split pair, holding what widened
 * float32 gives). */
static void make(buffers *b, storage s) {
    rng = 88172645463325252ull;
    for (int i = 0; i < COUNT; i++) {
        const size_t n = ROWS[i] * COLS[i];
        double *p = malloc((n + 1) * sizeof(double)), *g = malloc((n + 1) * sizeof(double));
        for (size_t j = 0; j < n; j++) p[j] = uniform(), g[j] = 0.01 * uniform();
        if ((i == 0 || i == 4) && n) orthogonalize(g, p, ROWS[i], COLS[i]);
        if ((i == 1 || i == 5) && n) orthogonalize(g, p, 1, n);
        b->p[i] = calloc(n + 1, size_of(s.dtype));
        b->g[i] = calloc(n + 1, size_of(s.grad));
        b->m[i] = s.master ? calloc(n + 1, master_size(s.master)) : NULL;
        for (size_t j = 0; j < n; j++) {
            put(s.grad, b->g[i], j, (float)g[j]);
            const float x = (float)p[j];
            if (s.master == ADAMP_MASTER_SPLIT) adamp_f32_to_split(x, (uint16_t *)b->p[i] + j, (uint16_t *)b->m[i] + j);
            else if (s.master == ADAMP_MASTER_FLOAT32) ((float *)b->m[i])[j] = x, put(s.dtype, b->p[i], j, x);
            else put(s.dtype, b->p[i], j, x);
        }
        for (int k = 0; k < 3; k++) b->s[k][i] = calloc(n + 1, size_of(state_dtype(s)));
        free(p);
        free(g);
    }
}

static void release(buffers *b) {
    for (int i = 0; i < COUNT; i++) {
        free(b->p[i]), free(b->g[i]), free(b->m[i]);
        for (int k = 0; k < 3; k++) free(b->s[k][i]);
    }
}

/* The parameter's exact value: the master's, or the stored one widened. */
static float param(storage s, const buffers *b, int i, size_t j) {
    if (s.master == ADAMP_MASTER_SPLIT) return adamp_split_to_f32(((uint16_t *)b->p[i])[j], ((uint16_t *)b->m[i])[j]);
    if (s.master == ADAMP_MASTER_FLOAT32) return ((float *)b->m[i])[j];
    return get(s.dtype, b->p[i], j);
}

/* Tensors over b, and one step of them with `cfg`. */
static adamp_status step(const variant *v, storage s, const adamp_config *cfg, buffers *b, adamp_tensor *t,
                         double *stats, size_t len) {
    void *masters[COUNT];
    for (int i = 0; i < COUNT; i++) masters[i] = b->m[i];
    const adamp_step_options o = {sizeof o, 0.5, 0, (int32_t)s.grad, (int32_t)s.master, masters};
    return adamp_step_ex(cfg, v->algo, s.dtype, t, COUNT, stats, len, &o);
}

static void describe(adamp_tensor *t, const variant *v, const buffers *b) {
    for (int i = 0; i < COUNT; i++)
        t[i] = (adamp_tensor){.param = b->p[i], .grad = i == COUNT - 2 ? NULL : b->g[i], .state0 = b->s[0][i],
                              .state1 = b->s[1][i], .state2 = b->s[2][i], .hparams = &v->h, .rows = ROWS[i],
                              .cols = COLS[i], .ndim = NDIM[i]};
}

/* STEPS steps in storage s and, before each, a float32 step from the same
 * values widened (the parameter's exact value, the gradients and the state
 * as stored): after each, every stored value must be the float32 step's
 * rounded to its storage, the master the float32 step's itself, the
 * projections the same. */
static int against_float32(const variant *v, storage s, const adamp_config *cfg) {
    buffers b, w;
    make(&b, s);
    adamp_tensor t[COUNT], u[COUNT];
    describe(t, v, &b);
    const size_t len = adamp_stats_len(t, COUNT);
    double *stats = malloc((len + 1) * sizeof(double)), *wstats = malloc((len + 1) * sizeof(double));
    const adamp_dtype sd = state_dtype(s);
    int ok = 1;
    for (int k = 0; k < STEPS && ok; k++) {
        const storage f32 = {ADAMP_F32, ADAMP_MASTER_OFF, ADAMP_F32};
        for (int i = 0; i < COUNT; i++) {
            const size_t n = ROWS[i] * COLS[i];
            w.p[i] = malloc((n + 1) * 4), w.g[i] = malloc((n + 1) * 4), w.m[i] = NULL;
            for (int q = 0; q < 3; q++) w.s[q][i] = malloc((n + 1) * 4);
            for (size_t j = 0; j < n; j++) {
                ((float *)w.p[i])[j] = param(s, &b, i, j);
                ((float *)w.g[i])[j] = get(s.grad, b.g[i], j);
                for (int q = 0; q < 3; q++) ((float *)w.s[q][i])[j] = get(sd, b.s[q][i], j);
            }
        }
        describe(u, v, &w);
        for (int i = 0; i < COUNT; i++) u[i].step = t[i].step;
        CHECK(step(v, f32, cfg, &w, u, wstats, len) == ADAMP_OK);
        CHECK(step(v, s, cfg, &b, t, stats, len) == ADAMP_OK);
        for (int i = 0; i < COUNT && ok; i++) {
            ok = t[i].projection == u[i].projection && t[i].step == u[i].step;
            for (size_t j = 0; j < ROWS[i] * COLS[i] && ok; j++) {
                const float x = ((float *)w.p[i])[j];
                uint16_t hi, lo;
                adamp_f32_to_split(x, &hi, &lo);
                if (s.master == ADAMP_MASTER_SPLIT)
                    ok = ((uint16_t *)b.p[i])[j] == hi && ((uint16_t *)b.m[i])[j] == lo;
                else if (s.master == ADAMP_MASTER_FLOAT32)
                    ok = adamp_f32_to_bits(((float *)b.m[i])[j]) == adamp_f32_to_bits(x) &&
                         ((uint16_t *)b.p[i])[j] == (s.dtype == ADAMP_BF16 ? adamp_f32_to_bf16(x) : adamp_f32_to_f16(x));
                else if (s.dtype == ADAMP_F32)
                    ok = adamp_f32_to_bits(((float *)b.p[i])[j]) == adamp_f32_to_bits(x);
                else
                    ok = ((uint16_t *)b.p[i])[j] == (s.dtype == ADAMP_BF16 ? adamp_f32_to_bf16(x) : adamp_f32_to_f16(x));
                for (int q = 0; q < 3 && ok; q++) {
                    const float y = ((float *)w.s[q][i])[j];
                    ok = sd == ADAMP_F32 ? adamp_f32_to_bits(((float *)b.s[q][i])[j]) == adamp_f32_to_bits(y)
                                         : ((uint16_t *)b.s[q][i])[j] == (sd == ADAMP_BF16 ? adamp_f32_to_bf16(y) : adamp_f32_to_f16(y));
                }
                if (!ok) fprintf(stderr, "  %s %s/%s/%s isa %s: step %d tensor %d element %zu differs\n", v->name,
                                 adamp_dtype_name(s.dtype), adamp_master_name(s.master), adamp_dtype_name(s.grad),
                                 adamp_isa_name(cfg->isa), k, i, j);
            }
        }
        release(&w);
    }
    free(stats), free(wstats);
    release(&b);
    return ok;
}

/* The same steps on 1 to 3 threads and in blocks: bitwise. */
static int threads_agree(const variant *v, storage s, adamp_isa isa) {
    buffers b[2];
    int ok = 1;
    for (int r = 0; r < 2; r++) {
        make(&b[r], s);
        const adamp_config cfg = {isa, r == 0 ? 1 : 3, r == 0 ? 0 : 4000};
        adamp_tensor t[COUNT];
        describe(t, v, &b[r]);
        const size_t len = adamp_stats_len(t, COUNT);
        double *stats = malloc((len + 1) * sizeof(double));
        for (int k = 0; k < STEPS; k++) CHECK(step(v, s, &cfg, &b[r], t, stats, len) == ADAMP_OK);
        free(stats);
    }
    const size_t ps = size_of(s.dtype), ss = size_of(state_dtype(s)), ms = master_size(s.master);
    for (int i = 0; i < COUNT; i++) {
        const size_t n = ROWS[i] * COLS[i];
        ok = ok && !memcmp(b[0].p[i], b[1].p[i], n * ps) && (!s.master || !memcmp(b[0].m[i], b[1].m[i], n * ms));
        for (int q = 0; q < 3; q++) ok = ok && !memcmp(b[0].s[q][i], b[1].s[q][i], n * ss);
    }
    release(&b[0]), release(&b[1]);
    return ok;
}

/* Each ISA's vector conversions against convert.h's, over special and
 * random bit patterns: a float32 master of those bits through a step that
 * leaves it as it is (SGD, lr 0, no gradient to speak of: x + (-0 * 0)), so
 * that the parameter written is its rounding, the trail its lower half. */
static void conversions(adamp_isa isa) {
    enum { N = 1 << 16 };
    static const uint32_t special[] = {0x00000000, 0x80000000, 0x00000001, 0x00008000, 0x00018000, 0x007fffff,
                                       0x00800000, 0x3f808000, 0x3f818000, 0x3f807fff, 0x7f7fffff, 0xff7fffff,
                                       0x7f800000, 0xff800000, 0x7fc00001, 0xffa00000, 0x7f800001, 0x477fefff,
                                       0x477ff000, 0x477ff001, 0x33000000, 0x33000001, 0x387fe000, 0x38800000};
    const adamp_hparams h = {.lr = 0};
    const adamp_config cfg = {isa, 1, 0};
    float *master = malloc(N * 4), *g = calloc(N, 4), *before = malloc(N * 4);
    uint16_t *lp = calloc(N, 2), *trail = calloc(N, 2), *hi = malloc(N * 2);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int kind = 0; kind < 3; kind++) { /* bfloat16, float16, split */
        const adamp_dtype d = kind == 1 ? ADAMP_F16 : ADAMP_BF16;
        const adamp_master m = kind == 2 ? ADAMP_MASTER_SPLIT : ADAMP_MASTER_FLOAT32;
        for (size_t j = 0; j < N; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            const uint32_t bits = j < sizeof special / sizeof special[0] ? special[j] : (uint32_t)x;
            before[j] = master[j] = adamp_bits_to_f32(bits);
            if (m == ADAMP_MASTER_SPLIT) adamp_f32_to_split(master[j], &hi[j], &trail[j]), lp[j] = hi[j];
        }
        void *masters[1] = {m == ADAMP_MASTER_SPLIT ? (void *)trail : (void *)master};
        adamp_tensor t = {.param = lp, .grad = g, .hparams = &h, .rows = 1, .cols = N - 3, .ndim = 1};
        const adamp_step_options o = {sizeof o, 1, 0, ADAMP_F32, m, masters};
        CHECK(adamp_step_ex(&cfg, ADAMP_ALGO_SGD, d, &t, 1, NULL, 0, &o) == ADAMP_OK);
        size_t bad = 0;
        for (size_t j = 0; j < N - 3; j++) {
            volatile float zero = 0.0f, nzero = -0.0f; /* not folded: a signaling NaN must be quieted */
            const float v = fmaf(zero, nzero, before[j]); /* what the step computes: x itself, a NaN quieted */
            uint16_t want_hi, want_lo;
            adamp_f32_to_split(v, &want_hi, &want_lo);
            if (m == ADAMP_MASTER_SPLIT) bad += lp[j] != want_hi || trail[j] != want_lo;
            else bad += adamp_f32_to_bits(master[j]) != adamp_f32_to_bits(v) ||
                        lp[j] != (d == ADAMP_BF16 ? adamp_f32_to_bf16(v) : adamp_f32_to_f16(v));
        }
        CHECK(bad == 0);
        for (size_t j = N - 3; j < N; j++) CHECK(m == ADAMP_MASTER_SPLIT || lp[j] == 0); /* nothing past the end */
        /* And widening: the gradient of a float32 parameter read from each 16-bit pattern. */
        if (kind < 2) {
            uint16_t *g16 = malloc(N * 2);
            float *p = calloc(N, 4), *buf = calloc(N, 4);
            for (size_t j = 0; j < N; j++) g16[j] = (uint16_t)j;
            const adamp_hparams sgd = {.lr = 1, .momentum = 0.5};
            adamp_tensor s = {.param = p, .grad = g16, .state0 = buf, .hparams = &sgd, .rows = 1, .cols = N, .ndim = 1};
            const adamp_step_options og = {sizeof og, 1, 0, d, ADAMP_MASTER_OFF, NULL};
            CHECK(adamp_step_ex(&cfg, ADAMP_ALGO_SGD, ADAMP_F32, &s, 1, NULL, 0, &og) == ADAMP_OK);
            size_t wrong = 0;
            for (size_t j = 0; j < N; j++) {
                volatile float one = 1; /* the step takes g times its multiplier: a NaN comes out quieted */
                const float w = (d == ADAMP_BF16 ? adamp_bf16_to_f32(g16[j]) : adamp_f16_to_f32(g16[j])) * one;
                wrong += adamp_f32_to_bits(buf[j]) != adamp_f32_to_bits(w); /* the first buffer is the gradient */
            }
            CHECK(wrong == 0);
            free(g16), free(p), free(buf);
        }
    }
    free(master), free(g), free(before), free(lp), free(trail), free(hi);
}

/* `bytes` ending where an inaccessible page begins, so that a byte read or
 * written past them faults; *map and *len for munmap. */
static void *at_page_end(size_t bytes, void **map, size_t *len) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    *len = (bytes + page - 1) / page * page + page;
    char *m = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) abort();
    mprotect(m + *len - page, page, PROT_NONE);
    *map = m;
    return m + *len - page - bytes;
}

/* Rows of 1 to 2W + 1 elements (every vector tail and row narrower than a
 * vector, even and odd) of a [3, n] tensor in every 16-bit storage, each
 * buffer at a page's end: the step must not fault, and must give the
 * scalar variant's values (of the projected path: orthogonal gradients). */
static void page_ends(const variant *v, storage s, adamp_isa isa) {
    enum { R = 3, MAXN = 33 };
    const adamp_dtype sd = state_dtype(s);
    for (size_t n = 1; n <= MAXN; n++) {
        double p[R * MAXN], g[R * MAXN];
        rng = 0x2545F4914F6CDD1Dull + n;
        for (size_t j = 0; j < R * n; j++) p[j] = uniform(), g[j] = 0.01 * uniform();
        orthogonalize(g, p, R, n);
        void *out[2][5], *maps[2][6];
        size_t lens[2][6];
        for (int r = 0; r < 2; r++) { /* the scalar variant's, then isa's */
            const size_t sizes[6] = {size_of(s.dtype), size_of(s.grad), master_size(s.master),
                                     size_of(sd), size_of(sd), size_of(sd)};
            void *b[6];
            for (int k = 0; k < 6; k++) b[k] = at_page_end(R * n * sizes[k], &maps[r][k], &lens[r][k]);
            for (size_t j = 0; j < R * n; j++) {
                put(s.grad, b[1], j, (float)g[j]);
                if (s.master == ADAMP_MASTER_SPLIT) adamp_f32_to_split((float)p[j], (uint16_t *)b[0] + j, (uint16_t *)b[2] + j);
                else if (s.master == ADAMP_MASTER_FLOAT32) ((float *)b[2])[j] = (float)p[j], put(s.dtype, b[0], j, (float)p[j]);
                else put(s.dtype, b[0], j, (float)p[j]);
            }
            adamp_tensor t = {.param = b[0], .grad = b[1], .state0 = b[3], .state1 = b[4], .state2 = b[5],
                              .hparams = &v->h, .rows = R, .cols = n, .ndim = 2};
            void *masters[1] = {s.master ? b[2] : NULL};
            const adamp_step_options o = {sizeof o, 1, 0, (int32_t)s.grad, (int32_t)s.master, masters};
            const adamp_config cfg = {r == 0 ? ADAMP_ISA_SCALAR : isa, 1, 0};
            double stats[ADAMP_STATS_LEN_PER_ROW * R];
            for (int k = 0; k < STEPS; k++)
                CHECK(adamp_step_ex(&cfg, v->algo, s.dtype, &t, 1, stats, adamp_stats_len(&t, 1), &o) == ADAMP_OK);
            out[r][0] = b[0], out[r][1] = b[2], out[r][2] = b[3], out[r][3] = b[4], out[r][4] = b[5];
        }
        CHECK(!memcmp(out[0][0], out[1][0], R * n * size_of(s.dtype)));
        if (s.master) CHECK(!memcmp(out[0][1], out[1][1], R * n * master_size(s.master)));
        for (int q = 2; q < 5; q++) CHECK(!memcmp(out[0][q], out[1][q], R * n * size_of(sd)));
        for (int r = 0; r < 2; r++)
            for (int k = 0; k < 6; k++) munmap(maps[r][k], lens[r][k]);
    }
}

/* What a call refuses, having written nothing. */
static void refusals(void) {
    uint16_t p[4] = {0x3f80, 0x3f80, 0x3f80, 0x3f80}, g[4] = {0}, m0[4] = {0}, m1[4] = {0};
    float master[4] = {1, 1, 1, 1};
    const adamp_hparams h = {.lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    adamp_tensor t = {.param = p, .grad = g, .state0 = m0, .state1 = m1, .hparams = &h, .rows = 1, .cols = 4, .ndim = 1};
    void *masters[1] = {master}, *none[1] = {NULL};
    const struct {
        adamp_dtype dtype;
        int32_t grad, master;
        void *const *masters;
        adamp_status want;
    } cases[] = {
        {ADAMP_F32, 0, ADAMP_MASTER_FLOAT32, masters, ADAMP_E_INVALID_CONFIG}, /* a float32 parameter has no master */
        {ADAMP_F16, 0, ADAMP_MASTER_SPLIT, masters, ADAMP_E_INVALID_CONFIG},   /* split is bfloat16's */
        {ADAMP_F64, ADAMP_BF16, 0, NULL, ADAMP_E_INVALID_CONFIG},             /* float64 takes float64 gradients */
        {ADAMP_BF16, ADAMP_F64, 0, NULL, ADAMP_E_INVALID_CONFIG},
        {ADAMP_BF16, 7, 0, NULL, ADAMP_E_INVALID_CONFIG},
        {ADAMP_BF16, 0, 9, masters, ADAMP_E_INVALID_CONFIG},
        {ADAMP_BF16, 0, ADAMP_MASTER_FLOAT32, NULL, ADAMP_E_NULL_POINTER},
        {ADAMP_BF16, 0, ADAMP_MASTER_FLOAT32, none, ADAMP_E_NULL_POINTER},
        {ADAMP_BF16, 0, ADAMP_MASTER_OFF, NULL, ADAMP_OK},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const adamp_step_options o = {sizeof o, 1, 0, cases[c].grad, cases[c].master, cases[c].masters};
        CHECK(adamp_validate(NULL, ADAMP_ALGO_ADAM, cases[c].dtype, &t, 1, NULL, 0, &o) == cases[c].want);
        if (cases[c].want == ADAMP_OK) continue;
        CHECK(adamp_step_ex(NULL, ADAMP_ALGO_ADAM, cases[c].dtype, &t, 1, NULL, 0, &o) == cases[c].want);
        CHECK(p[0] == 0x3f80 && m0[0] == 0 && master[0] == 1 && t.step == 0);
    }
}

/* The norms of 16-bit gradients are those of the same values in float32;
 * adamp_state_check reads 16-bit state. */
static void norms_and_state(void) {
    enum { N = 40000 };
    uint16_t *g16 = malloc(N * 2);
    float *g32 = malloc(N * 4);
    for (int kind = 0; kind < 2; kind++) {
        const adamp_dtype d = kind ? ADAMP_F16 : ADAMP_BF16;
        for (size_t j = 0; j < N; j++) {
            const float x = (float)uniform();
            g16[j] = d == ADAMP_BF16 ? adamp_f32_to_bf16(x) : adamp_f32_to_f16(x);
            g32[j] = d == ADAMP_BF16 ? adamp_bf16_to_f32(g16[j]) : adamp_f16_to_f32(g16[j]);
        }
        adamp_tensor a = {.param = g32, .grad = g16, .rows = 1, .cols = N, .ndim = 1}, b = a;
        b.grad = g32;
        double s16, m16, s32, m32, work[16];
        CHECK(adamp_grad_norms(NULL, d, &a, 1, &s16, &m16, work, 16) == ADAMP_OK);
        CHECK(adamp_grad_norms(NULL, ADAMP_F32, &b, 1, &s32, &m32, work, 16) == ADAMP_OK);
        CHECK(s16 == s32 && m16 == m32);
        const uint16_t state[3] = {0x3f80, d == ADAMP_BF16 ? 0xbf80 : 0xbc00, 0x7f80};
        size_t at = 9;
        CHECK(adamp_state_check(ADAMP_ALGO_ADAM, 1, d, state, 1, NULL) == ADAMP_OK);
        CHECK(adamp_state_check(ADAMP_ALGO_ADAM, 1, d, state, 2, &at) == ADAMP_E_INVALID_STATE && at == 1);
    }
    free(g16), free(g32);
}

static const variant VARIANTS[] = {
    PROJECTING_VARIANTS,
    {ADAMP_ALGO_ADAMP, {.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.1, .delta = 0.1,
                        .wd_ratio = 0.1, .projection = ADAMP_PROJECT_CHANNEL}, "adamp channel rule"},
    {ADAMP_ALGO_SGDP, {.lr = 0.1, .momentum = 0.9, .eps = 1e-8, .delta = 0.1, .wd_ratio = 0.1,
                       .projection = ADAMP_PROJECT_NEVER}, "sgdp never rule"},
    {ADAMP_ALGO_ADAM, {.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.1, .amsgrad = 1}, "adam amsgrad"},
    {ADAMP_ALGO_ADAMW, {.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01, .maximize = 1}, "adamw maximize"},
    {ADAMP_ALGO_SGD, {.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-4, .nesterov = 1}, "sgd nesterov"},
    {ADAMP_ALGO_SGD, {.lr = 0.1, .dampening = 0.3}, "sgd momentum 0"},
};

int main(void) {
    static const adamp_dtype grads[] = {ADAMP_F32, ADAMP_BF16, ADAMP_F16};
    printf("precision: ISAs exercised:");
    for (adamp_isa isa = ADAMP_ISA_SCALAR; isa <= isa_last(); isa++) {
        if (!adamp_isa_supported(isa)) continue;
        printf(" %s", adamp_isa_name(isa));
        conversions(isa);
        const adamp_config cfg = {isa, 1, 0};
        for (size_t v = 0; v < sizeof VARIANTS / sizeof VARIANTS[0]; v++)
            for (int d = 0; d < 3; d++)
                for (int m = 0; m < 3; m++)
                    for (int gk = 0; gk < 3; gk++) {
                        const storage s = {d == 0 ? ADAMP_F32 : d == 1 ? ADAMP_BF16 : ADAMP_F16, (adamp_master)m, grads[gk]};
                        if ((s.dtype == ADAMP_F32 && m) || (s.dtype == ADAMP_F16 && m == ADAMP_MASTER_SPLIT)) continue;
                        CHECK(against_float32(&VARIANTS[v], s, &cfg));
                        if (gk == 0) CHECK(threads_agree(&VARIANTS[v], s, isa));
                        if (isa != ADAMP_ISA_SCALAR && (s.dtype != ADAMP_F32 || gk)) page_ends(&VARIANTS[v], s, isa);
                    }
    }
    printf("\n");
    refusals();
    norms_and_state();
    return report();
}
