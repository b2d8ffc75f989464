#if MPI
import Foundation
import AdamPKit
import AdamPDistributed

/// M1 (issue 28): a rank that leaves between sharded steps (exit(), which
/// ends MPI at exit) must make the job fail fast, as an uncaught error or
/// SIGKILL does; it hung every other rank forever, waiting in the step.
/// Run alone by scripts/ci/check-mpi.sh, with a timeout: `--leave`: the last
/// rank exits after one step, the others step on (the job must fail within
/// seconds, saying which rank left); `--finish-apart`: every rank takes
/// every step, then the last exits at once and the others a second later
/// (a job that ends, not a departure: it must end cleanly, exit status 0).
enum Departure {
    static func run(_ world: Communicator, early: Bool) throws -> Never {
        let shapes = [[64, 3, 3, 3], [64], [10, 64]]
        let parameters = try shapes.enumerated().map { i, s in
            try Parameter<Float>(shape: s, values: (0..<s.reduce(1, *)).map { Float(($0 * 7 + i) % 13) - 6 }, name: "p\(i)")
        }
        let sharded = try ShardedOptimizer(parameters: parameters, communicator: world) { shard in
            try AdamP(parameters: parameters.map(shard), learningRate: 0.01)
        }
        for step in 0..<5 {
            for p in parameters { p.grad = [Float](repeating: 0.5, count: p.count) }
            if early && step == 1 && world.rank == world.size - 1 {
                FileHandle.standardError.write(Data("departure: rank \(world.rank) leaves (exit) after one step\n".utf8))
                exit(0)
            }
            try sharded.step()
        }
        if early {
            print("departure: rank \(world.rank) stepped past a rank that left")
            exit(3)
        }
        if world.rank != world.size - 1 { sleep(1) }
        exit(0)
    }
}
#endif
