/* Work over many tensors, on threads, with no barrier.
 *
 * Work is cut into items (a batch of rows, or a chunk of elements: the plan
 * says). All tensors are handled in one parallel region, in blocks of about
 * `block` elements; each block runs the plan's phases in order. A work
 * phase of a block is cut into grains: the block's elements in one share per
 * thread, each share in up to MAX_GRAINS parts, a grain running the items
 * that start in it. A serial phase runs on the thread that finishes the last
 * grain of the phase before it, which then opens the next work phase.
 *
 * Nobody waits at a barrier. A thread takes, in the oldest block that has
 * one open, a grain whose data it has in cache if there is one: of its own
 * share (owners take from the front), another share's that it ran in the
 * block's previous phase (others take from the back), or any of a block's
 * first phase, which no thread has touched; else any grain. If no open
 * phase has a grain left it opens the next block (up to WINDOW blocks at
 * once); only when there is nothing to take does it wait for an event (a
 * phase opened, a block done). So on a machine where
 * another process holds a core, a descheduled thread holds back only the
 * grain it is in: the others run the rest of its share and go on to the next
 * blocks' statistics instead of waiting for it at every phase. (With a
 * barrier between phases, measured on ResNet-50 with one busy process, each
 * thread waited half of AdamP's step.) On a quiet machine each thread runs
 * its own share of each phase: the update then reads what the same thread's
 * statistics pass left in its caches. (Claiming every item from one shared
 * counter balanced load as well, but on a VM whose two vCPUs sat on
 * different sockets it made whole runs 2-4x slower.)
 *
 * Every grain runs once, and an item's result depends only on its data, so
 * results are the same whoever runs what. */
#include <stdatomic.h>
#include <stdint.h>
#include "parallel.h"
#include "schedule.h"

enum {
    /* Grains per share of a phase: as many as give each at least
     * MIN_GRAIN elements, at most MAX_GRAINS (a block's, set when it is
     * opened). Every grain costs its claim, the count of grains left (a
     * line both threads write) and a walk to its first tensor, and at a
     * block's end its thief's reads of lines the owner's caches hold: in
     * the host's faster memory, 20,000 [64, 8] weights in 1M-element blocks
     * (Benchmarks/harness/many-small-stream.c, 2 threads, 20-22 rounds
     * taking turns), SGD's step ran at a median 67% of the floor with 16
     * grains of 32K elements a share, 71% with 4, 72% with 2 or 1; Adam's
     * at 76%, 80%, 81-82% (docs/performance.md, "Grains"). Slower memory
     * hides the difference (every count at 92-107%). A grain still bounds
     * what a thread descheduled by another process holds back: 256K
     * elements is under a tenth of a scheduling tick's work. A plan may
     * ask for finer grains (adamp_plan.min_grain: step.c does where a
     * block's update reads the rows its statistics read). */
    MAX_GRAINS = 16,
    MIN_GRAIN = 1 << 18,
    NO_GRAIN = 31, /* what claim() returns when it finds none: above any count (5 bits a field) */
    /* Blocks open at once: how far a thread can run ahead of a grain held by
     * a descheduled one (a scheduling tick, 4 ms, is several 1M-element
     * blocks of work). ResNet-50 beside a busy process, 16 against 4: every
     * optimizer's step as fast or faster in every pair of runs; quiet, no
     * difference. */
    WINDOW = 16,
    /* Shares at most: the claims live on the caller's stack, WINDOW * 8
     * bytes per share (32 KiB here; 128 KiB at ADAMP_MAX_THREADS shares).
     * More threads than shares take other shares' grains, as a region
     * given fewer threads than shares does; only cache locality is lost. */
    MAX_SHARES = 256,
};

/* Tensors [b0, b1) holding `elems` elements; slot0 is b0's first slot. */
typedef struct {
    size_t b0, b1, slot0, elems;
} block;

/* A block's state. Its key says which phase is open, as one number that only
 * grows over the region: key(k, q) = k * (nphases + 1) + q for phase q of
 * block k, and q = nphases once block k is done. */
typedef struct {
    _Atomic uint64_t key;
    _Atomic size_t remaining; /* grains of the open phase not finished */
    _Atomic unsigned grains;  /* per share, in each of the block's phases */
    block b;                  /* written before the key that publishes it */
} slot;

typedef struct {
    const adamp_plan *plan;
    size_t shares;
    uint64_t stride; /* nphases + 1 */
    slot slots[WINDOW];
    /* Per slot and share, its grains in the phase open there (a span, packed). */
    _Atomic uint64_t *claims;
    atomic_flag opening;     /* held while a block is opened */
    _Atomic size_t opened;   /* blocks opened */
    size_t next_b0, next_slot0; /* where the next block starts (under `opening`) */
    size_t total;            /* blocks in all, once all_opened */
    _Atomic int all_opened;
    _Atomic size_t finished; /* blocks done */
    adamp_signal progress;
} region;

#define NO_BLOCK UINT64_MAX

/* floor(elems * k / n) without forming elems * k, which can overflow. */
static size_t share(size_t elems, size_t k, size_t n) { return elems / n * k + elems % n * k / n; }

/* A share's grains in one phase, packed in one word with the phase's key
 * (plus one: 0 is a word never used): the owner claims from the front,
 * others from the back, and the grains between are left. `m` is where the
 * two met in the block's previous phase: grains below it were the owner's
 * there and those from it on another thread's, so in this phase each is
 * first offered to the same thread, which has its data in cache. (Another
 * thread updating rows whose statistics this one read moved every such
 * line between cores: on this VM, when its cores shared lines slowly, that
 * made AdamP's unprojected update 2x slower and SGDP's projected one 1.5x.)
 * `cold`: the block's first phase, whose grains no thread has touched. */
typedef struct {
    unsigned front, back, m, cold;
} span;

enum { OWN, AFFINE, COLD, ANY }; /* what a claim may take, most local first */

static uint64_t pack(uint64_t key, span c) {
    return (key + 1) << 16 | (uint64_t)c.cold << 15 | (uint64_t)c.m << 10 | (uint64_t)c.front << 5 | c.back;
}

static span unpack(uint64_t w) {
    return (span){(unsigned)(w >> 5 & 31), (unsigned)(w & 31), (unsigned)(w >> 10 & 31), (unsigned)(w >> 15 & 1)};
}

/* The share's `grains` in phase `key`, from its word: as they stand, or
 * all of them when the word holds an earlier phase, or none (a later one:
 * this phase is done). */
static span current(uint64_t w, uint64_t key, uint64_t stride, unsigned grains) {
    const uint64_t at = w >> 16;
    if (at == key + 1) return unpack(w);
    if (at > key + 1) return (span){0, 0, 0, 0};
    if (at == 0 || (at - 1) / stride != key / stride) return (span){0, grains, grains, 1};
    return (span){0, grains, unpack(w).front, 0}; /* the previous phase ended with front == back */
}

/* Claims a grain of share v of the phase `key` of slot s, for its owner or
 * (`mine` 0) another thread, of the kind `kind` allows (OWN is the owner's,
 * AFFINE and COLD others', ANY anyone's), of the slot's `grains`;
 * NO_GRAIN if none. (`grains` may be a later block's, read as the slot was
 * reopened: the word then holds this block's last phase, all claimed, or
 * a later one, and no grain is found.) */
static unsigned claim(region *r, size_t s, size_t v, uint64_t key, unsigned grains, int mine, int kind) {
    if (kind != ANY && (kind == OWN) != mine) return NO_GRAIN;
    _Atomic uint64_t *c = &r->claims[v * WINDOW + s]; /* a share's words together, in its owner's lines */
    uint64_t w = atomic_load_explicit(c, memory_order_relaxed);
    for (;;) {
        span x = current(w, key, r->stride, grains);
        if (x.front >= x.back) return NO_GRAIN;
        unsigned g;
        if (mine) {
            if (kind == OWN && x.front >= x.m) return NO_GRAIN;
            g = x.front++;
        } else {
            if ((kind == AFFINE && x.back <= x.m) || (kind == COLD && !x.cold)) return NO_GRAIN;
            g = --x.back;
        }
        if (atomic_compare_exchange_weak_explicit(c, &w, pack(key, x), memory_order_relaxed, memory_order_relaxed))
            return g;
    }
}

/* Where a thread's walk over a block's tensors stands: tensor t, starting at
 * element e of the block, with its first slot. */
typedef struct {
    uint64_t block;
    size_t t, e, slot;
} walk;

/* Runs block k's items of `kind` that start in [lo, hi), walking on from *w
 * when it is in this block at or before lo (a thread's grains of one share
 * come in order), else from the block's start. */
static void run_range(const adamp_plan *p, const block *b, uint64_t k, int kind, walk *w, size_t lo, size_t hi,
                      adamp_local *local) {
    if (lo >= hi) return; /* a grain of a share of fewer elements than grains */
    if (w->block != k || w->e > lo) *w = (walk){k, b->b0, 0, b->slot0};
    while (w->t < b->b1 && w->e + p->elems(p->ctx, w->t) <= lo)
        w->slot += p->slots(p->ctx, w->t), w->e += p->elems(p->ctx, w->t), w->t++;
    for (walk at = *w; at.t < b->b1 && at.e < hi; at.t++) {
        const size_t n = p->elems(p->ctx, at.t);
        if (n) p->run(p->ctx, at.t, at.slot, kind, lo > at.e ? lo - at.e : 0, hi - at.e, local);
        at.slot += p->slots(p->ctx, at.t), at.e += n;
    }
}

/* From phase q of block k on (the phases before it finished): runs the
 * serial phases up to the next wanted work phase and opens it, or marks the
 * block done. Only one thread is ever here for a block. */
static void advance(region *r, uint64_t k, size_t q) {
    const adamp_plan *p = r->plan;
    slot *s = &r->slots[k % WINDOW];
    for (; q < p->nphases; q++) {
        const adamp_phase *ph = &p->phases[q];
        if (ph->wanted && !ph->wanted(p->ctx, s->b.b0, s->b.b1)) continue;
        if (ph->serial) {
            ph->serial(p->ctx, s->b.b0, s->b.b1, s->b.slot0);
            continue;
        }
        atomic_store_explicit(&s->remaining, r->shares * atomic_load_explicit(&s->grains, memory_order_relaxed),
                              memory_order_relaxed);
        atomic_store_explicit(&s->key, k * r->stride + q, memory_order_release);
        adamp_signal_raise(&r->progress);
        return;
    }
    atomic_store_explicit(&s->key, k * r->stride + p->nphases, memory_order_release);
    atomic_fetch_add_explicit(&r->finished, 1, memory_order_acq_rel);
    adamp_signal_raise(&r->progress);
}

/* Takes and runs one grain of an open phase, oldest block first, and in a
 * block one whose data this thread has (OWN, AFFINE, COLD) before any other;
 * returns whether it found one. */
static int try_grain(region *r, int tid, walk *w, adamp_local *local) {
    const adamp_plan *p = r->plan;
    const size_t opened = atomic_load_explicit(&r->opened, memory_order_acquire);
    for (size_t k = opened > WINDOW ? opened - WINDOW : 0; k < opened; k++) {
        const size_t si = k % WINDOW;
        slot *s = &r->slots[si];
        const uint64_t key = atomic_load_explicit(&s->key, memory_order_acquire);
        if (key == NO_BLOCK || key / r->stride != k || key % r->stride == p->nphases) continue;
        const size_t q = key % r->stride;
        const unsigned grains = atomic_load_explicit(&s->grains, memory_order_relaxed);
        for (int kind = OWN; kind <= ANY; kind++)
            for (size_t i = 0; i < r->shares; i++) {
                const size_t v = ((size_t)tid + i) % r->shares;
                const unsigned g = claim(r, si, v, key, grains, i == 0, kind);
                if (g == NO_GRAIN) continue;
                /* The claimed grain keeps the block from finishing: s->b stays. */
                const size_t lo = share(s->b.elems, v, r->shares), len = share(s->b.elems, v + 1, r->shares) - lo;
                run_range(p, &s->b, k, p->phases[q].kind, w, lo + share(len, g, grains),
                          lo + share(len, g + 1, grains), local);
                if (atomic_fetch_sub_explicit(&s->remaining, 1, memory_order_acq_rel) == 1) advance(r, k, q + 1);
                return 1;
            }
    }
    return 0;
}

/* Opens the next block if there is one and its slot is free (the block
 * WINDOW before it is done); returns whether it did. */
static int try_open(region *r) {
    const adamp_plan *p = r->plan;
    if (atomic_load_explicit(&r->all_opened, memory_order_acquire)) return 0;
    if (atomic_flag_test_and_set_explicit(&r->opening, memory_order_acquire)) return 0;
    const size_t k = atomic_load_explicit(&r->opened, memory_order_relaxed);
    slot *s = &r->slots[k % WINDOW];
    const uint64_t key = atomic_load_explicit(&s->key, memory_order_acquire);
    const int free = key == NO_BLOCK || key == (k - WINDOW) * r->stride + p->nphases;
    const int opens = free && r->next_b0 < p->count;
    if (opens) {
        block b = {r->next_b0, r->next_b0, r->next_slot0, 0};
        while (b.b1 < p->count && (b.b1 == b.b0 || b.elems + p->elems(p->ctx, b.b1) <= p->block))
            r->next_slot0 += p->slots(p->ctx, b.b1), b.elems += p->elems(p->ctx, b.b1++);
        r->next_b0 = b.b1;
        s->b = b;
        const size_t grains = b.elems / r->shares / (p->min_grain ? p->min_grain : MIN_GRAIN);
        atomic_store_explicit(&s->grains, grains < 1 ? 1 : grains > MAX_GRAINS ? MAX_GRAINS : (unsigned)grains,
                              memory_order_relaxed);
        if (b.b1 == p->count) {
            r->total = k + 1;
            atomic_store_explicit(&r->all_opened, 1, memory_order_release);
        }
        advance(r, k, 0);
        atomic_store_explicit(&r->opened, k + 1, memory_order_release);
    }
    atomic_flag_clear_explicit(&r->opening, memory_order_release);
    /* Others may have found nothing while this was opening. */
    if (opens) adamp_signal_raise(&r->progress);
    return opens;
}

static int all_done(region *r) {
    return atomic_load_explicit(&r->all_opened, memory_order_acquire) &&
           atomic_load_explicit(&r->finished, memory_order_acquire) == r->total;
}

static void worker(void *ctx, int tid, int nthreads) {
    (void)nthreads; /* the region may get fewer or more threads than shares: others' grains are taken all the same */
    region *r = ctx;
    walk w = {NO_BLOCK, 0, 0, 0};
    adamp_local local = {{0}};
    for (;;) {
        const unsigned seen = adamp_signal_read(&r->progress);
        if (try_grain(r, tid, &w, &local) || try_open(r)) continue;
        if (all_done(r)) return;
        adamp_signal_wait(&r->progress, seen);
    }
}

void adamp_schedule(const adamp_plan *plan, int threads) {
    size_t total = 0;
    for (size_t t = 0; t < plan->count; t++) total += plan->elems(plan->ctx, t);
    /* A region costs microseconds, and on a machine where another process
     * holds a core, a scheduling tick (4 ms) whenever a thread of it is
     * descheduled: not worth it for a few chunks of work. Measured with
     * other work between steps, as in training (OpenBLAS GEMMs and serial
     * work, 2 cores, quiet): AdamP over 65,536 elements 0.5-0.8x as fast on
     * 2 threads as on one, over 131,072 1.5-3.4x. And a thread beyond one per
     * chunk would find no item to run. */
    if (total < 8 * (size_t)ADAMP_CHUNK) threads = 1;
    else if ((size_t)threads > adamp_div_up(total, ADAMP_CHUNK)) threads = (int)adamp_div_up(total, ADAMP_CHUNK);
    if (plan->count == 0) return;
    const size_t shares = threads < MAX_SHARES ? (size_t)threads : MAX_SHARES;
    _Atomic uint64_t claims[WINDOW * shares];
    region r = {.plan = plan, .shares = shares, .stride = plan->nphases + 1, .claims = claims,
                .opening = ATOMIC_FLAG_INIT};
    for (size_t i = 0; i < WINDOW * shares; i++) atomic_init(&claims[i], 0); /* never used */
    for (int i = 0; i < WINDOW; i++)
        atomic_init(&r.slots[i].key, NO_BLOCK), atomic_init(&r.slots[i].remaining, 0), atomic_init(&r.slots[i].grains, 0);
    atomic_init(&r.opened, 0);
    atomic_init(&r.all_opened, 0);
    atomic_init(&r.finished, 0);
    adamp_signal_init(&r.progress);
    adamp_parallel(threads, worker, &r);
}
