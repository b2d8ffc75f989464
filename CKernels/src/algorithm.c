/* What each algorithm is, from the one list (algorithms.inc): its name,
 * whether it projects, and its state buffers. */
#include <math.h>
#include "algorithm.h"

static const adamp_algorithm_info ALGORITHMS[] = {
#define ADAMP_ALGORITHM(id, name, projects, s0, s1, s2, second_moments, reads) \
    {id, name, projects, {s0, s1, s2}, second_moments, reads},
#include "algorithms.inc"
#undef ADAMP_ALGORITHM
};

const adamp_algorithm_info *adamp_algorithm_find(adamp_algorithm algorithm) {
    for (size_t i = 0; i < sizeof ALGORITHMS / sizeof ALGORITHMS[0]; i++)
        if (ALGORITHMS[i].id == algorithm) return &ALGORITHMS[i];
    return NULL;
}

const char *adamp_algorithm_name(adamp_algorithm algorithm) {
    const adamp_algorithm_info *a = adamp_algorithm_find(algorithm);
    return a ? a->name : "unknown";
}

/* The buffers a step uses are always the first ones: all of the list's,
 * except amsgrad's running max without amsgrad and SGD's buffer without
 * momentum (torch.optim keeps none then). */
int adamp_state_count(adamp_algorithm algorithm, const adamp_hparams *h) {
    const adamp_algorithm_info *a = adamp_algorithm_find(algorithm);
    if (!a || !h) return -1;
    int n = 0;
    while (n < ADAMP_MAX_STATES && a->states[n]) n++;
    if ((algorithm == ADAMP_ALGO_ADAM || algorithm == ADAMP_ALGO_ADAMW) && !h->amsgrad) n = 2;
    if (algorithm == ADAMP_ALGO_SGD && h->momentum == 0) n = 0;
    return n;
}

const char *adamp_state_name(adamp_algorithm algorithm, int slot) {
    const adamp_algorithm_info *a = adamp_algorithm_find(algorithm);
    return a && slot >= 0 && slot < ADAMP_MAX_STATES ? a->states[slot] : NULL;
}

int adamp_algorithm_projects(adamp_algorithm algorithm) { return adamp_projects(algorithm); }

int adamp_field_used(adamp_algorithm algorithm, adamp_field field) {
    const adamp_algorithm_info *a = adamp_algorithm_find(algorithm);
    return a && field > ADAMP_FIELD_NONE && field <= ADAMP_FIELD_PROJECTION && ((a->reads >> field) & 1);
}

adamp_status adamp_state_check(adamp_algorithm algorithm, int slot, adamp_dtype dtype, const void *values,
                               size_t count, size_t *index) {
    const adamp_algorithm_info *a = adamp_algorithm_find(algorithm);
    if (!a || slot < 0 || slot >= ADAMP_MAX_STATES || !a->states[slot] || (dtype != ADAMP_F32 && dtype != ADAMP_F64))
        return ADAMP_E_INVALID_ENUM;
    if (count > 0 && !values) return ADAMP_E_NULL_POINTER;
    const int nonneg = (a->second_moments >> slot) & 1;
    for (size_t i = 0; i < count; i++) {
        const double v = dtype == ADAMP_F32 ? (double)((const float *)values)[i] : ((const double *)values)[i];
        if (!isfinite(v) || (nonneg && v < 0)) {
            if (index) *index = i;
            return ADAMP_E_INVALID_STATE;
        }
    }
    return ADAMP_OK;
}
