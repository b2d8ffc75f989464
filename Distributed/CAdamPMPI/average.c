/* average_gradients: for the rows it owns, each rank receives every rank's
 * gradient and averages them in rank order, whatever the partition, so the
 * result is one formula: (((g_0 + g_1) + ...) + g_{N-1}) / N, each operation
 * rounded to the dtype; for bfloat16 and float16 gradients (sent in 16
 * bits), each operation in float32 on the widened values and the average
 * rounded once to the gradients' dtype, as the library defines a 16-bit
 * step. In chunks of ADAMP_MPI_CHUNK elements of the owner's rows, so that
 * the buffers stay small whatever the model. */
#include "built.h"
#if ADAMP_MPI_BUILT
#include <stdlib.h>
#include <string.h>
#include "../../CKernels/src/convert.h"
#include "shard.h"

static size_t esize(const adamp_mpi_shard *s) { return adamp_dtype_size(s->dtype); }

void adamp_mpi_free_average(adamp_mpi_shard *s) {
    free(s->avg), free(s->piece_off), free(s->elems), free(s->sendbuf), free(s->recvbuf), free(s->xreq);
    s->avg = s->sendbuf = s->recvbuf = NULL, s->piece_off = s->elems = NULL, s->xreq = NULL;
}

int adamp_mpi_allocate_average(adamp_mpi_shard *s, const adamp_tensor *t, adamp_mpi_error *e) {
    const size_t p = (size_t)s->size, es = esize(s);
    s->elems = calloc(p, sizeof *s->elems), s->piece_off = calloc(s->npieces + 1, sizeof *s->piece_off);
    s->xreq = calloc(2 * p, sizeof *s->xreq);
    if (!s->elems || !s->piece_off || !s->xreq) return adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "out of memory");
    for (int r = 0; r < s->size; r++)
        for (size_t i = 0; i < s->count; i++) {
            size_t first, rows;
            adamp_mpi_rows(s, i, r, &first, &rows);
            s->elems[r] += rows * t[i].cols;
        }
    for (size_t r = 0; r < p; r++) {
        const size_t c = (s->elems[r] + ADAMP_MPI_CHUNK - 1) / ADAMP_MPI_CHUNK;
        if (c > s->chunks) s->chunks = c;
    }
    for (size_t k = 0; k < s->npieces; k++) s->piece_off[k + 1] = s->piece_off[k] + s->pieces[k].rows * s->pieces[k].cols;
    const size_t chunk = s->elems[s->rank] < ADAMP_MPI_CHUNK ? s->elems[s->rank] : ADAMP_MPI_CHUNK;
    s->avg = malloc(s->elems[s->rank] * es + 1);
    s->recvbuf = malloc(p * chunk * es + 1);
    s->sendbuf = malloc(p * ADAMP_MPI_CHUNK * es + 1);
    if (!s->avg || !s->recvbuf || !s->sendbuf) return adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "out of memory");
    return ADAMP_OK;
}

/* Copies `len` elements of rank d's rows, from element `from` of them on, of
 * this rank's gradients into `out` (tensors without a gradient: left alone,
 * as nothing reads their averages). */
static void pack(const adamp_mpi_shard *s, const adamp_tensor *t, int d, size_t from, size_t len, char *out) {
    const size_t es = esize(s);
    for (size_t i = 0; i < s->count && len > 0; i++) {
        size_t first, rows;
        adamp_mpi_rows(s, i, d, &first, &rows);
        const size_t n = rows * t[i].cols;
        if (from >= n) {
            from -= n;
            continue;
        }
        const size_t take = n - from < len ? n - from : len;
        if (t[i].grad) memcpy(out, (const char *)t[i].grad + (first * t[i].cols + from) * es, take * es);
        out += take * es, len -= take, from = 0;
    }
}

/* avg[j] = (((x_0[j] + x_1[j]) + ...) + x_{N-1}[j]) / N, x_r = rank r's chunk. */
static void reduce(const adamp_mpi_shard *s, const char *x, size_t stride, size_t len, char *avg) {
    const int n = s->size;
    if (s->dtype == ADAMP_F64) {
        for (size_t j = 0; j < len; j++) {
            double acc = ((const double *)x)[j];
            for (int r = 1; r < n; r++) acc = acc + ((const double *)(x + r * stride))[j];
            ((double *)avg)[j] = acc / (double)n;
        }
    } else if (s->dtype == ADAMP_F32) {
        for (size_t j = 0; j < len; j++) {
            float acc = ((const float *)x)[j];
            for (int r = 1; r < n; r++) acc = acc + ((const float *)(x + r * stride))[j];
            ((float *)avg)[j] = acc / (float)n;
        }
    } else {
        const int bf16 = s->dtype == ADAMP_BF16;
#define WIDEN(h) (bf16 ? adamp_bf16_to_f32(h) : adamp_f16_to_f32(h))
        for (size_t j = 0; j < len; j++) {
            float acc = WIDEN(((const uint16_t *)x)[j]);
            for (int r = 1; r < n; r++) acc = acc + WIDEN(((const uint16_t *)(x + r * stride))[j]);
            acc = acc / (float)n;
            ((uint16_t *)avg)[j] = bf16 ? adamp_f32_to_bf16(acc) : adamp_f32_to_f16(acc);
        }
#undef WIDEN
    }
}

static size_t chunk_len(size_t elems, size_t c) {
    const size_t from = c * ADAMP_MPI_CHUNK;
    return from >= elems ? 0 : elems - from < ADAMP_MPI_CHUNK ? elems - from : ADAMP_MPI_CHUNK;
}

int adamp_mpi_average(adamp_mpi_shard *s, const adamp_tensor *t, adamp_mpi_error *e) {
    const size_t es = esize(s), mine = s->elems[s->rank];
    const size_t stride = (mine < ADAMP_MPI_CHUNK ? mine : ADAMP_MPI_CHUNK) * es;
    for (size_t c = 0; c < s->chunks; c++) {
        int nreq = 0, st = ADAMP_OK;
        const size_t len = chunk_len(mine, c);
        for (int r = 0; r < s->size && st == ADAMP_OK && len > 0; r++) {
            if (r == s->rank) pack(s, t, r, c * ADAMP_MPI_CHUNK, len, s->recvbuf + r * stride);
            else st = adamp_mpi_check(MPI_Irecv(s->recvbuf + r * stride, (int)(len * es), MPI_BYTE, r, (int)(c % 30000),
                                                s->comm, &s->xreq[nreq++]), "MPI_Irecv (gradients)", e);
        }
        for (int d = 0; d < s->size && st == ADAMP_OK; d++) {
            const size_t n = chunk_len(s->elems[d], c);
            if (d == s->rank || n == 0) continue;
            char *out = s->sendbuf + (size_t)d * ADAMP_MPI_CHUNK * es;
            pack(s, t, d, c * ADAMP_MPI_CHUNK, n, out);
            st = adamp_mpi_check(MPI_Isend(out, (int)(n * es), MPI_BYTE, d, (int)(c % 30000), s->comm, &s->xreq[nreq++]),
                                 "MPI_Isend (gradients)", e);
        }
        if (st == ADAMP_OK)
            st = adamp_mpi_wait(nreq, s->xreq, "MPI_Isend/MPI_Irecv (gradients)", e);
        if (st != ADAMP_OK) return st;
        if (len > 0) reduce(s, s->recvbuf, stride, len, s->avg + c * ADAMP_MPI_CHUNK * es);
    }
    return ADAMP_OK;
}
#endif
