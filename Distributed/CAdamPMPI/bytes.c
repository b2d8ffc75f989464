/* Bytes and verdicts between the shard's ranks, for a consolidated
 * checkpoint; and MPI's start for callers that cannot name its macros. */
#include "built.h"
#if ADAMP_MPI_BUILT
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "shard.h"

/* MPI counts are ints: larger payloads go as this many bytes per element. */
#define UNIT 4096

static int fits(size_t len, adamp_mpi_error *e) {
    if (len / UNIT + 1 <= INT_MAX) return ADAMP_OK;
    return adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "%zu bytes: too many for MPI's int counts", len);
}

/* One non-blocking call and its wait (adamp_mpi_wait, which watches for a
 * rank that left): MPI_Bcast, MPI_Gather, MPI_Recv and MPI_Send as the
 * library makes them. */
static int finish(int code, MPI_Request *r, const char *what, adamp_mpi_error *e) {
    const int st = adamp_mpi_check(code, what, e);
    return st == ADAMP_OK ? adamp_mpi_wait(1, r, what, e) : st;
}
static int bcast(void *buf, int n, MPI_Datatype type, int root, MPI_Comm comm, adamp_mpi_error *e) {
    MPI_Request r;
    return finish(MPI_Ibcast(buf, n, type, root, comm, &r), &r, "MPI_Ibcast", e);
}

static int recv(void *buf, int n, MPI_Datatype type, int from, int tag, MPI_Comm comm, adamp_mpi_error *e) {
    MPI_Request r;
    return finish(MPI_Irecv(buf, n, type, from, tag, comm, &r), &r, "MPI_Irecv", e);
}

static int send(const void *buf, int n, MPI_Datatype type, int to, int tag, MPI_Comm comm, adamp_mpi_error *e) {
    MPI_Request r;
    return finish(MPI_Isend(buf, n, type, to, tag, comm, &r), &r, "MPI_Isend", e);
}

/* A contiguous type of UNIT bytes, for the whole units of a payload. */
static int unit_type(MPI_Datatype *type, adamp_mpi_error *e) {
    int st = adamp_mpi_check(MPI_Type_contiguous(UNIT, MPI_BYTE, type), "MPI_Type_contiguous", e);
    if (st == ADAMP_OK) st = adamp_mpi_check(MPI_Type_commit(type), "MPI_Type_commit", e);
    return st;
}

static int bcast_bytes(adamp_mpi_shard *s, const void *data, size_t *len, int root, void **out, adamp_mpi_error *e);
static int gather_bytes(adamp_mpi_shard *s, const void *data, size_t len, int root, void **out, size_t *lens,
                        adamp_mpi_error *e);

int adamp_mpi_bcast_bytes(adamp_mpi_shard *s, const void *data, size_t *len, int root, void **out,
                          adamp_mpi_error *e) {
    if (!s || !len || !out) return adamp_mpi_fail(e, ADAMP_E_NULL_POINTER, "shard, len or out is NULL");
    const int st = bcast_bytes(s, data, len, root, out, e);
    adamp_mpi_call_done();
    return st;
}

int adamp_mpi_gather_bytes(adamp_mpi_shard *s, const void *data, size_t len, int root, void **out, size_t *lens,
                           adamp_mpi_error *e) {
    if (!s || !out) return adamp_mpi_fail(e, ADAMP_E_NULL_POINTER, "shard or out is NULL");
    const int st = gather_bytes(s, data, len, root, out, lens, e);
    adamp_mpi_call_done();
    return st;
}

static int bcast_bytes(adamp_mpi_shard *s, const void *data, size_t *len, int root, void **out, adamp_mpi_error *e) {
    *out = NULL;
    unsigned long long n = s->rank == root ? *len : 0;
    int st = bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, root, s->comm, e);
    if (st != ADAMP_OK) return st;
    if ((st = fits((size_t)n, e)) != ADAMP_OK) return st;
    char *buf = malloc(n + 1);
    if (!buf) return adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "out of memory for %llu bytes", n);
    if (s->rank == root && n > 0) memcpy(buf, data, n);
    MPI_Datatype unit;
    st = unit_type(&unit, e);
    if (st == ADAMP_OK) {
        st = bcast(buf, (int)(n / UNIT), unit, root, s->comm, e);
        if (st == ADAMP_OK) st = bcast(buf + n / UNIT * UNIT, (int)(n % UNIT), MPI_BYTE, root, s->comm, e);
        MPI_Type_free(&unit);
    }
    if (st != ADAMP_OK) return free(buf), st;
    *out = buf, *len = (size_t)n;
    return ADAMP_OK;
}

static int gather_bytes(adamp_mpi_shard *s, const void *data, size_t len, int root, void **out, size_t *lens,
                        adamp_mpi_error *e) {
    *out = NULL;
    unsigned long long mine = len, *all = s->rank == root ? malloc(s->size * sizeof *all) : NULL;
    if (s->rank == root && (!all || !lens)) return free(all), adamp_mpi_fail(e, ADAMP_E_NULL_POINTER, "lens is NULL or out of memory");
    MPI_Request gather;
    int st = finish(MPI_Igather(&mine, 1, MPI_UNSIGNED_LONG_LONG, all, 1, MPI_UNSIGNED_LONG_LONG, root, s->comm, &gather),
                    &gather, "MPI_Igather", e);
    /* Each rank sends its bytes to the root in turn (point to point: Gatherv's
     * int counts and displacements would cap the total at 2 GiB). */
    char *buf = NULL;
    size_t total = 0;
    if (st == ADAMP_OK && s->rank == root) {
        for (int r = 0; r < s->size && st == ADAMP_OK; r++) total += lens[r] = (size_t)all[r], st = fits(lens[r], e);
        if (st == ADAMP_OK && !(buf = malloc(total + 1)))
            st = adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "out of memory for %zu bytes", total);
    }
    if (st == ADAMP_MPI_E_MPI) return free(all), st;
    /* The root says whether it can take them, so that no rank sends into a void. */
    int go = st == ADAMP_OK;
    int bst = bcast(&go, 1, MPI_INT, root, s->comm, e);
    if (bst != ADAMP_OK || !go) {
        free(all), free(buf);
        if (bst != ADAMP_OK || s->rank == root) return bst != ADAMP_OK ? bst : st;
        return adamp_mpi_fail(e, ADAMP_MPI_E_OTHER_RANK, "rank %d could not receive the bytes (see its error)", root);
    }
    MPI_Datatype unit;
    st = unit_type(&unit, e);
    if (st != ADAMP_OK) return free(all), free(buf), st;
    for (int r = 0; r < s->size && st == ADAMP_OK; r++) {
        const size_t n = s->rank == root ? lens[r] : len;
        if (s->rank == root) {
            char *to = buf;
            for (int q = 0; q < r; q++) to += lens[q];
            if (r == root) memcpy(to, data, n);
            else {
                st = recv(to, (int)(n / UNIT), unit, r, 1, s->comm, e);
                if (st == ADAMP_OK) st = recv(to + n / UNIT * UNIT, (int)(n % UNIT), MPI_BYTE, r, 2, s->comm, e);
            }
        } else if (r == s->rank) {
            st = send(data, (int)(n / UNIT), unit, root, 1, s->comm, e);
            if (st == ADAMP_OK) st = send((const char *)data + n / UNIT * UNIT, (int)(n % UNIT), MPI_BYTE, root, 2, s->comm, e);
        }
    }
    MPI_Type_free(&unit);
    free(all);
    if (st != ADAMP_OK) return free(buf), st;
    *out = buf;
    return ADAMP_OK;
}

int adamp_mpi_comm_all(MPI_Comm comm, int ok, adamp_mpi_error *e) {
    int all = ok != 0;
    MPI_Request r;
    const int st = finish(MPI_Iallreduce(MPI_IN_PLACE, &all, 1, MPI_INT, MPI_LAND, comm, &r), &r, "MPI_Iallreduce", e);
    adamp_mpi_call_done();
    return st == ADAMP_OK ? all : -1;
}

int adamp_mpi_all(adamp_mpi_shard *s, int ok, adamp_mpi_error *e) {
    if (!s) return adamp_mpi_fail(e, ADAMP_E_NULL_POINTER, "shard is NULL"), -1;
    return adamp_mpi_comm_all(s->comm, ok, e);
}

int adamp_mpi_init_world(MPI_Comm *world, adamp_mpi_error *e) {
    if (!world) return adamp_mpi_fail(e, ADAMP_E_NULL_POINTER, "world is NULL");
    int initialized = 0, provided = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
        int st = adamp_mpi_check(MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread", e);
        if (st != ADAMP_OK) return st;
        /* MPI ends at exit, and a rank that exits early makes the job fail (departure.c). */
        if ((st = adamp_mpi_arm_departures(e)) != ADAMP_OK) return st;
    }
    *world = MPI_COMM_WORLD;
    return ADAMP_OK;
}
#endif
