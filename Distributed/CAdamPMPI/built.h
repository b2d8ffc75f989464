/* Whether this target's C files compile: SwiftPM compiles them whatever the
 * package's traits, and without its MPI trait (swift build
 * --disable-default-traits, on a machine with no MPI) they compile to
 * nothing. Built any other way (mpicc, docs/distributed.md) they always do. */
#ifndef ADAMP_MPI_BUILT_H
#define ADAMP_MPI_BUILT_H
#if defined(SWIFT_PACKAGE) && !defined(ADAMP_MPI_TRAIT)
#define ADAMP_MPI_BUILT 0
#else
#define ADAMP_MPI_BUILT 1
#endif
#endif
