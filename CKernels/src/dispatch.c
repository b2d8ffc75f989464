/* Kernel selection at run time, from the CPU's features (and $ADAMP_ISA). */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "dispatch.h"

/* Every storage of every variant. */
static const struct {
    adamp_dtype dtype, grad;
    int master;
    adamp_isa isa;
    const adamp_kernels *kernels;
} VARIANTS[] = {
#define ENTRY_(suffix, dtype, master, grad, isa, variant) {dtype, grad, master, isa, &ADAMP_TABLE(variant, suffix)},
#define ADAMP_VARIANT(type, isa, variant) ADAMP_##type##_STORAGES(ENTRY_, isa, variant)
#include "variants.inc"
#undef ADAMP_VARIANT
#undef ENTRY_
};

const adamp_kernels *adamp_kernels_for(adamp_dtype dtype, int master, adamp_dtype grad, adamp_isa isa) {
    for (size_t i = 0; i < sizeof VARIANTS / sizeof VARIANTS[0]; i++)
        if (VARIANTS[i].dtype == dtype && VARIANTS[i].master == master && VARIANTS[i].grad == grad &&
            VARIANTS[i].isa == isa)
            return VARIANTS[i].kernels;
    return NULL;
}

static int cpu_has(adamp_isa isa) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (isa == ADAMP_ISA_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    if (isa == ADAMP_ISA_AVX512 || isa == ADAMP_ISA_AVX512_BF16)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
               (isa == ADAMP_ISA_AVX512 ||
                (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                 __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bf16")));
#endif
    return isa == ADAMP_ISA_SCALAR;
}

int adamp_isa_supported(adamp_isa isa) {
    if (isa == ADAMP_ISA_AUTO) return 1;
    return adamp_kernels_for(ADAMP_F32, 0, ADAMP_F32, isa) != NULL && cpu_has(isa);
}

static const struct {
    adamp_isa isa;
    const char *name;
} ISAS[] = {
#define ADAMP_ISA_ENTRY(id, name) {id, name},
#include "isas.inc"
#undef ADAMP_ISA_ENTRY
};
#define ISA_COUNT (sizeof ISAS / sizeof ISAS[0])

int adamp_isa_valid(adamp_isa isa) {
    for (size_t i = 0; i < ISA_COUNT; i++)
        if (ISAS[i].isa == isa) return 1;
    return isa == ADAMP_ISA_AUTO;
}

int adamp_isa_at(size_t index, int32_t *value, const char **name) {
    if (index > ISA_COUNT) return 0;
    const adamp_isa isa = index == 0 ? ADAMP_ISA_AUTO : ISAS[index - 1].isa;
    if (value) *value = (int32_t)isa;
    if (name) *name = adamp_isa_name(isa);
    return 1;
}

const char *adamp_isa_name(adamp_isa isa) {
    if (isa == ADAMP_ISA_AUTO) return "auto";
    for (size_t i = 0; i < ISA_COUNT; i++)
        if (ISAS[i].isa == isa) return ISAS[i].name;
    return "unknown";
}

/* The list is best first; scalar, last, is always there. */
static adamp_isa best(void) {
    for (size_t i = 0; i < ISA_COUNT; i++)
        if (adamp_isa_supported(ISAS[i].isa)) return ISAS[i].isa;
    return ADAMP_ISA_SCALAR;
}

/* $ADAMP_ISA forces a variant (for tests and benchmarks); like simdjson's
 * variable, a name that is unknown or not supported here never aborts: it is
 * reported once and the best variant is used. Read once: the environment of
 * a process is not expected to change this under it. */
static adamp_isa from_environment(void) {
    const char *name = getenv("ADAMP_ISA");
    if (!name || !*name || strcmp(name, "auto") == 0) return best();
    for (size_t i = 0; i < ISA_COUNT; i++) {
        if (strcmp(name, ISAS[i].name) != 0) continue;
        if (adamp_isa_supported(ISAS[i].isa)) return ISAS[i].isa;
        fprintf(stderr, "adamp: ADAMP_ISA=%s is not supported on this CPU; using %s\n", name, adamp_isa_name(best()));
        return best();
    }
    char names[64] = "";
    for (size_t i = ISA_COUNT; i-- > 0;) /* from scalar up */
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", ISAS[i].name, i ? ", " : "");
    fprintf(stderr, "adamp: ADAMP_ISA=%s is not one of %s; using %s\n", name, names, adamp_isa_name(best()));
    return best();
}

adamp_isa adamp_isa_selected(adamp_isa isa) {
    static int cached; /* 0: not yet; else the adamp_isa + 1 */
    if (isa != ADAMP_ISA_AUTO) return isa;
    int c = __atomic_load_n(&cached, __ATOMIC_ACQUIRE);
    if (c == 0) {
        c = (int)from_environment() + 1;
        __atomic_store_n(&cached, c, __ATOMIC_RELEASE);
    }
    return (adamp_isa)(c - 1);
}
