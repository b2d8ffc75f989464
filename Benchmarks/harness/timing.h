/* What the timing harnesses (hot-step.c, many-small.c, many-small-stream.c, pass-patterns.c,
 * step-parts.c, read-bandwidth.c, line-sharing.c) share: a monotonic clock in seconds and an order of
 * doubles for qsort (medians). Include first: it asks for POSIX clocks. */
#ifndef ADAMP_SCRIPTS_TIMING_H
#define ADAMP_SCRIPTS_TIMING_H
#define _POSIX_C_SOURCE 199309L
#include <time.h>

static inline double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static inline int cmp(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
#endif
