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

/* 16-bit parameters and gradients, an optimizer of `states` state buffers
 * (2: Adam's, 1: SGD's), as the library's modes store them:
 *   STREAM_OFF:    a[0] parameter, a[1] gradient, a[2..] state, all 16-bit
 *                  (read p, g, state; write p, state: 14 bytes for Adam);
 *   STREAM_MASTER: a[0] float32 master, a[1] 16-bit gradient, a[2..] float32
 *                  state, a[4] the 16-bit parameter, only written (28);
 *   STREAM_SPLIT:  a[0] 16-bit parameter, a[4] its 16-bit trail, both read
 *                  and written, a[1] gradient, a[2..] float32 state (26). */
enum { STREAM_OFF = 1, STREAM_MASTER = 2, STREAM_SPLIT = 3 };
void stream_mixed(int states, int mode, void *const *arrays, size_t n, int threads);

#endif
