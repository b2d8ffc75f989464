/* The sharded step (adamp_mpi.h): the partition, the checks that the ranks
 * agree, and the step as adamp.h's public phases with MPI collectives between
 * them. Nothing here computes an update: adamp.h's kernels do, on slices of
 * whole rows, so that every number is the one-process step's. */
#include "built.h"
#if ADAMP_MPI_BUILT
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "adamp_mpi.h"
#include "shard.h"

/* ---- errors ------------------------------------------------------------ */

int adamp_mpi_fail(adamp_mpi_error *e, int status, const char *fmt, ...) {
    if (e) {
        e->status = status, e->mpi_code = 0;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
    }
    return status;
}

int adamp_mpi_check(int code, const char *what, adamp_mpi_error *e) {
    if (code == MPI_SUCCESS) return ADAMP_OK;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "MPI error %d", code);
    adamp_mpi_fail(e, ADAMP_MPI_E_MPI, "%s failed: %s", what, text);
    if (e) e->mpi_code = code;
    return ADAMP_MPI_E_MPI;
}

const char *adamp_mpi_status_string(int status) {
    switch (status) {
    case ADAMP_MPI_E_MPI: return "an MPI call failed";
    case ADAMP_MPI_E_DISAGREE: return "the ranks were not given the same input";
    case ADAMP_MPI_E_OTHER_RANK: return "another rank's input was rejected";
    default: return adamp_status_string((adamp_status)status);
    }
}

/* ---- agreement --------------------------------------------------------- */

/* FNV-1a over 8-byte words (then bytes), to compare what ranks were given
 * with one small all-reduce; a word at a time, as a step hashes every tensor. */
uint64_t adamp_mpi_hash(uint64_t h, const void *data, size_t len) {
    const unsigned char *b = data;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
    }
    for (; i < len; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* The largest and smallest of each of v[0..n) over the ranks. */
int adamp_mpi_range(MPI_Comm comm, const uint64_t *v, uint64_t *hi, uint64_t *lo, size_t n, adamp_mpi_error *e) {
    uint64_t *both = calloc(4 * n, sizeof *both);
    if (!both) return adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "out of memory");
    for (size_t i = 0; i < n; i++) both[i] = v[i], both[n + i] = ~v[i];
    MPI_Request r;
    int s = adamp_mpi_check(MPI_Iallreduce(both, both + 2 * n, (int)(2 * n), MPI_UINT64_T, MPI_MAX, comm, &r),
                            "MPI_Iallreduce", e);
    if (s == ADAMP_OK) s = adamp_mpi_wait(1, &r, "MPI_Iallreduce", e);
    for (size_t i = 0; s == ADAMP_OK && i < n; i++) hi[i] = both[2 * n + i], lo[i] = ~both[3 * n + i];
    free(both);
    return s;
}

/* ---- the partition ----------------------------------------------------- */

/* bound[r]: the first global row of rank r; each cut at the row boundary
 * nearest to r / ranks of the elements (a row's bytes, of parameter and of
 * state alike, are its elements times a constant of the dtype and group). */
void adamp_mpi_partition(const adamp_tensor *t, size_t count, int ranks, size_t *bound) {
    double total = 0;
    size_t rows = 0;
    for (size_t i = 0; i < count; i++) total += (double)t[i].cols * (double)t[i].rows, rows += t[i].rows;
    size_t i = 0, row0 = 0; /* tensor i starts at global row row0 */
    double before = 0;      /* elements of tensors before i */
    bound[0] = 0;
    for (int r = 1; r < ranks; r++) {
        const double target = total * r / ranks;
        /* A tensor of no elements is never cut: it goes with the rows before it. */
        while (i + 1 < count && (t[i].cols == 0 || before + (double)t[i].cols * (double)t[i].rows < target))
            before += (double)t[i].cols * (double)t[i].rows, row0 += t[i].rows, i++;
        const double k = t[i].cols == 0 ? 0 : (target - before) / (double)t[i].cols + 0.5;
        const size_t b = row0 + (k <= 0 ? 0 : k >= (double)t[i].rows ? t[i].rows : (size_t)k);
        bound[r] = b < bound[r - 1] ? bound[r - 1] : b;
    }
    bound[ranks] = rows;
}

void adamp_mpi_rows(const adamp_mpi_shard *s, size_t i, int rank, size_t *first, size_t *rows) {
    const size_t a = s->row0[i], b = s->row0[i + 1];
    const size_t lo = s->bound[rank] > a ? s->bound[rank] : a, hi = s->bound[rank + 1] < b ? s->bound[rank + 1] : b;
    *first = lo < hi ? lo - a : 0;
    *rows = lo < hi ? hi - lo : 0;
}

int adamp_mpi_rank(const adamp_mpi_shard *s) { return s->rank; }
int adamp_mpi_size(const adamp_mpi_shard *s) { return s->size; }

/* ---- creation ---------------------------------------------------------- */


/* Everything a step needs, sized once, so that a step allocates nothing. */
static int allocate(adamp_mpi_shard *s, const adamp_tensor *t, adamp_mpi_error *e) {
    const size_t n = s->count, p = (size_t)s->size;
    s->row0 = calloc(n + 1, sizeof *s->row0);
    s->bound = calloc(p + 1, sizeof *s->bound);
    s->pieces = calloc(n, sizeof *s->pieces), s->tensor_of = calloc(n, sizeof *s->tensor_of);
    s->piece_masters = calloc(n + 1, sizeof *s->piece_masters);
    s->piece_pp = calloc(n, sizeof *s->piece_pp), s->piece_s = calloc(n, sizeof *s->piece_s);
    s->rcut = calloc(p, sizeof *s->rcut), s->nrcut = calloc(p, sizeof *s->nrcut);
    s->rw0 = calloc(p, sizeof *s->rw0), s->rw1 = calloc(p, sizeof *s->rw1), s->cut_row0 = calloc(n, sizeof *s->cut_row0);
    s->xcount = calloc(p, sizeof(int)), s->xdispl = calloc(p, sizeof(int));
    s->scount = calloc(p, sizeof(int)), s->sdispl = calloc(p, sizeof(int));
    s->shape = calloc(n, sizeof *s->shape);
    s->types = calloc(p, sizeof *s->types), s->sent = calloc(n, sizeof *s->sent);
    for (size_t r = 0; s->types && r < p; r++) s->types[r] = MPI_DATATYPE_NULL;
    s->requests = calloc(p, sizeof *s->requests);
    s->cut = calloc(n, 1), s->whole = calloc(n, sizeof *s->whole);
    if (!s->row0 || !s->bound || !s->pieces || !s->piece_masters || !s->tensor_of || !s->piece_pp || !s->piece_s ||
        !s->rcut || !s->nrcut || !s->rw0 || !s->rw1 || !s->cut_row0 || !s->xcount || !s->xdispl || !s->scount ||
        !s->sdispl || !s->shape || !s->types || !s->sent || !s->requests ||
        !s->cut || !s->whole)
        return adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "out of memory");
    for (size_t i = 0; i < n; i++) {
        s->row0[i + 1] = s->row0[i] + t[i].rows;
        s->shape[i] = (adamp_mpi_shape){t[i].rows, t[i].cols, t[i].ndim};
    }
    adamp_mpi_partition(t, n, s->size, s->bound);
    for (size_t i = 0; i < n; i++)
        for (int r = 0; r < s->size; r++) {
            size_t f, k;
            adamp_mpi_rows(s, i, r, &f, &k);
            if (k > 0 && k < t[i].rows) s->cut[i] = 1;
        }
    /* Every rank's cut pieces and whole tensors, and the exchange's layout. */
    size_t most = 0, x = 0, y = 0;
    for (size_t i = 0; i < n; i++) {
        s->cut_row0[i] = s->cut_rows;
        if (s->cut[i]) s->cut_rows += t[i].rows, most = t[i].rows > most ? t[i].rows : most;
    }
    for (int r = 0; r < s->size; r++) {
        size_t rows = 0;
        s->rw0[r] = s->rw1[r] = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
            size_t f, k;
            adamp_mpi_rows(s, i, r, &f, &k);
            if (k == 0) continue;
            if (s->cut[i]) {
                s->rcut[r][s->nrcut[r]++] = (struct rcut){i, f, k};
                rows += k;
            } else {
                if (s->rw0[r] == SIZE_MAX) s->rw0[r] = i;
                s->rw1[r] = i + 1;
            }
        }
        if (s->rw0[r] == SIZE_MAX) s->rw0[r] = s->rw1[r] = 0;
        const size_t count = 3 * rows + (s->rw1[r] - s->rw0[r]);
        if (x + count > INT_MAX || y + rows > INT_MAX)
            return adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "rank %d's exchange is more than MPI's int counts address", r);
        s->xcount[r] = (int)count, s->xdispl[r] = (int)x, x += count;
        s->scount[r] = (int)rows, s->sdispl[r] = (int)y, y += rows;
    }
    s->xsend = calloc((size_t)s->xcount[s->rank] + 1, sizeof(double));
    s->xrecv = calloc(x + 1, sizeof(double));
    s->cutstats = calloc(3 * (s->cut_rows + most) + 1, sizeof(double));
    s->ssend = calloc((size_t)s->scount[s->rank] + 1, sizeof(double));
    s->srecv = calloc(y + 1, sizeof(double));
    if (!s->xsend || !s->xrecv || !s->cutstats || !s->ssend || !s->srecv)
        return adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "out of memory");
    /* This rank's pieces. */
    for (size_t i = 0; i < n; i++) {
        size_t f, k;
        adamp_mpi_rows(s, i, s->rank, &f, &k);
        if (k == 0) continue;
        s->tensor_of[s->npieces] = i;
        s->pieces[s->npieces] = t[i];
        s->pieces[s->npieces].rows = k;
        s->npieces++;
    }
    /* Pieces of cut tensors can only be the first and the last. */
    s->w0 = s->npieces > 0 && s->cut[s->tensor_of[0]] ? 1 : 0;
    s->w1 = s->npieces > s->w0 && s->cut[s->tensor_of[s->npieces - 1]] ? s->npieces - 1 : s->npieces;
    if (s->w1 < s->w0) s->w1 = s->w0;
    for (size_t k = 0; k < s->npieces; k++) {
        if (k >= s->w0 && k < s->w1) continue;
        s->cut_piece[s->ncut] = k;
        s->cut_stats[s->ncut] = calloc(6 * s->pieces[k].rows + 1, sizeof(double));
        if (!s->cut_stats[s->ncut++]) return adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "out of memory");
    }
    s->wlen = adamp_stats_len(s->pieces + s->w0, s->w1 - s->w0);
    s->wstats = calloc(s->wlen + 1, sizeof(double));
    if (!s->wstats) return adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "out of memory");
    return ADAMP_OK;
}

void adamp_mpi_shard_free(adamp_mpi_shard *s) {
    if (!s) return;
    adamp_mpi_free_types(s);
    adamp_mpi_free_average(s);
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized && s->comm != MPI_COMM_NULL) MPI_Comm_free(&s->comm);
    free(s->row0), free(s->bound), free(s->pieces), free(s->tensor_of), free(s->piece_pp), free(s->piece_s);
    free(s->piece_masters);
    free(s->rcut), free(s->nrcut), free(s->rw0), free(s->rw1), free(s->cut_row0), free(s->xcount), free(s->xdispl);
    free(s->scount), free(s->sdispl), free(s->xsend), free(s->xrecv), free(s->cutstats), free(s->ssend), free(s->srecv);
    free(s->shape), free(s->types), free(s->sent), free(s->requests), free(s->cut), free(s->whole), free(s->wstats);
    for (size_t j = 0; j < s->ncut; j++) free(s->cut_stats[j]);
    free(s);
}

/* This rank's own input, checked before the ranks compare. */
static int check_local(adamp_algorithm algo, adamp_dtype dtype, const adamp_tensor *t, size_t count,
                       adamp_mpi_error *e) {
    if (strcmp(adamp_algorithm_name(algo), "unknown") == 0)
        return adamp_mpi_fail(e, ADAMP_E_INVALID_ENUM, "algorithm %d is not an adamp_algorithm", (int)algo);
    if (adamp_dtype_size(dtype) == 0)
        return adamp_mpi_fail(e, ADAMP_E_INVALID_ENUM, "dtype %d is not an adamp_dtype", (int)dtype);
    if (count == 0) return adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "no tensors");
    if (!t) return adamp_mpi_fail(e, ADAMP_E_NULL_POINTER, "tensors is NULL");
    for (size_t i = 0; i < count; i++) {
        if (t[i].rows != 0 && t[i].cols > PTRDIFF_MAX / adamp_dtype_size(dtype) / t[i].rows)
            return adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "tensor %zu: %zu rows of %zu", i, t[i].rows, t[i].cols);
        if (!t[i].hparams) return adamp_mpi_fail(e, ADAMP_E_NULL_POINTER, "tensor %zu: hparams is NULL", i);
        adamp_field field;
        const char *rule;
        if (adamp_hparams_check(algo, t[i].hparams, &field, &rule) != ADAMP_OK)
            return adamp_mpi_fail(e, ADAMP_E_INVALID_HPARAM, "tensor %zu: %s %s", i, adamp_field_name(field), rule);
    }
    return ADAMP_OK;
}

static int create(MPI_Comm comm, adamp_algorithm algo, adamp_dtype dtype, const adamp_tensor *tensors, size_t count,
                  const adamp_mpi_options *options, adamp_mpi_shard **out, adamp_mpi_error *e);

int adamp_mpi_shard_create(MPI_Comm comm, adamp_algorithm algo, adamp_dtype dtype, const adamp_tensor *tensors,
                           size_t count, const adamp_mpi_options *options, adamp_mpi_shard **out, adamp_mpi_error *e) {
    if (!out) return adamp_mpi_fail(e, ADAMP_E_NULL_POINTER, "out is NULL");
    const int st = create(comm, algo, dtype, tensors, count, options, out, e);
    adamp_mpi_call_done();
    return st;
}

static int create(MPI_Comm comm, adamp_algorithm algo, adamp_dtype dtype, const adamp_tensor *tensors, size_t count,
                  const adamp_mpi_options *options, adamp_mpi_shard **out, adamp_mpi_error *e) {
    *out = NULL;
    adamp_mpi_shard *s = calloc(1, sizeof *s);
    if (!s) return adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "out of memory");
    s->comm = MPI_COMM_NULL, s->algo = algo, s->dtype = dtype, s->count = count;
    /* A field beyond the caller's `size` takes its default. */
    if (options && options->size >= offsetof(adamp_mpi_options, average_gradients) + sizeof(int32_t))
        s->average = options->average_gradients;
    MPI_Request dup;
    int st = adamp_mpi_check(MPI_Comm_idup(comm, &s->comm, &dup), "MPI_Comm_idup", e);
    if (st == ADAMP_OK) st = adamp_mpi_wait(1, &dup, "MPI_Comm_idup", e);
    if (st == ADAMP_OK) st = adamp_mpi_check(MPI_Comm_set_errhandler(s->comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler", e);
    if (st == ADAMP_OK) st = adamp_mpi_check(MPI_Comm_rank(s->comm, &s->rank), "MPI_Comm_rank", e);
    if (st == ADAMP_OK) st = adamp_mpi_check(MPI_Comm_size(s->comm, &s->size), "MPI_Comm_size", e);
    if (st != ADAMP_OK) {
        adamp_mpi_shard_free(s);
        return st;
    }
    st = check_local(algo, dtype, tensors, count, e);
    if (st == ADAMP_OK && s->average != 0 && s->average != 1)
        st = adamp_mpi_fail(e, ADAMP_E_INVALID_CONFIG, "average_gradients is %d, not 0 or 1", (int)s->average);
    if (st == ADAMP_OK) st = adamp_mpi_agree_on_creation(s, tensors, e);
    else adamp_mpi_agree_failed(s, st, e);
    /* Every rank reached the same verdict; allocation failing on one rank alone is reported there. */
    if (st == ADAMP_OK) st = allocate(s, tensors, e);
    if (st == ADAMP_OK && s->average) st = adamp_mpi_allocate_average(s, tensors, e);
    if (st != ADAMP_OK) {
        adamp_mpi_shard_free(s);
        return st;
    }
    *out = s;
    return ADAMP_OK;
}
#endif
