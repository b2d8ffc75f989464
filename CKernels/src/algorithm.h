/* Internal: the algorithm table expanded from algorithms.inc, and the
 * hyperparameters' fields (ADAMP_HPARAMS, adamp.h) as hparams.c describes them. */
#ifndef ADAMP_ALGORITHM_H
#define ADAMP_ALGORITHM_H
#include "adamp.h"

/* algorithms.inc's columns. */
typedef enum { ADAMP_ORIGIN_OFFICIAL, ADAMP_ORIGIN_TORCH } adamp_origin;
typedef enum { ADAMP_DECAY_L2, ADAMP_DECAY_DECOUPLED, ADAMP_DECAY_DECOUPLED_MOMENTUM } adamp_decay;

typedef struct {
    const char *name;  /* PyTorch's state dict's, or NULL: no such buffer */
    adamp_field needs; /* non-zero for a step to use it (ADAMP_FIELD_NONE: always) */
} adamp_state_info;

typedef struct adamp_algorithm_info {
    adamp_algorithm id;
    const char *name;
    adamp_origin origin;
    int projects;
    adamp_decay decay;
    adamp_state_info states[ADAMP_MAX_STATES];
    unsigned second_moments; /* bit k: state k is a sum of squares, never negative */
    unsigned reads;          /* bit f: the step reads adamp_field f */
} adamp_algorithm_info;

#define ADAMP_F(name) (1u << ADAMP_FIELD_##name)
_Static_assert(ADAMP_FIELD_END <= 32, "a field is a bit of adamp_algorithm_info.reads");

/* NULL if `algorithm` is not one of the list. */
const adamp_algorithm_info *adamp_algorithm_find(adamp_algorithm algorithm);

/* Whether the algorithm's step reads field f. */
static inline int adamp_reads(const adamp_algorithm_info *a, adamp_field f) { return (a->reads >> f) & 1; }

/* AdamP and SGDP project, and need the statistics; the baselines do not. */
static inline int adamp_projects(adamp_algorithm a) {
    const adamp_algorithm_info *i = adamp_algorithm_find(a);
    return i && i->projects;
}

/* Element i of `values` of `dtype`, widened exactly. */
double adamp_element(adamp_dtype dtype, const void *values, size_t i);

/* Entry `index` of the list, as adamp_enum_entry() gives it. */
int adamp_algorithm_at(size_t index, int32_t *value, const char **name);

/* Whether `d` is one of ADAMP_DTYPES, `m` one of ADAMP_MASTERS (names.c). */
int adamp_dtype_valid(adamp_dtype d);
int adamp_master_valid(int32_t m);

/* The arithmetic of a dtype's steps: float64's for float64, float32's for
 * the others (which are only stored narrower). */
static inline adamp_dtype adamp_arithmetic(adamp_dtype d) { return d == ADAMP_F64 ? ADAMP_F64 : ADAMP_F32; }

#endif
