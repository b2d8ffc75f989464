/* One sharded step: this rank's whole tensors stepped as in one process; the
 * cut tensors through adamp.h's phases, with their rows' statistics and layer
 * sums all-gathered between them; then the parameters. Sums are combined in
 * row order, as one process combines them. */
#include "built.h"
#if ADAMP_MPI_BUILT
#include <stdint.h>
#include <string.h>
#include "shard.h"

/* Where the collectives' time goes. */
typedef struct {
    double communicate;
} clock_;

/* Waits for request *r, which `code`'s call started. */
static int timed(clock_ *c, MPI_Request *r, int code, const char *what, adamp_mpi_error *e, double t0) {
    int st = adamp_mpi_check(code, what, e);
    if (st == ADAMP_OK) st = adamp_mpi_wait(1, r, what, e);
    c->communicate += MPI_Wtime() - t0;
    return st;
}

/* The options of a call over pieces [k, ...): the step's (resolved), their
 * masters those pieces' (which, like their state, are this rank's rows). */
static const adamp_step_options *call_opts(adamp_mpi_shard *s, const adamp_step_options *o, size_t k) {
    s->call = *o;
    if (o->master != ADAMP_MASTER_OFF) s->call.masters = (void *const *)(s->piece_masters + k);
    return &s->call;
}

/* This rank's slices of `t`, in s->pieces (their state pointers, and
 * masters, as given). */
static void slice(adamp_mpi_shard *s, const adamp_tensor *t, const adamp_step_options *o) {
    const size_t es = adamp_dtype_size(s->dtype);
    for (size_t k = 0; k < s->npieces; k++) {
        const size_t i = s->tensor_of[k];
        size_t first, rows;
        adamp_mpi_rows(s, i, s->rank, &first, &rows);
        const size_t off = first * t[i].cols * es;
        adamp_tensor *p = &s->pieces[k];
        *p = t[i];
        p->param = t[i].param ? (char *)t[i].param + off : NULL;
        p->grad = t[i].grad ? (const char *)t[i].grad + off : NULL;
        p->rows = rows;
        s->piece_masters[k] = o->master != ADAMP_MASTER_OFF ? o->masters[i] : NULL;
    }
}

/* adamp_validate() of a call this rank's step will make, named. */
static int validated(const adamp_mpi_shard *s, const adamp_config *config, const adamp_tensor *t, size_t count,
                     const double *stats, size_t len, const adamp_step_options *o, const char *what,
                     adamp_mpi_error *e) {
    const adamp_status st = adamp_validate(config, s->algo, s->dtype, t, count, stats, len, o);
    if (st == ADAMP_OK) return ADAMP_OK;
    return adamp_mpi_fail(e, st, "%s: %s (is every state buffer of a tensor with a gradient given?)", what,
                          adamp_status_string(st));
}

/* This rank's input: the tensors as created (this library writes every
 * rank's rows into every parameter, and compares the hyperparameters), and
 * every call its step will make, as adamp.h validates them. */
static int check_local(adamp_mpi_shard *s, const adamp_config *config, const adamp_tensor *t, size_t count,
                       const adamp_step_options *o, adamp_mpi_error *e) {
    if (!t) return adamp_mpi_fail(e, ADAMP_E_NULL_POINTER, "tensors is NULL");
    if (count != s->count)
        return adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "%zu tensors; the shard was made for %zu", count, s->count);
    for (size_t i = 0; i < count; i++) {
        const adamp_mpi_shape *sh = &s->shape[i];
        if (t[i].rows != sh->rows || t[i].cols != sh->cols || t[i].ndim != sh->ndim)
            return adamp_mpi_fail(e, ADAMP_E_INVALID_SIZE, "tensor %zu is %zu rows of %zu (ndim %d); the shard was made for %zu of %zu (ndim %d)",
                                  i, t[i].rows, t[i].cols, (int)t[i].ndim, sh->rows, sh->cols, (int)sh->ndim);
        if ((!t[i].param && t[i].rows * t[i].cols > 0) || !t[i].hparams)
            return adamp_mpi_fail(e, ADAMP_E_NULL_POINTER, "tensor %zu: param or hparams is NULL", i);
        if (i > 0 && t[i].hparams == t[i - 1].hparams) continue; /* checked with the tensor before */
        adamp_field field;
        const char *rule;
        if (adamp_hparams_check(s->algo, t[i].hparams, &field, &rule) != ADAMP_OK)
            return adamp_mpi_fail(e, ADAMP_E_INVALID_HPARAM, "tensor %zu: %s %s", i, adamp_field_name(field), rule);
    }
    /* Master weights: this rank's rows of each tensor, as its state. */
    if (o->master != ADAMP_MASTER_OFF && !o->masters)
        return adamp_mpi_fail(e, ADAMP_E_NULL_POINTER, "options: master weights without masters");
    slice(s, t, o);
    int st = ADAMP_OK;
    if (!adamp_algorithm_projects(s->algo))
        return validated(s, config, s->pieces, s->npieces, NULL, 0, call_opts(s, o, 0), "this rank's rows", e);
    st = validated(s, config, s->pieces + s->w0, s->w1 - s->w0, s->wstats, s->wlen, call_opts(s, o, s->w0), "this rank's rows", e);
    for (size_t j = 0; j < s->ncut && st == ADAMP_OK; j++) {
        const adamp_tensor *p = &s->pieces[s->cut_piece[j]];
        st = validated(s, config, p, 1, s->cut_stats[j], ADAMP_STATS_LEN_PER_ROW * p->rows, call_opts(s, o, s->cut_piece[j]),
                       "this rank's rows", e);
    }
    /* A tensor of no rows is no rank's: every rank counts its step (it has
     * no elements, so no master is read). */
    for (size_t i = 0; i < count && st == ADAMP_OK; i++)
        if (t[i].rows == 0) st = validated(s, config, &t[i], 1, NULL, 0, call_opts(s, o, 0), "a tensor of no rows", e);
    return st;
}

/* The sum over tensor i's rows, in row order, of v[stride * row + at] (v: its first row's). */
static double row_sum(const double *v, size_t rows, size_t stride, size_t at) {
    double x = 0;
    for (size_t r = 0; r < rows; r++) x += v[stride * r + at];
    return x;
}

static int core(int status, const char *what, adamp_mpi_error *e) {
    return status == ADAMP_OK ? ADAMP_OK : adamp_mpi_fail(e, status, "%s: %s", what, adamp_status_string((adamp_status)status));
}

/* The update of the cut pieces, whose sums are every rank's: phase 3 in its
 * two halves around the all-gather of each cut row's part of s. */
static int update_cut(adamp_mpi_shard *s, const adamp_config *config, const adamp_step_options *o, clock_ *c,
                      adamp_mpi_error *e) {
    int st = ADAMP_OK, cut_layer = 0;
    for (size_t i = 0; i < s->count; i++) cut_layer |= s->cut[i] && s->whole[i].projection == ADAMP_PROJ_LAYER;
    for (size_t j = 0, at = 0; j < s->ncut && st == ADAMP_OK; at += s->pieces[s->cut_piece[j]].rows, j++) {
        const size_t k = s->cut_piece[j], i = s->tensor_of[k], rows = s->pieces[k].rows;
        s->pieces[k].projection = s->whole[i].projection;
        if (s->whole[i].projection == ADAMP_PROJ_LAYER)
            s->piece_pp[k] = row_sum(s->cutstats + ADAMP_STATS_PER_ROW * s->cut_row0[i], s->whole[i].rows,
                                     ADAMP_STATS_PER_ROW, ADAMP_STAT_PP);
        st = core(adamp_apply_layer_begin(config, s->algo, s->dtype, &s->pieces[k], 1, s->cut_stats[j],
                                          ADAMP_STATS_LEN_PER_ROW * rows, call_opts(s, o, k),
                                          &s->piece_pp[k], s->ssend + at), "update", e);
    }
    if (st == ADAMP_OK && cut_layer) {
        const double t0 = MPI_Wtime();
        MPI_Request r;
        st = timed(c, &r, MPI_Iallgatherv(s->ssend, s->scount[s->rank], MPI_DOUBLE, s->srecv, s->scount, s->sdispl,
                                          MPI_DOUBLE, s->comm, &r), "MPI_Iallgatherv (layer sums)", e, t0);
    }
    for (size_t j = 0; j < s->ncut && st == ADAMP_OK; j++) {
        const size_t k = s->cut_piece[j], i = s->tensor_of[k];
        if (s->pieces[k].projection == ADAMP_PROJ_LAYER)
            s->piece_s[k] = row_sum(s->srecv + s->cut_row0[i], s->whole[i].rows, 1, 0);
        st = core(adamp_apply_layer_end(config, s->algo, s->dtype, &s->pieces[k], 1, s->cut_stats[j],
                                        ADAMP_STATS_LEN_PER_ROW * s->pieces[k].rows, call_opts(s, o, k), &s->piece_pp[k],
                                        &s->piece_s[k]),
                  "update", e);
    }
    return st;
}

/* AdamP's and SGDP's step: the pieces of whole tensors fused as in one
 * process, which decides them; the cut pieces' statistics and those
 * decisions exchanged; the cut tensors decided on every rank from all their
 * rows; then the cut pieces updated. */
static int step_projecting(adamp_mpi_shard *s, const adamp_config *config, const adamp_step_options *o, clock_ *c,
                           adamp_mpi_error *e) {
    int st = ADAMP_OK;
    size_t at = 0;
    for (size_t j = 0; j < s->ncut && st == ADAMP_OK; j++) {
        const size_t k = s->cut_piece[j], rows = s->pieces[k].rows;
        st = core(adamp_row_stats_ex(config, s->dtype, &s->pieces[k], 1, s->cut_stats[j], ADAMP_STATS_LEN_PER_ROW * rows,
                                     call_opts(s, o, k)), "statistics", e);
        memcpy(s->xsend + at, s->cut_stats[j], ADAMP_STATS_PER_ROW * rows * sizeof(double));
        at += ADAMP_STATS_PER_ROW * rows;
    }
    if (st == ADAMP_OK && s->w1 > s->w0)
        st = core(adamp_step_ex(config, s->algo, s->dtype, s->pieces + s->w0, s->w1 - s->w0, s->wstats, s->wlen,
                                call_opts(s, o, s->w0)), "step", e);
    /* A tensor of no rows is no rank's: each decides it, from no statistics. */
    for (size_t i = 0; i < s->count && st == ADAMP_OK; i++)
        if (s->whole[i].rows == 0) st = core(adamp_decide(s->algo, s->dtype, &s->whole[i], 1, NULL, 0), "decision", e);
    if (st != ADAMP_OK) return st;
    /* The decisions of this rank's whole tensors, [rw0, rw1) (among them
     * those of no rows, which are not its pieces). */
    for (size_t i = s->rw0[s->rank], k = s->w0; i < s->rw1[s->rank]; i++)
        s->xsend[at++] = k < s->w1 && s->tensor_of[k] == i ? s->pieces[k++].projection : s->whole[i].projection;
    const double t0 = MPI_Wtime();
    MPI_Request r;
    st = timed(c, &r, MPI_Iallgatherv(s->xsend, s->xcount[s->rank], MPI_DOUBLE, s->xrecv, s->xcount, s->xdispl,
                                      MPI_DOUBLE, s->comm, &r), "MPI_Iallgatherv (statistics)", e, t0);
    if (st != ADAMP_OK) return st;
    for (int r = 0; r < s->size; r++) {
        const double *x = s->xrecv + s->xdispl[r];
        for (size_t j = 0; j < s->nrcut[r]; j++) {
            const struct rcut q = s->rcut[r][j];
            memcpy(s->cutstats + ADAMP_STATS_PER_ROW * (s->cut_row0[q.tensor] + q.first), x,
                   ADAMP_STATS_PER_ROW * q.rows * sizeof(double));
            x += ADAMP_STATS_PER_ROW * q.rows;
        }
        for (size_t i = s->rw0[r]; i < s->rw1[r]; i++) s->whole[i].projection = (int32_t)*x++;
    }
    /* The cut tensors, from every rank's rows. */
    for (size_t i = 0; i < s->count && st == ADAMP_OK; i++)
        if (s->cut[i])
            st = core(adamp_decide(s->algo, s->dtype, &s->whole[i], 1, s->cutstats + ADAMP_STATS_PER_ROW * s->cut_row0[i],
                                   ADAMP_STATS_LEN_PER_ROW * s->whole[i].rows), "decision", e);
    return st == ADAMP_OK ? update_cut(s, config, o, c, e) : st;
}

static int step(adamp_mpi_shard *s, const adamp_config *config, adamp_tensor *t, size_t count,
                const adamp_step_options *o, int local_status, adamp_mpi_timing *timing, adamp_mpi_error *e);

int adamp_mpi_step(adamp_mpi_shard *s, const adamp_config *config, adamp_tensor *t, size_t count,
                   const adamp_step_options *o, int local_status, adamp_mpi_timing *timing, adamp_mpi_error *e) {
    if (!s) return adamp_mpi_fail(e, ADAMP_E_NULL_POINTER, "shard is NULL");
    const int st = step(s, config, t, count, o, local_status, timing, e);
    adamp_mpi_call_done();
    return st;
}

static int step(adamp_mpi_shard *s, const adamp_config *config, adamp_tensor *t, size_t count,
                const adamp_step_options *o, int local_status, adamp_mpi_timing *timing, adamp_mpi_error *e) {
    const double start = MPI_Wtime();
    clock_ c = {0};
    adamp_step_options resolved;
    int st = local_status;
    if (st != ADAMP_OK)
        adamp_mpi_fail(e, st, "this rank's caller refused its input: %s", adamp_mpi_status_string(st));
    else if ((st = adamp_step_options_resolve(o, &resolved)) != ADAMP_OK)
        adamp_mpi_fail(e, st, "options: %s", adamp_status_string((adamp_status)st));
    else if (resolved.grad_dtype != 0 && resolved.grad_dtype != (int32_t)s->dtype)
        /* The pieces' gradients are found at the parameters' element size. */
        st = adamp_mpi_fail(e, ADAMP_E_INVALID_CONFIG, "options: gradients of another dtype than the parameters' are not sharded");
    else
        st = check_local(s, config, t, count, &resolved, e);
    double t0 = MPI_Wtime();
    st = adamp_mpi_agree_on_step(s, t, st, &resolved, e);
    c.communicate += MPI_Wtime() - t0;
    if (st != ADAMP_OK) return st;
    if (s->average) {
        t0 = MPI_Wtime();
        st = adamp_mpi_average(s, t, e);
        c.communicate += MPI_Wtime() - t0;
        if (st != ADAMP_OK) return st;
        const size_t es = adamp_dtype_size(s->dtype);
        for (size_t k = 0; k < s->npieces; k++)
            if (s->pieces[k].grad) s->pieces[k].grad = s->avg + s->piece_off[k] * es;
    }
    /* adamp_decide reads shapes, gradients and statistics, and no state. */
    for (size_t i = 0; i < s->count; i++) s->whole[i] = t[i];
    if (adamp_algorithm_projects(s->algo)) st = step_projecting(s, config, &resolved, &c, e);
    else {
        /* No sums: every piece steps alone, cut or not, as in one process. */
        st = core(adamp_step_ex(config, s->algo, s->dtype, s->pieces, s->npieces, NULL, 0, call_opts(s, &resolved, 0)), "step", e);
        if (st == ADAMP_OK) st = core(adamp_decide(s->algo, s->dtype, s->whole, s->count, NULL, 0), "decision", e);
    }
    if (st != ADAMP_OK) return st;
    t0 = MPI_Wtime();
    st = adamp_mpi_gather_params(s, t, e);
    c.communicate += MPI_Wtime() - t0;
    if (st != ADAMP_OK) return st;
    for (size_t i = 0; i < s->count; i++) {
        t[i].projection = s->whole[i].projection;
        if (t[i].grad) t[i].step += 1;
    }
    if (timing) timing->communicate = c.communicate, timing->compute = MPI_Wtime() - start - c.communicate;
    return ADAMP_OK;
}
#endif
