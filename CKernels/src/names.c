/* The names of the public enums, from their lists (adamp.h, algorithms.inc,
 * isas.inc), and adamp_enum_entry(), which gives bindings every value with
 * its name so that they restate none. */
#include <stddef.h>
#include "algorithm.h"
#include "dispatch.h"

/* One small list as a table: value, name (and, for dtypes, bytes). */
typedef struct {
    int32_t value;
    const char *name;
    size_t bytes;
} entry;

#define DTYPE(suffix, value, name, bytes) {value, name, bytes},
#define ENTRY(suffix, value, name) {value, name, 0},
static const entry DTYPES[] = {ADAMP_DTYPES(DTYPE)};
static const entry PROJECTIONS[] = {ADAMP_PROJECTIONS(ENTRY)};
static const entry PROJECTION_RULES[] = {ADAMP_PROJECTION_RULES(ENTRY)};
#define MASTER(suffix, value, name, ...) {value, name, 0},
static const entry MASTERS[] = {ADAMP_MASTERS(MASTER)};
#undef MASTER
#undef DTYPE
#undef ENTRY
#define COUNT(table) (sizeof table / sizeof table[0])

static const entry *find(const entry *table, size_t n, int32_t value) {
    for (size_t i = 0; i < n; i++)
        if (table[i].value == value) return &table[i];
    return NULL;
}

static const char *name_in(const entry *table, size_t n, int32_t value) {
    const entry *e = find(table, n, value);
    return e ? e->name : "unknown";
}

int adamp_dtype_valid(adamp_dtype d) { return find(DTYPES, COUNT(DTYPES), (int32_t)d) != NULL; }
const char *adamp_dtype_name(adamp_dtype d) { return name_in(DTYPES, COUNT(DTYPES), (int32_t)d); }
size_t adamp_dtype_size(adamp_dtype d) {
    const entry *e = find(DTYPES, COUNT(DTYPES), (int32_t)d);
    return e ? e->bytes : 0;
}
const char *adamp_projection_name(adamp_projection p) { return name_in(PROJECTIONS, COUNT(PROJECTIONS), (int32_t)p); }
const char *adamp_projection_rule_name(adamp_projection_rule r) {
    return name_in(PROJECTION_RULES, COUNT(PROJECTION_RULES), (int32_t)r);
}
const char *adamp_master_name(adamp_master m) { return name_in(MASTERS, COUNT(MASTERS), (int32_t)m); }
int adamp_master_valid(int32_t m) { return find(MASTERS, COUNT(MASTERS), m) != NULL; }

typedef struct {
    const char *buffer, *element;
    unsigned dtypes;
} master_facts;

static const master_facts *master_facts_of(adamp_master m) {
#define FACTS(suffix, value, name, buffer, element, dtypes) {buffer, element, dtypes},
    static const master_facts facts[] = {ADAMP_MASTERS(FACTS)};
#undef FACTS
    const entry *e = find(MASTERS, COUNT(MASTERS), (int32_t)m);
    return e ? &facts[e - MASTERS] : NULL;
}

void adamp_master_buffer(adamp_master m, const char **name, const char **element) {
    const master_facts *f = master_facts_of(m);
    if (name) *name = f ? f->buffer : NULL;
    if (element) *element = f ? f->element : NULL;
}

int adamp_master_takes(adamp_master m, adamp_dtype d) {
    const master_facts *f = master_facts_of(m);
    return f && adamp_dtype_valid(d) && (unsigned)d < 32 && (f->dtypes >> (unsigned)d & 1u);
}

adamp_dtype adamp_state_dtype(adamp_dtype d, adamp_master m) {
    if (!adamp_master_takes(m, d)) return (adamp_dtype)0;
    return m == ADAMP_MASTER_OFF ? d : ADAMP_F32;
}

static int table_at(const entry *table, size_t n, size_t index, int32_t *value, const char **name) {
    if (index >= n) return 0;
    if (value) *value = table[index].value;
    if (name) *name = table[index].name;
    return 1;
}

int adamp_enum_entry(adamp_enum e, size_t index, int32_t *value, const char **name) {
    switch (e) {
    case ADAMP_ENUM_ALGORITHM: return adamp_algorithm_at(index, value, name);
    case ADAMP_ENUM_DTYPE: return table_at(DTYPES, COUNT(DTYPES), index, value, name);
    case ADAMP_ENUM_ISA: return adamp_isa_at(index, value, name);
    case ADAMP_ENUM_PROJECTION: return table_at(PROJECTIONS, COUNT(PROJECTIONS), index, value, name);
    case ADAMP_ENUM_PROJECTION_RULE: return table_at(PROJECTION_RULES, COUNT(PROJECTION_RULES), index, value, name);
    case ADAMP_ENUM_MASTER: return table_at(MASTERS, COUNT(MASTERS), index, value, name);
    case ADAMP_ENUM_FIELD: {
        const adamp_field_info *f = adamp_field_describe((adamp_field)(index + 1));
        if (!f) return 0;
        if (value) *value = (int32_t)f->field;
        if (name) *name = f->name;
        return 1;
    }
    }
    return 0;
}

const char *adamp_status_string(adamp_status status) {
    switch (status) {
    case ADAMP_OK: return "ok";
    case ADAMP_E_NULL_POINTER: return "a required pointer is NULL";
    case ADAMP_E_INVALID_SIZE: return "a tensor has an overflowing size, or an invalid step count";
    case ADAMP_E_STATS_TOO_SMALL: return "the stats buffer is shorter than adamp_stats_len()";
    case ADAMP_E_INVALID_HPARAM: return "a hyperparameter is out of range";
    case ADAMP_E_INVALID_ENUM: return "an enum argument or a projection code is not valid";
    case ADAMP_E_UNSUPPORTED_ISA: return "the requested ISA is not supported on this CPU or in this build";
    case ADAMP_E_INVALID_CONFIG: return "the config's threads is not in [0, ADAMP_MAX_THREADS], its block is negative, or an option is out of range";
    case ADAMP_E_INVALID_STATE: return "a state value no step writes: not finite, or a negative second moment";
    }
    return "unknown status";
}
