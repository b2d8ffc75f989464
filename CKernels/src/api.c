/* The public entry points: validate everything (so that no phase can fail
 * halfway), resolve the config, then run the phases. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include "adamp.h"
#include "dispatch.h"
#include "norms.h"
#include "step.h"
#include "tensor.h"

static int is_algo(adamp_algorithm a) { return adamp_algorithm_find(a) != NULL; }
static int is_dtype(adamp_dtype d) { return adamp_dtype_valid(d); }

/* Adds t's statistics rows to *rows; 0 if the total would take more than
 * ADAMP_MAX_BYTES (the one rule adamp_stats_len and validation share). */
static int add_stats_rows(size_t *rows, const adamp_tensor *t) {
    const size_t n = adamp_stats_rows(t);
    if (n > ADAMP_MAX_STATS_ROWS - *rows) return 0;
    *rows += n;
    return 1;
}

size_t adamp_stats_len(const adamp_tensor *tensors, size_t count) {
    if (!tensors) return 0;
    size_t rows = 0;
    for (size_t i = 0; i < count; i++)
        if (!add_stats_rows(&rows, &tensors[i])) return SIZE_MAX; /* rather than wrap to a short length */
    return ADAMP_STATS_LEN_PER_ROW * rows;
}

/* Whether t has every state buffer its update uses (the first `used`). */
static int has_state(int used, const adamp_tensor *t) {
    const void *const state[ADAMP_MAX_STATES] = {t->state0, t->state1, t->state2};
    for (int k = 0; k < used; k++)
        if (!state[k]) return 0;
    return 1;
}

/* What a call does with its tensors, for validate(): read their statistics
 * (need_stats), count their steps (so that a count a step took to INT64_MAX
 * can still be decided and diagnosed), update them (and so read and write
 * their state). */
enum { NEEDS_STATS = 1, COUNTS = 2, UPDATES = 4 };

adamp_sizes adamp_sizes_of(const adamp_storage *s) {
    const size_t param = adamp_dtype_size(s->dtype);
    const adamp_sizes z = {param, adamp_dtype_size(s->grad), s->master ? sizeof(float) : param,
                           s->master == ADAMP_MASTER_FLOAT32 ? sizeof(float) : s->master == ADAMP_MASTER_SPLIT ? 2 : 0,
                           adamp_dtype_size(adamp_arithmetic(s->dtype))};
    return z;
}

/* The storage of parameters of `dtype` alone (no master, gradients alike). */
static adamp_storage plain(adamp_dtype dtype) {
    const adamp_storage s = {dtype, dtype, ADAMP_MASTER_OFF, NULL};
    return s;
}

/* Checks every tensor (and the stats buffer with NEEDS_STATS) before anything
 * is written, including every size, so that no offset or sum computed later
 * can overflow. algo == 0 skips the checks of hyperparameters and counts. A
 * tensor of no elements needs no buffer. */
static adamp_status validate(adamp_algorithm algo, const adamp_storage *storage, const adamp_tensor *tensors,
                             size_t count, const double *stats, size_t stats_len, int does, size_t *rows) {
    if (count == 0) return ADAMP_OK;
    if (!tensors) return ADAMP_E_NULL_POINTER;
    const adamp_sizes z = adamp_sizes_of(storage);
    size_t widest = z.param > z.grad ? z.param : z.grad;
    widest = z.state > widest ? z.state : widest;
    const size_t max_elems = ADAMP_MAX_BYTES / widest;
    const int need_stats = does & NEEDS_STATS, counts = does & COUNTS, updates = does & UPDATES;
    size_t stats_rows = 0, elems = 0;
    const adamp_hparams *checked = NULL;
    int used = 0; /* the state buffers of `checked`'s updates */
    for (size_t i = 0; i < count; i++) {
        const adamp_tensor *t = &tensors[i];
        size_t n; /* no division: it was a fifth of validating 20,000 small tensors (60 -> 49 us) */
        if (__builtin_mul_overflow(t->rows, t->cols, &n) || n > max_elems) return ADAMP_E_INVALID_SIZE;
        const int empty = n == 0;
        if (!t->param && !empty) return ADAMP_E_NULL_POINTER;
        if (!add_stats_rows(&stats_rows, t)) return ADAMP_E_INVALID_SIZE;
        /* The scheduler sums the elements it updates (those with a gradient). */
        if (t->grad) {
            if (n > max_elems - elems) return ADAMP_E_INVALID_SIZE;
            elems += n;
        }
        if (algo == 0) continue;
        if (!t->hparams) return ADAMP_E_NULL_POINTER;
        if (t->hparams != checked) { /* many tensors share a group's: checked once in a run of them */
            adamp_status s = adamp_hparams_check(algo, t->hparams, NULL, NULL);
            if (s != ADAMP_OK) return s;
            checked = t->hparams;
            used = adamp_state_count(algo, checked);
        }
        if (counts && (t->step < 0 || t->step == INT64_MAX)) return ADAMP_E_INVALID_SIZE;
        if (updates && t->grad && !empty && !has_state(used, t)) return ADAMP_E_NULL_POINTER;
        if (updates && t->grad && !empty && storage->master && !storage->masters[i]) return ADAMP_E_NULL_POINTER;
    }
    if (need_stats && stats_rows > 0) {
        if (!stats) return ADAMP_E_NULL_POINTER;
        if (stats_len < (ADAMP_STATS_PER_ROW + ADAMP_SCRATCH_PER_ROW) * stats_rows) return ADAMP_E_STATS_TOO_SMALL;
    }
    if (rows) *rows = stats_rows;
    return ADAMP_OK;
}

/* The run's kernels and thread count from the config (NULL: defaults). */
static adamp_status resolve(const adamp_config *config, const adamp_storage *s, const adamp_kernels **kernels,
                            int *threads, size_t *block) {
    const adamp_config none = {ADAMP_ISA_AUTO, 0, 0};
    if (!config) config = &none;
    if (!adamp_isa_valid(config->isa)) return ADAMP_E_INVALID_ENUM;
    if (!adamp_isa_supported(config->isa)) return ADAMP_E_UNSUPPORTED_ISA;
    *kernels = adamp_kernels_for(s->dtype, s->master, s->grad, adamp_isa_selected(config->isa));
    if (!*kernels) return ADAMP_E_UNSUPPORTED_ISA;
    if (config->threads < 0 || config->threads > ADAMP_MAX_THREADS || config->block < 0) return ADAMP_E_INVALID_CONFIG;
    *threads = config->threads > 0 ? config->threads : adamp_default_threads();
    *block = config->block > 0 ? (size_t)config->block : ADAMP_DEFAULT_BLOCK;
    return ADAMP_OK;
}

typedef adamp_step_options step_opts;

static const step_opts DEFAULTS = {sizeof(adamp_step_options), 1.0, 0, 0, ADAMP_MASTER_OFF, NULL};

/* How a call of parameters of `dtype` under options `o` stores its buffers:
 * ADAMP_E_INVALID_CONFIG for a gradient dtype or master the parameters'
 * dtype does not take, ADAMP_E_NULL_POINTER for a master without masters. */
static adamp_status storage_of(adamp_dtype dtype, const step_opts *o, adamp_storage *s) {
    *s = (adamp_storage){dtype, o->grad_dtype ? (adamp_dtype)o->grad_dtype : dtype, o->master, o->masters};
    if (adamp_arithmetic(s->grad) != adamp_arithmetic(dtype) || !adamp_master_takes(s->master, dtype))
        return ADAMP_E_INVALID_CONFIG;
    if (s->master && !s->masters) return ADAMP_E_NULL_POINTER;
    return ADAMP_OK;
}

static const adamp_split WHOLE = {ADAMP_PART_WHOLE, NULL, NULL, NULL};

/* The phases of a whole step. */
#define STEP (ADAMP_RUN_STATS | ADAMP_RUN_DECIDE | ADAMP_RUN_APPLY)

/* What a run needs once its input is checked. */
typedef struct {
    adamp_storage storage;
    int phases, projects;
    size_t rows;
    const adamp_kernels *kernels;
    int threads;
    size_t block;
} prepared;

/* Validates and resolves a run of `phases`, writing nothing but *p: every
 * check a run makes is here, so that a run that passes cannot fail half
 * way (adamp_validate() is this alone). Algorithms without projection take
 * no stats, and decide (trivially) in every call that updates. */
static adamp_status prepare(const adamp_config *config, adamp_algorithm algo, adamp_dtype dtype,
                            const adamp_tensor *tensors, size_t count, const double *stats, size_t stats_len,
                            int phases, adamp_split sp, const step_opts *o, prepared *p) {
    if ((algo != 0 && !is_algo(algo)) || !is_dtype(dtype)) return ADAMP_E_INVALID_ENUM;
    adamp_status s = storage_of(dtype, o, &p->storage);
    if (s != ADAMP_OK) return s;
    const int projects = algo == 0 || adamp_projects(algo);
    if (!projects) phases = ADAMP_RUN_DECIDE | ADAMP_RUN_APPLY, stats = NULL;
    const int apply_only = phases == ADAMP_RUN_APPLY;
    int need_stats = projects && !apply_only;
    const int updates = (phases & ADAMP_RUN_APPLY) != 0;
    for (size_t i = 0; apply_only && tensors && i < count; i++) {
        const adamp_tensor *t = &tensors[i];
        if (!t->grad) continue;
        if (t->projection < ADAMP_PROJ_NONE || t->projection > ADAMP_PROJ_LAYER) return ADAMP_E_INVALID_ENUM;
        if (t->projection != ADAMP_PROJ_NONE && (t->ndim <= 1 || t->rows == 0 || t->cols == 0)) return ADAMP_E_INVALID_ENUM;
        if (t->projection != ADAMP_PROJ_NONE) need_stats = 1;
        if (t->projection == ADAMP_PROJ_LAYER && projects && sp.part != ADAMP_PART_WHOLE &&
            (!sp.layer_pp || (sp.part == ADAMP_PART_BEGIN ? !sp.row_s : !sp.layer_s)))
            return ADAMP_E_NULL_POINTER;
    }
    p->phases = phases;
    p->projects = projects;
    /* The second half of a split update counts no step (the first did). */
    const int counts = sp.part != ADAMP_PART_END;
    const int does = (need_stats ? NEEDS_STATS : 0) | (counts ? COUNTS : 0) | (updates ? UPDATES : 0);
    s = validate(algo, &p->storage, tensors, count, stats, stats_len, does, &p->rows);
    if (s != ADAMP_OK) return s;
    return resolve(config, &p->storage, &p->kernels, &p->threads, &p->block);
}

/* Validates, resolves and runs `phases`. */
static adamp_status run(const adamp_config *config, adamp_algorithm algo, adamp_dtype dtype,
                        adamp_tensor *tensors, size_t count, double *stats, size_t stats_len, int phases,
                        step_opts o, adamp_split sp) {
    prepared p;
    adamp_status s = prepare(config, algo, dtype, tensors, count, stats, stats_len, phases, sp, &o, &p);
    if (s != ADAMP_OK || count == 0) return s;
    if (!p.projects) stats = NULL;
    /* Blocks keep p and g in cache from the statistics to the update, and
     * let one block's serial step (the decision, counting steps) run while
     * other threads update the blocks before it: Adam over 20,000 tensors in
     * one block spent ~0.5 ms a step with one thread counting them all. */
    double *scratch = stats ? stats + ADAMP_STATS_PER_ROW * p.rows : NULL;
    const adamp_run r = {algo, dtype, p.storage, p.kernels, tensors, count, stats, scratch, p.phases, o.grad_mul,
                         o.drop_stats, p.block, sp};
    adamp_run_step(&r, p.threads);
    return ADAMP_OK;
}

/* An options field is given if the caller's struct (of `size` bytes) holds it. */
#define HAS_OPTION(o, field) ((o) && (o)->size >= offsetof(adamp_step_options, field) + sizeof((o)->field))

adamp_status adamp_step_options_resolve(const adamp_step_options *options, adamp_step_options *o) {
    if (!o) return ADAMP_E_NULL_POINTER;
    *o = DEFAULTS;
    if (HAS_OPTION(options, grad_mul)) o->grad_mul = options->grad_mul;
    if (HAS_OPTION(options, drop_stats)) o->drop_stats = options->drop_stats;
    if (HAS_OPTION(options, grad_dtype)) o->grad_dtype = options->grad_dtype;
    if (HAS_OPTION(options, master)) o->master = options->master;
    if (HAS_OPTION(options, masters)) o->masters = options->masters;
    const int ok = isfinite(o->grad_mul) && o->grad_mul >= 0 && (o->drop_stats == 0 || o->drop_stats == 1) &&
                   (o->grad_dtype == 0 || adamp_dtype_valid((adamp_dtype)o->grad_dtype)) && adamp_master_valid(o->master);
    return ok ? ADAMP_OK : ADAMP_E_INVALID_CONFIG;
}

adamp_status adamp_row_stats(const adamp_config *config, adamp_dtype dtype, const adamp_tensor *tensors,
                             size_t count, double *stats, size_t stats_len) {
    return adamp_row_stats_ex(config, dtype, tensors, count, stats, stats_len, NULL);
}

adamp_status adamp_row_stats_ex(const adamp_config *config, adamp_dtype dtype, const adamp_tensor *tensors,
                                size_t count, double *stats, size_t stats_len, const adamp_step_options *options) {
    step_opts o;
    adamp_status s = adamp_step_options_resolve(options, &o);
    if (s != ADAMP_OK) return s;
    o.drop_stats = 0; /* the statistics are what this call is for */
    /* The stats phase writes no tensor field: the cast only lets one run type serve. */
    return run(config, 0, dtype, (adamp_tensor *)tensors, count, stats, stats_len, ADAMP_RUN_STATS, o, WHOLE);
}

adamp_status adamp_decide(adamp_algorithm algorithm, adamp_dtype dtype, adamp_tensor *tensors,
                          size_t count, const double *stats, size_t stats_len) {
    if (!is_algo(algorithm) || !is_dtype(dtype)) return ADAMP_E_INVALID_ENUM;
    const int projects = adamp_projects(algorithm);
    const adamp_storage st = plain(dtype);
    adamp_status s = validate(algorithm, &st, tensors, count, stats, stats_len, projects ? NEEDS_STATS : 0, NULL);
    if (s != ADAMP_OK) return s;
    size_t off = 0;
    for (size_t i = 0; i < count; i++) {
        adamp_tensor *t = &tensors[i];
        t->projection = adamp_decide_tensor(algorithm, t, adamp_stats_rows(t) && projects ? stats + ADAMP_STATS_PER_ROW * off : NULL, dtype);
        off += adamp_stats_rows(t);
    }
    return ADAMP_OK;
}

adamp_status adamp_apply(const adamp_config *config, adamp_algorithm algorithm, adamp_dtype dtype,
                         adamp_tensor *tensors, size_t count, double *stats, size_t stats_len) {
    if (!is_algo(algorithm)) return ADAMP_E_INVALID_ENUM;
    return run(config, algorithm, dtype, tensors, count, stats, stats_len, ADAMP_RUN_APPLY, DEFAULTS, WHOLE);
}

/* A half of a split update: the options as a step takes them. */
static adamp_status apply_half(const adamp_config *config, adamp_algorithm algorithm, adamp_dtype dtype,
                               adamp_tensor *tensors, size_t count, double *stats, size_t stats_len,
                               const adamp_step_options *options, adamp_split sp) {
    if (!is_algo(algorithm)) return ADAMP_E_INVALID_ENUM;
    step_opts o;
    adamp_status s = adamp_step_options_resolve(options, &o);
    if (s != ADAMP_OK) return s;
    return run(config, algorithm, dtype, tensors, count, stats, stats_len, ADAMP_RUN_APPLY, o, sp);
}

adamp_status adamp_apply_layer_begin(const adamp_config *config, adamp_algorithm algorithm, adamp_dtype dtype,
                                     adamp_tensor *tensors, size_t count, double *stats, size_t stats_len,
                                     const adamp_step_options *options, const double *layer_pp, double *row_s) {
    const adamp_split sp = {ADAMP_PART_BEGIN, layer_pp, row_s, NULL};
    return apply_half(config, algorithm, dtype, tensors, count, stats, stats_len, options, sp);
}

adamp_status adamp_apply_layer_end(const adamp_config *config, adamp_algorithm algorithm, adamp_dtype dtype,
                                   adamp_tensor *tensors, size_t count, double *stats, size_t stats_len,
                                   const adamp_step_options *options, const double *layer_pp,
                                   const double *layer_s) {
    const adamp_split sp = {ADAMP_PART_END, layer_pp, NULL, layer_s};
    return apply_half(config, algorithm, dtype, tensors, count, stats, stats_len, options, sp);
}

adamp_status adamp_step(const adamp_config *config, adamp_algorithm algorithm, adamp_dtype dtype,
                        adamp_tensor *tensors, size_t count, double *stats, size_t stats_len) {
    return adamp_step_ex(config, algorithm, dtype, tensors, count, stats, stats_len, NULL);
}

adamp_status adamp_step_ex(const adamp_config *config, adamp_algorithm algorithm, adamp_dtype dtype,
                           adamp_tensor *tensors, size_t count, double *stats, size_t stats_len,
                           const adamp_step_options *options) {
    if (!is_algo(algorithm)) return ADAMP_E_INVALID_ENUM;
    step_opts o;
    adamp_status s = adamp_step_options_resolve(options, &o);
    if (s != ADAMP_OK) return s;
    return run(config, algorithm, dtype, tensors, count, stats, stats_len, STEP, o, WHOLE);
}

adamp_status adamp_validate(const adamp_config *config, adamp_algorithm algorithm, adamp_dtype dtype,
                            const adamp_tensor *tensors, size_t count, const double *stats, size_t stats_len,
                            const adamp_step_options *options) {
    if (!is_algo(algorithm)) return ADAMP_E_INVALID_ENUM;
    step_opts o;
    adamp_status s = adamp_step_options_resolve(options, &o);
    if (s != ADAMP_OK) return s;
    prepared p;
    return prepare(config, algorithm, dtype, tensors, count, stats, stats_len, STEP, WHOLE, &o, &p);
}


/* Adds t's workspace chunks to *chunks; 0 if the total would not fit. */
static int add_norm_chunks(size_t *chunks, const adamp_tensor *t) {
    if (t->rows != 0 && t->cols > ADAMP_MAX_BYTES / t->rows) return 0;
    const size_t c = adamp_norm_chunks(t);
    if (c > ADAMP_MAX_BYTES / (2 * sizeof(double)) - *chunks) return 0;
    *chunks += c;
    return 1;
}

size_t adamp_grad_norms_len(const adamp_tensor *tensors, size_t count) {
    if (!tensors) return 0;
    size_t chunks = 0;
    for (size_t i = 0; i < count; i++)
        if (!add_norm_chunks(&chunks, &tensors[i])) return SIZE_MAX;
    return 2 * chunks;
}

adamp_status adamp_grad_norms(const adamp_config *config, adamp_dtype dtype, const adamp_tensor *tensors,
                              size_t count, double *sumsq, double *maxabs, double *work, size_t work_len) {
    if (!is_dtype(dtype)) return ADAMP_E_INVALID_ENUM;
    /* `dtype` is the gradients': the kernels of its arithmetic read them. */
    const adamp_storage st = {adamp_arithmetic(dtype), dtype, ADAMP_MASTER_OFF, NULL};
    adamp_status s = validate(0, &st, tensors, count, NULL, 0, 0, NULL);
    if (s != ADAMP_OK) return s;
    if (count == 0) return ADAMP_OK;
    if (!sumsq || !maxabs) return ADAMP_E_NULL_POINTER;
    const size_t need = adamp_grad_norms_len(tensors, count);
    if (need == SIZE_MAX) return ADAMP_E_INVALID_SIZE;
    if (need > 0 && !work) return ADAMP_E_NULL_POINTER;
    if (work_len < need) return ADAMP_E_STATS_TOO_SMALL;
    const adamp_kernels *kernels;
    int threads;
    size_t block;
    if ((s = resolve(config, &st, &kernels, &threads, &block)) != ADAMP_OK) return s;
    adamp_run_norms(kernels, dtype, tensors, count, sumsq, maxabs, work, threads);
    return ADAMP_OK;
}

adamp_status adamp_diagnose(adamp_algorithm algorithm, adamp_dtype dtype, const adamp_tensor *tensors, size_t count,
                            const double *stats, size_t stats_len, adamp_diagnostics *out) {
    if (!is_algo(algorithm) || !is_dtype(dtype)) return ADAMP_E_INVALID_ENUM;
    const int projects = adamp_projects(algorithm);
    const adamp_storage st = plain(dtype);
    adamp_status s = validate(algorithm, &st, tensors, count, stats, stats_len, projects ? NEEDS_STATS : 0, NULL);
    if (s != ADAMP_OK) return s;
    if (count > 0 && !out) return ADAMP_E_NULL_POINTER;
    size_t off = 0;
    for (size_t i = 0; i < count; i++) {
        const adamp_tensor *t = &tensors[i];
        adamp_diagnose_tensor(algorithm, t, adamp_stats_rows(t) && projects ? stats + ADAMP_STATS_PER_ROW * off : NULL, dtype,
                              &out[i]);
        off += adamp_stats_rows(t);
    }
    return ADAMP_OK;
}
