#if MPI
import Foundation
import AdamPKit
import AdamPDistributed

// The sharded optimizer's tests, run on every rank by scripts/ci/check-mpi.sh
// (mpirun -np 1, 2, 3, 4). Each rank checks what it can see (its rows of the
// state, the whole parameters) against one process stepping the same model.

let world = try Communicator.world()
if CommandLine.arguments.contains("--leave") { try Departure.run(world, early: true) }
if CommandLine.arguments.contains("--finish-apart") { try Departure.run(world, early: false) }
let h = Harness(world)
let fixtures = try FixtureReplay.run(h)
try ResNetRun.run(h)
try MixedPrecisionRun.run(h)
try Averaging.run(h)
try CheckpointChecks.run(h)
try BadInput.run(h)
if world.rank == 0 {
    let isas = KernelISA.allCases.filter { $0 != .auto && $0.isSupported }.map(\.rawValue).joined(separator: " ")
    print("adamp-mpi-tests, \(world.size) ranks: \(fixtures) fixtures under ISAs \(isas); rank 0: \(h.passed) passed, \(h.failed) failed")
}
exit(h.failed == 0 ? 0 : 1)
#else
import Foundation
FileHandle.standardError.write(Data("adamp-mpi-tests: built without the package's MPI trait (--disable-default-traits); it needs Open MPI\n".utf8))
exit(2)
#endif
