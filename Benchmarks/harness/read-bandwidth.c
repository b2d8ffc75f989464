/* What a pass that only reads gets from this machine's memory, against one
 * that reads and writes (docs/performance.md, "Why AdamP with the paper's test costs more than Adam"):
 * over 25.5M floats, a pass reading two arrays (as the statistics pass reads
 * w and g), with and without software prefetching, and an SGD-like pass
 * reading three and writing two; on 1 and on 2 threads, taking turns.
 *   cc -O2 -fopenmp Benchmarks/harness/read-bandwidth.c -o /tmp/read-bandwidth && /tmp/read-bandwidth 15
 * Needs AVX-512F. Not run by CI. */
#include "timing.h"
#include "passes.h"
#include <omp.h>

enum { READ, READ_PF1K, READ_PF4K, MIXED, MODES };
static const char *NAMES[MODES] = {"read 2 arrays", "  + prefetch 1 KiB ahead", "  + prefetch 4 KiB ahead",
                                   "read 3, write 2 (SGD)"};

int main(int argc, char **argv) {
    const int steps = argc > 1 ? atoi(argv[1]) : 15;
    if (steps < 1 || steps > 1000) return fprintf(stderr, "usage: read-bandwidth [STEPS, 1 to 1000]\n"), 2;
    if (passes_init()) return 2;
    static double t[2][MODES][1000];
    volatile float sink = 0;
    for (int s = 0; s < steps + 1; s++)
        for (int th = 1; th <= 2; th++)
            for (int mode = 0; mode < MODES; mode++) {
                const double t0 = now();
#pragma omp parallel num_threads(th)
                {
                    const long id = omp_get_thread_num(), per = N / th / 16 * 16;
                    const long lo = id * per, hi = id == th - 1 ? N / 16 * 16 : lo + per;
                    if (mode == MIXED) update(lo, hi);
                    else sink += read2(lo, hi, mode == READ_PF1K ? 256 : mode == READ_PF4K ? 1024 : 0);
                }
                if (s >= 1) t[th - 1][mode][s - 1] = now() - t0;
            }
    for (int th = 1; th <= 2; th++) {
        printf("%d thread%s, medians of %d passes:\n", th, th > 1 ? "s" : "", steps);
        for (int m = 0; m < MODES; m++) {
            qsort(t[th - 1][m], (size_t)steps, sizeof(double), cmp);
            const double sec = t[th - 1][m][steps / 2], read = (m == MIXED ? 12.0 : 8.0) * N / sec / 1e9;
            printf("  %-26s %6.2f ms  reads %5.1f GB/s", NAMES[m], sec * 1e3, read);
            if (m == MIXED) printf(", writes %.1f GB/s", 8.0 * N / sec / 1e9);
            printf("\n");
        }
    }
    return 0;
}
