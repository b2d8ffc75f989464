/* The facts the C library owns and exports to bindings: every value of every
 * public enum named and listed (adamp_enum_entry), every field described
 * (adamp_field_describe) and reachable by value (adamp_hparams_get/_set),
 * the options as a call takes them (adamp_step_options_resolve), and
 * tensors of no elements, which a step counts and otherwise leaves alone. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "adamp.h"
#include "check.h"

/* Whether enum e lists `value` under `name` (adamp_enum_entry). */
static int lists(adamp_enum e, int32_t value, const char *name) {
    int32_t v;
    const char *n;
    for (size_t i = 0; adamp_enum_entry(e, i, &v, &n); i++)
        if (v == value) return strcmp(n, name) == 0;
    return 0;
}

static size_t entries(adamp_enum e) {
    size_t n = 0;
    while (adamp_enum_entry(e, n, NULL, NULL)) n++;
    return n;
}

/* adamp_master_buffer gives the list's buffer and element (NULL for none). */
static int same_or_null(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }
static int master_buffer_is(adamp_master m, const char *buffer, const char *element) {
    const char *b = "x", *e = "x";
    adamp_master_buffer(m, &b, &e);
    return same_or_null(b, buffer) && same_or_null(e, element);
}

/* Which dtypes keep which master, and their state's dtype. */
static void masters(void) {
    for (int32_t d = 0; d <= 6; d++) {
        const int narrow = d == ADAMP_BF16 || d == ADAMP_F16, valid = adamp_dtype_size((adamp_dtype)d) != 0;
        CHECK(adamp_master_takes(ADAMP_MASTER_OFF, (adamp_dtype)d) == valid);
        CHECK(adamp_master_takes(ADAMP_MASTER_FLOAT32, (adamp_dtype)d) == narrow);
        CHECK(adamp_master_takes(ADAMP_MASTER_SPLIT, (adamp_dtype)d) == (d == ADAMP_BF16));
        CHECK(adamp_master_takes((adamp_master)3, (adamp_dtype)d) == 0);
        CHECK((int32_t)adamp_state_dtype((adamp_dtype)d, ADAMP_MASTER_OFF) == (valid ? d : 0));
        CHECK(adamp_state_dtype((adamp_dtype)d, ADAMP_MASTER_FLOAT32) == (narrow ? ADAMP_F32 : 0));
    }
    const char *b = "x", *e = "x";
    adamp_master_buffer((adamp_master)-1, &b, &e);
    CHECK(b == NULL && e == NULL);
    adamp_master_buffer(ADAMP_MASTER_SPLIT, NULL, NULL); /* either may be NULL */
}

/* Each list's every entry is listed with the name its *_name() function
 * gives; a value no list has is named "unknown" and not listed. */
static void enums(void) {
    size_t n = 0;
#define DTYPE(suffix, value, name, bytes)                                                                    \
    CHECK(lists(ADAMP_ENUM_DTYPE, ADAMP_##suffix, name) && strcmp(adamp_dtype_name(ADAMP_##suffix), name) == 0); \
    CHECK(adamp_dtype_size(ADAMP_##suffix) == bytes);                                                        \
    n++;
    ADAMP_DTYPES(DTYPE)
    CHECK(entries(ADAMP_ENUM_DTYPE) == n);
    n = 0;
#define PROJECTION(suffix, value, name) \
    CHECK(lists(ADAMP_ENUM_PROJECTION, ADAMP_PROJ_##suffix, name) && strcmp(adamp_projection_name(ADAMP_PROJ_##suffix), name) == 0); \
    n++;
    ADAMP_PROJECTIONS(PROJECTION)
    CHECK(entries(ADAMP_ENUM_PROJECTION) == n);
    n = 0;
#define RULE(suffix, value, name) \
    CHECK(lists(ADAMP_ENUM_PROJECTION_RULE, ADAMP_PROJECT_##suffix, name) && strcmp(adamp_projection_rule_name(ADAMP_PROJECT_##suffix), name) == 0); \
    n++;
    ADAMP_PROJECTION_RULES(RULE)
    CHECK(entries(ADAMP_ENUM_PROJECTION_RULE) == n);
    n = 0;
#define MASTER(suffix, value, name, buffer, element, dtypes) \
    CHECK(lists(ADAMP_ENUM_MASTER, ADAMP_MASTER_##suffix, name) && strcmp(adamp_master_name(ADAMP_MASTER_##suffix), name) == 0); \
    CHECK(master_buffer_is(ADAMP_MASTER_##suffix, buffer, element)); \
    n++;
    ADAMP_MASTERS(MASTER)
    CHECK(entries(ADAMP_ENUM_MASTER) == n);
    n = 0;
#define FIELD(F, type, member, name, own, rule, torch_rule) \
    CHECK(lists(ADAMP_ENUM_FIELD, ADAMP_FIELD_##F, name)); \
    n++;
    ADAMP_HPARAMS(FIELD)
    CHECK(entries(ADAMP_ENUM_FIELD) == n && n == ADAMP_FIELD_END - 1);
    /* The hand-written enums: every constant (a switch without default, so
     * that the compiler names one added here and not below) is listed, and
     * every listed value has its name. */
    static const adamp_algorithm algorithms[] = {ADAMP_ALGO_ADAMP, ADAMP_ALGO_SGDP, ADAMP_ALGO_ADAM, ADAMP_ALGO_ADAMW,
                                                 ADAMP_ALGO_SGD};
    for (size_t i = 0; i < sizeof algorithms / sizeof algorithms[0]; i++) {
        switch (algorithms[i]) {
        case ADAMP_ALGO_ADAMP: case ADAMP_ALGO_SGDP: case ADAMP_ALGO_ADAM: case ADAMP_ALGO_ADAMW: case ADAMP_ALGO_SGD:
            CHECK(lists(ADAMP_ENUM_ALGORITHM, algorithms[i], adamp_algorithm_name(algorithms[i])));
            CHECK(strcmp(adamp_algorithm_name(algorithms[i]), "unknown") != 0);
        }
    }
    CHECK(entries(ADAMP_ENUM_ALGORITHM) == sizeof algorithms / sizeof algorithms[0]);
    static const adamp_isa isas[] = {ADAMP_ISA_AUTO, ADAMP_ISA_SCALAR, ADAMP_ISA_AVX2, ADAMP_ISA_AVX512, ADAMP_ISA_AVX512_BF16};
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        switch (isas[i]) {
        case ADAMP_ISA_AUTO: case ADAMP_ISA_SCALAR: case ADAMP_ISA_AVX2: case ADAMP_ISA_AVX512: case ADAMP_ISA_AVX512_BF16:
            CHECK(lists(ADAMP_ENUM_ISA, isas[i], adamp_isa_name(isas[i])) && strcmp(adamp_isa_name(isas[i]), "unknown") != 0);
        }
    }
    CHECK(entries(ADAMP_ENUM_ISA) == sizeof isas / sizeof isas[0]);
    /* Values no list has. */
    for (int32_t v = -8; v < 64; v++) {
        int32_t got;
        int listed = 0;
        for (size_t i = 0; adamp_enum_entry(ADAMP_ENUM_ALGORITHM, i, &got, NULL); i++) listed |= got == v;
        CHECK(listed == (strcmp(adamp_algorithm_name((adamp_algorithm)v), "unknown") != 0));
        listed = 0;
        for (size_t i = 0; adamp_enum_entry(ADAMP_ENUM_DTYPE, i, &got, NULL); i++) listed |= got == v;
        CHECK(listed == (adamp_dtype_size((adamp_dtype)v) != 0));
    }
    CHECK(!adamp_enum_entry((adamp_enum)0, 0, NULL, NULL) && !adamp_enum_entry((adamp_enum)99, 0, NULL, NULL));
    CHECK(strcmp(adamp_projection_name((adamp_projection)7), "unknown") == 0);
}

/* adamp_field_describe says where each member is and how it is held, and
 * get/set reach it by value. */
static void fields(void) {
#define MEMBER(F, type_, member_, name_, own_, rule_, torch_rule_)                                   \
    {                                                                                                \
        const adamp_field_info *f = adamp_field_describe(ADAMP_FIELD_##F);                           \
        CHECK(f && f->field == ADAMP_FIELD_##F && strcmp(f->member, #member_) == 0);                 \
        CHECK(strcmp(f->name, name_) == 0 && strcmp(adamp_field_name(ADAMP_FIELD_##F), name_) == 0); \
        CHECK(f->offset == offsetof(adamp_hparams, member_) && f->own == own_);                      \
        CHECK((f->kind == ADAMP_FIELD_REAL) == (sizeof(type_) == sizeof(double)));                    \
        adamp_hparams h = {0};                                                                       \
        CHECK(adamp_hparams_set(&h, ADAMP_FIELD_##F, 1) == ADAMP_OK && h.member_ == 1);              \
        CHECK(adamp_hparams_get(&h, ADAMP_FIELD_##F) == 1);                                          \
        adamp_hparams zero = {0};                                                                    \
        h.member_ = 0;                                                                               \
        CHECK(memcmp(&h, &zero, sizeof h) == 0); /* set wrote that member only */                    \
    }
    ADAMP_HPARAMS(MEMBER)
    CHECK(adamp_field_describe(ADAMP_FIELD_NONE) == NULL && adamp_field_describe(ADAMP_FIELD_END) == NULL);
    adamp_hparams h = {.lr = 0.5, .amsgrad = 1};
    CHECK(isnan(adamp_hparams_get(&h, ADAMP_FIELD_END)) && isnan(adamp_hparams_get(NULL, ADAMP_FIELD_LR)));
    CHECK(adamp_hparams_set(&h, ADAMP_FIELD_END, 1) == ADAMP_E_INVALID_ENUM);
    CHECK(adamp_hparams_set(NULL, ADAMP_FIELD_LR, 1) == ADAMP_E_NULL_POINTER);
    /* An int32_t field takes whole numbers it holds, and is left as it was otherwise. */
    CHECK(adamp_hparams_set(&h, ADAMP_FIELD_AMSGRAD, 0.5) == ADAMP_E_INVALID_HPARAM && h.amsgrad == 1);
    CHECK(adamp_hparams_set(&h, ADAMP_FIELD_AMSGRAD, 3e9) == ADAMP_E_INVALID_HPARAM && h.amsgrad == 1);
    CHECK(adamp_hparams_set(&h, ADAMP_FIELD_AMSGRAD, NAN) == ADAMP_E_INVALID_HPARAM && h.amsgrad == 1);
    CHECK(adamp_hparams_set(&h, ADAMP_FIELD_PROJECTION, -2) == ADAMP_OK && h.projection == -2);
    /* The rules are checked by adamp_hparams_check, by field and origin. */
    CHECK(adamp_hparams_check(ADAMP_ALGO_ADAMP, &h, NULL, NULL) == ADAMP_E_INVALID_HPARAM);
    h.projection = ADAMP_PROJECT_LAYER;
    adamp_field bad;
    CHECK(adamp_hparams_check(ADAMP_ALGO_ADAMP, &h, &bad, NULL) == ADAMP_OK);
    /* A field an algorithm does not read is not checked. */
    CHECK(adamp_field_used(ADAMP_ALGO_ADAMP, ADAMP_FIELD_AMSGRAD) == 0);
    h.amsgrad = 7;
    CHECK(adamp_hparams_check(ADAMP_ALGO_ADAMP, &h, NULL, NULL) == ADAMP_OK);
    CHECK(adamp_hparams_check(ADAMP_ALGO_ADAM, &h, &bad, NULL) == ADAMP_E_INVALID_HPARAM && bad == ADAMP_FIELD_AMSGRAD);
}

/* The options a call takes, each beyond the caller's `size` at its default. */
static void options(void) {
    adamp_step_options o, given = {.size = sizeof given, .grad_mul = 0.25, .drop_stats = 1};
    CHECK(adamp_step_options_resolve(NULL, &o) == ADAMP_OK && o.size == sizeof o && o.grad_mul == 1 && o.drop_stats == 0);
    CHECK(adamp_step_options_resolve(&given, &o) == ADAMP_OK && o.grad_mul == 0.25 && o.drop_stats == 1);
    given.size = offsetof(adamp_step_options, drop_stats); /* an older caller's struct */
    CHECK(adamp_step_options_resolve(&given, &o) == ADAMP_OK && o.grad_mul == 0.25 && o.drop_stats == 0);
    given.size = sizeof given;
    given.grad_mul = -1;
    CHECK(adamp_step_options_resolve(&given, &o) == ADAMP_E_INVALID_CONFIG);
    CHECK(adamp_step_options_resolve(&given, NULL) == ADAMP_E_NULL_POINTER);
}

/* Tensors of no elements, among others: each with a gradient has its step
 * counted and projection NONE, without a gradient SKIPPED; nothing of
 * theirs is read (their buffers NULL), and the other tensor's step is
 * bitwise its step alone. */
static void empty_tensors(void) {
    static const adamp_hparams hp[] = {
        {.lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.1, .delta = 0.1, .wd_ratio = 0.1},
        {.lr = 0.1, .momentum = 0.9, .eps = 1e-8, .delta = 0.1, .wd_ratio = 0.1, .projection = ADAMP_PROJECT_CHANNEL},
    };
    static const char present = 0; /* a gradient's address: never read */
    int32_t algo;
    for (size_t a = 0; adamp_enum_entry(ADAMP_ENUM_ALGORITHM, a, &algo, NULL); a++) {
        const adamp_hparams *h = &hp[adamp_field_used((adamp_algorithm)algo, ADAMP_FIELD_MOMENTUM)];
        float p[2][12], g[12], s[2][3][12];
        for (int k = 0; k < 12; k++) p[0][k] = p[1][k] = 0.1f * (float)(k - 5), g[k] = 0.05f * (float)(k % 5 - 2);
        memset(s, 0, sizeof s);
        const adamp_tensor full = {.grad = g, .hparams = h, .rows = 3, .cols = 4, .ndim = 2};
        adamp_tensor t[6] = {
            {.grad = &present, .hparams = h, .rows = 0, .cols = 5, .ndim = 2},  /* [0, 5] */
            full,
            {.grad = &present, .hparams = h, .rows = 3, .cols = 0, .ndim = 2},  /* [3, 0] */
            {.grad = &present, .hparams = h, .rows = 1, .cols = 0, .ndim = 1},  /* [0] */
            {.grad = NULL, .hparams = h, .rows = 2, .cols = 0, .ndim = 3},      /* no gradient */
            full,
        };
        t[1].param = p[0], t[1].state0 = s[0][0], t[1].state1 = s[0][1], t[1].state2 = s[0][2];
        t[5] = t[1];
        t[5].param = p[1], t[5].state0 = s[1][0], t[5].state1 = s[1][1], t[5].state2 = s[1][2];
        double st[64], alone[64];
        CHECK(adamp_stats_len(t, 5) <= 64);
        CHECK(adamp_step(NULL, (adamp_algorithm)algo, ADAMP_F32, t, 5, st, 64) == ADAMP_OK);
        CHECK(adamp_step(NULL, (adamp_algorithm)algo, ADAMP_F32, &t[5], 1, alone, 64) == ADAMP_OK);
        CHECK(memcmp(p[0], p[1], sizeof p[0]) == 0 && memcmp(s[0], s[1], sizeof s[0]) == 0);
        CHECK(t[1].projection == t[5].projection && t[1].step == 1);
        for (int i = 0; i < 4; i++) CHECK(t[i == 1 ? 0 : i].step == 1 && t[i == 1 ? 0 : i].projection == ADAMP_PROJ_NONE);
        CHECK(t[4].step == 0 && t[4].projection == ADAMP_PROJ_SKIPPED);
        /* The decision reads no state; diagnostics have nothing to say of an empty tensor. */
        adamp_tensor d = t[2];
        CHECK(adamp_decide((adamp_algorithm)algo, ADAMP_F32, &d, 1, st, 64) == ADAMP_OK && d.projection == ADAMP_PROJ_NONE);
        adamp_diagnostics out;
        CHECK(adamp_diagnose((adamp_algorithm)algo, ADAMP_F32, &d, 1, st, 64, &out) == ADAMP_OK && isnan(out.grad_norm));
        /* Nor may an update be told to project one. */
        d.projection = ADAMP_PROJ_CHANNEL;
        CHECK(adamp_apply(NULL, (adamp_algorithm)algo, ADAMP_F32, &d, 1, st, 64) ==
              (adamp_algorithm_projects((adamp_algorithm)algo) ? ADAMP_E_INVALID_ENUM : ADAMP_OK));
    }
    /* Norms of no elements are 0. */
    const adamp_tensor e = {.grad = &present, .rows = 4, .cols = 0, .ndim = 2};
    double sumsq = -1, maxabs = -1, work[2];
    CHECK(adamp_grad_norms(NULL, ADAMP_F32, &e, 1, &sumsq, &maxabs, work, 2) == ADAMP_OK && sumsq == 0 && maxabs == 0);
    /* A tensor with elements still needs its buffers. */
    adamp_tensor f = {.grad = &present, .rows = 1, .cols = 1, .ndim = 1, .hparams = &hp[0]};
    CHECK(adamp_validate(NULL, ADAMP_ALGO_ADAM, ADAMP_F32, &f, 1, NULL, 0, NULL) == ADAMP_E_NULL_POINTER);
}

int main(void) {
    enums();
    masters();
    fields();
    options();
    empty_tensors();
    return report();
}
