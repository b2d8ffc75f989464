#if MPI
import Foundation
import AdamPKit
import AdamPDistributed

/// Input that is wrong on one rank, or differs between ranks: every rank
/// throws (none waits forever), says what, and nothing changes.
enum BadInput {
    static func run(_ h: Harness) throws {
        let n = h.world.size, rank = h.world.rank
        let shapes: [[Int]] = [[6, 4, 3, 3], [6], [10, 3]]
        func params(_ s: [[Int]]) throws -> [Parameter<Float>] {
            try s.enumerated().map { try Parameter(shape: $1, values: (0..<$1.reduce(1, *)).map { Float($0 % 7) * 0.1 + 0.1 }, name: "p\($0)") }
        }
        let elsewhere = { (e: Error) in if case DistributedError.failedOnAnotherRank = e { true } else { false } }
        func disagree(_ text: String) -> (Error) -> Bool {
            { e in if case let DistributedError.ranksDisagree(m) = e { m.contains(text) } else { false } }
        }

        if n > 1 {
            let other = rank == 1 ? [[4, 6, 3, 3]] + shapes.dropFirst() : shapes
            let ps = try params(other)
            h.expectThrows("a shape that differs on rank 1", {
                _ = try ShardedOptimizer(parameters: ps, communicator: h.world) { s in try AdamP(parameters: ps.map(s)) }
            }, disagree("tensor 0's shape"))
            let fewer = try params(rank == 1 ? Array(shapes.dropLast()) : shapes)
            h.expectThrows("a parameter missing on rank 1", {
                _ = try ShardedOptimizer(parameters: fewer, communicator: h.world) { s in try AdamP(parameters: fewer.map(s)) }
            }, disagree("number of tensors"))
            let qs = try params(shapes)
            h.expectThrows("an optimizer rank 0 cannot make", {
                _ = try ShardedOptimizer(parameters: qs, communicator: h.world) { s in
                    try AdamP(parameters: qs.map(s), learningRate: rank == 0 ? -1 : 1e-3)
                }
            }) { e in rank == 0 ? { if case OptimizerError.invalidHyperparameter = e { true } else { false } }() : elsewhere(e) }
        }
        let ps = try params(shapes)
        h.expectThrows("an optimizer that leaves out a shard", {
            _ = try ShardedOptimizer(parameters: ps, communicator: h.world) { s in try AdamP(parameters: ps.dropLast().map(s)) }
        }) { e in if case DistributedError.invalidInput = e { true } else { false } }

        let opt = try ShardedOptimizer(parameters: ps, communicator: h.world) { s in try AdamP(parameters: ps.map(s)) }
        func grads() { for p in ps { p.grad = (0..<p.count).map { Float($0 % 5) * 0.01 - 0.02 } } }
        grads()
        try opt.step()
        let values = ps.map(\.values), state = opt.base.stateDict().tensors
        func unchanged(_ what: String) {
            h.check(zip(ps, values).allSatisfy { sameBits($0.values, $1) } && opt.base.stateDict().tensors == state,
                    "\(what): the parameters or state changed")
        }
        if n > 1 {
            try opt.base.setLearningRate(rank == 0 ? 0.5 : 1e-3)
            h.expectThrows("a learning rate that differs on rank 0", { try opt.step() }, disagree("lr"))
            unchanged("a learning rate that differs")
            try opt.base.setLearningRate(1e-3)
            if rank == n - 1 { ps[1].grad = nil }
            h.expectThrows("a gradient missing on the last rank", { try opt.step() }, disagree("tensor 1 has a gradient"))
            unchanged("a gradient missing on one rank")
            grads()
        }
        if rank == 0 { ps[2].grad = [1, 2, 3] }
        h.expectThrows("a gradient of the wrong count on rank 0", { try opt.step() }) { e in
            rank == 0 ? { if case OptimizerError.gradientCountMismatch = e { true } else { false } }() : elsewhere(e)
        }
        unchanged("a gradient of the wrong count")
        grads()
        h.expectThrows("gradScale 0", { try opt.step(gradScale: 0) }) { e in
            if case OptimizerError.invalidArgument = e { true } else { false }
        }
        unchanged("gradScale 0")
        try opt.step()
        h.check(opt.stepCount(for: ps[0]) == 2, "after the refused steps, one more counts: \(opt.stepCount(for: ps[0]))")
        try stepCountLimit(h)
    }

    /// M2 (issue 28): a count stepped to Int64.max (from Int64.max - 1),
    /// an empty parameter's too (whose count trapped on `+= 1`), neither
    /// traps: the next step throws .stepCountLimit on every rank.
    static func stepCountLimit(_ h: Harness) throws {
        let ps = [try Parameter<Float>(shape: [8, 3], values: (0..<24).map { Float($0) * 0.1 }, name: "w"),
                  Parameter<Float>(shape: [0, 3], name: "e")]
        let opt = try ShardedOptimizer(parameters: ps, communicator: h.world) { s in try AdamP(parameters: ps.map(s)) }
        ps[0].grad = [Float](repeating: 0.5, count: 24)
        ps[1].grad = []
        try opt.step()
        var sd = opt.base.stateDict()
        for key in sd.tensors.keys where key.hasSuffix(".step") { sd.tensors[key] = .init(shape: [], values: [Int64.max - 1]) }
        try opt.base.load(stateDict: sd)
        try opt.step()
        h.check(opt.stepCount(for: ps[1]) == Int.max, "the empty parameter's count: \(opt.stepCount(for: ps[1]))")
        h.expectThrows("a step past Int64.max", { try opt.step() }) { e in
            if case OptimizerError.stepCountLimit = e { true } else { false }
        }
    }

    /// Refused checkpoints leave the state as it was, on every rank.
    static func checkpoints(_ h: Harness, _ opt: ShardedOptimizer<AdamP<Float>>, _ dir: URL) throws {
        let good = dir.appendingPathComponent("sharded.safetensors"), bad = dir.appendingPathComponent("truncated.safetensors")
        if h.world.rank == 0 { try Data(try Data(contentsOf: good).prefix(100)).write(to: bad) }
        try opt.save(to: dir.appendingPathComponent("sync.safetensors")) // every rank now sees `bad`
        let state = opt.base.stateDict()
        let refused = { (e: Error) in if case OptimizerError.invalidCheckpoint = e { true } else { false } }
        h.expectThrows("a truncated checkpoint", { try opt.load(from: bad) }, refused)
        h.expectThrows("a missing checkpoint", { try opt.load(from: dir.appendingPathComponent("none.safetensors")) }, refused)
        // Another model's checkpoint: one process's AdamP over other shapes.
        let other = dir.appendingPathComponent("other.safetensors")
        if h.world.rank == 0 {
            let p = try Parameter<Float>(shape: [2, 2], values: [1, 2, 3, 4])
            let o = try AdamP(parameters: [p])
            p.grad = [0.1, 0.2, 0.3, 0.4]
            try o.step()
            try o.save(to: other)
        }
        try opt.save(to: dir.appendingPathComponent("sync.safetensors"))
        h.expectThrows("another model's checkpoint", { try opt.load(from: other) }, refused)
        h.check(opt.base.stateDict() == state, "a refused checkpoint changed the state")
        // A root no rank has: MPI refuses it, on every rank, in its own words.
        h.expectThrows("a root outside the ranks", { try opt.save(to: dir.appendingPathComponent("x"), root: h.world.size) }) { e in
            if case let DistributedError.mpiFailed(m) = e { m.contains("MPI_ERR_ROOT") } else { false }
        }
        let nowhere = URL(fileURLWithPath: "/nonexistent-dir/adamp.safetensors")
        h.expectThrows("saving where no file can be written", { try opt.save(to: nowhere) }) { e in
            if h.world.rank == 0 { if case OptimizerError.checkpointWriteFailed = e { return true } else { return false } }
            if case DistributedError.failedOnAnotherRank = e { return true } else { return false }
        }
    }
}
#endif
