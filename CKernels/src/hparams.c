/* Hyperparameter rules: the one place they are written, for C callers and the
 * Swift layer alike. Ranges are those the official code and torch.optim accept
 * or assume (SGDP divides by 1 - momentum, so momentum < 1; torch.optim.SGD
 * bounds momentum only below and does not check dampening), always finite. */
#include <math.h>
#include "algorithm.h"

static const char *const RULE_NONNEG = "must be finite and >= 0";
static const char *const RULE_UNIT_OPEN = "must be finite and in [0, 1)";
static const char *const RULE_UNIT_CLOSED = "must be finite and in [0, 1]";
static const char *const RULE_BOOL = "must be 0 or 1";
static const char *const RULE_FINITE = "must be finite";
static const char *const RULE_PROJECTION = "must be an adamp_projection_rule (0 to 3)";
static const char *const RULE_NESTEROV = "needs momentum > 0 and dampening == 0";

static int nonneg(double x) { return isfinite(x) && x >= 0; }
static int unit_open(double x) { return isfinite(x) && x >= 0 && x < 1; }
static int unit_closed(double x) { return isfinite(x) && x >= 0 && x <= 1; }

static adamp_status fail(adamp_field f, const char *r, adamp_field *field, const char **rule) {
    if (field) *field = f;
    if (rule) *rule = r;
    return ADAMP_E_INVALID_HPARAM;
}

/* Adam, AdamW and SGD, in torch.optim's order of checks. */
static adamp_status check_baseline(adamp_algorithm algorithm, const adamp_hparams *h, adamp_field *field,
                                   const char **rule) {
    if (algorithm == ADAMP_ALGO_SGD) {
        if (!nonneg(h->momentum)) return fail(ADAMP_FIELD_MOMENTUM, RULE_NONNEG, field, rule);
        if (!isfinite(h->dampening)) return fail(ADAMP_FIELD_DAMPENING, RULE_FINITE, field, rule);
        if (!nonneg(h->weight_decay)) return fail(ADAMP_FIELD_WEIGHT_DECAY, RULE_NONNEG, field, rule);
        if (h->nesterov != 0 && h->nesterov != 1) return fail(ADAMP_FIELD_NESTEROV, RULE_BOOL, field, rule);
        if (h->nesterov && (h->momentum <= 0 || h->dampening != 0))
            return fail(ADAMP_FIELD_NESTEROV, RULE_NESTEROV, field, rule);
    } else {
        if (!nonneg(h->eps)) return fail(ADAMP_FIELD_EPS, RULE_NONNEG, field, rule);
        if (!unit_open(h->beta1)) return fail(ADAMP_FIELD_BETA1, RULE_UNIT_OPEN, field, rule);
        if (!unit_open(h->beta2)) return fail(ADAMP_FIELD_BETA2, RULE_UNIT_OPEN, field, rule);
        if (!nonneg(h->weight_decay)) return fail(ADAMP_FIELD_WEIGHT_DECAY, RULE_NONNEG, field, rule);
        if (h->amsgrad != 0 && h->amsgrad != 1) return fail(ADAMP_FIELD_AMSGRAD, RULE_BOOL, field, rule);
    }
    if (h->maximize != 0 && h->maximize != 1) return fail(ADAMP_FIELD_MAXIMIZE, RULE_BOOL, field, rule);
    return ADAMP_OK;
}

adamp_status adamp_hparams_check(adamp_algorithm algorithm, const adamp_hparams *h,
                                 adamp_field *field, const char **rule) {
    if (field) *field = ADAMP_FIELD_NONE;
    if (rule) *rule = "";
    if (!h) return ADAMP_E_NULL_POINTER;
    if (!adamp_algorithm_find(algorithm)) return ADAMP_E_INVALID_ENUM;
    if (!nonneg(h->lr)) return fail(ADAMP_FIELD_LR, RULE_NONNEG, field, rule);
    if (algorithm != ADAMP_ALGO_ADAMP && algorithm != ADAMP_ALGO_SGDP) return check_baseline(algorithm, h, field, rule);
    if (algorithm == ADAMP_ALGO_ADAMP) {
        if (!unit_open(h->beta1)) return fail(ADAMP_FIELD_BETA1, RULE_UNIT_OPEN, field, rule);
        if (!unit_open(h->beta2)) return fail(ADAMP_FIELD_BETA2, RULE_UNIT_OPEN, field, rule);
    } else {
        if (!unit_open(h->momentum)) return fail(ADAMP_FIELD_MOMENTUM, RULE_UNIT_OPEN, field, rule);
        if (!unit_open(h->dampening)) return fail(ADAMP_FIELD_DAMPENING, RULE_UNIT_OPEN, field, rule);
    }
    if (!nonneg(h->eps)) return fail(ADAMP_FIELD_EPS, RULE_NONNEG, field, rule);
    if (!nonneg(h->weight_decay)) return fail(ADAMP_FIELD_WEIGHT_DECAY, RULE_NONNEG, field, rule);
    if (!nonneg(h->delta)) return fail(ADAMP_FIELD_DELTA, RULE_NONNEG, field, rule);
    if (!unit_closed(h->wd_ratio)) return fail(ADAMP_FIELD_WD_RATIO, RULE_UNIT_CLOSED, field, rule);
    if (h->nesterov != 0 && h->nesterov != 1) return fail(ADAMP_FIELD_NESTEROV, RULE_BOOL, field, rule);
    if (h->projection < ADAMP_PROJECT_AUTO || h->projection > ADAMP_PROJECT_LAYER)
        return fail(ADAMP_FIELD_PROJECTION, RULE_PROJECTION, field, rule);
    return ADAMP_OK;
}

const char *adamp_field_name(adamp_field field) {
    switch (field) {
    case ADAMP_FIELD_NONE: return "";
    case ADAMP_FIELD_LR: return "lr";
    case ADAMP_FIELD_BETA1: return "betas[0]";
    case ADAMP_FIELD_BETA2: return "betas[1]";
    case ADAMP_FIELD_MOMENTUM: return "momentum";
    case ADAMP_FIELD_DAMPENING: return "dampening";
    case ADAMP_FIELD_EPS: return "eps";
    case ADAMP_FIELD_WEIGHT_DECAY: return "weight_decay";
    case ADAMP_FIELD_DELTA: return "delta";
    case ADAMP_FIELD_WD_RATIO: return "wd_ratio";
    case ADAMP_FIELD_NESTEROV: return "nesterov";
    case ADAMP_FIELD_AMSGRAD: return "amsgrad";
    case ADAMP_FIELD_MAXIMIZE: return "maximize";
    case ADAMP_FIELD_PROJECTION: return "projection";
    }
    return "unknown field";
}

const char *adamp_status_string(adamp_status status) {
    switch (status) {
    case ADAMP_OK: return "ok";
    case ADAMP_E_NULL_POINTER: return "a required pointer is NULL";
    case ADAMP_E_INVALID_SIZE: return "a tensor has a zero or overflowing size, or an invalid step count";
    case ADAMP_E_STATS_TOO_SMALL: return "the stats buffer is shorter than adamp_stats_len()";
    case ADAMP_E_INVALID_HPARAM: return "a hyperparameter is out of range";
    case ADAMP_E_INVALID_ENUM: return "an enum argument or a projection code is not valid";
    case ADAMP_E_UNSUPPORTED_ISA: return "the requested ISA is not supported on this CPU or in this build";
    case ADAMP_E_INVALID_CONFIG: return "the config's threads is not in [0, ADAMP_MAX_THREADS], its block is negative, or an option is out of range";
    case ADAMP_E_INVALID_STATE: return "a state value no step writes: not finite, or a negative second moment";
    }
    return "unknown status";
}
