/* Threads from the OpenMP runtime, driven through its ABI so that no
 * -fopenmp flag is needed (a package with unsafeFlags cannot be depended on
 * by version). libgomp exports these entry points, and LLVM's libomp exports
 * the same ones. Where no runtime is linked (macOS), regions run serially.
 *
 * The barrier between a step's phases is this file's own, not the
 * runtime's: libgomp's spins for a long time (its default GOMP_SPINCOUNT is
 * 300,000 rounds) before it sleeps, and a step has two barriers per block.
 * On a machine where another process holds a core, the thread that arrived
 * first kept spinning while the one it waited for sat descheduled: measured
 * on ResNet-50, AdamP's step became 4.6x slower than Adam's instead of 1.6x.
 * Here a waiting thread spins ADAMP_BARRIER_SPINS rounds of `pause` (tens of
 * microseconds), then sleeps on a futex that the last thread to arrive wakes. */
#define _DEFAULT_SOURCE /* syscall() under -std=c11 */
#include "parallel.h"

#if defined(__linux__)
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int omp_get_thread_num(void);
extern int omp_get_num_threads(void);
extern int omp_get_max_threads(void);

/* Rounds of spinning before a waiting thread sleeps: a quiet machine's
 * barrier waits (threads finishing their shares a few microseconds apart)
 * end while spinning; a descheduled thread's do not. */
#define ADAMP_BARRIER_SPINS 2048

struct adamp_team {
    _Atomic unsigned size;       /* the region's threads (each stores the same value) */
    _Atomic unsigned arrived;    /* at the current barrier */
    _Atomic unsigned generation; /* barriers completed: the futex word */
    _Atomic unsigned sleepers;   /* threads asleep, or about to be, on the futex */
};

typedef struct {
    adamp_task fn;
    void *ctx;
    adamp_team *team;
} trampoline;

static void run(void *data) {
    trampoline *t = data;
    const int n = omp_get_num_threads();
    atomic_store_explicit(&t->team->size, (unsigned)n, memory_order_relaxed);
    t->fn(t->ctx, t->team, omp_get_thread_num(), n);
}

void adamp_parallel(int nthreads, adamp_task fn, void *ctx) {
    adamp_team team;
    atomic_init(&team.size, 1);
    atomic_init(&team.arrived, 0);
    atomic_init(&team.generation, 0);
    atomic_init(&team.sleepers, 0);
    if (nthreads <= 1) {
        fn(ctx, &team, 0, 1);
        return;
    }
    trampoline t = {fn, ctx, &team};
    GOMP_parallel(run, &t, (unsigned)nthreads, 0);
}

static void futex(_Atomic unsigned *word, int op, unsigned value) {
    syscall(SYS_futex, (unsigned *)word, op, value, NULL, NULL, 0);
}

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

void adamp_barrier(adamp_team *team) {
    const unsigned n = atomic_load_explicit(&team->size, memory_order_relaxed);
    if (n <= 1) return;
    /* This barrier's generation: the previous one has completed for this
     * thread, and this one cannot complete before this thread arrives. */
    const unsigned gen = atomic_load_explicit(&team->generation, memory_order_acquire);
    if (atomic_fetch_add_explicit(&team->arrived, 1, memory_order_acq_rel) + 1 == n) {
        /* The last to arrive: reset the count for the next barrier, then
         * release the others (the reset is visible to whoever sees the new
         * generation), waking those that went to sleep. */
        atomic_store_explicit(&team->arrived, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&team->generation, 1, memory_order_seq_cst);
        if (atomic_load_explicit(&team->sleepers, memory_order_seq_cst) > 0) futex(&team->generation, FUTEX_WAKE_PRIVATE, INT_MAX);
        return;
    }
    for (int i = 0; i < ADAMP_BARRIER_SPINS; i++) {
        if (atomic_load_explicit(&team->generation, memory_order_acquire) != gen) return;
        relax();
    }
    /* Counted before the last check: a releaser that misses the count has
     * already advanced the generation, which FUTEX_WAIT then finds changed. */
    atomic_fetch_add_explicit(&team->sleepers, 1, memory_order_seq_cst);
    while (atomic_load_explicit(&team->generation, memory_order_seq_cst) == gen) {
        futex(&team->generation, FUTEX_WAIT_PRIVATE, gen);
    }
    atomic_fetch_sub_explicit(&team->sleepers, 1, memory_order_relaxed);
}

int adamp_default_threads(void) {
    const int n = omp_get_max_threads(); /* OMP_NUM_THREADS may ask for any number */
    return n < 1 ? 1 : n > ADAMP_MAX_THREADS ? ADAMP_MAX_THREADS : n;
}

#else

struct adamp_team {
    int unused;
};

void adamp_parallel(int nthreads, adamp_task fn, void *ctx) {
    (void)nthreads;
    adamp_team team = {0};
    fn(ctx, &team, 0, 1);
}

void adamp_barrier(adamp_team *team) { (void)team; }

int adamp_default_threads(void) { return 1; }

#endif
