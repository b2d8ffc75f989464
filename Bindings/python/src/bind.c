/* The PyTorch drop-in's binder: at every step, fills the C library's tensor
 * descriptors (adamp_tensor) from what the PyTorch tensors are now, and
 * refuses what the kernels must not be given.
 *
 * The drop-in keeps a plan between steps (which tensors take part, their
 * groups, the state it made), because rebuilding it in Python costs microseconds
 * per parameter. But the same tensor objects may hold other memory, shape or
 * dtype from one step to the next (`p.data = p.data[:10]`, a state tensor's
 * `.data` replaced, `resize_`, a step count zeroed in place), so nothing
 * about a tensor is taken from the plan: each step reads, for every
 * parameter, its gradient and each state tensor, the data pointer, dtype,
 * device, shape and strides (and of a bfloat16 or float16 parameter's master
 * or trail), and for torch.optim's step tensors the count,
 * here, at a few nanoseconds a tensor. A parameter whose tensors are not
 * what the kernels take (not dense on the CPU, not contiguous, another
 * dtype or shape than the parameter's, memory shared with another tensor
 * the step writes) is reported, and the drop-in rebuilds its plan or takes
 * the reference path; a step count no optimizer could have written is
 * reported for the drop-in to refuse.
 *
 * Tensors are read through PyTorch's stable C shim
 * (torch/csrc/inductor/aoti_torch/c/shim.h, whose ABI PyTorch keeps across
 * versions; cadamp passes its functions in, so that this library links to
 * nothing of PyTorch). A shim tensor handle is the address of an at::Tensor,
 * which is one pointer, to its TensorImpl: the value Tensor._cdata gives.
 * So the address of an int64 holding _cdata is a handle; cadamp checks at
 * import that the shim reads a known tensor right through such a handle
 * (cadamp_describe) before it uses any of this. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "adamp.h"

#define EXPORT __attribute__((visibility("default")))

typedef void *tensor_handle; /* an at::Tensor *: here the address of an int64 holding _cdata */

/* The shim's functions (each returns 0 on success) and the codes it gives
 * the CPU and the dtypes; cadamp fills it at import. */
typedef struct cadamp_shim {
    int32_t (*data_ptr)(tensor_handle, void **);
    int32_t (*dim)(tensor_handle, int64_t *);
    int32_t (*sizes)(tensor_handle, int64_t **);
    int32_t (*strides)(tensor_handle, int64_t **);
    int32_t (*dtype)(tensor_handle, int32_t *);
    int32_t (*device_type)(tensor_handle, int32_t *);
    int32_t cpu, float32, float64, int64, bfloat16, float16, uint16;
    /* Where a TensorImpl holds its StorageImpl's address (found at import;
     * -1: unknown), for prefetching only: see prefetch_row. */
    int64_t storage_at;
} cadamp_shim;

/* What the binder says of a parameter (cadamp_bind_why names them). The
 * first two are refused: no optimizer steps such a parameter, and the
 * drop-in raises before anything is written. The others send the step to
 * a new plan or the reference path, which steps such tensors as
 * torch.optim or the official code does. */
enum {
    CADAMP_BOUND = 0,
    CADAMP_OTHER_SHAPE,    /* not the parameter's shape (refused) */
    CADAMP_BAD_STEP,       /* a step count not a whole number in [0, 2^63 - 1) (refused) */
    CADAMP_NOT_DENSE,      /* not a dense tensor in CPU memory */
    CADAMP_NOT_CONTIGUOUS,
    CADAMP_OTHER_DTYPE,    /* not the dtype the plan expects of it (the parameter's, its state's, its master's) */
    CADAMP_SHARED_MEMORY,  /* overlaps another tensor the step writes */
    CADAMP_STEP_TENSOR,    /* a step count that is not one CPU float32, float64 or int64 element */
    CADAMP_OTHER_LAYOUT,   /* dense, but its strides are not its parameter's */
    CADAMP_WHY_COUNT
};

/* Which of a parameter's tensors it is about (cadamp_bind_slot names them). */
enum {
    SLOT_PARAM = 0,
    SLOT_GRAD = 1,
    SLOT_STATE = 2,
    SLOT_MASTER = SLOT_STATE + ADAMP_MAX_STATES, /* a master copy or a split trail */
    SLOT_STEP,
    SLOT_COUNT
};
#define WRITES_PER_PARAM (SLOT_COUNT - 1) /* the parameter, its states, its master, its step tensor */

EXPORT const char *cadamp_bind_why(int32_t why) {
    static const char *const names[CADAMP_WHY_COUNT] = {
        "bound", "has another shape than the parameter", "is not a whole number in [0, 2^63 - 1)",
        "is not a dense CPU tensor", "is not contiguous", "has another dtype",
        "shares memory with another tensor the step writes", "is not one CPU float32, float64 or int64 element",
        "has other strides than its parameter"};
    return why >= 0 && why < CADAMP_WHY_COUNT ? names[why] : "unknown";
}

/* 1 if the drop-in refuses a parameter for `why`, 0 if it steps it on
 * another path. */
EXPORT int32_t cadamp_bind_refused(int32_t why) { return why == CADAMP_OTHER_SHAPE || why == CADAMP_BAD_STEP; }

/* The why code of memory shared with another tensor the step writes. */
EXPORT int32_t cadamp_bind_shared_memory(void) { return CADAMP_SHARED_MEMORY; }

/* The why code of a step count out of range (for the official AdamP's
 * counts, which are Python ints the drop-in checks itself). */
EXPORT int32_t cadamp_bad_step(void) { return CADAMP_BAD_STEP; }

/* "parameter", "gradient", "state 0" ... "state 2", "master", "step count". */
EXPORT const char *cadamp_bind_slot(int32_t slot) {
    static const char *const names[SLOT_COUNT] = {"parameter", "gradient", "state 0", "state 1", "state 2",
                                                  "master", "step count"};
    return slot >= 0 && slot < SLOT_COUNT ? names[slot] : "unknown";
}

/* The slot of a step count, for messages. */
EXPORT int32_t cadamp_bind_slot_step(void) { return SLOT_STEP; }

EXPORT size_t cadamp_tensor_size(void) { return sizeof(adamp_tensor); }
EXPORT size_t cadamp_hparams_size(void) { return sizeof(adamp_hparams); }
EXPORT int32_t cadamp_max_states(void) { return ADAMP_MAX_STATES; }
/* The largest step count a step takes (it counts to one more). */
EXPORT int64_t cadamp_step_limit(void) { return INT64_MAX - 1; }

/* adamp_step_options as the drop-in steps: `out` holds sizeof(adamp_step_options) bytes. */
EXPORT size_t cadamp_step_options_size(void) { return sizeof(adamp_step_options); }
EXPORT void cadamp_step_options(void *out, double grad_mul, int32_t drop_stats, int32_t master, void *const *masters) {
    const adamp_step_options o = {
        .size = sizeof o, .grad_mul = grad_mul, .drop_stats = drop_stats, .master = master, .masters = masters};
    memcpy(out, &o, sizeof o);
}

/* What the shim says of one tensor: its shape (any tensor), then (read_dense)
 * where its elements lie. */
typedef struct {
    int64_t dim, numel;
    const int64_t *sizes, *strides;
    char *data;
    int32_t dtype;
} facts;

static int read_shape(const cadamp_shim *shim, int64_t *impl, facts *f) {
    int64_t *sizes;
    if (shim->dim(impl, &f->dim) || f->dim < 0 || shim->sizes(impl, &sizes)) return 0;
    f->sizes = sizes;
    f->numel = 1;
    for (int64_t d = 0; d < f->dim; d++)
        if (sizes[d] < 0 || __builtin_mul_overflow(f->numel, sizes[d], &f->numel)) return 0;
    return 1;
}

/* After read_shape: CADAMP_BOUND if the tensor is a dense CPU tensor whose
 * rows (its first dimension's slices) are consecutive blocks of memory:
 * row-major (torch's is_contiguous()), or any order of the other dimensions
 * within a row, as `channels_last` lays out a convolution's weight [O, I,
 * H, W]. The kernels take a row as a block of cols elements: what they
 * compute element by element is the same in any order, and a row's sums
 * differ only in the order they add. A tensor of no elements is bound. */
static int32_t read_dense(const cadamp_shim *shim, int64_t *impl, facts *f) {
    int32_t device;
    int64_t *strides;
    void *data;
    if (shim->device_type(impl, &device) || device != shim->cpu || shim->dtype(impl, &f->dtype) ||
        shim->strides(impl, &strides) || shim->data_ptr(impl, &data) || (f->numel > 0 && !data))
        return CADAMP_NOT_DENSE;
    f->data = data;
    f->strides = strides;
    if (f->numel == 0) return CADAMP_BOUND;
    /* Dense: the dimensions of more than one element, by stride, each
     * stride the product of the sizes of those below it (at most 8: the
     * binder's limit, as cadamp_describe's). */
    int64_t order[8], n = 0;
    for (int64_t d = 0; d < f->dim; d++) {
        if (f->sizes[d] == 1) continue;
        if (n == 8 || strides[d] <= 0) return CADAMP_NOT_CONTIGUOUS;
        int64_t k = n++;
        while (k > 0 && strides[order[k - 1]] > strides[d]) order[k] = order[k - 1], k--;
        order[k] = d;
    }
    for (int64_t k = 0, expected = 1; k < n; expected *= f->sizes[order[k++]])
        if (strides[order[k]] != expected) return CADAMP_NOT_CONTIGUOUS;
    /* Rows outermost: the first dimension, if it has more than one element, strides the most. */
    if (n > 0 && f->sizes[0] > 1 && order[n - 1] != 0) return CADAMP_NOT_CONTIGUOUS;
    return CADAMP_BOUND;
}

/* Whether b is laid out as a (same shape): the same strides for every
 * dimension of more than one element. */
static int same_layout(const facts *a, const facts *b) {
    for (int64_t d = 0; d < a->dim; d++)
        if (a->sizes[d] != 1 && a->strides[d] != b->strides[d]) return 0;
    return 1;
}

static int same_shape(const facts *a, const facts *b) {
    return a->dim == b->dim && !memcmp(a->sizes, b->sizes, (size_t)a->dim * sizeof(int64_t));
}

/* Bytes of an element of the dtypes the binder takes; 0 for others. */
static size_t elem_size(const cadamp_shim *shim, int32_t dtype) {
    if (dtype == shim->float64 || dtype == shim->int64) return 8;
    if (dtype == shim->float32) return 4;
    return dtype == shim->bfloat16 || dtype == shim->float16 || dtype == shim->uint16 ? 2 : 0;
}

/* The count a step tensor holds: CADAMP_BOUND, CADAMP_STEP_TENSOR if it is
 * not one CPU float32, float64 or int64 element, CADAMP_BAD_STEP if the
 * count is not a whole number in [0, INT64_MAX). */
static int32_t read_step(const cadamp_shim *shim, int64_t *impl, int64_t *step, char **data, int32_t *dtype) {
    facts f;
    if (!read_shape(shim, impl, &f) || f.numel != 1 || read_dense(shim, impl, &f) != CADAMP_BOUND ||
        (f.dtype != shim->float32 && f.dtype != shim->float64 && f.dtype != shim->int64))
        return CADAMP_STEP_TENSOR;
    *data = f.data;
    *dtype = f.dtype;
    if (f.dtype == shim->int64) {
        memcpy(step, f.data, sizeof *step);
        return *step >= 0 && *step < INT64_MAX ? CADAMP_BOUND : CADAMP_BAD_STEP;
    }
    double v;
    if (f.dtype == shim->float32) {
        float x;
        memcpy(&x, f.data, sizeof x);
        v = x;
    } else {
        memcpy(&v, f.data, sizeof v);
    }
    /* 0x1p63 is the first double above INT64_MAX; every whole double below it is an int64. */
    if (!(v >= 0 && v < 0x1p63 && v == floor(v))) return CADAMP_BAD_STEP;
    *step = (int64_t)v;
    return CADAMP_BOUND;
}

/* The tensors of many parameters lie all over memory, and reading one
 * misses the caches twice: its TensorImpl, then its StorageImpl (which
 * holds the data pointer). Both are fetched ahead: the TensorImpls of the
 * parameter AHEAD rows on, the StorageImpls (their address read from the
 * TensorImpl fetched the round before, where the shim struct says it lies)
 * of the one AHEAD / 2 rows on. A prefetch of any address is harmless, and
 * the address read lies inside a live TensorImpl: a wrong storage_at costs
 * only speed. Over 20,000 parameters of Adam (6 tensors each) this took a
 * bind from 1,000-1,200 ns a parameter to 500-560. */
#define AHEAD 16
#define IMPL_LINES 4 /* the fields the shim reads lie in a TensorImpl's first 256 bytes */

static void prefetch_impl(int64_t impl) {
    for (int k = 0; impl && k < IMPL_LINES; k++) __builtin_prefetch((const char *)(uintptr_t)impl + 64 * k);
}

static void prefetch_storage(const cadamp_shim *shim, int64_t impl) {
    if (!impl || shim->storage_at < 0) return;
    uintptr_t storage;
    memcpy(&storage, (const char *)(uintptr_t)impl + shim->storage_at, sizeof storage);
    __builtin_prefetch((const void *)storage); /* its first 64 bytes, which may span two lines */
    __builtin_prefetch((const void *)(storage + 63));
}

/* The tensors of a plan's parameter i: its parameter, gradient, states,
 * master and step tensor (TensorImpl addresses; 0: none). */
typedef struct {
    int64_t *params, *grads, *states, *masters, *step_tensors;
} rows;

static int64_t *impl_of(const rows *r, size_t i, int slot) {
    return slot == SLOT_PARAM ? &r->params[i]
         : slot == SLOT_GRAD ? &r->grads[i]
         : slot == SLOT_MASTER ? &r->masters[i]
         : slot == SLOT_STEP ? &r->step_tensors[i]
         : &r->states[i * ADAMP_MAX_STATES + (size_t)(slot - SLOT_STATE)];
}

static void prefetch_row(const cadamp_shim *shim, const rows *r, size_t i, int storage) {
    for (int s = 0; s < SLOT_COUNT; s++) {
        const int64_t impl = *impl_of(r, i, s);
        if (storage) prefetch_storage(shim, impl);
        else prefetch_impl(impl);
    }
}

/* Memory a step writes or reads, and whose it is. */
typedef struct {
    uintptr_t start, end;
    size_t param;
} span;

static int by_start(const void *a, const void *b) {
    const uintptr_t x = ((const span *)a)->start, y = ((const span *)b)->start;
    return x < y ? -1 : x > y;
}

/* Whether `s` overlaps a span of sorted[0..n), spans that do not overlap
 * each other: the last that starts before s ends must end before s starts. */
static int overlaps(const span *sorted, size_t n, span s) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid].start < s.end) lo = mid + 1;
        else hi = mid;
    }
    return lo > 0 && sorted[lo - 1].end > s.start;
}

/* The scratch a plan keeps for cadamp_bind: a count, then the spans of
 * memory the step writes as this step has them, as the last check had
 * them, and those sorted; then each gradient's span. */
#define SPAN_INTS (sizeof(span) / sizeof(int64_t))

/* int64s of scratch cadamp_bind needs for n parameters. */
EXPORT size_t cadamp_bind_scratch_len(size_t n) { return 1 + SPAN_INTS * (3 * WRITES_PER_PARAM + 1) * n; }

/* The dtypes (the shim's codes) the plan expects of a parameter's tensors,
 * DTYPES_PER_ROW of them in cadamp_bind's `dtypes`: its parameter's (and
 * gradient's), its state's, its master's (-1: it keeps none). */
enum { EXPECT_PARAM, EXPECT_STATE, EXPECT_MASTER, DTYPES_PER_ROW };

/* A plan's parameters, as the binder is given them (see cadamp_bind). */
typedef struct {
    const int32_t *dtypes; /* DTYPES_PER_ROW per parameter */
    const int64_t *groups, *steps;
    const adamp_hparams *hparams;
    size_t n_groups;
} plan_rows;

/* The first why of row i, and its slot: what is refused, else (when
 * `out` is not NULL) what keeps it from the kernels; CADAMP_BOUND with
 * *d its descriptor, and the spans it writes added to spans[*w]. */
static int32_t bind_row(const cadamp_shim *shim, const rows *r, const plan_rows *pr, size_t i, adamp_tensor *out,
                        void **masters, char **step_data, int32_t *step_dtypes, span *spans, size_t *w, span *grad,
                        int32_t *slot) {
    facts f[SLOT_STEP];
    int present[SLOT_STEP];
    *slot = SLOT_PARAM;
    if (!read_shape(shim, impl_of(r, i, SLOT_PARAM), &f[SLOT_PARAM])) return CADAMP_NOT_DENSE;
    /* Refused, whatever else is wrong: a gradient or state of another
     * shape than the parameter's, a step count out of range. */
    for (int s = SLOT_GRAD; s < SLOT_STEP; s++) {
        present[s] = *impl_of(r, i, s) != 0;
        *slot = s;
        if (present[s] && !read_shape(shim, impl_of(r, i, s), &f[s])) return CADAMP_NOT_DENSE;
        if (present[s] && !same_shape(&f[s], &f[SLOT_PARAM])) return CADAMP_OTHER_SHAPE;
    }
    *slot = SLOT_STEP;
    int64_t step = pr->steps[i];
    char *sdata = NULL;
    int32_t sdtype = 0, why;
    if (r->step_tensors[i]) {
        if ((why = read_step(shim, &r->step_tensors[i], &step, &sdata, &sdtype))) return why;
    } else if (step < 0 || step == INT64_MAX) {
        return CADAMP_BAD_STEP;
    }
    if (!out) return CADAMP_BOUND;
    /* What the kernels need. */
    *slot = SLOT_PARAM;
    facts *p = &f[SLOT_PARAM];
    if (!present[SLOT_GRAD] || pr->groups[i] < 0 || (size_t)pr->groups[i] >= pr->n_groups) return CADAMP_NOT_DENSE;
    if ((why = read_dense(shim, impl_of(r, i, SLOT_PARAM), p))) return why;
    const int32_t *expect = &pr->dtypes[i * DTYPES_PER_ROW];
    if (p->dtype != expect[EXPECT_PARAM] || !elem_size(shim, p->dtype)) return CADAMP_OTHER_DTYPE;
    *slot = SLOT_MASTER;
    if (present[SLOT_MASTER] != (expect[EXPECT_MASTER] >= 0)) return CADAMP_OTHER_DTYPE;
    const size_t bytes = (size_t)p->numel * elem_size(shim, p->dtype);
    adamp_tensor d = {.param = p->data, .hparams = &pr->hparams[pr->groups[i]], .ndim = (int32_t)p->dim,
                      .step = step};
    d.rows = p->dim > 0 ? (size_t)p->sizes[0] : 1;
    d.cols = d.rows ? (size_t)p->numel / d.rows : 0;
    size_t at = *w;
    if (bytes) spans[at++] = (span){(uintptr_t)p->data, (uintptr_t)p->data + bytes, i};
    void **state = &d.state0;
    void *master = NULL;
    for (int s = SLOT_GRAD; s < SLOT_STEP; s++) {
        if (!present[s]) continue;
        *slot = s;
        if ((why = read_dense(shim, impl_of(r, i, s), &f[s]))) return why;
        const int32_t want = s == SLOT_GRAD ? expect[EXPECT_PARAM] : s == SLOT_MASTER ? expect[EXPECT_MASTER]
                                                                                      : expect[EXPECT_STATE];
        if (f[s].dtype != want || !elem_size(shim, want)) return CADAMP_OTHER_DTYPE;
        if (p->numel > 0 && !same_layout(p, &f[s])) return CADAMP_OTHER_LAYOUT;
        const span m = {(uintptr_t)f[s].data, (uintptr_t)f[s].data + (size_t)p->numel * elem_size(shim, want), i};
        if (s == SLOT_MASTER) {
            master = f[s].data;
            if (bytes) spans[at++] = m;
        } else if (s == SLOT_GRAD) {
            /* A gradient of no elements may have no memory; the library
             * takes any address as the sign that there is one. */
            static const char no_elements;
            d.grad = f[s].data ? f[s].data : &no_elements;
            *grad = m;
        } else {
            state[s - SLOT_STATE] = f[s].data;
            if (bytes) spans[at++] = m;
        }
    }
    if (sdata) {
        step_data[i] = sdata;
        step_dtypes[i] = sdtype;
        spans[at++] = (span){(uintptr_t)sdata, (uintptr_t)sdata + elem_size(shim, sdtype), i};
    }
    out[i] = d;
    masters[i] = master;
    *w = at;
    return CADAMP_BOUND;
}

/* Binds parameters [0, n) of a plan. For parameter i: params[i],
 * grads[i], states[i * ADAMP_MAX_STATES + k], masters[i] and step_tensors[i]
 * hold the TensorImpl addresses (Tensor._cdata; 0: none) of its parameter,
 * gradient, state buffers, master and step tensor; dtypes[i * 3 + k] the
 * dtypes (the shim's codes) its plan expects of them (EXPECT_*: parameter
 * and gradient, state, master or -1); groups[i] its group, an index into
 * hparams[0..n_groups); steps[i] its step count when it has no step tensor.
 *
 * Every parameter is checked for what is refused (cadamp_bind_refused);
 * the first so found is returned, with *why and *slot. With `out` NULL,
 * that is all (the reference path's check), and -1 is returned otherwise.
 * With `out`, the first parameter the kernels cannot take as it is, if no
 * parameter is refused; else -1, having written out[i] whole and
 * out_masters[i] (its master's memory, NULL if none) for each parameter, and
 * for each with a step tensor, step_data[i] and step_dtypes[i] (for
 * cadamp_store_steps). scratch: cadamp_bind_scratch_len(n) int64s, kept by
 * the plan between steps and zeroed at first: the memory the step writes
 * is sorted and checked for overlaps only when it is not what it was at
 * the last check. row_why (n entries, or NULL): each parameter's why, and
 * with `out` every parameter the kernels can take is bound even after one
 * they cannot (which a plan then leaves to the reference path alone). */
EXPORT int64_t cadamp_bind(const cadamp_shim *shim, size_t n, int64_t *params, int64_t *grads_in, int64_t *states,
                           int64_t *masters, int64_t *step_tensors, const int32_t *dtypes, const int64_t *groups,
                           const int64_t *steps, const adamp_hparams *hparams, size_t n_groups, adamp_tensor *out,
                           void **out_masters, char **step_data, int32_t *step_dtypes, int64_t *scratch, int32_t *why,
                           int32_t *slot, int32_t *row_why) {
    const rows r = {params, grads_in, states, masters, step_tensors};
    const plan_rows pr = {dtypes, groups, steps, hparams, n_groups};
    span *now = NULL, *checked = NULL, *sorted = NULL, *grads = NULL;
    if (out) {
        now = (span *)(scratch + 1);
        checked = now + WRITES_PER_PARAM * n;
        sorted = checked + WRITES_PER_PARAM * n;
        grads = sorted + WRITES_PER_PARAM * n;
    }
    size_t w = 0;
    int64_t first = -1; /* the first parameter the kernels cannot take */
    for (size_t i = 0; i < n; i++) {
        if (i + AHEAD < n) prefetch_row(shim, &r, i + AHEAD, 0);
        if (i + AHEAD / 2 < n) prefetch_row(shim, &r, i + AHEAD / 2, 1);
        int32_t s, y = bind_row(shim, &r, &pr, i, first < 0 || row_why ? out : NULL, out_masters, step_data,
                                step_dtypes, now, &w, out ? &grads[i] : NULL, &s);
        if (row_why) row_why[i] = y;
        if (y == CADAMP_BOUND) continue;
        if (cadamp_bind_refused(y) || first < 0) *why = y, *slot = s;
        if (cadamp_bind_refused(y)) return (int64_t)i;
        if (first < 0) first = (int64_t)i;
    }
    if (!out || first >= 0) return first;
    /* The memory the step writes: checked again only when it has changed. */
    if ((size_t)scratch[0] != w || memcmp(checked, now, w * sizeof(span))) {
        scratch[0] = -1; /* until the check passes */
        memcpy(sorted, now, w * sizeof(span));
        qsort(sorted, w, sizeof(span), by_start);
        for (size_t k = 1; k < w; k++)
            if (sorted[k].start < sorted[k - 1].end) {
                *why = CADAMP_SHARED_MEMORY, *slot = SLOT_PARAM;
                if (row_why) row_why[sorted[k].param] = CADAMP_SHARED_MEMORY;
                return (int64_t)sorted[k].param;
            }
        memcpy(checked, now, w * sizeof(span));
        scratch[0] = (int64_t)w;
    }
    /* Gradients are only read, but none may lie in memory the step writes. */
    for (size_t i = 0; i < n; i++)
        if (grads[i].end > grads[i].start && overlaps(sorted, w, grads[i])) {
            *why = CADAMP_SHARED_MEMORY, *slot = SLOT_GRAD;
            if (row_why) row_why[i] = CADAMP_SHARED_MEMORY;
            return (int64_t)i;
        }
    return -1;
}

/* After the step: each step tensor takes its parameter's new count, in its
 * dtype (a float32 count rounds as torch's `step += 1` rounds it). */
EXPORT void cadamp_store_steps(const cadamp_shim *shim, size_t n, const int64_t *step_tensors, const adamp_tensor *t,
                               char *const *step_data, const int32_t *step_dtypes) {
    for (size_t i = 0; i < n; i++) {
        if (!step_tensors[i]) continue;
        if (step_dtypes[i] == shim->int64) {
            memcpy(step_data[i], &t[i].step, sizeof t[i].step);
        } else if (step_dtypes[i] == shim->float64) {
            const double v = (double)t[i].step;
            memcpy(step_data[i], &v, sizeof v);
        } else {
            const float v = (float)t[i].step;
            memcpy(step_data[i], &v, sizeof v);
        }
    }
}

/* The step counts and projection codes of n descriptors. */
EXPORT void cadamp_read_results(const adamp_tensor *t, size_t n, int64_t *steps, int32_t *projections) {
    for (size_t i = 0; i < n; i++) {
        if (steps) steps[i] = t[i].step;
        if (projections) projections[i] = t[i].projection;
    }
}

/* For cadamp's check at import: what the shim says of one tensor, as
 * int64s: [status, data pointer, dtype, device type, dim, sizes..., strides...]
 * (at most 8 dimensions; status nonzero: the shim failed). */
EXPORT void cadamp_describe(const cadamp_shim *shim, int64_t *impl, int64_t out[21]) {
    void *data = NULL;
    int32_t dtype = 0, device = 0;
    int64_t dim = 0, *sizes = NULL, *strides = NULL;
    memset(out, 0, 21 * sizeof(int64_t));
    out[0] = shim->data_ptr(impl, &data) || shim->dtype(impl, &dtype) || shim->device_type(impl, &device) ||
             shim->dim(impl, &dim) || dim < 0 || dim > 8 || shim->sizes(impl, &sizes) || shim->strides(impl, &strides);
    if (out[0]) return;
    out[1] = (int64_t)(uintptr_t)data;
    out[2] = dtype;
    out[3] = device;
    out[4] = dim;
    for (int64_t d = 0; d < dim; d++) {
        out[5 + d] = sizes[d];
        out[13 + d] = strides[d];
    }
}
