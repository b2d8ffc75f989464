// swift-tools-version:6.0
// No unsafeFlags anywhere: a package depended on by version may not have them.
// SIMD comes from target attributes chosen at run time, threads from the
// OpenMP runtime's ABI (see CKernels/src).
import PackageDescription

let package = Package(
    name: "swift-adamp",
    products: [
        .library(name: "AdamPKit", targets: ["AdamPKit"]),
        .library(name: "CAdamP", targets: ["CAdamP"]),
        .executable(name: "adamp-bench", targets: ["adamp-bench"]),
    ],
    targets: [
        .target(
            name: "CAdamP",
            path: "CKernels",
            linkerSettings: [.linkedLibrary("m"), .linkedLibrary("gomp", .when(platforms: [.linux]))]
        ),
        .target(
            name: "AdamPKit",
            dependencies: ["CAdamP"],
            path: "Sources/AdamPKit"
        ),
        .target(
            name: "CStream",
            path: "Benchmarks/CStream",
            linkerSettings: [.linkedLibrary("gomp", .when(platforms: [.linux]))]
        ),
        .executableTarget(
            name: "adamp-bench",
            dependencies: ["AdamPKit", "CStream"],
            path: "Benchmarks/adamp-bench"
        ),
        // OpenBLAS and LAPACKE (Debian: libopenblas-dev, liblapacke-dev), for
        // the training demo and its tests; no library product uses them.
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", path: "Sources/CLAPACKE", pkgConfig: "lapacke",
                       providers: [.apt(["liblapacke-dev"])]),
        .testTarget(
            name: "AdamPKitTests",
            dependencies: ["AdamPKit", "CAdamP", "COpenBLAS", "CLAPACKE"],
            path: "Tests/AdamPKitTests"
        ),
    ]
)
