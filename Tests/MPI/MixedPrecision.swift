#if MPI
import Foundation
import AdamPKit
import AdamPDistributed

/// bfloat16 and float16 parameters sharded, with each master weights mode:
/// 6 steps of ResNet-18's shapes up to its 512-wide stage (convolutions' gradients orthogonal, by row
/// and by layer in turn, so that cut tensors are projected by layer), the
/// parameters, the state and the masters (this rank's rows) bitwise one
/// process's; the all-gather moves the 16-bit parameters.
enum MixedPrecisionRun {
    static func run(_ h: Harness) throws {
        let shapes = ResNetRun.smallShapes
        try go(BFloat16.self, .off, h, shapes)
        try go(Float16.self, .float32, h, shapes)
        try go(BFloat16.self, .split, h, shapes)
    }

    static func go<S: AdamPScalar>(_: S.Type, _ mode: MasterWeights, _ h: Harness, _ shapes: [[Int]]) throws {
        try go("AdamP", mode, h, shapes) { (p: [Parameter<S>]) in
            try AdamP(parameters: p, learningRate: 1e-2, weightDecay: 1e-2, masterWeights: mode)
        }
        try go("SGDP", mode, h, shapes) { (p: [Parameter<S>]) in
            try SGDP(parameters: p, learningRate: 0.1, momentum: 0.9, nesterov: true, masterWeights: mode)
        }
        if h.world.rank == 0 { print("[rank 0 of \(h.world.size)] ResNet-18 \(S.self), master \(mode.name): AdamP, SGDP bitwise one process") }
    }

    static func go<O: Optimizer>(_ name: String, _ mode: MasterWeights, _ h: Harness, _ shapes: [[Int]],
                                 _ make: ([Parameter<O.Scalar>]) throws -> O) throws {
        typealias S = O.Scalar
        let initial = { (i: Int) -> [S] in
            var r = Random(state: 0x9E37_79B9_7F4A_7C15 &+ UInt64(i))
            return (0..<shapes[i].reduce(1, *)).map { _ in S(r.next()) }
        }
        let what = "\(name) \(S.self) master \(mode.name)"
        let pair = try Pair(shapes, initial, world: h.world, make: make)
        var projected: [Projection: Int] = [:]
        for k in 0..<6 {
            pair.setGradients(pair.a.indices.map { i in
                ResNetRun.gradient(try! Parameter(shape: shapes[i], values: pair.a[i].values.map { Float($0) }),
                                   index: i, step: k).map { S($0) }
            })
            try pair.step()
            pair.compare(h, "\(what) step \(k)")
            compareState(h, pair, "\(what) step \(k)")
            for p in pair.a { projected[pair.single.lastProjection(for: p) ?? .skipped, default: 0] += 1 }
        }
        h.check(projected[.channel, default: 0] > 0 && projected[.layer, default: 0] > 0, "\(what): projections \(projected)")
    }

    /// Every state tensor (masters included), in its own dtype: this rank's
    /// rows of one process's, bitwise.
    static func compareState<O: Optimizer>(_ h: Harness, _ pair: Pair<O>, _ what: String) {
        let whole = pair.single.stateDict(), mine = pair.sharded.base.stateDict()
        for i in pair.a.indices {
            let rows = pair.sharded.ownedRows(of: pair.b[i]), p = pair.a[i]
            guard p.count > 0, !rows.isEmpty else { continue }
            for (key, t) in whole.tensors where key.hasPrefix("state.\(i).") && !key.hasSuffix(".step") {
                let size = t.data.count / p.count, perRow = p.count / max(p.channelRows, 1)
                let from = t.data.startIndex + rows.lowerBound * perRow * size
                let expected = Data(t.data[from..<from + rows.count * perRow * size])
                let got = mine.tensors[key]
                h.check(got?.dtype == t.dtype && got.map { Data($0.data) == expected } == true,
                        "\(what): \(key) (\(t.dtype)) differs from one process's rows \(rows)")
            }
        }
    }
}
#endif
