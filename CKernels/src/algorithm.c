/* What each algorithm is, from the one list (algorithms.inc): its name,
 * where its rules come from, whether it projects, its weight decay, its
 * state buffers and the fields it reads. */
#include <math.h>
#include "algorithm.h"
#include "convert.h"
#include "kernels.h"

double adamp_element(adamp_dtype dtype, const void *values, size_t i) {
    switch (dtype) {
    case ADAMP_F32: return ((const float *)values)[i];
    case ADAMP_F64: return ((const double *)values)[i];
    case ADAMP_BF16: return adamp_bf16_to_f32(((const uint16_t *)values)[i]);
    case ADAMP_F16: return adamp_f16_to_f32(((const uint16_t *)values)[i]);
    }
    return NAN;
}

/* By id: a direct look-up, as a step asks per tensor. */
static const adamp_algorithm_info ALGORITHMS[ADAMP_ALGO_SLOTS] = {
#define STATE(name, needs) {name, ADAMP_FIELD_##needs}
#define ADAMP_ALGORITHM(id, name, origin, projects, kernels, decay, s0, s1, s2, second_moments, reads) \
    [id] = {id, name, ADAMP_ORIGIN_##origin, projects, ADAMP_DECAY_##decay, {s0, s1, s2}, second_moments, reads},
#include "algorithms.inc"
#undef ADAMP_ALGORITHM
#undef STATE
};

#define ADAMP_ALGORITHM(id, ...) _Static_assert(id > 0 && id < ADAMP_ALGO_SLOTS, "an id below ADAMP_ALGO_SLOTS");
#include "algorithms.inc"
#undef ADAMP_ALGORITHM

const adamp_algorithm_info *adamp_algorithm_find(adamp_algorithm algorithm) {
    const unsigned i = (unsigned)algorithm;
    return i < ADAMP_ALGO_SLOTS && ALGORITHMS[i].name ? &ALGORITHMS[i] : NULL;
}

/* The list's ids, in its order (for adamp_enum_entry). */
static const adamp_algorithm IDS[] = {
#define ADAMP_ALGORITHM(id, ...) id,
#include "algorithms.inc"
#undef ADAMP_ALGORITHM
};

int adamp_algorithm_at(size_t index, int32_t *value, const char **name) {
    if (index >= sizeof IDS / sizeof IDS[0]) return 0;
    if (value) *value = (int32_t)IDS[index];
    if (name) *name = ALGORITHMS[IDS[index]].name;
    return 1;
}

const char *adamp_algorithm_name(adamp_algorithm algorithm) {
    const adamp_algorithm_info *a = adamp_algorithm_find(algorithm);
    return a ? a->name : "unknown";
}

/* The buffers a step uses are the first ones it needs: e.g. not amsgrad's
 * running max without amsgrad, nor SGD's buffer without momentum (torch.optim
 * keeps none then). */
int adamp_state_count(adamp_algorithm algorithm, const adamp_hparams *h) {
    const adamp_algorithm_info *a = adamp_algorithm_find(algorithm);
    if (!a || !h) return -1;
    int n = 0;
    while (n < ADAMP_MAX_STATES && a->states[n].name &&
           (a->states[n].needs == ADAMP_FIELD_NONE || adamp_hparams_get(h, a->states[n].needs) != 0))
        n++;
    return n;
}

const char *adamp_state_name(adamp_algorithm algorithm, int slot) {
    const adamp_algorithm_info *a = adamp_algorithm_find(algorithm);
    return a && slot >= 0 && slot < ADAMP_MAX_STATES ? a->states[slot].name : NULL;
}

int adamp_algorithm_projects(adamp_algorithm algorithm) { return adamp_projects(algorithm); }

int adamp_field_used(adamp_algorithm algorithm, adamp_field field) {
    const adamp_algorithm_info *a = adamp_algorithm_find(algorithm);
    return a && field > ADAMP_FIELD_NONE && field < ADAMP_FIELD_END && adamp_reads(a, field);
}

adamp_status adamp_state_check(adamp_algorithm algorithm, int slot, adamp_dtype dtype, const void *values,
                               size_t count, size_t *index) {
    const adamp_algorithm_info *a = adamp_algorithm_find(algorithm);
    if (!a || slot < 0 || slot >= ADAMP_MAX_STATES || !a->states[slot].name || !adamp_dtype_valid(dtype))
        return ADAMP_E_INVALID_ENUM;
    if (count > 0 && !values) return ADAMP_E_NULL_POINTER;
    const int nonneg = (a->second_moments >> slot) & 1;
    for (size_t i = 0; i < count; i++) {
        const double v = adamp_element(dtype, values, i);
        if (!isfinite(v) || (nonneg && v < 0)) {
            if (index) *index = i;
            return ADAMP_E_INVALID_STATE;
        }
    }
    return ADAMP_OK;
}
