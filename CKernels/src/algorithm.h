/* Internal: the algorithm table expanded from algorithms.inc. */
#ifndef ADAMP_ALGORITHM_H
#define ADAMP_ALGORITHM_H
#include "adamp.h"

typedef struct adamp_algorithm_info {
    adamp_algorithm id;
    const char *name;
    int projects;
    const char *states[ADAMP_MAX_STATES];
    unsigned second_moments; /* bit k: state k is a sum of squares, never negative */
    unsigned reads;          /* bit f: the step reads adamp_field f */
} adamp_algorithm_info;

#define ADAMP_F(name) (1u << ADAMP_FIELD_##name)

/* NULL if `algorithm` is not one of the list. */
const adamp_algorithm_info *adamp_algorithm_find(adamp_algorithm algorithm);

/* AdamP and SGDP project, and need the statistics; the baselines do not. */
static inline int adamp_projects(adamp_algorithm a) {
    const adamp_algorithm_info *i = adamp_algorithm_find(a);
    return i && i->projects;
}

#endif
