// MPI (Open MPI, Debian: libopenmpi-dev), found with pkg-config (ompi-c).
#include <mpi.h>
