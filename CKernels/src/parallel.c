/* Threads from the OpenMP runtime, driven through its ABI so that no
 * -fopenmp flag is needed (a package with unsafeFlags cannot be depended on
 * by version). libgomp exports these entry points, and LLVM's libomp exports
 * the same ones. Where no runtime is linked (macOS), regions run serially. */
#include "parallel.h"

#if defined(__linux__)
extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern void GOMP_barrier(void);
extern int omp_get_thread_num(void);
extern int omp_get_num_threads(void);
extern int omp_get_max_threads(void);

typedef struct {
    adamp_task fn;
    void *ctx;
} trampoline;

static void run(void *data) {
    trampoline *t = data;
    t->fn(t->ctx, omp_get_thread_num(), omp_get_num_threads());
}

void adamp_parallel(int nthreads, adamp_task fn, void *ctx) {
    if (nthreads <= 1) {
        fn(ctx, 0, 1);
        return;
    }
    trampoline t = {fn, ctx};
    GOMP_parallel(run, &t, (unsigned)nthreads, 0);
}

void adamp_barrier(int nthreads) {
    if (nthreads > 1) GOMP_barrier();
}

int adamp_default_threads(void) {
    const int n = omp_get_max_threads(); /* OMP_NUM_THREADS may ask for any number */
    return n < 1 ? 1 : n > ADAMP_MAX_THREADS ? ADAMP_MAX_THREADS : n;
}

#else

void adamp_parallel(int nthreads, adamp_task fn, void *ctx) {
    (void)nthreads;
    fn(ctx, 0, 1);
}

void adamp_barrier(int nthreads) { (void)nthreads; }

int adamp_default_threads(void) { return 1; }

#endif
