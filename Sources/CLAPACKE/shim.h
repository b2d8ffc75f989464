/* LAPACKE, the C interface to LAPACK, found with pkg-config (lapacke.pc):
 * for the training demo and its tests only. */
#include <lapacke.h>
