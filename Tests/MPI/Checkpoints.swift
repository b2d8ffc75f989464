#if MPI
import Foundation
import AdamPKit
import AdamPDistributed

/// Consolidated checkpoints: the sharded optimizer writes the file one
/// process writes (byte for byte), and each loads the other's; the resumed
/// runs stay bitwise equal. Shapes include a scalar, tensors of no elements (of no rows, and of rows of none) and two
/// groups.
enum CheckpointChecks {
    static let shapes: [[Int]] = [[8, 4, 3, 3], [8], [5, 7], [], [0, 3], [16, 8, 3, 3], [3, 0], [3], [12, 5], [0]]

    static var directory: URL {
        let env = ProcessInfo.processInfo.environment["ADAMP_MPI_TMP"]
        return URL(fileURLWithPath: env ?? NSTemporaryDirectory()).appendingPathComponent("adamp-mpi-tests-\(getppid())")
    }

    static func make(_ ps: [Parameter<Float>]) throws -> AdamP<Float> {
        try AdamP(groups: [.init(parameters: ps.filter { $0.shape.count > 1 }),
                           .init(parameters: ps.filter { $0.shape.count <= 1 }, weightDecay: 0)],
                  learningRate: 1e-2, weightDecay: 1e-2)
    }

    static func initial(_ i: Int) -> [Float] {
        var r = Random(state: 77 + UInt64(i))
        return (0..<shapes[i].reduce(1, *)).map { _ in Float(r.next()) }
    }

    static func steps(_ pair: Pair<AdamP<Float>>, _ range: Range<Int>) throws {
        for k in range {
            pair.setGradients(pair.a.indices.map { ResNetRun.gradient(pair.a[$0], index: $0, step: k) })
            try pair.step()
        }
    }

    static func run(_ h: Harness) throws {
        let dir = directory
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let single = dir.appendingPathComponent("single.safetensors"), sharded = dir.appendingPathComponent("sharded.safetensors")
        let pair = try Pair(shapes, initial, world: h.world, make: make)
        try steps(pair, 0..<3)
        if h.world.rank == 0 { try pair.single.save(to: single) }
        try pair.sharded.save(to: sharded) // collective: single's file is written once it returns
        if h.world.rank == 0 {
            h.check(try Data(contentsOf: single) == Data(contentsOf: sharded),
                    "the consolidated checkpoint differs from one process's")
        }
        // Each resumes from the other's file, over the parameters as they are now.
        let resumed = try Pair(shapes, { pair.a[$0].values }, world: h.world, make: make)
        try resumed.single.load(from: sharded)
        try resumed.sharded.load(from: single)
        resumed.compare(h, "resumed, before a step")
        try steps(pair, 3..<6)
        try steps(resumed, 3..<6)
        resumed.compare(h, "resumed, 3 steps on")
        for i in pair.a.indices {
            h.check(sameBits(pair.a[i].values, resumed.b[i].values), "resumed p\(i) differs from the uninterrupted run")
        }
        try BadInput.checkpoints(h, resumed.sharded, dir)
        _ = try? FileManager.default.removeItem(at: dir)
    }
}
#endif
