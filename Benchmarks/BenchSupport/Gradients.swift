import AdamPKit
import Foundation

/// The gradients a benchmark step reads. Random gradients never trigger
/// AdamP's projection, which training behind BatchNorm does on every step:
/// the gradient of a weight followed by normalisation is orthogonal to the
/// weight, row by row. So by default the weights of such layers get random
/// gradients made orthogonal to their current weights before every timed
/// step (outside the timed region: the weights move, and a fixed gradient
/// would stop being orthogonal).
public enum GradientKind: String, CaseIterable, Sendable {
    case orthogonal, random

    /// The value of `--gradients`.
    /// - Throws: `BenchError` naming the choices.
    public init(argument: String) throws {
        guard let g = GradientKind(rawValue: argument) else {
            throw BenchError("--gradients takes one of \(GradientKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = g
    }
}

public enum Gradients {
    /// Which tensors are followed by normalisation: ResNets' convolutions (all
    /// followed by BatchNorm) and, in a --shapes file, every 4-D tensor; in the
    /// transformers none (their linear layers feed residual sums).
    public static func normalised(model: String, shapes: [[Int]]) -> [Bool] {
        let convolutionsAreNormalised = model.hasPrefix("resnet") || Models.all[model] == nil
        return shapes.map { convolutionsAreNormalised && $0.count == 4 }
    }

    /// Random values in the parameters and their gradients, the same for a
    /// `seed` (on every rank of a sharded benchmark alike).
    public static func fill(_ params: [Parameter<Float>], seed: UInt64 = 0x5EED) {
        var rng = SplitMix(state: seed)
        for p in params {
            p.withUnsafeMutableValues { v in for i in v.indices { v[i] = Float.random(in: -0.1...0.1, using: &rng) } }
            p.withUnsafeMutableGradient { g in for i in g.indices { g[i] = Float.random(in: -0.01...0.01, using: &rng) } }
        }
    }

    /// g_r -= (g_r . w_r / w_r . w_r) w_r for every row r of every marked tensor.
    public static func orthogonalise(_ params: [Parameter<Float>], _ marked: [Bool]) {
        for (p, m) in zip(params, marked) where m {
            let rows = p.shape[0], cols = p.count / rows
            p.withUnsafeMutableValues { w in
                p.withUnsafeMutableGradient { g in
                    for r in 0..<rows {
                        var gw = 0.0, ww = 0.0
                        for i in r * cols..<(r + 1) * cols { gw += Double(g[i]) * Double(w[i]); ww += Double(w[i]) * Double(w[i]) }
                        let c = Float(ww > 0 ? gw / ww : 0)
                        for i in r * cols..<(r + 1) * cols { g[i] -= c * w[i] }
                    }
                }
            }
        }
    }
}

/// The projections of the timed steps, counted.
public struct ProjectionTally: CustomStringConvertible {
    public private(set) var counts: [Projection: Int] = [:]
    public private(set) var steps = 0

    public init() {}

    public mutating func add(_ opt: any Optimizer<Float>, _ params: [Parameter<Float>]) {
        for p in params { counts[opt.lastProjection(for: p) ?? .skipped, default: 0] += 1 }
        steps += 1
    }

    /// "channel 53, unprojected 108 per step".
    public var description: String {
        counts.sorted { $0.key.rawValue < $1.key.rawValue }
            .map { "\($0.key) \(String(format: steps > 0 && $0.value % steps == 0 ? "%.0f" : "%.1f", Double($0.value) / Double(max(1, steps))))" }
            .joined(separator: ", ") + " per step"
    }
}

