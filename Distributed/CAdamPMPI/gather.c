/* The parameters' all-gather: rank r broadcasts the rows it updated, straight
 * from and into every rank's parameter buffers (a datatype of their
 * addresses, relative to MPI_BOTTOM: no staging copy of the model). */
#include "built.h"
#if ADAMP_MPI_BUILT
#include <stdlib.h>
#include "shard.h"

/* Blocks of at most this many bytes, as MPI counts are ints. */
#define MAX_BLOCK ((size_t)1 << 30)

void adamp_mpi_free_types(adamp_mpi_shard *s) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    for (int r = 0; s->types && r < s->size; r++)
        if (s->types[r] != MPI_DATATYPE_NULL) {
            if (!finalized) MPI_Type_free(&s->types[r]);
            s->types[r] = MPI_DATATYPE_NULL;
        }
    s->types_built = 0;
}

static int stale(const adamp_mpi_shard *s, const adamp_tensor *t) {
    if (!s->types_built) return 1;
    for (size_t i = 0; i < s->count; i++)
        if (s->sent[i].param != t[i].param || s->sent[i].grad != (t[i].grad != NULL)) return 1;
    return 0;
}

/* Rank r's rows of the tensors with a gradient, at this process's addresses. */
static int build(adamp_mpi_shard *s, const adamp_tensor *t, adamp_mpi_error *e) {
    adamp_mpi_free_types(s);
    const size_t es = adamp_dtype_size(s->dtype);
    size_t most = 0;
    for (size_t i = 0; i < s->count; i++) most += 1 + t[i].rows * t[i].cols * es / MAX_BLOCK;
    int *lens = malloc(most * sizeof *lens);
    MPI_Aint *at = malloc(most * sizeof *at);
    int st = lens && at ? ADAMP_OK : adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "out of memory");
    for (int r = 0; st == ADAMP_OK && r < s->size; r++) {
        size_t blocks = 0;
        for (size_t i = 0; i < s->count; i++) {
            size_t first, rows;
            adamp_mpi_rows(s, i, r, &first, &rows);
            if (!t[i].grad || rows == 0) continue;
            const char *p = (const char *)t[i].param + first * t[i].cols * es;
            for (size_t left = rows * t[i].cols * es; left > 0 && st == ADAMP_OK; blocks++) {
                const size_t len = left < MAX_BLOCK ? left : MAX_BLOCK;
                st = adamp_mpi_check(MPI_Get_address(p, &at[blocks]), "MPI_Get_address", e);
                lens[blocks] = (int)len, p += len, left -= len;
            }
        }
        if (st != ADAMP_OK || blocks == 0) continue;
        st = adamp_mpi_check(MPI_Type_create_hindexed((int)blocks, lens, at, MPI_BYTE, &s->types[r]),
                             "MPI_Type_create_hindexed", e);
        if (st == ADAMP_OK) st = adamp_mpi_check(MPI_Type_commit(&s->types[r]), "MPI_Type_commit", e);
    }
    free(lens), free(at);
    if (st != ADAMP_OK) return adamp_mpi_free_types(s), st;
    for (size_t i = 0; i < s->count; i++) s->sent[i].param = t[i].param, s->sent[i].grad = t[i].grad != NULL;
    s->types_built = 1;
    return ADAMP_OK;
}

int adamp_mpi_gather_params(adamp_mpi_shard *s, const adamp_tensor *t, adamp_mpi_error *e) {
    if (stale(s, t)) {
        const int st = build(s, t, e);
        if (st != ADAMP_OK) return st;
    }
    int pending = 0;
    for (int r = 0; r < s->size; r++) {
        if (s->types[r] == MPI_DATATYPE_NULL) continue;
        const int st = adamp_mpi_check(MPI_Ibcast(MPI_BOTTOM, 1, s->types[r], r, s->comm, &s->requests[pending]),
                                       "MPI_Ibcast (parameters)", e);
        if (st != ADAMP_OK) return st;
        pending++;
    }
    return adamp_mpi_wait(pending, s->requests, "MPI_Ibcast (parameters)", e);
}
#endif
