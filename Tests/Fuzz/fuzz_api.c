/* libFuzzer target over the whole public C API (adamp.h). From each input it
 * builds a call: an entry point, an algorithm and dtype (valid or not), a
 * config (or NULL), 0-4 tensor descriptors with sizes from 1 to overflowing,
 * NULL or real buffers, hyperparameters from typical to NaN/Inf/negative,
 * projection codes and step counts, and a stats buffer shorter than, as long
 * as, or longer than it needs. It asserts:
 *   - no crash (run it under ASan and UBSan);
 *   - an error status changed no byte of any buffer, descriptor, hparams or stats;
 *   - sizes that adamp.h says are too large always give an error;
 *   - on success, tensors without a gradient are untouched, and a second run
 *     from the same start with other threads and block gives identical bytes.
 * adamp_step_ex (with options valid or not), adamp_grad_norms and
 * adamp_diagnose are called the same way, with their own checks; before a
 * step, adamp_validate must write nothing and return the step's status.
 * Input layout: see `build` below; missing bytes read as 0. The seed corpus in
 * corpus/ holds an input for each defect fixed in issue 8 (make_corpus.py). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../CKernels/src/convert.h"
#include "adamp.h"

#define MAX_TENSORS 4
#define NBUF 6 /* a tensor's buffers: param, grad, state0-2, master or trail */
#define MAX_REAL 140000 /* elements; above 131,072 a call may use several threads */

typedef struct {
    const uint8_t *d;
    size_t n;
} input;

static uint8_t u8(input *in) {
    if (!in->n) return 0;
    in->n--;
    return *in->d++;
}

static double pick_double(input *in) {
    static const double table[] = {0, 1, -1, NAN, INFINITY, -INFINITY, 0.5, 0.9, 0.999, 1e-8, 0.1, 1e-3, -0.0,
                                   1e308, 5e-324, 2};
    const uint8_t b = u8(in);
    if (b < 16) return table[b];
    if (b < 128) return table[b % 12]; /* mostly typical values, so calls get past validation */
    return (double)(b - 128) / 128.0;
}

static int32_t pick_flag(input *in) {
    const uint8_t b = u8(in);
    return b < 200 ? b % 2 : (int32_t)b - 100;
}

/* A choice (an enum's value): its values, and others. */
static int32_t pick_choice(input *in) {
    const uint8_t b = u8(in);
    return b < 200 ? b % 5 : (int32_t)b - 210;
}

/* The picker of each rule's values (ADAMP_HPARAMS). */
#define PICK_NONNEG pick_double
#define PICK_UNIT_OPEN pick_double
#define PICK_UNIT_CLOSED pick_double
#define PICK_FINITE pick_double
#define PICK_BOOL pick_flag
#define PICK_PROJECTION_RULE pick_choice

static size_t pick_size(input *in) {
    static const size_t small[] = {1, 2, 3, 4, 7, 8, 9, 16, 17, 33, 64, 300};
    static const size_t huge[] = {0, SIZE_MAX / 8, SIZE_MAX / 3 + 1, SIZE_MAX / 2, SIZE_MAX,
                                  PTRDIFF_MAX / 4 + 1, PTRDIFF_MAX / 8, (size_t)1 << 40, PTRDIFF_MAX / 48 + 1};
    const uint8_t b = u8(in);
    return b < 224 ? small[b % 12] : huge[b % 9];
}

typedef struct {
    adamp_hparams h[2];
    adamp_tensor t[MAX_TENSORS];
    size_t count, stats_len, stats_alloc;
    void *buf[MAX_TENSORS][NBUF]; /* param, grad, state0-2, master: NULL or real */
    void *masters[MAX_TENSORS];   /* the options' masters: buf[i][5], or NULL */
    size_t bytes[MAX_TENSORS];  /* of each buffer: 64 if the tensor is not backed by memory */
    double *stats;
    size_t expected_stats_len;  /* adamp_stats_len's documented result */
    int tensors_null, config_null, entry, sizes_valid;
    adamp_algorithm algo;
    adamp_dtype dtype;
    adamp_config cfg;
    adamp_step_options opt; /* adamp_step_ex's, from the seed byte */
    int opt_null, stats_mode;
} call;

static uint64_t mix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Values of a tensor's buffers: random, with specials, or a gradient
 * orthogonal to the parameter per row or over the tensor (so that AdamP and
 * SGDP project). */
/* Element j of buffer b stored as dtype d (anything else: a double). */
static void put(void *b, size_t j, adamp_dtype d, double x) {
    if (d == ADAMP_F32) ((float *)b)[j] = (float)x;
    else if (d == ADAMP_BF16) ((uint16_t *)b)[j] = adamp_f32_to_bf16((float)x);
    else if (d == ADAMP_F16) ((uint16_t *)b)[j] = adamp_f32_to_f16((float)x);
    else ((double *)b)[j] = x;
}

static void fill(call *c, int i, int mode, uint64_t seed, const adamp_dtype kinds[NBUF]) {
    const size_t n = c->t[i].rows * c->t[i].cols;
    double *p = malloc(n * sizeof(double)), *g = malloc(n * sizeof(double));
    for (size_t j = 0; j < n; j++) {
        p[j] = (double)(mix(&seed) >> 11) / 9007199254740992.0 * 2 - 1;
        g[j] = (double)(mix(&seed) >> 11) / 9007199254740992.0 * 2e-2 - 1e-2;
        if (mode == 3 && mix(&seed) % 16 == 0) g[j] = (const double[]){NAN, INFINITY, -INFINITY, 0}[mix(&seed) % 4];
    }
    if ((mode == 1 || mode == 2) && n > 0) {
        const size_t rows = mode == 1 ? c->t[i].rows : 1, cols = n / rows;
        for (size_t r = 0; r < rows; r++) {
            double gp = 0, pp = 0;
            for (size_t j = r * cols; j < (r + 1) * cols; j++) gp += g[j] * p[j], pp += p[j] * p[j];
            for (size_t j = r * cols; j < (r + 1) * cols; j++) g[j] -= gp / pp * p[j];
        }
    }
    for (int k = 0; k < NBUF; k++) {
        if (!c->buf[i][k]) continue;
        const double *src = k == 0 ? p : k == 1 ? g : NULL;
        for (size_t j = 0; j < n; j++) {
            const double x = k == 5 ? p[j] : src ? src[j] : (k == 2 ? 1e-3 : 1e-6) * (double)(mix(&seed) % 8);
            put(c->buf[i][k], j, kinds[k], x);
        }
    }
    free(p);
    free(g);
}

static void build(call *c, const uint8_t *data, size_t size) {
    input in = {data, size};
    memset(c, 0, sizeof *c);
    c->entry = u8(&in) % 10;
    c->algo = (adamp_algorithm)(u8(&in) % 8);
    c->dtype = (adamp_dtype)(u8(&in) % 6); /* 0 and 5 are none */
    const uint8_t cf = u8(&in);
    static const int isas[] = {ADAMP_ISA_AUTO, ADAMP_ISA_SCALAR, ADAMP_ISA_AVX2, ADAMP_ISA_AVX512, ADAMP_ISA_AVX512_BF16, 7, -1};
    static const int32_t threads[] = {0, 1, 2, 3, 8, 16, -1, 100000, INT32_MAX, ADAMP_MAX_THREADS};
    static const int64_t blocks[] = {0, 1, 1000, 1 << 20, -1, INT64_MAX};
    c->config_null = cf & 1;
    c->cfg.isa = (adamp_isa)isas[(cf >> 1) % (sizeof isas / sizeof isas[0])];
    c->cfg.threads = threads[u8(&in) % 10];
    c->cfg.block = blocks[u8(&in) % 6];
    c->count = u8(&in) % (MAX_TENSORS + 1);
    c->tensors_null = u8(&in) == 0xff;
    const int stats_mode = u8(&in) % 4;
    uint64_t seed = u8(&in);
    static const double muls[] = {1, 0.5, 0, -1, NAN, INFINITY, 1e-30, 3};
    static const size_t opt_sizes[] = {sizeof(adamp_step_options), 0, sizeof(size_t), 64};
    static const int32_t drops[] = {0, 1, 2, -1};
    c->opt.size = opt_sizes[seed % 4], c->opt.grad_mul = muls[(seed >> 2) % 8], c->opt_null = (seed >> 5) & 1;
    c->opt.drop_stats = drops[(seed >> 6) % 4];
    /* The storage byte: the gradients' dtype, the master, whether the masters are given. */
    const uint8_t sb = u8(&in);
    static const int32_t grads[] = {0, ADAMP_F32, ADAMP_BF16, ADAMP_F16, ADAMP_F64, 9};
    static const int32_t master_kinds[] = {ADAMP_MASTER_OFF, ADAMP_MASTER_FLOAT32, ADAMP_MASTER_SPLIT, 5};
    c->opt.grad_dtype = grads[sb % 6];
    c->opt.master = master_kinds[(sb / 6) % 4];
    const int masters_given = (sb / 24) % 3; /* 0: all, 1: NULL, 2: tensor 0's NULL */
    c->opt.masters = masters_given == 1 ? NULL : c->masters;
    c->stats_mode = stats_mode;
    /* Every field of the list (adamp.h), in its order: a double, or a flag
     * or choice (an int32_t). */
    for (int k = 0; k < 2; k++) {
        adamp_hparams *h = &c->h[k];
#define PICK(F, type, member, name, own, rule, torch_rule) h->member = (type)PICK_##rule(&in);
        ADAMP_HPARAMS(PICK)
#undef PICK
    }
    /* The call's storage, as the library takes it (adamp_step_options_resolve:
     * options a caller's struct does not hold are the defaults), and the
     * widest element of its buffers, which the size rule counts. */
    const int opts = c->entry == 7 && !c->opt_null && c->opt.size >= sizeof(adamp_step_options);
    const adamp_dtype grad = opts && c->opt.grad_dtype ? (adamp_dtype)c->opt.grad_dtype : c->dtype;
    const int master = opts ? c->opt.master : ADAMP_MASTER_OFF;
    const adamp_dtype kinds[NBUF] = {c->dtype, grad, master ? ADAMP_F32 : c->dtype, master ? ADAMP_F32 : c->dtype,
                                     master ? ADAMP_F32 : c->dtype, master == ADAMP_MASTER_SPLIT ? ADAMP_BF16 : ADAMP_F32};
    size_t es = 8; /* invalid dtypes are rejected anyway */
    if (adamp_dtype_size(c->dtype)) {
        es = adamp_dtype_size(c->dtype);
        if (adamp_dtype_size(grad) > es) es = adamp_dtype_size(grad);
        if (master) es = es > 4 ? es : 4;
    }
    size_t stats_rows = 0, grad_elems = 0;
    int stats_overflow = 0;
    c->sizes_valid = 1;
    for (size_t i = 0; i < c->count; i++) {
        adamp_tensor *t = &c->t[i];
        t->rows = pick_size(&in), t->cols = pick_size(&in);
        t->ndim = (int32_t)(u8(&in) % 6) - 1;
        const uint8_t flags = u8(&in);
        t->projection = (int32_t)(u8(&in) % 5) - 2;
        static const int64_t steps[] = {0, 1, 2, 10, -1, INT64_MAX, INT64_MAX - 1, INT64_MIN};
        t->step = steps[u8(&in) % 8];
        const int mode = u8(&in) % 4;
        t->hparams = flags & 0x20 ? NULL : &c->h[(flags >> 6) & 1];
        /* The size rule of adamp.h, as the oracle: a tensor may have no
         * elements (and then no statistics rows), none may overflow. */
        const int fits = !t->rows || t->cols <= PTRDIFF_MAX / es / t->rows;
        const size_t n = fits ? t->rows * t->cols : 0;
        if (!fits) c->sizes_valid = 0;
        if (t->ndim > 1 && t->cols > 0) {
            if (t->rows > PTRDIFF_MAX / 48 - stats_rows) c->sizes_valid = 0, stats_overflow = 1;
            else stats_rows += t->rows;
        }
        const int real = fits && n <= MAX_REAL;
        int has_grad = flags & 1;
        /* A descriptor that is not backed by memory may only reach the
         * library in a call that it must reject, or without a gradient
         * (then nothing of it is touched). */
        if (!real && c->sizes_valid) has_grad = 0;
        if (has_grad && fits) {
            if (n > PTRDIFF_MAX / es - grad_elems) c->sizes_valid = 0;
            else grad_elems += n;
        }
        const size_t bytes = real ? n * 8 : 64; /* room for any dtype */
        c->bytes[i] = bytes;
        const int want[NBUF] = {!(flags & 0x10), has_grad, flags & 2, flags & 4, flags & 8, master != 0};
        for (int k = 0; k < NBUF; k++) c->buf[i][k] = want[k] ? calloc(1, bytes) : NULL;
        t->param = c->buf[i][0], t->grad = c->buf[i][1];
        t->state0 = c->buf[i][2], t->state1 = c->buf[i][3], t->state2 = c->buf[i][4];
        c->masters[i] = masters_given == 2 && i == 0 ? NULL : c->buf[i][5];
        if (real) fill(c, (int)i, mode, seed + i, kinds);
    }
    c->expected_stats_len = c->tensors_null ? 0 : stats_overflow ? SIZE_MAX : 6 * stats_rows;
    /* A too-long stats_len would be the caller's lie: never longer than the buffer. */
    const size_t need = 6 * stats_rows, cap = 6 * 4 * 300;
    c->stats_alloc = need <= cap ? need + 5 : cap;
    c->stats_len = stats_mode == 1 && need ? need - 1 : stats_mode == 3 ? c->stats_alloc : need <= cap ? need : cap;
    c->stats = stats_mode == 0 ? NULL : calloc(c->stats_alloc, sizeof(double));
}

static void release(call *c) {
    for (size_t i = 0; i < MAX_TENSORS; i++)
        for (int k = 0; k < NBUF; k++) free(c->buf[i][k]);
    free(c->stats);
}

/* Every byte the library may write: buffers, descriptors, hparams, stats. */
typedef struct {
    void *buf[MAX_TENSORS][NBUF];
    adamp_tensor t[MAX_TENSORS];
    adamp_hparams h[2];
    double *stats;
} snapshot;

static void take(snapshot *s, const call *c) {
    for (size_t i = 0; i < MAX_TENSORS; i++)
        for (int k = 0; k < NBUF; k++) {
            s->buf[i][k] = NULL;
            if (c->buf[i][k]) s->buf[i][k] = malloc(c->bytes[i]), memcpy(s->buf[i][k], c->buf[i][k], c->bytes[i]);
        }
    memcpy(s->t, c->t, sizeof s->t);
    memcpy(s->h, c->h, sizeof s->h);
    s->stats = NULL;
    if (c->stats) s->stats = malloc(c->stats_alloc * sizeof(double)), memcpy(s->stats, c->stats, c->stats_alloc * sizeof(double));
}

static void restore(call *c, const snapshot *s) {
    for (size_t i = 0; i < MAX_TENSORS; i++)
        for (int k = 0; k < NBUF; k++)
            if (s->buf[i][k]) memcpy(c->buf[i][k], s->buf[i][k], c->bytes[i]);
    memcpy(c->t, s->t, sizeof s->t);
    memcpy(c->h, s->h, sizeof s->h);
    if (s->stats) memcpy(c->stats, s->stats, c->stats_alloc * sizeof(double));
}

static int equal(const call *c, const snapshot *s) {
    for (size_t i = 0; i < MAX_TENSORS; i++)
        for (int k = 0; k < NBUF; k++)
            if (s->buf[i][k] && memcmp(c->buf[i][k], s->buf[i][k], c->bytes[i])) return 0;
    if (memcmp(c->t, s->t, sizeof s->t) || memcmp(c->h, s->h, sizeof s->h)) return 0;
    return !s->stats || !memcmp(c->stats, s->stats, c->stats_alloc * sizeof(double));
}

static void drop(snapshot *s) {
    for (size_t i = 0; i < MAX_TENSORS; i++)
        for (int k = 0; k < NBUF; k++) free(s->buf[i][k]);
    free(s->stats);
}

static adamp_status invoke(call *c, const adamp_config *cfg) {
    adamp_tensor *t = c->tensors_null ? NULL : c->t;
    switch (c->entry) {
    case 0: return adamp_step(cfg, c->algo, c->dtype, t, c->count, c->stats, c->stats_len);
    case 1: return adamp_row_stats(cfg, c->dtype, t, c->count, c->stats, c->stats_len);
    case 2: return adamp_decide(c->algo, c->dtype, t, c->count, c->stats, c->stats_len);
    case 7: return adamp_step_ex(cfg, c->algo, c->dtype, t, c->count, c->stats, c->stats_len, c->opt_null ? NULL : &c->opt);
    default: return adamp_apply(cfg, c->algo, c->dtype, t, c->count, c->stats, c->stats_len);
    }
}

static int fuzz_entry; /* the entry point of the input being run, for messages */

#define REQUIRE(cond)                                                                   \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "fuzz_api: %s failed at line %d (entry %d)\n", #cond, __LINE__, fuzz_entry); \
            abort();                                                                    \
        }                                                                               \
    } while (0)

/* The functions that take no buffers: total, never NULL. */
static void small_functions(const uint8_t *data, size_t size) {
    input in = {data, size};
    const int v = (int)(int8_t)u8(&in);
    if (!adamp_status_string((adamp_status)v) || !adamp_field_name((adamp_field)v) || !adamp_isa_name((adamp_isa)v))
        abort();
    (void)adamp_isa_supported((adamp_isa)v);
    (void)adamp_isa_selected(adamp_isa_supported((adamp_isa)v) ? (adamp_isa)v : ADAMP_ISA_AUTO);
}

static int finite_buffer(const void *b, size_t n, adamp_dtype dt) {
    for (size_t j = 0; j < n; j++) {
        const double x = dt == ADAMP_F32    ? (double)((const float *)b)[j]
                         : dt == ADAMP_BF16 ? adamp_bf16_to_f32(((const uint16_t *)b)[j])
                         : dt == ADAMP_F16  ? adamp_f16_to_f32(((const uint16_t *)b)[j])
                                            : ((const double *)b)[j];
        if (!isfinite(x)) return 0;
    }
    return 1;
}

/* adamp_grad_norms: an error writes nothing; a success gives 0 and 0 without
 * a gradient, a non-finite largest magnitude exactly where a gradient holds
 * a NaN or an infinity, and the same bits on other threads. */
static void grad_norms_call(call *c, const adamp_config *cfg) {
    const adamp_tensor *t = c->tensors_null ? NULL : c->t;
    const size_t need = adamp_grad_norms_len(t, c->count), cap = 2 * 4 * 16;
    size_t len = c->stats_mode == 1 && need && need <= cap ? need - 1 : need <= cap ? need : cap;
    if (c->stats_mode == 3 && need <= cap) len = need + 3;
    double *work = c->stats_mode == 0 ? NULL : calloc(len + 1, sizeof(double));
    double sq[MAX_TENSORS], mx[MAX_TENSORS], sq2[MAX_TENSORS], mx2[MAX_TENSORS];
    for (int i = 0; i < MAX_TENSORS; i++) sq[i] = mx[i] = 12345;
    snapshot before;
    take(&before, c);
    const adamp_status s = adamp_grad_norms(cfg, c->dtype, t, c->count, sq, mx, work, len);
    REQUIRE(equal(c, &before)); /* reads only the gradients */
    if (s != ADAMP_OK) {
        for (int i = 0; i < MAX_TENSORS; i++) REQUIRE(sq[i] == 12345 && mx[i] == 12345);
    } else if (t) {
        REQUIRE(c->sizes_valid || !c->count);
        for (size_t i = 0; i < c->count; i++) {
            if (!t[i].grad) { REQUIRE(sq[i] == 0 && mx[i] == 0); continue; }
            REQUIRE(isfinite(mx[i]) == finite_buffer(t[i].grad, t[i].rows * t[i].cols, c->dtype));
        }
        adamp_config other = cfg ? *cfg : (adamp_config){ADAMP_ISA_AUTO, 0, 0};
        other.threads = other.threads == 3 ? 1 : 3;
        REQUIRE(adamp_grad_norms(&other, c->dtype, t, c->count, sq2, mx2, work, len) == ADAMP_OK);
        REQUIRE(!memcmp(sq, sq2, c->count * sizeof(double)) && !memcmp(mx, mx2, c->count * sizeof(double)));
    }
    drop(&before);
    free(work);
}

/* adamp_diagnose: writes only `out` (nothing on an error); each result's
 * projection is its tensor's; NaN where there is nothing to say. */
static void diagnose_call(call *c) {
    const adamp_tensor *t = c->tensors_null ? NULL : c->t;
    adamp_diagnostics out[MAX_TENSORS];
    memset(out, 0x5a, sizeof out);
    adamp_diagnostics untouched[MAX_TENSORS];
    memcpy(untouched, out, sizeof out);
    snapshot before;
    take(&before, c);
    const adamp_status s = adamp_diagnose(c->algo, c->dtype, t, c->count, c->stats, c->stats_len, c->opt_null ? NULL : out);
    REQUIRE(equal(c, &before));
    if (s != ADAMP_OK || c->opt_null) REQUIRE(!memcmp(out, untouched, sizeof out));
    else
        for (size_t i = 0; t && i < c->count; i++) {
            REQUIRE(out[i].projection == t[i].projection);
            if (!t[i].grad || t[i].ndim <= 1) REQUIRE(isnan(out[i].channel_cosine) && isnan(out[i].weight_norm));
        }
    drop(&before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static call c;
    build(&c, data, size);
    fuzz_entry = c.entry;
    if (c.entry == 8 || c.entry == 9) {
        if (c.entry == 8) grad_norms_call(&c, c.config_null ? NULL : &c.cfg);
        else diagnose_call(&c);
        release(&c);
        return 0;
    }
    if (c.entry >= 4 && c.entry != 7) {
        if (c.entry == 4) {
            const size_t len = adamp_stats_len(c.tensors_null ? NULL : c.t, c.count);
            REQUIRE(len == c.expected_stats_len);
        } else if (c.entry == 5) {
            adamp_field field = (adamp_field)-1;
            const char *rule = NULL;
            const adamp_status s = adamp_hparams_check(c.algo, &c.h[0], &field, &rule);
            REQUIRE(rule && (s == ADAMP_E_INVALID_HPARAM) == (field != ADAMP_FIELD_NONE) && adamp_field_name(field));
        } else {
            small_functions(data + 1, size ? size - 1 : 0);
        }
        release(&c);
        return 0;
    }
    const adamp_config *cfg = c.config_null ? NULL : &c.cfg;
    snapshot before;
    take(&before, &c);
    /* adamp_validate() writes nothing and says what the step will. */
    const adamp_step_options *opts = c.entry == 7 && !c.opt_null ? &c.opt : NULL;
    const adamp_status v = c.entry == 0 || c.entry == 7
        ? adamp_validate(cfg, c.algo, c.dtype, c.tensors_null ? NULL : c.t, c.count, c.stats, c.stats_len, opts)
        : ADAMP_OK;
    REQUIRE(equal(&c, &before));
    const adamp_status s = invoke(&c, cfg);
    if (c.entry == 0 || c.entry == 7) REQUIRE(v == s);
    if (s != ADAMP_OK) REQUIRE(equal(&c, &before));
    /* adamp_step_ex refuses a multiplier that is not finite and >= 0, and a drop_stats not 0 or 1. */
    const double gm = c.opt.grad_mul;
    const int bad_drop = c.opt.drop_stats != 0 && c.opt.drop_stats != 1;
    if (c.entry == 7 && !c.opt_null && c.opt.size >= sizeof(adamp_step_options) && (!(isfinite(gm) && gm >= 0) || bad_drop))
        REQUIRE(s != ADAMP_OK);
    if (!c.sizes_valid && c.count && !c.tensors_null) REQUIRE(s != ADAMP_OK);
    if (s == ADAMP_OK && c.count && !c.tensors_null) {
        for (size_t i = 0; i < c.count; i++) {
            if (c.t[i].grad) continue;
            for (int k = 0; k < NBUF; k++)
                if (before.buf[i][k] && k != 1) REQUIRE(!memcmp(c.buf[i][k], before.buf[i][k], c.bytes[i]));
            REQUIRE(c.t[i].step == before.t[i].step);
        }
        /* The same call with other threads and block gives the same bytes. */
        snapshot after;
        take(&after, &c);
        restore(&c, &before);
        adamp_config other = cfg ? *cfg : (adamp_config){ADAMP_ISA_AUTO, 0, 0};
        other.threads = other.threads == 3 ? 1 : 3;
        other.block = other.block == 1000 ? 7 : 1000;
        REQUIRE(invoke(&c, &other) == ADAMP_OK);
        REQUIRE(equal(&c, &after));
        drop(&after);
    }
    drop(&before);
    release(&c);
    return 0;
}
