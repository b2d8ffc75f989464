/* A rank that leaves the job. MPI ends at exit (adamp_mpi_init_world
 * registers it), and MPI_Finalize waits for every rank: a rank that called
 * exit() between sharded steps waited there for the others, which waited in
 * their next step for it, forever.
 *
 * So every wait of this library is a poll (adamp_mpi_wait) that also
 * watches for a notice on a communicator of its own: at exit, a rank first
 * sends every other rank how many of the library's collective calls it has
 * completed, and waits for theirs (every rank sends its notice when it
 * exits, so a job that ends together exchanges them all and ends cleanly).
 * A rank waiting in call k that hears that another completed fewer than k
 * knows call k cannot complete: it says so on stderr and aborts the job, as
 * an uncaught error or a killed rank ends it, in well under a second. One
 * that completed call k (and exited just after) lets it complete: a fast
 * rank's exit is no departure. The ranks make the same collective calls in
 * the same order (MPI requires it), so the counts compare.
 *
 * This is the process's MPI lifecycle, which MPI itself keeps per process:
 * the one file-level state of the library, armed only when
 * adamp_mpi_init_world started MPI (a caller who starts MPI ends it too). */
#include "built.h"
#if ADAMP_MPI_BUILT
#include <stdio.h>
#include <stdlib.h>
#include "shard.h"

enum { NOTICE_TAG = 28 };

static struct {
    int armed;
    MPI_Comm comm;
    long long completed;        /* the library's collective calls this rank has completed */
    long long notice;           /* the first notice received: its sender's completed calls */
    MPI_Request first;          /* the receive of that notice, posted when armed */
    int leaver;                 /* its sender (-1: none yet) */
} job = {0, MPI_COMM_NULL, 0, 0, MPI_REQUEST_NULL, -1};

static void leave(void);

int adamp_mpi_arm_departures(adamp_mpi_error *e) {
    int st = adamp_mpi_check(MPI_Comm_dup(MPI_COMM_WORLD, &job.comm), "MPI_Comm_dup", e);
    if (st == ADAMP_OK)
        st = adamp_mpi_check(MPI_Irecv(&job.notice, 1, MPI_LONG_LONG, MPI_ANY_SOURCE, NOTICE_TAG, job.comm, &job.first),
                             "MPI_Irecv", e);
    if (st != ADAMP_OK) return st;
    job.armed = 1;
    atexit(leave);
    return ADAMP_OK;
}

void adamp_mpi_call_done(void) { job.completed++; }

/* Whether a notice has come: the first one is what a waiting rank needs. */
static void look_for_notice(void) {
    if (!job.armed || job.leaver >= 0) return;
    int came = 0;
    MPI_Status status;
    if (MPI_Test(&job.first, &came, &status) == MPI_SUCCESS && came) job.leaver = status.MPI_SOURCE;
}

int adamp_mpi_wait(int n, MPI_Request *requests, const char *what, adamp_mpi_error *e) {
    for (;;) {
        int done = 0;
        const int code = MPI_Testall(n, requests, &done, MPI_STATUSES_IGNORE);
        if (code != MPI_SUCCESS) return adamp_mpi_check(code, what, e);
        if (done) return ADAMP_OK;
        look_for_notice();
        if (job.leaver >= 0 && job.notice <= job.completed) {
            int rank = -1;
            MPI_Comm_rank(MPI_COMM_WORLD, &rank);
            fprintf(stderr,
                    "adamp_mpi: rank %d left the job (it exited after %lld of the sharded optimizer's collective calls) "
                    "while rank %d waited in call %lld (%s): the job cannot go on; aborting it\n",
                    job.leaver, job.notice, rank, job.completed + 1, what);
            fflush(stderr);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
    }
}

/* At exit: this rank's notice to every other, then theirs (each rank sends
 * one when it exits), then MPI_Finalize. A rank that left early waits here
 * until a rank it stranded aborts the job. */
static void leave(void) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    int size = 1, rank = 0;
    MPI_Comm_size(job.comm, &size);
    MPI_Comm_rank(job.comm, &rank);
    if (size == 1) { /* no notice will come */
        MPI_Cancel(&job.first);
        MPI_Wait(&job.first, MPI_STATUS_IGNORE);
        MPI_Finalize();
        return;
    }
    MPI_Request *r = malloc(2 * (size_t)size * sizeof *r);
    long long *theirs = malloc((size_t)size * sizeof *theirs), mine = job.completed;
    if (r && theirs) {
        int n = 0;
        for (int q = 0; q < size; q++)
            if (q != rank) MPI_Isend(&mine, 1, MPI_LONG_LONG, q, NOTICE_TAG, job.comm, &r[n++]);
        r[n++] = job.first; /* the first notice's receive, done or not */
        for (int q = 0; q < size - 2; q++)
            MPI_Irecv(&theirs[q], 1, MPI_LONG_LONG, MPI_ANY_SOURCE, NOTICE_TAG, job.comm, &r[n++]);
        MPI_Waitall(n, r, MPI_STATUSES_IGNORE);
    }
    free(r);
    free(theirs);
    MPI_Finalize();
}
#endif
