// swift-tools-version:6.1
// No unsafeFlags anywhere: a package depended on by version may not have them.
// SIMD comes from target attributes chosen at run time, threads from the
// OpenMP runtime's ABI (see CKernels/src).
import PackageDescription

// The system libraries only the demo and the MPI layer need come in through
// traits, both on by default. `swift test --disable-default-traits` builds and
// tests the core (AdamPKit and the C library) on a machine with neither; the
// targets that need them then compile to nothing (`#if BLAS`, `#if MPI`).
let blas = "BLAS", mpi = "MPI"

let package = Package(
    name: "swift-adamp",
    products: [
        .library(name: "AdamPKit", targets: ["AdamPKit"]),
        .library(name: "CAdamP", targets: ["CAdamP"]),
        .executable(name: "adamp-bench", targets: ["adamp-bench"]),
        .executable(name: "adamp-demo", targets: ["adamp-demo"]),
        // Sharded across processes over MPI (docs/distributed.md): only these
        // need Open MPI; the products above never link it.
        .library(name: "AdamPDistributed", targets: ["AdamPDistributed"]),
        .library(name: "CAdamPMPI", targets: ["CAdamPMPI"]),
        .executable(name: "adamp-bench-mpi", targets: ["adamp-bench-mpi"]),
    ],
    traits: [
        .trait(name: blas, description: "OpenBLAS and LAPACKE: the training demo (adamp-demo) and the least-squares tests"),
        .trait(name: mpi, description: "Open MPI: AdamPDistributed, CAdamPMPI, adamp-bench-mpi and their tests"),
        .default(enabledTraits: [blas, mpi]),
    ],
    targets: [
        .target(
            name: "CAdamP",
            path: "CKernels",
            linkerSettings: [.linkedLibrary("m"), .linkedLibrary("gomp", .when(platforms: [.linux]))]
        ),
        // SHA-256 for checkpoints' integrity check (on the x86 SHA
        // extensions where the CPU has them); part of AdamPKit, not a product.
        .target(name: "CSHA256", path: "Sources/CSHA256"),
        .target(
            name: "AdamPKit",
            dependencies: ["CAdamP", "CSHA256"],
            path: "Sources/AdamPKit"
        ),
        // A seeded generator for the tests, the demo and the benchmarks; in no product.
        .target(name: "SeededRandom", path: "Sources/SeededRandom"),
        .target(
            name: "CStream",
            path: "Benchmarks/CStream",
            linkerSettings: [.linkedLibrary("gomp", .when(platforms: [.linux]))]
        ),
        // Models' shapes and training-like gradients, for both benchmarks.
        .target(
            name: "BenchSupport",
            dependencies: ["AdamPKit", "SeededRandom"],
            path: "Benchmarks/BenchSupport"
        ),
        .executableTarget(
            name: "adamp-bench",
            dependencies: ["AdamPKit", "CStream", "BenchSupport"],
            path: "Benchmarks/adamp-bench"
        ),
        // OpenBLAS and LAPACKE (Debian: libopenblas-dev, liblapacke-dev), for
        // the training demo and its tests; no library product uses them.
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", path: "Sources/CLAPACKE", pkgConfig: "lapacke",
                       providers: [.apt(["liblapacke-dev"])]),
        // The training demo (docs/demo.md): a network over
        // OpenBLAS and LAPACKE, in a library the tests drive, and its command.
        .target(
            name: "AdamPDemo",
            dependencies: ["AdamPKit", "SeededRandom"] + needs(blas, "COpenBLAS", "CLAPACKE"),
            path: "Demo/AdamPDemo"
        ),
        .executableTarget(
            name: "adamp-demo",
            dependencies: ["AdamPDemo"],
            path: "Demo/adamp-demo"
        ),
        // MPI (Debian: libopenmpi-dev, openmpi-bin), for the sharded optimizer.
        .systemLibrary(name: "CMPI", path: "Distributed/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),
        .target(
            name: "CAdamPMPI",
            dependencies: ["CAdamP"] + needs(mpi, "CMPI"),
            path: "Distributed/CAdamPMPI",
            // SwiftPM compiles C files whatever the traits (built.h).
            cSettings: [.define("ADAMP_MPI_TRAIT", .when(traits: [mpi]))]
        ),
        .target(
            name: "AdamPDistributed",
            dependencies: ["AdamPKit", "CAdamP", "CAdamPMPI"] + needs(mpi, "CMPI"),
            path: "Distributed/AdamPDistributed"
        ),
        .executableTarget(
            name: "adamp-bench-mpi",
            dependencies: ["AdamPDistributed", "AdamPKit", "BenchSupport"],
            path: "Distributed/adamp-bench-mpi"
        ),
        // The optimizers the fixtures record, for both fixture replays.
        .target(
            name: "FixtureSupport",
            dependencies: ["AdamPKit"],
            path: "Tests/FixtureSupport"
        ),
        // Run under mpirun by scripts/ci/check-mpi.sh (XCTest does not start ranks).
        .executableTarget(
            name: "adamp-mpi-tests",
            dependencies: ["AdamPDistributed", "AdamPKit", "FixtureSupport"],
            path: "Tests/MPI"
        ),
        .testTarget(
            name: "AdamPDemoTests",
            dependencies: ["AdamPDemo", "SeededRandom"],
            path: "Tests/AdamPDemoTests"
        ),
        .testTarget(
            name: "AdamPKitTests",
            dependencies: ["AdamPKit", "CAdamP", "FixtureSupport", "SeededRandom"],
            path: "Tests/AdamPKitTests"
        ),
        // Every optimizer against LAPACK's least-squares solution: the only
        // tests of the library that need OpenBLAS and LAPACKE.
        .testTarget(
            name: "LinearAlgebraTests",
            dependencies: ["AdamPKit", "SeededRandom"] + needs(blas, "COpenBLAS", "CLAPACKE"),
            path: "Tests/LinearAlgebraTests"
        ),
    ]
)

/// A target's dependencies on system libraries that only `trait` brings.
func needs(_ trait: String, _ libraries: String...) -> [Target.Dependency] {
    libraries.map { .target(name: $0, condition: .when(traits: [trait])) }
}
