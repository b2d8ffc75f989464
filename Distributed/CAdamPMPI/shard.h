/* Internal: the shard's state, and the parts of adamp_mpi.h's work that live
 * in other files (agreement, the step's communication). */
#ifndef ADAMP_MPI_SHARD_H
#define ADAMP_MPI_SHARD_H
#include <stdint.h>
#include "adamp_mpi.h"

typedef struct {
    size_t rows, cols;
    int32_t ndim;
} adamp_mpi_shape;

struct adamp_mpi_shard {
    MPI_Comm comm; /* a duplicate of the caller's, returning errors */
    int rank, size;
    adamp_algorithm algo;
    adamp_dtype dtype;
    size_t count;
    adamp_mpi_shape *shape; /* per tensor, as created */
    size_t *row0;           /* per tensor, its first global row; row0[count]: all rows */
    size_t *bound;          /* per rank, its first global row; bound[size] = all rows */
    unsigned char *cut;     /* per tensor, 1 if its rows are on more than one rank */
    adamp_tensor *whole;    /* the step's tensors as adamp_decide() takes them */
    /* This rank's slices of the tensors it owns rows of, in tensor order. */
    size_t npieces;
    adamp_tensor *pieces;
    size_t *tensor_of;
    /* With master weights: per piece, its master (the caller's masters[i],
     * this rank's rows of tensor i); and the options of one call, their
     * masters those of the call's pieces. */
    void **piece_masters;
    adamp_step_options call;
    double *piece_pp, *piece_s; /* per piece, its tensor's layer sums */
    /* The pieces of whole tensors, [w0, w1), step fused as in one process
     * (their decision needs no other rank), with their own stats buffer; and
     * the cut ones (at most the first and the last), each with its own. */
    size_t w0, w1, wlen;
    double *wstats;
    size_t ncut, cut_piece[2];
    double *cut_stats[2];
    /* What the ranks exchange between the phases: only what a decision or a
     * layer sum needs from another rank. Per rank r: the statistics rows of
     * its cut pieces (rcut, at most two: tensor, first row, rows), then the
     * projection codes of its whole tensors, [rw0, rw1); xcount, xdispl in
     * doubles. The cut tensors' rows, every rank's, in tensor and row order,
     * tensor i's from cut_row0[i]: their statistics (cutstats, 3 a row, with
     * room for one tensor's scratch after) and each row's part of s. */
    struct rcut {
        size_t tensor, first, rows;
    } (*rcut)[2];
    size_t *nrcut, *rw0, *rw1, *cut_row0, cut_rows;
    int *xcount, *xdispl, *scount, *sdispl;
    double *xsend, *xrecv, *cutstats, *ssend, *srecv;
    /* The parameters' all-gather: per rank, a datatype of the rows it updates,
     * at their addresses; rebuilt when a parameter moves or a gradient
     * appears or goes (sent: what it was built for). */
    MPI_Datatype *types;
    MPI_Request *requests;
    struct sent {
        const void *param;
        int grad;
    } *sent;
    int types_built;
    /* average_gradients: this rank's averaged gradients (its pieces' rows,
     * in piece order; piece k's at piece_off[k] elements), every rank's
     * element count, and the transient buffers of one chunk per rank. */
    int average;
    char *avg;
    size_t *piece_off, *elems, chunks;
    char *sendbuf, *recvbuf;
    MPI_Request *xreq;
};

int adamp_mpi_fail(adamp_mpi_error *e, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int adamp_mpi_check(int code, const char *what, adamp_mpi_error *e);
uint64_t adamp_mpi_hash(uint64_t h, const void *data, size_t len);
int adamp_mpi_range(MPI_Comm comm, const uint64_t *v, uint64_t *hi, uint64_t *lo, size_t n, adamp_mpi_error *e);

/* departure.c: every wait of the library, which also watches for a rank
 * that left the job (and aborts it then); the count of the library's
 * collective calls, which every public collective function ends with; and
 * the notices' set-up when adamp_mpi_init_world starts MPI. */
int adamp_mpi_wait(int n, MPI_Request *requests, const char *what, adamp_mpi_error *e);
void adamp_mpi_call_done(void);
int adamp_mpi_arm_departures(adamp_mpi_error *e);

#define ADAMP_MPI_HASH0 0xcbf29ce484222325ull

/* agree.c: collective verdicts. */
int adamp_mpi_agree_on_creation(adamp_mpi_shard *s, const adamp_tensor *t, adamp_mpi_error *e);
int adamp_mpi_agree_failed(adamp_mpi_shard *s, int status, adamp_mpi_error *e);
/* o: the step's options as resolved (read only when status is ADAMP_OK). */
int adamp_mpi_agree_on_step(adamp_mpi_shard *s, const adamp_tensor *t, int status, const adamp_step_options *o,
                            adamp_mpi_error *e);

/* average.c: the gradients' reduce-scatter, in rank order. */
int adamp_mpi_allocate_average(adamp_mpi_shard *s, const adamp_tensor *t, adamp_mpi_error *e);
int adamp_mpi_average(adamp_mpi_shard *s, const adamp_tensor *t, adamp_mpi_error *e);
void adamp_mpi_free_average(adamp_mpi_shard *s);

/* gather.c: the parameters' all-gather. */
int adamp_mpi_gather_params(adamp_mpi_shard *s, const adamp_tensor *t, adamp_mpi_error *e);
void adamp_mpi_free_types(adamp_mpi_shard *s);

#endif
