#if MPI
import Foundation
import AdamPKit
import AdamPDistributed

/// The checks of one rank: each failure is printed with the rank; the
/// process exits 1 if any failed, so mpirun fails.
final class Harness {
    let world: Communicator
    private(set) var passed = 0, failed = 0

    init(_ world: Communicator) { self.world = world }

    func check(_ ok: Bool, _ what: @autoclosure () -> String) {
        if ok { passed += 1 } else { failed += 1; print("FAIL [rank \(world.rank) of \(world.size)] \(what())") }
    }

    /// `body` must throw, on every rank; `expect` says whether what it threw is right here.
    func expectThrows(_ what: String, _ body: () throws -> Void, _ expect: (Error) -> Bool) {
        do {
            try body()
            check(false, "\(what): did not throw")
        } catch {
            check(expect(error), "\(what): threw \(error)")
        }
    }
}

/// Bitwise equality of two arrays of floating-point values.
func sameBits<T: BinaryFloatingPoint>(_ a: [T], _ b: [T]) -> Bool {
    a.count == b.count && a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.elementsEqual(y) } }
}

/// The same sequence on every rank: xorshift, uniform in [-1, 1).
struct Random {
    var state: UInt64
    mutating func next() -> Double {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return Double(state >> 11) / 9007199254740992.0 * 2 - 1
    }
}

/// A one-process optimizer and a sharded one over copies of the same
/// parameters, stepped with the same gradients and compared bitwise.
struct Pair<O: Optimizer> {
    let single: O
    let sharded: ShardedOptimizer<O>
    let a: [Parameter<O.Scalar>], b: [Parameter<O.Scalar>]

    init(_ shapes: [[Int]], _ values: (Int) -> [O.Scalar], world: Communicator, averaging: Bool = false,
         make: ([Parameter<O.Scalar>]) throws -> O) throws {
        a = try shapes.enumerated().map { try Parameter(shape: $1, values: values($0), name: "p\($0)") }
        b = try shapes.enumerated().map { try Parameter(shape: $1, values: values($0), name: "p\($0)") }
        single = try make(a)
        let b = b
        sharded = try ShardedOptimizer(parameters: b, communicator: world, averagingGradients: averaging) { shard in
            try make(b.map(shard))
        }
    }

    func setGradients(_ grads: [[O.Scalar]?]) {
        for (i, g) in grads.enumerated() { a[i].grad = g; b[i].grad = g }
    }

    func step(gradScale: Double = 1) throws {
        try single.step(gradScale: gradScale)
        try sharded.step(gradScale: gradScale)
    }

    /// Parameters, step counts, projections and this rank's state: bitwise.
    func compare(_ h: Harness, _ what: String) {
        for i in a.indices {
            h.check(sameBits(a[i].values, b[i].values), "\(what): p\(i) values differ from one process")
            h.check(single.stepCount(for: a[i]) == sharded.stepCount(for: b[i]), "\(what): p\(i) step count")
            h.check(single.lastProjection(for: a[i]) == sharded.lastProjection(for: b[i]),
                    "\(what): p\(i) projection \(String(describing: single.lastProjection(for: a[i]))) vs \(String(describing: sharded.lastProjection(for: b[i])))")
            let rows = sharded.ownedRows(of: b[i])
            let whole = single.state(for: a[i]), mine = sharded.base.state(for: sharded.shards[i])
            let perRow = a[i].count / max(a[i].channelRows, 1)
            if a[i].count == 0 || rows.isEmpty { continue }
            h.check(Set(whole.keys) == Set(mine.keys), "\(what): p\(i) state buffers \(whole.keys.sorted()) vs \(mine.keys.sorted())")
            for (name, buffer) in whole {
                let expected = Array(buffer[rows.lowerBound * perRow..<rows.upperBound * perRow])
                h.check(sameBits(expected, mine[name] ?? []), "\(what): p\(i).\(name) differs from one process's rows \(rows)")
            }
        }
    }
}
#endif
