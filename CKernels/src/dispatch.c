/* Kernel selection at run time, from the CPU's features (and $ADAMP_ISA). */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "dispatch.h"

static const struct {
    adamp_dtype dtype;
    adamp_isa isa;
    const adamp_kernels *kernels;
} VARIANTS[] = {
#define ADAMP_VARIANT(dtype, isa, table) {dtype, isa, &table},
#include "variants.inc"
#undef ADAMP_VARIANT
};

const adamp_kernels *adamp_kernels_for(adamp_dtype dtype, adamp_isa isa) {
    for (size_t i = 0; i < sizeof VARIANTS / sizeof VARIANTS[0]; i++)
        if (VARIANTS[i].dtype == dtype && VARIANTS[i].isa == isa) return VARIANTS[i].kernels;
    return NULL;
}

static int cpu_has(adamp_isa isa) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (isa == ADAMP_ISA_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (isa == ADAMP_ISA_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return isa == ADAMP_ISA_SCALAR;
}

int adamp_isa_supported(adamp_isa isa) {
    if (isa == ADAMP_ISA_AUTO) return 1;
    return adamp_kernels_for(ADAMP_F32, isa) != NULL && cpu_has(isa);
}

const char *adamp_isa_name(adamp_isa isa) {
    switch (isa) {
    case ADAMP_ISA_AUTO: return "auto";
    case ADAMP_ISA_SCALAR: return "scalar";
    case ADAMP_ISA_AVX2: return "avx2";
    case ADAMP_ISA_AVX512: return "avx512";
    }
    return "unknown";
}

static adamp_isa best(void) {
    if (adamp_isa_supported(ADAMP_ISA_AVX512)) return ADAMP_ISA_AVX512;
    if (adamp_isa_supported(ADAMP_ISA_AVX2)) return ADAMP_ISA_AVX2;
    return ADAMP_ISA_SCALAR;
}

/* $ADAMP_ISA forces a variant (for tests and benchmarks); like simdjson's
 * variable, a name that is unknown or not supported here never aborts: it is
 * reported once and the best variant is used. Read once: the environment of
 * a process is not expected to change this under it. */
static adamp_isa from_environment(void) {
    const char *name = getenv("ADAMP_ISA");
    if (!name || !*name || strcmp(name, "auto") == 0) return best();
    for (adamp_isa i = ADAMP_ISA_SCALAR; i <= ADAMP_ISA_AVX512; i++) {
        if (strcmp(name, adamp_isa_name(i)) != 0) continue;
        if (adamp_isa_supported(i)) return i;
        fprintf(stderr, "adamp: ADAMP_ISA=%s is not supported on this CPU; using %s\n", name, adamp_isa_name(best()));
        return best();
    }
    fprintf(stderr, "adamp: ADAMP_ISA=%s is not one of scalar, avx2, avx512; using %s\n", name, adamp_isa_name(best()));
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
