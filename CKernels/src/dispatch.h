/* Internal: which kernel variant serves a dtype on this CPU. */
#ifndef ADAMP_DISPATCH_H
#define ADAMP_DISPATCH_H
#include "adamp.h"
#include "kernels.h"
const adamp_kernels *adamp_select_kernels(adamp_dtype dtype);
#endif
