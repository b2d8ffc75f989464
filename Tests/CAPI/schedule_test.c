/* The scheduler (CKernels/src/schedule.c) on its own, with a plan of three
 * work phases and two serial steps per block and items of three sizes, on
 * 1 to 17 threads and block sizes from one tensor to all: every item runs
 * exactly once, and never before its block's earlier phases are done; each
 * serial step runs once per block, after the phase before it. The optimizer
 * tests check results; this checks the claims that decide who runs what
 * (owners from the front, others from the back, a grain offered first to
 * the thread that ran it in the block's previous phase), including their
 * reuse across more blocks than the window holds. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../CKernels/src/schedule.h"
#include "check.h"

enum { T = 300, KINDS = 3, MAXITEMS = 200 };
static const size_t ITEM[KINDS] = {300, 1000, 77}; /* elements per item of each kind */

typedef struct {
    size_t elems[T], slot0[T];
    _Atomic int wanted2[T]; /* whether the tensor's block ran kind 2 */
    _Atomic int runs[KINDS][T][MAXITEMS]; /* times each item ran */
    _Atomic int serial[2][T];             /* times each serial step ran over the tensor's block */
    _Atomic int errors;                   /* items or steps that ran out of order */
} work;

static size_t elems(const void *ctx, size_t t) { return ((const work *)ctx)->elems[t]; }
static size_t slots(const void *ctx, size_t t) { return (void)ctx, t % 3; }
static size_t items(const void *ctx, size_t t, int kind) { return adamp_div_up(elems(ctx, t), ITEM[kind]); }
static size_t item_start(const void *ctx, size_t t, int kind, size_t j) { return (void)ctx, (void)t, j * ITEM[kind]; }

/* Kind 2 runs in blocks of several tensors, and in a one-tensor block only
 * for an even tensor (a phase not every block wants). */
static int kind2_wanted(const void *ctx, size_t b0, size_t b1) {
    (void)ctx;
    return b1 > b0 + 1 || b0 % 2 == 0;
}

static int all_ran(work *w, int kind, size_t t) {
    for (size_t j = 0; j < items(w, t, kind); j++)
        if (atomic_load(&w->runs[kind][t][j]) != 1) return 0;
    return 1;
}

static void item(const void *ctx, size_t t, size_t slot, int kind, size_t j, adamp_local *local) {
    (void)local;
    work *w = (work *)ctx;
    /* Kind 1 and 2 come after the block's first serial step. */
    if (slot != w->slot0[t] || (kind > 0 && atomic_load(&w->serial[0][t]) != 1) || j >= items(ctx, t, kind))
        atomic_fetch_add(&w->errors, 1);
    atomic_fetch_add(&w->runs[kind][t][j], 1);
}

/* The plan's run(): the items that start in [lo, hi), where the scheduler
 * must give each tensor ranges inside it (lo below its elements). */
static void run(const void *ctx, size_t t, size_t slot, int kind, size_t lo, size_t hi, adamp_local *local) {
    if (lo >= elems(ctx, t) || hi <= lo) atomic_fetch_add(&((work *)ctx)->errors, 1);
    for (size_t j = 0; j < items(ctx, t, kind); j++)
        if (item_start(ctx, t, kind, j) >= lo && item_start(ctx, t, kind, j) < hi) item(ctx, t, slot, kind, j, local);
}

/* Serial step q: after kind q of every tensor of the block (q 1: after
 * kind 2 where the block wanted it, else kind 1). */
static void step(work *w, int q, size_t b0, size_t b1, int after) {
    for (size_t t = b0; t < b1; t++) {
        if (!all_ran(w, after, t) || atomic_load(&w->serial[q][t]) != 0) atomic_fetch_add(&w->errors, 1);
        atomic_fetch_add(&w->serial[q][t], 1);
    }
}
static void first_step(const void *ctx, size_t b0, size_t b1, size_t slot0) {
    work *w = (work *)ctx;
    if (slot0 != w->slot0[b0]) atomic_fetch_add(&w->errors, 1);
    step(w, 0, b0, b1, 0);
    for (size_t t = b0; t < b1; t++) atomic_store(&w->wanted2[t], kind2_wanted(ctx, b0, b1));
}
static void last_step(const void *ctx, size_t b0, size_t b1, size_t slot0) {
    (void)slot0;
    step((work *)ctx, 1, b0, b1, kind2_wanted(ctx, b0, b1) ? 2 : 1);
}

static const adamp_phase PHASES[] = {
    {0, NULL, NULL}, {0, first_step, NULL}, {1, NULL, NULL}, {2, NULL, kind2_wanted}, {0, last_step, NULL},
};

int main(void) {
    static work w;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    size_t total = 0;
    for (size_t t = 0; t < T; t++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        w.elems[t] = 1 + (size_t)(x >> 33) % 15000; /* at most 195 items of 77 */
        w.slot0[t] = t ? w.slot0[t - 1] + slots(&w, t - 1) : 0;
        total += w.elems[t];
    }
    const int threads[] = {1, 2, 3, 5, 8, 17};
    const size_t blocks[] = {1, 20000, 100000, total};
    /* The scheduler's own grains (at least 256K elements: here mostly one a
     * share), and as many as a share can have (up to 16), which exercises
     * the claims. */
    const size_t grains[] = {0, 1};
    int all_once = 1, in_order = 1;
    for (size_t ti = 0; ti < sizeof threads / sizeof threads[0]; ti++)
        for (size_t bi = 0; bi < sizeof blocks / sizeof blocks[0]; bi++)
            for (int rep = 0; rep < 20; rep++) {
                const size_t min_grain = grains[rep % 2];
                memset(&w.runs, 0, sizeof w.runs), memset(&w.serial, 0, sizeof w.serial);
                atomic_store(&w.errors, 0);
                const adamp_plan plan = {&w, T, blocks[bi], elems, slots, run, PHASES,
                                         sizeof PHASES / sizeof PHASES[0], min_grain};
                adamp_schedule(&plan, threads[ti]);
                for (size_t t = 0; t < T; t++) {
                    for (int k = 0; k < KINDS; k++)
                        for (size_t j = 0; j < items(&w, t, k); j++)
                            all_once &= atomic_load(&w.runs[k][t][j]) == (k < 2 || atomic_load(&w.wanted2[t]));
                    all_once &= atomic_load(&w.serial[0][t]) == 1 && atomic_load(&w.serial[1][t]) == 1;
                }
                in_order &= atomic_load(&w.errors) == 0;
                if (!all_once || !in_order) {
                    fprintf(stderr, "%d threads, block %zu: items not run once each or out of order\n", threads[ti],
                            blocks[bi]);
                    ti = sizeof threads / sizeof threads[0] - 1, bi = sizeof blocks / sizeof blocks[0] - 1;
                    break;
                }
            }
    CHECK(all_once);
    CHECK(in_order);
    printf("scheduler: %zu tensors, %zu elements, threads 1-17: ", (size_t)T, total);
    return report();
}
