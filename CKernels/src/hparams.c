/* The hyperparameters, from the one list (ADAMP_HPARAMS, adamp.h): their
 * description, their values by field, and their rules, for C callers and
 * every binding alike. Ranges are those the official code and torch.optim
 * accept or assume (SGDP divides by 1 - momentum, so momentum < 1;
 * torch.optim.SGD bounds momentum only below and does not check dampening),
 * always finite. */
#include <math.h>
#include <stddef.h>
#include <string.h>
#include "algorithm.h"

/* The rules a field's values follow: a test and the text that names it. */
#define RULES(X)                                                                     \
    X(NONNEG, isfinite(x) && x >= 0, "must be finite and >= 0")                      \
    X(UNIT_OPEN, isfinite(x) && x >= 0 && x < 1, "must be finite and in [0, 1)")     \
    X(UNIT_CLOSED, isfinite(x) && x >= 0 && x <= 1, "must be finite and in [0, 1]")  \
    X(FINITE, isfinite(x), "must be finite")                                         \
    X(BOOL, x == 0 || x == 1, "must be 0 or 1")                                      \
    X(PROJECTION_RULE, strcmp(adamp_projection_rule_name((adamp_projection_rule)(int32_t)x), "unknown") != 0, \
      "must be an adamp_projection_rule")

typedef enum {
#define RULE_ID(name, test, text) RULE_##name,
    RULES(RULE_ID)
#undef RULE_ID
} rule_id;

static int passes(rule_id r, double x) {
    switch (r) {
#define RULE_TEST(name, test, text) \
    case RULE_##name: return test;
        RULES(RULE_TEST)
#undef RULE_TEST
    }
    return 0;
}

static const char *const RULE_TEXT[] = {
#define RULE_TEXT_(name, test, text) text,
    RULES(RULE_TEXT_)
#undef RULE_TEXT_
};

/* How each rule's values are held: a flag, a choice, or a real number. */
enum {
    KIND_NONNEG = ADAMP_FIELD_REAL,
    KIND_UNIT_OPEN = ADAMP_FIELD_REAL,
    KIND_UNIT_CLOSED = ADAMP_FIELD_REAL,
    KIND_FINITE = ADAMP_FIELD_REAL,
    KIND_BOOL = ADAMP_FIELD_FLAG,
    KIND_PROJECTION_RULE = ADAMP_FIELD_CHOICE,
};

#define FIELD_INFO(F, type, member, name, own, rule, torch_rule) \
    [ADAMP_FIELD_##F] = {ADAMP_FIELD_##F, #member, name, offsetof(adamp_hparams, member), KIND_##rule, own},
static const adamp_field_info FIELDS[ADAMP_FIELD_END] = {ADAMP_HPARAMS(FIELD_INFO)};
#undef FIELD_INFO

/* By field: its rule in the official code, and in torch.optim. */
static const rule_id RULE_OF[2][ADAMP_FIELD_END] = {
#define OFFICIAL_RULE(F, type, member, name, own, rule, torch_rule) [ADAMP_FIELD_##F] = RULE_##rule,
#define TORCH_RULE(F, type, member, name, own, rule, torch_rule) [ADAMP_FIELD_##F] = RULE_##torch_rule,
    [ADAMP_ORIGIN_OFFICIAL] = {ADAMP_HPARAMS(OFFICIAL_RULE)},
    [ADAMP_ORIGIN_TORCH] = {ADAMP_HPARAMS(TORCH_RULE)},
#undef OFFICIAL_RULE
#undef TORCH_RULE
};

/* A real is a double; a flag or a choice an int32_t; both rules of a field
 * hold its values the same way. */
#define CHECK_TYPE(F, type, member, name, own, rule, torch_rule)                                             \
    _Static_assert(sizeof(type) == ((int)KIND_##rule == (int)ADAMP_FIELD_REAL ? sizeof(double) : sizeof(int32_t)) && \
                       KIND_##rule == KIND_##torch_rule,                                                     \
                   #member ": its type is not its rule's");
ADAMP_HPARAMS(CHECK_TYPE)
#undef CHECK_TYPE

const adamp_field_info *adamp_field_describe(adamp_field field) {
    return field > ADAMP_FIELD_NONE && field < ADAMP_FIELD_END ? &FIELDS[field] : NULL;
}

const char *adamp_field_name(adamp_field field) {
    if (field == ADAMP_FIELD_NONE) return "";
    const adamp_field_info *f = adamp_field_describe(field);
    return f ? f->name : "unknown field";
}

double adamp_hparams_get(const adamp_hparams *h, adamp_field field) {
    const adamp_field_info *f = adamp_field_describe(field);
    if (!h || !f) return NAN;
    const char *at = (const char *)h + f->offset;
    if (f->kind == ADAMP_FIELD_REAL) {
        double x;
        memcpy(&x, at, sizeof x);
        return x;
    }
    int32_t i;
    memcpy(&i, at, sizeof i);
    return i;
}

adamp_status adamp_hparams_set(adamp_hparams *h, adamp_field field, double value) {
    const adamp_field_info *f = adamp_field_describe(field);
    if (!h) return ADAMP_E_NULL_POINTER;
    if (!f) return ADAMP_E_INVALID_ENUM;
    char *at = (char *)h + f->offset;
    if (f->kind == ADAMP_FIELD_REAL) {
        memcpy(at, &value, sizeof value);
        return ADAMP_OK;
    }
    if (!(value >= INT32_MIN && value <= INT32_MAX && value == floor(value))) return ADAMP_E_INVALID_HPARAM;
    const int32_t i = (int32_t)value;
    memcpy(at, &i, sizeof i);
    return ADAMP_OK;
}

static adamp_status fail(adamp_field f, const char *r, adamp_field *field, const char **rule) {
    if (field) *field = f;
    if (rule) *rule = r;
    return ADAMP_E_INVALID_HPARAM;
}

/* The fields the algorithm reads, in the list's order, each by its origin's
 * rule; then torch.optim.SGD's own rule for nesterov, where its check is. */
adamp_status adamp_hparams_check(adamp_algorithm algorithm, const adamp_hparams *h, adamp_field *field,
                                 const char **rule) {
    if (field) *field = ADAMP_FIELD_NONE;
    if (rule) *rule = "";
    if (!h) return ADAMP_E_NULL_POINTER;
    const adamp_algorithm_info *a = adamp_algorithm_find(algorithm);
    if (!a) return ADAMP_E_INVALID_ENUM;
    for (adamp_field f = ADAMP_FIELD_NONE + 1; f < ADAMP_FIELD_END; f++) {
        if (!adamp_reads(a, f)) continue;
        const rule_id r = RULE_OF[a->origin][f];
        if (!passes(r, adamp_hparams_get(h, f))) return fail(f, RULE_TEXT[r], field, rule);
        if (f == ADAMP_FIELD_NESTEROV && a->origin == ADAMP_ORIGIN_TORCH && h->nesterov &&
            (h->momentum <= 0 || h->dampening != 0))
            return fail(f, "needs momentum > 0 and dampening == 0", field, rule);
    }
    return ADAMP_OK;
}
