/* AdamP sharded over MPI ranks from C alone (adamp_mpi.h): each rank holds
 * the whole parameters and gradients and state for its own rows only; after
 * each step every rank checks that its parameters are bitwise those of
 * adamp_step_ex() over the whole model in one process, and prints OK.
 *
 *   make -C CKernels
 *   mpicc -I CKernels/include -I Distributed/CAdamPMPI/include Examples/mpi/sharded_step.c \
 *       Distributed/CAdamPMPI/[a-z]*.c build/c/libcadamp.a -lgomp -lm
 *   mpirun -np 3 ./a.out
 * (scripts/ci/check-mpi.sh builds and runs it so.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "adamp_mpi.h"

enum { COUNT = 3, STEPS = 5 };
static const size_t ROWS[COUNT] = {64, 1, 300}, COLS[COUNT] = {576, 64, 100};
static const int32_t NDIM[COUNT] = {4, 1, 2};

static float value(size_t i, size_t j) { return (float)((i * 7919 + j * 104729) % 1000) / 1000.0f - 0.5f; }

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    const adamp_hparams h = {.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 1e-2,
                             .delta = 0.1, .wd_ratio = 0.1};
    adamp_tensor whole[COUNT], sharded[COUNT];
    float *p[COUNT], *q[COUNT], *g[COUNT];
    for (int i = 0; i < COUNT; i++) {
        const size_t n = ROWS[i] * COLS[i];
        p[i] = malloc(n * sizeof(float)), q[i] = malloc(n * sizeof(float)), g[i] = malloc(n * sizeof(float));
        for (size_t j = 0; j < n; j++) p[i][j] = q[i][j] = value(i, j);
        whole[i] = (adamp_tensor){.param = p[i], .grad = g[i], .state0 = calloc(n, sizeof(float)),
                                  .state1 = calloc(n, sizeof(float)), .hparams = &h, .rows = ROWS[i],
                                  .cols = COLS[i], .ndim = NDIM[i]};
        sharded[i] = whole[i];
        sharded[i].param = q[i];
    }
    adamp_mpi_shard *shard;
    adamp_mpi_error err;
    if (adamp_mpi_shard_create(MPI_COMM_WORLD, ADAMP_ALGO_ADAMP, ADAMP_F32, sharded, COUNT, NULL, &shard, &err)) {
        fprintf(stderr, "adamp_mpi_shard_create: %s\n", err.message);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    /* This rank's state: only its rows of each tensor. */
    for (int i = 0; i < COUNT; i++) {
        size_t first, rows;
        adamp_mpi_rows(shard, i, adamp_mpi_rank(shard), &first, &rows);
        sharded[i].state0 = rows ? calloc(rows * COLS[i], sizeof(float)) : NULL;
        sharded[i].state1 = rows ? calloc(rows * COLS[i], sizeof(float)) : NULL;
    }
    double *stats = malloc(adamp_stats_len(whole, COUNT) * sizeof(double));
    int ok = 1;
    for (int step = 0; step < STEPS; step++) {
        for (int i = 0; i < COUNT; i++)
            for (size_t j = 0; j < ROWS[i] * COLS[i]; j++) g[i][j] = 0.01f * value(i + step, j + 1);
        if (adamp_step(NULL, ADAMP_ALGO_ADAMP, ADAMP_F32, whole, COUNT, stats, adamp_stats_len(whole, COUNT)) ||
            adamp_mpi_step(shard, NULL, sharded, COUNT, NULL, ADAMP_OK, NULL, &err)) {
            fprintf(stderr, "step %d: %s\n", step, err.message);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        for (int i = 0; i < COUNT; i++)
            ok &= memcmp(p[i], q[i], ROWS[i] * COLS[i] * sizeof(float)) == 0 && whole[i].step == sharded[i].step;
    }
    printf("rank %d of %d: %s\n", adamp_mpi_rank(shard), adamp_mpi_size(shard), ok ? "OK" : "DIFFERS");
    adamp_mpi_shard_free(shard);
    MPI_Finalize();
    return ok ? 0 : 1;
}
