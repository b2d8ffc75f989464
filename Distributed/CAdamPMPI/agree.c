/* Collective verdicts: the ranks compare what they were given with one small
 * all-reduce per call (hashes), and only when those differ look closer, to
 * say on every rank what differs. */
#include "built.h"
#if ADAMP_MPI_BUILT
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "shard.h"

/* Field f as the ranks compare it: by value (-0 is 0), and 0 for a field
 * the algorithm does not read (AdamP's momentum may differ). The fields are
 * adamp.h's, 1 to ADAMP_FIELD_END - 1. */
enum { NFIELDS = ADAMP_FIELD_END - 1 };
static adamp_field field_at(size_t f) { return (adamp_field)(f + 1); }

static uint64_t field_bits(adamp_algorithm algo, const adamp_hparams *h, size_t f) {
    if (!adamp_field_used(algo, field_at(f))) return 0;
    double v = adamp_hparams_get(h, field_at(f));
    if (v == 0) v = 0; /* -0 */
    uint64_t bits;
    memcpy(&bits, &v, sizeof v);
    return bits;
}

static uint64_t hparams_hash(adamp_algorithm algo, const adamp_hparams *h) {
    uint64_t x = ADAMP_MPI_HASH0;
    for (size_t f = 0; f < NFIELDS; f++) {
        const uint64_t b = field_bits(algo, h, f);
        x = adamp_mpi_hash(x, &b, sizeof b);
    }
    return x;
}

static int differs(const uint64_t *hi, const uint64_t *lo, size_t i) { return hi[i] != lo[i]; }

/* Which field of tensor i's hyperparameters differs between ranks (collective). */
static int name_field(adamp_mpi_shard *s, const adamp_hparams *h, size_t i, adamp_mpi_error *e) {
    uint64_t v[NFIELDS], hi[NFIELDS], lo[NFIELDS];
    for (size_t f = 0; f < NFIELDS; f++) v[f] = field_bits(s->algo, h, f);
    int st = adamp_mpi_range(s->comm, v, hi, lo, NFIELDS, e);
    if (st != ADAMP_OK) return st;
    for (size_t f = 0; f < NFIELDS; f++) {
        if (!differs(hi, lo, f)) continue;
        double a, b;
        memcpy(&a, &lo[f], sizeof a), memcpy(&b, &hi[f], sizeof b);
        return adamp_mpi_fail(e, ADAMP_MPI_E_DISAGREE, "ranks disagree on tensor %zu's %s: %.17g on one, %.17g on another", i,
                              adamp_field_name(field_at(f)), a, b);
    }
    return adamp_mpi_fail(e, ADAMP_MPI_E_DISAGREE, "ranks disagree on tensor %zu's hyperparameters", i);
}

/* The shapes the ranks passed for tensor i, which differ (collective): the
 * distinct ones, each with the first rank that passed it. (The ranges of
 * rows and of cols alone name shapes no rank passed.) */
static int name_shapes(adamp_mpi_shard *s, const adamp_tensor *t, size_t i, adamp_mpi_error *e) {
    uint64_t mine[3] = {t->rows, t->cols, (uint64_t)t->ndim}, *all = malloc(3 * (size_t)s->size * sizeof *all);
    if (!all) return adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "out of memory");
    MPI_Request r;
    int st = adamp_mpi_check(MPI_Iallgather(mine, 3, MPI_UINT64_T, all, 3, MPI_UINT64_T, s->comm, &r), "MPI_Iallgather", e);
    if (st == ADAMP_OK) st = adamp_mpi_wait(1, &r, "MPI_Iallgather", e);
    if (st != ADAMP_OK) return free(all), st;
    char text[200] = "";
    int shown = 0, len = 0;
    for (int q = 0; q < s->size && len < (int)sizeof text - 1; q++) {
        int seen = 0;
        for (int p = 0; p < q && !seen; p++) seen = !memcmp(all + 3 * p, all + 3 * q, 3 * sizeof *all);
        if (seen) continue;
        if (shown++ == 3) {
            len += snprintf(text + len, sizeof text - (size_t)len, ", ...");
            break;
        }
        len += snprintf(text + len, sizeof text - (size_t)len, "%srank %d passed %llu rows of %llu (ndim %d)",
                        shown > 1 ? ", " : "", q, (unsigned long long)all[3 * q], (unsigned long long)all[3 * q + 1],
                        (int)all[3 * q + 2]);
    }
    free(all);
    return adamp_mpi_fail(e, ADAMP_MPI_E_DISAGREE, "ranks disagree on tensor %zu's shape: %s", i, text);
}

/* The first verdict of every call: bad on some rank? Returns that rank's
 * status there, ADAMP_MPI_E_OTHER_RANK elsewhere. */
static int any_bad(adamp_mpi_shard *s, uint64_t *v, uint64_t *hi, uint64_t *lo, size_t n, int status,
                   adamp_mpi_error *e) {
    v[0] = status != ADAMP_OK;
    int st = adamp_mpi_range(s->comm, v, hi, lo, n, e);
    if (st != ADAMP_OK) return st;
    if (status != ADAMP_OK) return status;
    if (hi[0]) return adamp_mpi_fail(e, ADAMP_MPI_E_OTHER_RANK, "another rank's input was rejected (see its error)");
    return ADAMP_OK;
}

enum { SUMMARY = 7 };

int adamp_mpi_agree_failed(adamp_mpi_shard *s, int status, adamp_mpi_error *e) {
    uint64_t v[SUMMARY] = {0}, hi[SUMMARY], lo[SUMMARY];
    adamp_mpi_error ignored;
    const int st = any_bad(s, v, hi, lo, SUMMARY, status, &ignored);
    return st == ADAMP_MPI_E_MPI ? adamp_mpi_check(ignored.mpi_code, "MPI_Allreduce", e) : status;
}

int adamp_mpi_agree_on_creation(adamp_mpi_shard *s, const adamp_tensor *t, adamp_mpi_error *e) {
    uint64_t shapes = ADAMP_MPI_HASH0, hps = ADAMP_MPI_HASH0;
    for (size_t i = 0; i < s->count; i++) {
        const uint64_t shape[3] = {t[i].rows, t[i].cols, (uint64_t)t[i].ndim}, h = hparams_hash(s->algo, t[i].hparams);
        shapes = adamp_mpi_hash(shapes, shape, sizeof shape);
        hps = adamp_mpi_hash(hps, &h, sizeof h);
    }
    uint64_t v[SUMMARY] = {0, (uint64_t)s->algo, (uint64_t)s->dtype, s->count, shapes, hps, (uint64_t)s->average},
             hi[SUMMARY], lo[SUMMARY];
    int st = any_bad(s, v, hi, lo, SUMMARY, ADAMP_OK, e);
    if (st != ADAMP_OK) return st;
    if (differs(hi, lo, 1))
        return adamp_mpi_fail(e, ADAMP_MPI_E_DISAGREE, "ranks disagree on the algorithm: %s on one, %s on another",
                              adamp_algorithm_name((adamp_algorithm)lo[1]), adamp_algorithm_name((adamp_algorithm)hi[1]));
    if (differs(hi, lo, 2))
        return adamp_mpi_fail(e, ADAMP_MPI_E_DISAGREE, "ranks disagree on the dtype: %s on one, %s on another",
                              adamp_dtype_name((adamp_dtype)lo[2]), adamp_dtype_name((adamp_dtype)hi[2]));
    if (differs(hi, lo, 3))
        return adamp_mpi_fail(e, ADAMP_MPI_E_DISAGREE, "ranks disagree on the number of tensors: %llu on one, %llu on another",
                              (unsigned long long)lo[3], (unsigned long long)hi[3]);
    if (differs(hi, lo, 6))
        return adamp_mpi_fail(e, ADAMP_MPI_E_DISAGREE, "ranks disagree on the options: average_gradients is 0 on one, 1 on another");
    if (!differs(hi, lo, 4) && !differs(hi, lo, 5)) return ADAMP_OK;
    /* Look closer: per tensor, its shape and its hyperparameters' hash. */
    const size_t n = s->count;
    uint64_t *w = malloc(3 * 4 * n * sizeof *w);
    if (!w) return adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "out of memory");
    uint64_t *whi = w + 4 * n, *wlo = w + 8 * n;
    for (size_t i = 0; i < n; i++)
        w[4 * i] = t[i].rows, w[4 * i + 1] = t[i].cols, w[4 * i + 2] = (uint64_t)t[i].ndim,
        w[4 * i + 3] = hparams_hash(s->algo, t[i].hparams);
    st = adamp_mpi_range(s->comm, w, whi, wlo, 4 * n, e);
    for (size_t i = 0; st == ADAMP_OK && i < n; i++) {
        if (differs(whi, wlo, 4 * i) || differs(whi, wlo, 4 * i + 1) || differs(whi, wlo, 4 * i + 2)) {
            st = name_shapes(s, &t[i], i, e);
        } else if (differs(whi, wlo, 4 * i + 3)) {
            st = name_field(s, t[i].hparams, i, e);
        }
    }
    free(w);
    return st;
}

int adamp_mpi_agree_on_step(adamp_mpi_shard *s, const adamp_tensor *t, int status, const adamp_step_options *o,
                            adamp_mpi_error *e) {
    enum { STEP = 2 };
    uint64_t v[STEP] = {0, ADAMP_MPI_HASH0}, hi[STEP], lo[STEP];
    if (status == ADAMP_OK) {
        v[1] = adamp_mpi_hash(v[1], &o->grad_mul, sizeof o->grad_mul);
        v[1] = adamp_mpi_hash(v[1], &o->master, sizeof o->master);
        /* Tensors of a group share their hyperparameters: each struct hashed once. */
        const adamp_hparams *last = NULL;
        uint64_t h = 0;
        for (size_t i = 0; i < s->count; i++) {
            if (t[i].hparams != last) last = t[i].hparams, h = hparams_hash(s->algo, last);
            const uint64_t x[3] = {t[i].grad != NULL, h, (uint64_t)t[i].step};
            v[1] = adamp_mpi_hash(v[1], x, sizeof x);
        }
    }
    int st = any_bad(s, v, hi, lo, STEP, status, e);
    if (st != ADAMP_OK || !differs(hi, lo, 1)) return st;
    const size_t n = s->count;
    uint64_t *w = malloc(3 * 3 * n * sizeof *w);
    if (!w) return adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "out of memory");
    uint64_t *whi = w + 3 * n, *wlo = w + 6 * n;
    for (size_t i = 0; i < n; i++)
        w[3 * i] = t[i].grad != NULL, w[3 * i + 1] = hparams_hash(s->algo, t[i].hparams), w[3 * i + 2] = (uint64_t)t[i].step;
    st = adamp_mpi_range(s->comm, w, whi, wlo, 3 * n, e);
    for (size_t i = 0; st == ADAMP_OK && i < n; i++) {
        if (differs(whi, wlo, 3 * i))
            st = adamp_mpi_fail(e, ADAMP_MPI_E_DISAGREE, "tensor %zu has a gradient on some ranks and none on others", i);
        else if (differs(whi, wlo, 3 * i + 1)) st = name_field(s, t[i].hparams, i, e);
        else if (differs(whi, wlo, 3 * i + 2))
            st = adamp_mpi_fail(e, ADAMP_MPI_E_DISAGREE, "ranks disagree on tensor %zu's step count: %lld on one, %lld on another", i,
                                (long long)wlo[3 * i + 2], (long long)whi[3 * i + 2]);
    }
    free(w);
    if (st == ADAMP_OK)
        st = adamp_mpi_fail(e, ADAMP_MPI_E_DISAGREE, "ranks disagree on the step's options (grad_mul, master)");
    return st;
}
#endif
