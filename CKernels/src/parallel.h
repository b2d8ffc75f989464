/* Internal: threads for the kernels, behind one small interface. */
#ifndef ADAMP_PARALLEL_H
#define ADAMP_PARALLEL_H
#include "adamp.h" /* adamp_default_threads(), defined in parallel.c, is public */

/* fn(ctx, thread, nthreads) runs once on each of nthreads threads. */
typedef void (*adamp_task)(void *ctx, int thread, int nthreads);

/* Runs a parallel region of `nthreads` threads (serially when <= 1). */
void adamp_parallel(int nthreads, adamp_task fn, void *ctx);
/* Waits for every thread of the current region; a no-op outside one. */
void adamp_barrier(int nthreads);

#endif
