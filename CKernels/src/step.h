/* Internal: an optimizer step (or one of its phases) over many tensors, as a
 * plan for the scheduler. */
#ifndef ADAMP_STEP_H
#define ADAMP_STEP_H
#include "adamp.h"
#include "algorithm.h"
#include "kernels.h"

enum { ADAMP_RUN_STATS = 1, ADAMP_RUN_DECIDE = 2, ADAMP_RUN_APPLY = 4 };

/* The update whole, or in the two halves of adamp_apply_layer_begin/_end
 * (the layer view's sums then come from, and go to, the caller). */
enum { ADAMP_PART_WHOLE = 0, ADAMP_PART_BEGIN = 1, ADAMP_PART_END = 2 };

/* The layer view's sums of a split update (adamp_apply_layer_begin/_end). */
typedef struct {
    int part;               /* ADAMP_PART_*; BEGIN and END run the update only */
    const double *layer_pp; /* BEGIN, END: per tensor, the whole layer's p.p */
    double *row_s;          /* BEGIN: per stats row, its part of s (out) */
    const double *layer_s;  /* END: per tensor, s */
} adamp_split;

/* How a call's buffers are stored: the parameters' dtype, the gradients',
 * and the parameters' master (adamp_master; FLOAT32: masters[i] is tensor
 * i's float32 master, SPLIT its uint16 trail; the state is then float32). */
typedef struct adamp_storage {
    adamp_dtype dtype, grad;
    int master;
    void *const *masters;
} adamp_storage;

/* Bytes of one element of each of a storage's buffers. */
typedef struct {
    size_t param, grad, state, master, arithmetic;
} adamp_sizes;
adamp_sizes adamp_sizes_of(const adamp_storage *s);

/* A call, as api.c validated and resolved it. */
typedef struct adamp_run {
    adamp_algorithm algo; /* 0 for the statistics alone */
    adamp_dtype dtype;    /* the parameters' (storage.dtype) */
    adamp_storage storage;
    const adamp_kernels *kernels;
    adamp_tensor *tensors;
    size_t count;
    double *stats;   /* NULL for algorithms that keep no statistics */
    double *scratch; /* the stats buffer's scratch part (tensor.h), or NULL */
    int phases;      /* ADAMP_RUN_* */
    double grad_mul; /* every gradient times this (1: as is) */
    int drop_stats;  /* a tensor stepped whole may keep its statistics on the stack */
    size_t block;    /* elements per block; SIZE_MAX: all tensors in one block */
    adamp_split split;
} adamp_run;

/* Runs `run` on up to `threads` threads (validated input; cannot fail). */
void adamp_run_step(const adamp_run *run, int threads);

#endif
