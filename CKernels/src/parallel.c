/* Threads from the OpenMP runtime, driven through its ABI so that no
 * -fopenmp flag is needed (a package with unsafeFlags cannot be depended on
 * by version). libgomp exports these entry points, and LLVM's libomp exports
 * the same ones. Where no runtime is linked (macOS), regions run serially.
 *
 * The waiting inside a region is this file's own, not the runtime's:
 * libgomp's barrier spins for a long time (its default GOMP_SPINCOUNT is
 * 300,000 rounds) before it sleeps. On a machine where another process held
 * a core, the thread that arrived first kept spinning while the one it
 * waited for sat descheduled: measured on ResNet-50, AdamP's step became
 * 4.6x slower than Adam's instead of 1.6x. Here a waiting thread spins
 * ADAMP_SPINS rounds of `pause` (tens of microseconds), then sleeps on a
 * futex that the next event wakes. */
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
 * waits (threads finishing their work a few microseconds apart) end while
 * spinning; a descheduled thread's do not. */
#define ADAMP_SPINS 2048

typedef struct {
    adamp_task fn;
    void *ctx;
} trampoline;

static void run(void *data) {
    const trampoline *t = data;
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

void adamp_signal_raise(adamp_signal *s) {
    atomic_fetch_add_explicit(&s->count, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&s->sleepers, memory_order_seq_cst) > 0) futex(&s->count, FUTEX_WAKE_PRIVATE, INT_MAX);
}

void adamp_signal_wait(adamp_signal *s, unsigned seen) {
    for (int i = 0; i < ADAMP_SPINS; i++) {
        if (atomic_load_explicit(&s->count, memory_order_acquire) != seen) return;
        relax();
    }
    /* Counted before the last check: a raiser that misses the count has
     * already moved it on, which FUTEX_WAIT then finds changed. */
    atomic_fetch_add_explicit(&s->sleepers, 1, memory_order_seq_cst);
    while (atomic_load_explicit(&s->count, memory_order_seq_cst) == seen) futex(&s->count, FUTEX_WAIT_PRIVATE, seen);
    atomic_fetch_sub_explicit(&s->sleepers, 1, memory_order_relaxed);
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

/* One thread: nothing ever waits (a region of one never finds work
 * unfinished that it has not finished itself). */
void adamp_signal_raise(adamp_signal *s) { atomic_fetch_add_explicit(&s->count, 1, memory_order_seq_cst); }
void adamp_signal_wait(adamp_signal *s, unsigned seen) {
    while (atomic_load_explicit(&s->count, memory_order_acquire) == seen) {
    }
}

int adamp_default_threads(void) { return 1; }

#endif

void adamp_signal_init(adamp_signal *s) {
    atomic_init(&s->count, 0);
    atomic_init(&s->sleepers, 0);
}

unsigned adamp_signal_read(adamp_signal *s) { return atomic_load_explicit(&s->count, memory_order_acquire); }
