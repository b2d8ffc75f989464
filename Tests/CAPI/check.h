/* The C tests' one assertion: counts, reports the failing line, and lets the
 * test go on so that one run shows every failure. */
#ifndef ADAMP_TEST_CHECK_H
#define ADAMP_TEST_CHECK_H
#include <stdio.h>

static int passed, failed;
#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (cond) passed++;                                                             \
        else { failed++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
    } while (0)

/* The closing line CI reads, and the exit status. */
static int report(void) {
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
#endif
