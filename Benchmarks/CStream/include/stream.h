/* The machine's streaming floor for adamp-bench: plain read-modify-write
 * loops over the same bytes an optimizer must move at the least, on the same
 * threads. Not part of the library. */
#ifndef ADAMP_STREAM_H
#define ADAMP_STREAM_H
#include <stddef.h>

/* Reads p, g, m, v and writes p, m, v: 28 bytes per element. */
void stream_adam(float *p, const float *g, float *m, float *v, size_t n, int threads);
/* Reads p, g, b and writes p, b: 20 bytes per element. */
void stream_sgd(float *p, const float *g, float *b, size_t n, int threads);

#endif
