/* Internal: threads for the kernels, behind one small interface. */
#ifndef ADAMP_PARALLEL_H
#define ADAMP_PARALLEL_H

#include <stdatomic.h>
#include "adamp.h" /* adamp_default_threads(), defined in parallel.c, is public */

/* fn(ctx, thread, nthreads) runs once on each of nthreads threads. */
typedef void (*adamp_task)(void *ctx, int thread, int nthreads);

/* Runs a parallel region of `nthreads` threads (serially when <= 1). */
void adamp_parallel(int nthreads, adamp_task fn, void *ctx);

/* A count of events that the threads of a region wait on: a thread reads
 * it, looks for work, and if it finds none waits for the count to move. A
 * waiting thread spins briefly, then sleeps until adamp_signal_raise() wakes
 * it, so that on a machine where another process holds a core it does not
 * burn the time slice a descheduled thread needs. */
typedef struct {
    _Atomic unsigned count;
    _Atomic unsigned sleepers; /* threads asleep, or about to be, on count */
} adamp_signal;

void adamp_signal_init(adamp_signal *s);
/* The count; what was written before a raise() that it reflects is visible. */
unsigned adamp_signal_read(adamp_signal *s);
/* Moves the count on, waking every thread waiting on it. */
void adamp_signal_raise(adamp_signal *s);
/* Returns once the count is no longer `seen`. */
void adamp_signal_wait(adamp_signal *s, unsigned seen);

#endif
