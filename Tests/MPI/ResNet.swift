#if MPI
import Foundation
import AdamPKit
import AdamPDistributed

/// 20 steps over ResNet-18's 62 tensors (11.7M parameters), one process and
/// sharded, bitwise equal after every step. Convolutions get gradients
/// orthogonal to their current weights as BatchNorm makes them, per row on
/// odd steps (AdamP and SGDP project by channel) and over the whole tensor on
/// even steps (by layer: the sum that crosses ranks where a tensor is cut);
/// the rest get random ones.
enum ResNetRun {
    static var shapes: [[Int]] {
        var s: [[Int]] = [[64, 3, 7, 7], [64], [64]]
        var inC = 64
        for (width, stride) in [(64, 1), (128, 2), (256, 2), (512, 2)] {
            for block in 0..<2 {
                s += [[width, block == 0 ? inC : width, 3, 3], [width], [width], [width, width, 3, 3], [width], [width]]
                if block == 0 && (stride != 1 || inC != width) { s += [[width, inC, 1, 1], [width], [width]] }
            }
            inC = width
        }
        return s + [[1000, 512], [1000]]
    }

    /// Without its 512-wide stage: 3.3M parameters, for the runs that repeat
    /// over modes (tensors are still cut between ranks).
    static var smallShapes: [[Int]] { shapes.filter { $0.first != 512 } }

    static let steps = 20

    static func run(_ h: Harness) throws {
        let shapes = shapes
        let count = shapes.map { $0.reduce(1, *) }.reduce(0, +)
        h.check(shapes.count == 62 && count == 11_689_512, "ResNet-18: \(shapes.count) tensors, \(count) parameters")
        let initial = { (i: Int) -> [Float] in
            var r = Random(state: 0x9E37_79B9_7F4A_7C15 &+ UInt64(i))
            return (0..<shapes[i].reduce(1, *)).map { _ in Float(r.next()) }
        }
        try go("AdamP", h, shapes, initial) { try AdamP(parameters: $0, learningRate: 1e-2, weightDecay: 1e-2) }
        try go("SGDP", h, shapes, initial) {
            try SGDP(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true)
        }
        try go("Adam", h, shapes, initial) { try Adam(parameters: $0, learningRate: 1e-2, weightDecay: 1e-2, amsgrad: true) }
    }

    static func go<O: Optimizer>(_ name: String, _ h: Harness, _ shapes: [[Int]], _ initial: (Int) -> [Float],
                                 _ make: ([Parameter<Float>]) throws -> O) throws where O.Scalar == Float {
        let pair = try Pair(shapes, initial, world: h.world, make: make)
        let (mine, all) = pair.sharded.stateBytes
        print("[rank \(h.world.rank) of \(h.world.size)] ResNet-18 \(name): state \(mine / 1_000_000) MB here, \(all / 1_000_000) MB in one process")
        h.check(h.world.size == 1 ? mine == all : mine < all, "\(name): this rank holds \(mine) of \(all) state bytes")
        var projections: [Projection: Int] = [:], cutLayer = 0
        let cut = pair.b.indices.filter { i in
            let r = pair.sharded.ownedRows(of: pair.b[i])
            return shapes[i].count > 1 && !r.isEmpty && r.count < shapes[i][0]
        }
        for k in 0..<steps {
            pair.setGradients(pair.a.indices.map { gradient(pair.a[$0], index: $0, step: k) })
            try pair.step()
            pair.compare(h, "ResNet-18 \(name) step \(k)")
            for p in pair.a { projections[pair.single.lastProjection(for: p) ?? .skipped, default: 0] += 1 }
            cutLayer += cut.filter { pair.sharded.lastProjection(for: pair.b[$0]) == .layer }.count
        }
        if name != "Adam" {
            h.check(projections[.channel, default: 0] > 0 && projections[.layer, default: 0] > 0,
                    "\(name): projections \(projections)")
            h.check(cut.isEmpty || cutLayer > 0, "\(name): no tensor cut between ranks was projected by layer")
        }
        if h.world.rank == 0 || !cut.isEmpty {
            print("[rank \(h.world.rank) of \(h.world.size)] ResNet-18 \(name): \(cut.count) tensor(s) cut here, projected by layer \(cutLayer) times")
        }
    }

    /// Step k's gradient of parameter i: random, made orthogonal to the
    /// parameter's current values for a convolution (by row, or as a whole).
    static func gradient(_ p: Parameter<Float>, index i: Int, step k: Int) -> [Float] {
        var r = Random(state: UInt64(k + 1) &* 0x2545_F491_4F6C_DD1D &+ UInt64(i + 1))
        var g = (0..<p.count).map { _ in 0.01 * r.next() }
        guard p.shape.count == 4 else { return g.map(Float.init) }
        let w = p.values.map(Double.init)
        let rows = k % 2 == 1 ? p.shape[0] : 1, cols = p.count / rows
        for row in 0..<rows {
            var gw = 0.0, ww = 0.0
            for j in row * cols..<(row + 1) * cols { gw += g[j] * w[j]; ww += w[j] * w[j] }
            for j in row * cols..<(row + 1) * cols { g[j] -= gw / ww * w[j] }
        }
        return g.map(Float.init)
    }
}
#endif
