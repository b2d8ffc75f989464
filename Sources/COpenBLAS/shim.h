/* OpenBLAS's CBLAS interface, found with pkg-config (openblas.pc): for the
 * training demo and its tests only; the optimizer library stays BLAS-free. */
#include <cblas.h>
