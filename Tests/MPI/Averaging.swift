import Foundation
import AdamPKit
import AdamPDistributed

/// averagingGradients: each rank steps with its own gradients; one process
/// steps with their average in rank order, (((g₀ + g₁) + …) + g_{N−1}) / N in
/// Float: bitwise the same, over ResNet-18 (several chunks of the
/// reduce-scatter per rank), with AdamP (its projections included).
enum Averaging {
    static let steps = 4

    static func run(_ h: Harness) throws {
        let shapes = ResNetRun.shapes, n = h.world.size
        let initial = { (i: Int) -> [Float] in
            var r = Random(state: 0xA5A5 &+ UInt64(i))
            return (0..<shapes[i].reduce(1, *)).map { _ in Float(r.next()) }
        }
        let pair = try Pair(shapes, initial, world: h.world, averaging: true) {
            try AdamP(parameters: $0, learningRate: 1e-2, weightDecay: 1e-2)
        }
        var projected = 0
        for k in 0..<steps {
            for i in shapes.indices {
                // Rank r's gradient, its parity (so its projection) that of step k on every rank.
                let local = { (r: Int) in ResNetRun.gradient(pair.a[i], index: i, step: 2 * (k * 8 + r) + k % 2) }
                var sum = local(0)
                for r in 1..<max(n, 1) { let g = local(r); for j in sum.indices { sum[j] = sum[j] + g[j] } }
                pair.a[i].grad = sum.map { $0 / Float(n) }
                pair.b[i].grad = local(h.world.rank)
            }
            try pair.step()
            pair.compare(h, "averaged gradients, step \(k)")
            projected += pair.a.filter { [.channel, .layer].contains(pair.single.lastProjection(for: $0)) }.count
        }
        h.check(projected > 0, "averaged gradients: no tensor was projected")
    }
}
