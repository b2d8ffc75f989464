/* Internal: threads for the kernels, behind one small interface. */
#ifndef ADAMP_PARALLEL_H
#define ADAMP_PARALLEL_H

#include "adamp.h" /* adamp_default_threads(), defined in parallel.c, is public */

/* The threads of one parallel region, for adamp_barrier(). */
typedef struct adamp_team adamp_team;

/* fn(ctx, team, thread, nthreads) runs once on each of nthreads threads. */
typedef void (*adamp_task)(void *ctx, adamp_team *team, int thread, int nthreads);

/* Runs a parallel region of `nthreads` threads (serially when <= 1). */
void adamp_parallel(int nthreads, adamp_task fn, void *ctx);

/* Waits for every thread of the team (a no-op for a team of one). A waiting
 * thread spins briefly, then sleeps until the last one arrives, so that on
 * a machine where another process holds a core it does not burn the time
 * slice the late thread needs. */
void adamp_barrier(adamp_team *team);

#endif
