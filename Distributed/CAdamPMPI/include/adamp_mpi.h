/*
 * adamp_mpi.h: the optimizers of adamp.h sharded across the processes of an
 * MPI communicator (ZeRO stage 1): every rank holds the full parameters and
 * gradients, but optimizer state only for its shard, steps its shard, and the
 * updated parameters are all-gathered. The result is bitwise that of
 * adamp_step_ex() in one process, for any number of ranks.
 *
 * Partition: whole rows (a tensor's channel-view rows; a tensor of one
 * dimension is one row), contiguous in tensor order, cut where the running
 * sum of elements (so of parameter and state bytes) is nearest to r / N of
 * the total: a rank's share is off by less than one row of the tensor at each
 * of its two cuts. A rank may hold part of a tensor, all of it, or none.
 *
 * What is combined, so that the decision and the update are those of the
 * unsharded step. A tensor whose rows are all on one rank is stepped there
 * exactly as in one process (adamp_step_ex: its decision needs no other
 * rank), and its decision is sent to the others. A tensor cut between ranks
 * (at most N - 1 of them) is decided on every rank from all its rows'
 * statistics (AdamP's and SGDP's g.p, g.g, p.p: 3 doubles a row, all-gathered),
 * summed in row order as one process sums them; when it is projected in the
 * layer view, each row's part of the projection coefficient is all-gathered
 * too (1 double a row) and summed in row order. Each row's own sums are one
 * rank's, so no sum is ever split at a place that depends on N.
 *
 * Bytes each rank receives per step, for P parameters of e bytes, N ranks,
 * T tensors and C rows of cut tensors: the parameters' all-gather,
 * (N-1)/N * P * e (with average_gradients as much again for the gradients'
 * reduce-scatter); AdamP and SGDP at most 8 T (the decisions) + 24 C, and
 * 8 C more on a step where a cut tensor is layer-projected; plus one
 * all-reduce of 32 bytes that checks that the ranks agree (hyperparameters,
 * which tensors have gradients, step counts).
 *
 * Threads: call from one thread (MPI_THREAD_FUNNELED or more); the kernels'
 * OpenMP threads make no MPI calls.
 */
#ifndef ADAMP_MPI_H
#define ADAMP_MPI_H

#include <mpi.h>
#include <stddef.h>
#include "adamp.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Statuses beyond adamp_status (which these functions also return). */
enum {
    /** An MPI call failed; the error's message holds MPI_Error_string. */
    ADAMP_MPI_E_MPI = 100,
    /** The ranks were not given the same thing (tensors, shapes, algorithm,
     *  dtype, hyperparameters, which tensors have a gradient, options); the
     *  message says what, on every rank. Nothing was changed. */
    ADAMP_MPI_E_DISAGREE = 101,
    /** This rank's input was fine, another rank's was not (its status is in
     *  the message). Nothing was changed. */
    ADAMP_MPI_E_OTHER_RANK = 102,
};

/** What went wrong, for a message: filled by any call given one that fails. */
typedef struct adamp_mpi_error {
    int status;       /**< as returned */
    int mpi_code;     /**< the MPI error code, for ADAMP_MPI_E_MPI; else 0 */
    char message[256];
} adamp_mpi_error;

/** Where a step's time went, in seconds (MPI_Wtime). */
typedef struct adamp_mpi_timing {
    double compute;     /**< the kernels */
    double communicate; /**< the collectives (including waiting for slower ranks) */
} adamp_mpi_timing;

typedef struct adamp_mpi_shard adamp_mpi_shard;

/** How a shard steps. Set `size` to sizeof(adamp_mpi_options); NULL: defaults (all 0). */
typedef struct adamp_mpi_options {
    size_t size;
    /** 0: the gradients given to a step are the same on every rank (already
     *  averaged). 1: each rank gives its own (local) gradients, and the step
     *  averages them for the rows it owns, in rank order whatever the
     *  partition: g = (((g_0 + g_1) + g_2) + ... + g_{N-1}) / N, each
     *  operation rounded to the dtype (a reduce-scatter, in chunks of
     *  ADAMP_MPI_CHUNK elements: each rank receives (N-1)/N of the gradients'
     *  bytes). The averages take shard-sized memory, kept with the shard.
     *  bfloat16 and float16 gradients travel in 16 bits and are averaged in
     *  float32, the average rounded once to their dtype. */
    int32_t average_gradients;
} adamp_mpi_options;

/** Elements per message of the gradients' averaging (transient buffers: 2 N of them). */
#define ADAMP_MPI_CHUNK (1 << 20)

/** Collective over `comm` (which is duplicated: the shard's messages never
 *  meet the caller's). Checks that every rank passes the same algorithm,
 *  dtype, count, shapes (rows, cols, ndim), hyperparameters and options,
 *  reporting a disagreement on every rank; computes the partition
 *  (adamp_mpi_partition). `tensors` need only their shapes and hparams here
 *  (pointers may be NULL; every step checks again that the ranks agree on
 *  the hyperparameters). On success *out is the shard, to free with
 *  adamp_mpi_shard_free(); on failure *out is NULL. */
ADAMP_API int adamp_mpi_shard_create(MPI_Comm comm, adamp_algorithm algorithm, adamp_dtype dtype,
                                     const adamp_tensor *tensors, size_t count, const adamp_mpi_options *options,
                                     adamp_mpi_shard **out, adamp_mpi_error *error);

/** Frees the shard (not collective; NULL is a no-op). */
ADAMP_API void adamp_mpi_shard_free(adamp_mpi_shard *shard);

/** This process's rank and the number of ranks. */
ADAMP_API int adamp_mpi_rank(const adamp_mpi_shard *shard);
ADAMP_API int adamp_mpi_size(const adamp_mpi_shard *shard);

/** The partition over `ranks` ranks, which adamp_mpi_shard_create() makes
 *  (a pure function of the shapes: a caller may size a rank's state before
 *  it has a shard): rank r owns the rows [bound[r], bound[r + 1]) of all the
 *  tensors' rows counted in tensor order (bound: ranks + 1 entries). Each
 *  cut is the row boundary nearest to r / ranks of the elements. */
ADAMP_API void adamp_mpi_partition(const adamp_tensor *tensors, size_t count, int ranks, size_t *bound);

/** The rows of tensor `tensor` that rank `rank` owns: [*first, *first + *rows),
 *  *rows == 0 for none. Its state is rows * cols elements per buffer. */
ADAMP_API void adamp_mpi_rows(const adamp_mpi_shard *shard, size_t tensor, int rank, size_t *first, size_t *rows);

/** One sharded step, collective. `tensors`: as at creation, each with its
 *  full parameter and gradient (the same on every rank, or this rank's own
 *  with average_gradients; NULL: skipped, on every rank alike), and
 *  state0..2 pointing to THIS rank's state of the tensor, the rows
 *  adamp_mpi_rows() gives (NULL where it owns none), zero-filled before the
 *  first step. Updates this rank's rows, then gathers every rank's rows into
 *  every rank's parameters; counts `step` and sets `projection` of every
 *  tensor, on every rank. `options` as adamp_step_ex(), except that with
 *  master weights masters[i] is THIS rank's master (or trail) of tensor i,
 *  its rows as its state (NULL where it owns none), the all-gather then
 *  moving the bfloat16 or float16 parameters; and gradients are of the
 *  parameters' dtype. Every rank's input
 *  is checked, and the ranks' agreement, before anything is written: a
 *  failing call changes nothing, on any rank, unless an MPI call fails
 *  halfway (ADAMP_MPI_E_MPI), after which the parameters are undefined.
 *  `local_status`: ADAMP_OK, or a status saying that this rank's caller
 *  refused its input for a reason of its own (e.g. a binding's checks):
 *  then the step is refused on every rank, this one returning
 *  local_status and the others ADAMP_MPI_E_OTHER_RANK, and nothing
 *  changes. `timing` may be NULL. A tensor of no elements is counted as in
 *  one process (a tensor of no rows is no rank's: each counts it). */
ADAMP_API int adamp_mpi_step(adamp_mpi_shard *shard, const adamp_config *config, adamp_tensor *tensors, size_t count,
                             const adamp_step_options *options, int local_status, adamp_mpi_timing *timing,
                             adamp_mpi_error *error);

/* For a consolidated checkpoint (whose format is the caller's): moving bytes
 * and a verdict between the shard's ranks. All collective. */

/** Gathers each rank's `len` bytes on `root`: there *out is one malloc'd
 *  buffer of every rank's bytes in rank order, and lens[r] (size() entries,
 *  caller's) each one's length; elsewhere *out is NULL. free() *out. */
ADAMP_API int adamp_mpi_gather_bytes(adamp_mpi_shard *shard, const void *data, size_t len, int root, void **out,
                                     size_t *lens, adamp_mpi_error *error);

/** Sends root's `len` bytes to every rank: on each, *out is a malloc'd copy
 *  and *len its length (root's own too). free() *out. */
ADAMP_API int adamp_mpi_bcast_bytes(adamp_mpi_shard *shard, const void *data, size_t *len, int root, void **out,
                                    adamp_mpi_error *error);

/** 1 on every rank if `ok` is nonzero on every rank, else 0 on every rank
 *  (-1 if MPI fails). */
ADAMP_API int adamp_mpi_all(adamp_mpi_shard *shard, int ok, adamp_mpi_error *error);

/** adamp_mpi_all() over a communicator, before there is a shard. */
ADAMP_API int adamp_mpi_comm_all(MPI_Comm comm, int ok, adamp_mpi_error *error);

/** For callers that cannot name MPI's macros (Swift): MPI_Init_thread with
 *  MPI_THREAD_FUNNELED unless MPI is initialized, then MPI_COMM_WORLD. If
 *  this call initialized MPI, MPI ends at exit, where each rank first tells
 *  the others that it leaves and how many of this library's collective calls
 *  it completed: a rank that exits while the others wait in one of them
 *  (which could then never complete) makes them print which rank left and
 *  abort the job within a second, where it hung; ranks that end together,
 *  however far apart, end cleanly. Every wait of this library watches for
 *  that notice; a caller's own collectives do not. */
ADAMP_API int adamp_mpi_init_world(MPI_Comm *world, adamp_mpi_error *error);

/** A static description of a status (adamp_status or ADAMP_MPI_E_*). */
ADAMP_API const char *adamp_mpi_status_string(int status);

#ifdef __cplusplus
}
#endif

#endif /* ADAMP_MPI_H */
