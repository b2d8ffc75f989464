/* Internal: which kernel variant serves a dtype and ISA. */
#ifndef ADAMP_DISPATCH_H
#define ADAMP_DISPATCH_H
#include "adamp.h"
#include "kernels.h"
/* Whether `isa` is one of the enum's values (isas.inc, or AUTO). */
int adamp_isa_valid(adamp_isa isa);
/* Entry `index` of the enum (AUTO, then isas.inc's), as adamp_enum_entry() gives it. */
int adamp_isa_at(size_t index, int32_t *value, const char **name);
/* The kernels of parameters of `dtype` (with a master: `master`, an
 * adamp_master; 0 none) and gradients of `grad` on `isa`; NULL if this build
 * has no such variant. `isa` must not be AUTO. */
const adamp_kernels *adamp_kernels_for(adamp_dtype dtype, int master, adamp_dtype grad, adamp_isa isa);
#endif
