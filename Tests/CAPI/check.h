/* The C tests' one assertion: counts, reports the failing line, and lets the
 * test go on so that one run shows every failure. */
#ifndef ADAMP_TEST_CHECK_H
#define ADAMP_TEST_CHECK_H
#include <stdint.h>
#include <stdio.h>
#include "adamp.h"

static int passed, failed;
#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (cond) passed++;                                                             \
        else { failed++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
    } while (0)

/* The last ISA id the library lists (ADAMP_ENUM_ISA): tests loop from
 * ADAMP_ISA_SCALAR to it, skipping what this CPU lacks, so that a new ISA
 * is tested where it runs without a test naming it. */
static inline adamp_isa isa_last(void) {
    int32_t v, last = ADAMP_ISA_SCALAR;
    for (size_t i = 0; adamp_enum_entry(ADAMP_ENUM_ISA, i, &v, NULL); i++) last = v > last ? v : last;
    return (adamp_isa)last;
}

/* The bytes of one element of a master buffer, from the element type the
 * library names (adamp_master_buffer: "float32" or "uint16"); 0 for none. */
static inline size_t master_size(adamp_master m) {
    const char *element = NULL;
    adamp_master_buffer(m, NULL, &element);
    return !element ? 0 : element[0] == 'u' ? sizeof(uint16_t) : sizeof(float);
}

/* The closing line CI reads, and the exit status. */
static int report(void) {
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
#endif
