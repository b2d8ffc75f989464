/* What it costs when one core updates lines another core just read
 * (docs/performance.md, "When cores share lines slowly"): per block of 1M floats, each
 * of 2 threads reads half the block's w and g (as the statistics pass
 * does), then updates its half SGD-style; against that, each thread reads
 * the other's half first. In this VM's slower memory regime the two cost
 * about the same; in its faster one the second was 5-7x slower. Run it a
 * few times, a minute apart:
 *   cc -O2 -fopenmp Benchmarks/harness/line-sharing.c -o /tmp/line-sharing && /tmp/line-sharing 15
 * Needs AVX-512F. Not run by CI. */
#include "timing.h"
#include "passes.h"
#include <omp.h>

#define BLOCK (1L << 20)
enum { ALONE, OWN, OTHER, MODES };
static const char *NAMES[MODES] = {"update alone", "read own half, update it", "read other's half, update own"};

int main(int argc, char **argv) {
    const int steps = argc > 1 ? atoi(argv[1]) : 15;
    if (steps < 1 || steps > 1000) return fprintf(stderr, "usage: line-sharing [STEPS, 1 to 1000]\n"), 2;
    if (passes_init()) return 2;
    static double t[MODES][1000];
    volatile float sink = 0;
    for (int s = 0; s < steps + 1; s++)
        for (int mode = 0; mode < MODES; mode++) {
            const double t0 = now();
#pragma omp parallel num_threads(2)
            {
                const long id = omp_get_thread_num();
                if (mode == ALONE) update(id ? N / 2 / 16 * 16 : 0, id ? N / 16 * 16 : N / 2 / 16 * 16);
                else
                    for (long b = 0; b < N; b += BLOCK) {
                        const long e = (b + BLOCK < N ? b + BLOCK : N) / 16 * 16, mid = b + (e - b) / 2 / 16 * 16;
                        const long lo = id ? mid : b, hi = id ? e : mid;
                        sink += mode == OWN ? read2(lo, hi, 0) : read2(id ? b : mid, id ? mid : e, 0);
#pragma omp barrier
                        update(lo, hi);
#pragma omp barrier
                    }
            }
            if (s >= 1) t[mode][s - 1] = now() - t0;
        }
    for (int m = 0; m < MODES; m++) {
        qsort(t[m], (size_t)steps, sizeof(double), cmp);
        printf("%-32s %6.2f ms  (%.2fx the update alone)\n", NAMES[m], t[m][steps / 2] * 1e3, t[m][steps / 2] / t[ALONE][steps / 2]);
    }
    return 0;
}
