#if MPI
import Foundation
import AdamPKit
import AdamPDistributed

/// averagingGradients: each rank steps with its own gradients; one process
/// steps with their average in rank order, (((g₀ + g₁) + …) + g_{N−1}) / N in
/// Float (bfloat16 gradients: widened, summed and divided in Float, the
/// average rounded once): bitwise the same, over ResNet-18 (several chunks of
/// the reduce-scatter per rank), with AdamP (its projections included), in
/// float32 (4 steps) and in bfloat16 with split masters (2 steps: a channel
/// and a layer projection).
enum Averaging {
    static func run(_ h: Harness) throws {
        try go(Float.self, .off, steps: 4, h)
        try go(BFloat16.self, .split, steps: 2, h)
    }

    static func go<S: AdamPScalar>(_: S.Type, _ mode: MasterWeights, steps: Int, _ h: Harness) throws {
        let shapes = ResNetRun.shapes, n = h.world.size
        let initial = { (i: Int) -> [S] in
            var r = Random(state: 0xA5A5 &+ UInt64(i))
            return (0..<shapes[i].reduce(1, *)).map { _ in S(r.next()) }
        }
        let pair = try Pair(shapes, initial, world: h.world, averaging: true) {
            try AdamP(parameters: $0, learningRate: 1e-2, weightDecay: 1e-2, masterWeights: mode)
        }
        var projected = 0
        for k in 0..<steps {
            for i in shapes.indices {
                // Rank r's gradient, its parity (so its projection) that of step k on every rank.
                let widened = try Parameter(shape: shapes[i], values: pair.a[i].values.map { Float($0) })
                let local = { (r: Int) in
                    ResNetRun.gradient(widened, index: i, step: 2 * (k * 8 + r) + k % 2).map { Float(S($0)) }
                }
                var sum = local(0)
                for r in 1..<max(n, 1) { let g = local(r); for j in sum.indices { sum[j] = sum[j] + g[j] } }
                pair.a[i].grad = sum.map { S($0 / Float(n)) }
                pair.b[i].grad = local(h.world.rank).map { S($0) }
            }
            try pair.step()
            pair.compare(h, "averaged \(S.self) gradients, step \(k)")
            projected += pair.a.filter { [.channel, .layer].contains(pair.single.lastProjection(for: $0)) }.count
        }
        h.check(projected > 0, "averaged \(S.self) gradients: no tensor was projected")
        if h.world.rank == 0 { print("[rank 0 of \(n)] averaged \(S.self) gradients (master \(mode.name)): AdamP bitwise one process") }
    }
}
#endif
