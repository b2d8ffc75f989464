/* kernels_bench: every micro-kernel of every ISA and storage, one thread, in
 * ns per element, with its data hot in L2 and streaming from memory, beside
 * this machine's measured roofline (one core's read, write and
 * read-modify-write bandwidth, and its vector FMA rate). The end-to-end numbers are
 * adamp-bench's; this is where a slow step is taken apart: a kernel whose
 * streaming time is its bytes over the read bandwidth is at its floor, one
 * whose hot time is near its streaming time is bound by its arithmetic.
 *
 *   make -C CKernels bench-kernels && build/c/kernels_bench [--isa NAME]
 *       [--storage f32|bf16|f16|mbf16|split|f64] [--kernel SUBSTRING] [--cols N] [--quick]
 *
 * It reads the library's internal kernel tables (src/dispatch.h), so it is
 * built against the static library and the sources, not the installed API.
 * --quick (make check runs it) takes tiny sizes and one repetition: it only
 * proves every kernel runs. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "convert.h"
#include "dispatch.h"
#include "step.h"

/* The storages measured: parameter dtype, master, gradient (the parameter's). */
static const struct {
    const char *name;
    adamp_dtype dtype;
    int master;
} STORAGES[] = {
    {"f32", ADAMP_F32, ADAMP_MASTER_OFF},      {"bf16", ADAMP_BF16, ADAMP_MASTER_OFF},
    {"f16", ADAMP_F16, ADAMP_MASTER_OFF},      {"mbf16", ADAMP_BF16, ADAMP_MASTER_FLOAT32},
    {"split", ADAMP_BF16, ADAMP_MASTER_SPLIT}, {"f64", ADAMP_F64, ADAMP_MASTER_OFF},
};

/* Bytes per element of each buffer as the kernels move them, from the
 * library's own sizes (step.h). */
typedef struct {
    size_t p, p2;  /* the kernels' p (a float32 master, or the parameter) and its other half (adamp_seg) */
    size_t pr, pw; /* the parameter read and written, its master or trail included */
    size_t g, s;   /* the gradient, a state buffer */
    int exact;     /* state stored as computed (storage.h STATE_EXACT) */
} sizes;

static sizes sizes_of(adamp_dtype dtype, int master) {
    const adamp_storage st = {dtype, dtype, master, NULL};
    const adamp_sizes z = adamp_sizes_of(&st);
    /* a float32 master is read and written, the 16-bit parameter only written */
    const int f32_master = master == ADAMP_MASTER_FLOAT32;
    const size_t p = f32_master ? z.master : z.param, p2 = f32_master ? z.param : z.master;
    return (sizes){p, p2, f32_master ? p : p + p2, p + p2, z.grad, z.state, z.state == z.arithmetic};
}

enum { ROWSTATS, GRADSTATS, UPDATE, MOMENTS_DOT, APPLY_PROJECTION, UPDATE_STATS, MOMENTS_DOT_STATS, MOMENTS_DOT_NORM,
       MOMENTS_DOT_KEEP, APPLY_KEPT };
static const char *const KERNEL_NAMES[] = {"rowstats", "gradstats", "update", "moments_dot", "apply_projection",
                                           "update_stats", "moments_dot_stats", "moments_dot_norm", "moments_dot_keep",
                                           "apply_kept"};

/* The bytes kernel `k` of an algorithm with `ns` states reads and writes per
 * element in memory (the kept perturbation is a row of scratch, in L1). */
typedef struct {
    size_t r, w;
} traffic;

static traffic bytes_of(int k, adamp_algorithm algo, int ns, sizes z) {
    const size_t rd = z.pr + z.g + ns * z.s, st = ns * z.s;
    switch (k) {
    case ROWSTATS: return (traffic){z.pr + z.g, 0};
    case GRADSTATS: return (traffic){z.g, 0};
    case UPDATE: case UPDATE_STATS: return (traffic){rd, z.pw + st};
    case MOMENTS_DOT: return (traffic){rd, z.exact ? st : 0};
    case MOMENTS_DOT_STATS: case MOMENTS_DOT_NORM: return (traffic){rd, z.exact || algo == ADAMP_ALGO_ADAMP ? st : 0};
    case MOMENTS_DOT_KEEP: return (traffic){rd, st};
    case APPLY_PROJECTION: return (traffic){rd, z.pw + (!z.exact || algo == ADAMP_ALGO_SGDP ? st : 0)};
    default: return (traffic){z.pr, z.pw}; /* APPLY_KEPT */
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double urand(uint64_t *s) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) * 0x1p-53;
}

/* n elements of `bytes` each holding x(i) in that storage (positive: v). */
static void *filled(size_t n, size_t bytes, adamp_dtype dtype, int positive, uint64_t seed) {
    void *b = aligned_alloc(64, (n * bytes + 63) / 64 * 64 + 64);
    if (!b) { fprintf(stderr, "kernels_bench: out of memory\n"); exit(1); }
    for (size_t i = 0; i < n; i++) {
        double x = urand(&seed) * 2 - 1;
        x = positive ? 1e-4 * x * x : 0.05 * x;
        if (bytes == 8) ((double *)b)[i] = x;
        else if (bytes == 4) ((float *)b)[i] = (float)x;
        else ((uint16_t *)b)[i] = dtype == ADAMP_F16 ? adamp_f32_to_f16((float)x) : adamp_f32_to_bf16((float)x);
    }
    return b;
}

typedef struct {
    adamp_seg seg;
    void *bufs[6];
    double *stats;
    void *keep;
    size_t n, cols;
} data;

static data make(size_t n, size_t cols, adamp_dtype dtype, int master, int ns) {
    const sizes z = sizes_of(dtype, master);
    const adamp_dtype state = master ? ADAMP_F32 : dtype;
    data d = {{0}, {0}, NULL, NULL, n, cols};
    /* With a float32 master the kernels' p is the master, p2 the 16-bit
     * parameter; split, p is the bfloat16 parameter and p2 its trail (zero). */
    d.bufs[0] = filled(n, z.p, master == ADAMP_MASTER_FLOAT32 ? ADAMP_F32 : dtype, 0, 1);
    if (master == ADAMP_MASTER_FLOAT32) d.bufs[1] = filled(n, z.p2, dtype, 0, 1);
    else if (master == ADAMP_MASTER_SPLIT) d.bufs[1] = calloc(n, z.p2);
    d.bufs[2] = filled(n, z.g, dtype, 0, 2);
    for (int k = 0; k < ns; k++) d.bufs[3 + k] = filled(n, z.s, state, k == 1, 3 + k);
    d.seg.p = d.bufs[0], d.seg.p2 = d.bufs[1], d.seg.g = d.bufs[2];
    for (int k = 0; k < ns; k++) d.seg.s[k] = d.bufs[3 + k];
    d.stats = malloc(3 * (n / cols + 1) * sizeof(double));
    d.keep = aligned_alloc(64, cols * 8 + 64);
    if (!d.stats || !d.keep || !d.bufs[0] || (master && !d.bufs[1])) { fprintf(stderr, "kernels_bench: out of memory\n"); exit(1); }
    return d;
}

static void release(data *d) {
    for (int k = 0; k < 6; k++) free(d->bufs[k]);
    free(d->stats), free(d->keep);
}

/* The segment of row r. */
static adamp_seg row(const data *d, size_t r, const sizes *z) {
    adamp_seg s = d->seg;
    const size_t e = r * d->cols;
    s.p = (char *)s.p + e * z->p;
    if (s.p2) s.p2 = (char *)s.p2 + e * z->p2;
    s.g = (const char *)s.g + e * z->g;
    for (int k = 0; k < ADAMP_MAX_STATES; k++)
        if (s.s[k]) s.s[k] = (char *)s.s[k] + e * z->s;
    return s;
}

/* One pass of kernel k over all of d, row by row where it takes rows. */
static void pass(int k, const adamp_kernels *K, adamp_algorithm algo, const data *d, const adamp_consts *c,
                 const sizes *z) {
    const adamp_algo_kernels *a = &K->algo[algo];
    const size_t rows = d->n / d->cols;
    volatile double sink = 0;
    if (k == ROWSTATS) { K->rowstats(rows, d->cols, &d->seg, 1.0, d->stats); return; }
    if (k == GRADSTATS) { double acc[2] = {0, 0}; K->gradstats(d->n, d->seg.g, acc); sink = acc[0]; return; }
    if (k == UPDATE) { a->update(d->n, &d->seg, c); return; }
    if (k == APPLY_PROJECTION && algo == ADAMP_ALGO_SGDP) { a->apply_projection(d->n, &d->seg, c, 30, 1e-3); return; }
    for (size_t r = 0; r < rows; r++) {
        const adamp_seg s = row(d, r, z);
        double out[3];
        switch (k) {
        case MOMENTS_DOT: sink += a->moments_dot(d->cols, &s, c, 30); break;
        case APPLY_PROJECTION: a->apply_projection(d->cols, &s, c, 30, 1e-3); break;
        case UPDATE_STATS: a->update_stats(d->cols, &s, c, out); break;
        case MOMENTS_DOT_STATS: sink += a->moments_dot_stats(d->cols, &s, a->moments_dot_keep ? d->keep : NULL, c, out); break;
        case MOMENTS_DOT_NORM: sink += a->moments_dot_norm(d->cols, &s, a->moments_dot_keep ? d->keep : NULL, c, out); break;
        case MOMENTS_DOT_KEEP: sink += a->moments_dot_keep(d->cols, &s, d->keep, c, 30); break;
        case APPLY_KEPT: a->apply_kept(d->cols, &s, d->keep, c, 30, 1e-3); break;
        }
    }
    (void)sink;
}

static int has(int k, const adamp_algo_kernels *a) {
    switch (k) {
    case ROWSTATS: case GRADSTATS: return 1;
    case UPDATE: return a->update != NULL;
    case MOMENTS_DOT: return a->moments_dot != NULL;
    case APPLY_PROJECTION: return a->apply_projection != NULL;
    case UPDATE_STATS: return a->update_stats != NULL;
    case MOMENTS_DOT_STATS: return a->moments_dot_stats != NULL;
    case MOMENTS_DOT_NORM: return a->moments_dot_norm != NULL;
    case MOMENTS_DOT_KEEP: return a->moments_dot_keep != NULL;
    default: return a->apply_kept != NULL;
    }
}

/* The time per element of `reps` passes: the least over `trials` (hot: the
 * cost with nothing else in the way), or the median (streaming, where the
 * memory's speed drifts and the least would flatter). */
static double ns_per_elem(int k, const adamp_kernels *K, adamp_algorithm algo, const data *d, const adamp_consts *c,
                          const sizes *z, int reps, int trials) {
    double t[9];
    pass(k, K, algo, d, c, z); /* warm */
    for (int i = 0; i < trials; i++) {
        const double t0 = now();
        for (int r = 0; r < reps; r++) pass(k, K, algo, d, c, z);
        t[i] = (now() - t0) / reps / d->n * 1e9;
    }
    for (int i = 1; i < trials; i++) /* insertion sort */
        for (int j = i; j > 0 && t[j] < t[j - 1]; j--) { const double x = t[j]; t[j] = t[j - 1]; t[j - 1] = x; }
    return reps > 1 ? t[0] : t[trials / 2];
}

static adamp_consts consts_of(adamp_algorithm algo) {
    adamp_consts c = {0};
    c.beta1 = 0.9, c.one_minus_beta1 = 0.1, c.beta2 = 0.999, c.one_minus_beta2 = 1 - 0.999;
    c.sqrt_bc2 = sqrt(1 - pow(0.999, 10)), c.eps = 1e-8, c.decay = 1, c.neg_step = -1e-3 / (1 - pow(0.9, 10));
    c.grad_mul = 1;
    if (algo == ADAMP_ALGO_SGDP || algo == ADAMP_ALGO_SGD) c.momentum = 0.9, c.one_minus_damp = 1, c.neg_step = -1e-3;
    return c;
}

#include "roofline.h"

int main(int argc, char **argv) {
    const char *only_isa = NULL, *only_storage = NULL, *only_kernel = NULL;
    int quick = 0;
    size_t cols = 1152;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (i + 1 < argc && !strcmp(argv[i], "--isa")) only_isa = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--storage")) only_storage = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--kernel")) only_kernel = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--cols") && atol(argv[i + 1]) > 0) cols = (size_t)atol(argv[++i]);
        else {
            fprintf(stderr, "usage: kernels_bench [--isa NAME] [--storage f32|bf16|f16|mbf16|split|f64] "
                            "[--kernel SUBSTRING] [--cols N] [--quick]\n");
            return 2;
        }
    }
    /* A name that selects nothing is an error, not an empty table. */
    int32_t isa;
    const char *isa_name;
    if (only_isa) {
        int known = 0;
        for (size_t ii = 1; adamp_isa_at(ii, &isa, &isa_name); ii++)
            if (!strcmp(only_isa, isa_name)) known = 1 + adamp_isa_supported(isa);
        if (known != 2) {
            fprintf(stderr, "kernels_bench: --isa %s is %s; this CPU has:", only_isa,
                    known ? "not supported by this CPU" : "not an ISA of the library");
            for (size_t ii = 1; adamp_isa_at(ii, &isa, &isa_name); ii++)
                if (adamp_isa_supported(isa)) fprintf(stderr, " %s", isa_name);
            fprintf(stderr, "\n");
            return 2;
        }
    }
    int found = !only_storage;
    for (size_t si = 0; si < sizeof STORAGES / sizeof STORAGES[0]; si++)
        found |= only_storage && !strcmp(only_storage, STORAGES[si].name);
    if (!found) {
        fprintf(stderr, "kernels_bench: --storage %s is not one of:", only_storage);
        for (size_t si = 0; si < sizeof STORAGES / sizeof STORAGES[0]; si++) fprintf(stderr, " %s", STORAGES[si].name);
        fprintf(stderr, "\n");
        return 2;
    }
    found = !only_kernel;
    for (int k = 0; k <= APPLY_KEPT; k++) found |= only_kernel && strstr(KERNEL_NAMES[k], only_kernel) != NULL;
    if (!found) {
        fprintf(stderr, "kernels_bench: --kernel %s is in no kernel's name:", only_kernel);
        for (int k = 0; k <= APPLY_KEPT; k++) fprintf(stderr, " %s", KERNEL_NAMES[k]);
        fprintf(stderr, "\n");
        return 2;
    }
    /* Hot: about 16,000 elements (f32 with two states: 256 KiB, in L2).
     * Streaming: about 8.4M (128-256 MiB, far past any L3). Rows of 1,152 (a
     * 3x3x128 conv) unless --cols says (8: a [64, 8] weight's rows). */
    const size_t hot = (16128 + cols - 1) / cols * cols, stream = (quick ? 32256 : 8388864) / cols * cols;
    const int hot_reps = quick ? 2 : 200, trials = quick ? 1 : 9;
    const roofline rf = quick ? (roofline){0} : measure_roofline();
    if (!quick)
        printf("roofline, one thread: read %.1f GB/s, write %.1f GB/s, read-modify-write %.1f GB/s (adamp-bench's "
               "floor); FMA %.1f GFLOP/s in float (%s)\n\n",
               rf.read, rf.write, rf.rmw, rf.gflops, rf.isa);
    printf("%-11s %-6s %-6s %-18s %9s %9s %6s %9s %8s\n", "isa", "store", "algo", "kernel", "hot ns/el", "mem ns/el",
           "B/el", "floor", "of floor");
    for (size_t ii = 1; adamp_isa_at(ii, &isa, &isa_name); ii++) {
        if (!adamp_isa_supported(isa) || (only_isa && strcmp(only_isa, isa_name))) continue;
        for (size_t si = 0; si < sizeof STORAGES / sizeof STORAGES[0]; si++) {
            if (only_storage && strcmp(only_storage, STORAGES[si].name)) continue;
            const adamp_dtype dt = STORAGES[si].dtype;
            const int master = STORAGES[si].master;
            const adamp_kernels *K = adamp_kernels_for(dt, master, dt, isa);
            if (!K) continue;
            const sizes z = sizes_of(dt, master);
            for (adamp_algorithm algo = ADAMP_ALGO_ADAMP; algo <= ADAMP_ALGO_SGD; algo++) {
                if (algo == ADAMP_ALGO_ADAMW) continue; /* Adam's kernels */
                const int ns = algo == ADAMP_ALGO_SGDP || algo == ADAMP_ALGO_SGD ? 1 : 2;
                const adamp_consts c = consts_of(algo);
                data h = make(hot, cols, dt, master, ns), m = make(stream, cols, dt, master, ns);
                for (int k = 0; k <= APPLY_KEPT; k++) {
                    if (!has(k, &K->algo[algo]) || ((k == ROWSTATS || k == GRADSTATS) && algo != ADAMP_ALGO_ADAMP)) continue;
                    if (only_kernel && !strstr(KERNEL_NAMES[k], only_kernel)) continue;
                    const double th = ns_per_elem(k, K, algo, &h, &c, &z, hot_reps, trials);
                    const double tm = ns_per_elem(k, K, algo, &m, &c, &z, 1, trials);
                    const traffic b = bytes_of(k, algo, ns, z);
                    /* a kernel that writes moves its bytes as the read-modify-write loop does */
                    const double floor = quick ? 0 : b.w ? (b.r + b.w) / rf.rmw : b.r / rf.read;
                    printf("%-11s %-6s %-6s %-18s %9.3f %9.3f %6zu %9.3f %7.0f%%\n", isa_name, STORAGES[si].name,
                           k <= GRADSTATS ? "-" : adamp_algorithm_name(algo), KERNEL_NAMES[k], th, tm, b.r + b.w, floor,
                           quick ? 0 : 100 * floor / tm);
                }
                release(&h), release(&m);
            }
        }
    }
    if (!quick)
        printf("\nhot: %zu elements in rows of %zu, 200 passes, the least of 9; mem: %zu elements, one pass, the median of 9.\n"
               "floor: the kernel's bytes per element (B/el: reads and writes, the kept perturbation not counted) "
               "at the read-modify-write bandwidth above (read bandwidth for a kernel that only reads).\n",
               hot, cols, stream);
    return 0;
}
