/* What the ranks must agree on (issue 28, section 3), from C, on 2 or more
 * ranks (scripts/ci/check-mpi.sh): hyperparameters are compared by the values
 * the algorithm reads (a weight decay of -0 on one rank and 0 on the others,
 * or AdamP's momentum, which AdamP does not read, differing, was refused as
 * a disagreement); a shape that differs is reported as the ranks passed it
 * (the message took rows and cols' ranges apart, naming shapes no rank
 * passed). Prints "agree_test: N passed, 0 failed" on rank 0. */
#include <stdio.h>
#include <string.h>
#include "adamp_mpi.h"

static int passed, failed, rank;
#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        if (cond) passed++;                                                      \
        else { failed++; printf("FAIL [rank %d] line %d: ", rank, __LINE__); printf(__VA_ARGS__); printf("\n"); } \
    } while (0)

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    adamp_hparams h = {.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .delta = 0.1, .wd_ratio = 0.1};
    if (rank == 1) h.weight_decay = -0.0, h.momentum = 0.5, h.dampening = 0.25, h.amsgrad = 1;
    adamp_tensor t[2] = {{.hparams = &h, .rows = 50, .cols = 24, .ndim = 2}, {.hparams = &h, .rows = 1, .cols = 24, .ndim = 1}};
    adamp_mpi_shard *shard = NULL;
    adamp_mpi_error e;
    int st = adamp_mpi_shard_create(MPI_COMM_WORLD, ADAMP_ALGO_ADAMP, ADAMP_F32, t, 2, NULL, &shard, &e);
    CHECK(st == ADAMP_OK, "fields AdamP does not read, and -0 weight decay, refused: %s", st ? e.message : "");
    adamp_mpi_shard_free(shard);
    /* A field AdamP reads still counts. */
    if (rank == 1) h.weight_decay = 1e-4;
    st = adamp_mpi_shard_create(MPI_COMM_WORLD, ADAMP_ALGO_ADAMP, ADAMP_F32, t, 2, NULL, &shard, &e);
    CHECK(st == ADAMP_MPI_E_DISAGREE && strstr(e.message, "tensor 0's weight_decay"), "weight_decay: %s", e.message);
    h.weight_decay = 0;
    /* Rank 1 passes [100, 12] where the others pass [50, 24]. */
    if (rank == 1) t[0].rows = 100, t[0].cols = 12;
    st = adamp_mpi_shard_create(MPI_COMM_WORLD, ADAMP_ALGO_ADAMP, ADAMP_F32, t, 2, NULL, &shard, &e);
    CHECK(st == ADAMP_MPI_E_DISAGREE && strstr(e.message, "tensor 0's shape: rank 0 passed 50 rows of 24 (ndim 2), "
                                                          "rank 1 passed 100 rows of 12 (ndim 2)"),
          "shape message: %s", e.message);
    CHECK(!strstr(e.message, "50 rows of 12") && !strstr(e.message, "100 rows of 24"), "a shape no rank passed: %s", e.message);
    int all[2] = {passed, failed}, sum[2];
    MPI_Reduce(all, sum, 2, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) printf("agree_test: %d passed, %d failed\n", sum[0], sum[1]);
    MPI_Finalize();
    return failed != 0;
}
