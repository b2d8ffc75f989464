import AdamPKit
import Foundation
import SeededRandom

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
    public static func fill<S: AdamPScalar>(_ params: [Parameter<S>], seed: UInt64 = 0x5EED) {
        var rng = SplitMix(state: seed)
        for p in params {
            p.withUnsafeMutableValues { v in store((0..<v.count).map { _ in Float.random(in: -0.1...0.1, using: &rng) }, v) }
            p.withUnsafeMutableGradient { g in store((0..<g.count).map { _ in Float.random(in: -0.01...0.01, using: &rng) }, g) }
        }
    }

    /// g_r -= (g_r . w_r / w_r . w_r) w_r for every row r of every marked
    /// tensor (in Float, for 16-bit types on their widened values).
    public static func orthogonalise<S: AdamPScalar>(_ params: [Parameter<S>], _ marked: [Bool]) {
        for (p, m) in zip(params, marked) where m {
            let rows = p.shape[0], cols = p.count / rows
            p.withUnsafeMutableValues { wv in
                p.withUnsafeMutableGradient { gv in
                    let w = floats(wv)
                    var g = floats(gv)
                    for r in 0..<rows {
                        var gw = 0.0, ww = 0.0
                        for i in r * cols..<(r + 1) * cols { gw += Double(g[i]) * Double(w[i]); ww += Double(w[i]) * Double(w[i]) }
                        let c = Float(ww > 0 ? gw / ww : 0)
                        for i in r * cols..<(r + 1) * cols { g[i] -= c * w[i] }
                    }
                    store(g, gv)
                }
            }
        }
    }

    // Element conversions by concrete type: a generic conversion per element
    // (not specialised across modules) took minutes over a model.
    static func floats<S: AdamPScalar>(_ x: UnsafeMutableBufferPointer<S>) -> [Float] {
        if S.self == Float.self { return x.withMemoryRebound(to: Float.self) { Array($0) } }
        if S.self == BFloat16.self { return x.withMemoryRebound(to: BFloat16.self) { $0.map { Float($0) } } }
        if S.self == Float16.self { return x.withMemoryRebound(to: Float16.self) { $0.map { Float($0) } } }
        return x.map { Float($0) }
    }

    static func store<S: AdamPScalar>(_ v: [Float], _ x: UnsafeMutableBufferPointer<S>) {
        if S.self == Float.self { x.withMemoryRebound(to: Float.self) { _ = $0.update(fromContentsOf: v) } }
        else if S.self == BFloat16.self { x.withMemoryRebound(to: BFloat16.self) { for i in v.indices { $0[i] = BFloat16(v[i]) } } }
        else if S.self == Float16.self { x.withMemoryRebound(to: Float16.self) { for i in v.indices { $0[i] = Float16(v[i]) } } }
        else { for i in v.indices { x[i] = S(v[i]) } }
    }
}

/// The projections of the timed steps, counted.
public struct ProjectionTally: CustomStringConvertible {
    public private(set) var counts: [Projection: Int] = [:]
    public private(set) var steps = 0

    public init() {}

    public mutating func add<S: AdamPScalar>(_ opt: any Optimizer<S>, _ params: [Parameter<S>]) {
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

