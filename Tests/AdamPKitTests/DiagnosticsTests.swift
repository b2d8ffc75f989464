import Foundation
import Testing
import AdamPKit
import SeededRandom

/// Diagnostics: what the test saw, read from the step's statistics, against
/// the same quantities computed here from the values before the step.
@Suite struct DiagnosticsTests {
    static let shapes: [[Int]] = [[6, 4, 3, 3], [8, 20], [5, 7], [6]]

    static func norm(_ x: [Double]) -> Double { x.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        abs(zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }) / (norm(a) * norm(b))
    }

    @Test func whatTheTestSaw() throws {
        var rng = SplitMix(state: 3)
        let ps = try Self.shapes.map { s in
            try Parameter<Double>(shape: s, values: (0..<s.reduce(1, *)).map { _ in rng.normal() })
        }
        let opt = try AdamP(parameters: ps, learningRate: 0.02)
        #expect(!opt.diagnosticsEnabled && opt.diagnostics(for: ps[0]) == nil)
        opt.diagnosticsEnabled = true
        for (i, p) in ps.enumerated() {
            let kind: GradientKind = i == 0 ? .channel : i == 1 ? .layer : .random
            p.grad = makeGradient(kind, p: p.values, shape: p.shape, rng: &rng)
        }
        let before = ps.map(\.values), grads = ps.map { $0.grad! }
        try opt.step(maxGradNorm: 0.5)
        let total = Self.norm(grads.flatMap { $0 }), coef = min(0.5 / (total + 1e-6), 1)
        for (i, p) in ps.enumerated() {
            let d = try #require(opt.diagnostics(for: p))
            #expect(d.projection == opt.lastProjection(for: p))
            #expect(abs(d.weightNorm - Self.norm(before[i])) <= 1e-12 * d.weightNorm)
            #expect(abs(d.gradientNorm - coef * Self.norm(grads[i])) <= 1e-12 * d.gradientNorm)
            #expect(d.learningRate == 0.02 && d.effectiveStepSize == 0.02 / (d.weightNorm * d.weightNorm))
            if p.shape.count > 1 {
                let rows = p.shape[0], w = p.count / rows
                let worst = (0..<rows).map { r in
                    Self.cosine(Array(grads[i][r * w..<(r + 1) * w]), Array(before[i][r * w..<(r + 1) * w]))
                }.max()!
                #expect(abs(d.channelCosine - worst) <= 1e-12)
                #expect(abs(d.layerCosine - Self.cosine(grads[i], before[i])) <= 1e-12)
                #expect(d.channelThreshold == 0.1 / Double(w).squareRoot() && d.layerThreshold == 0.1 / Double(p.count).squareRoot())
            } else {
                #expect(d.channelCosine.isNaN && d.layerCosine.isNaN && d.projection == .unprojected)
            }
        }
        #expect(opt.diagnostics(for: ps[0])!.projection == .channel && opt.diagnostics(for: ps[1])!.projection == .layer)
        #expect(opt.diagnostics(for: ps[2])!.projection == .unprojected)
        opt.diagnosticsEnabled = false
        #expect(opt.diagnostics(for: ps[0]) == nil)
    }

    /// Without diagnostics a step keeps no statistics for small tensors
    /// (`drop_stats`); with them on or off the steps are bitwise the same, and
    /// turning them on after such steps gives the next step's numbers.
    @Test func onOrOffTheSameSteps() throws {
        var rng = SplitMix(state: 5)
        let shapes = Self.shapes + [[64, 8], [300, 2]]
        let values = shapes.map { s in (0..<s.reduce(1, *)).map { _ in Float(rng.normal()) } }
        let runs = try (0..<2).map { _ in try shapes.indices.map { try Parameter<Float>(shape: shapes[$0], values: values[$0]) } }
        let opts = try runs.map { try AdamP(parameters: $0, learningRate: 0.02) }
        opts[0].diagnosticsEnabled = true
        for step in 0..<4 {
            if step == 2 { opts[1].diagnosticsEnabled = true }
            for (i, p) in runs[0].enumerated() {
                let kind: GradientKind = i % 3 == 0 ? .channel : i % 3 == 1 ? .layer : .random
                let g = makeGradient(kind, p: p.values.map(Double.init), shape: p.shape, rng: &rng).map(Float.init)
                p.grad = g
                runs[1][i].grad = g
            }
            let before = runs[1].map(\.values)
            for o in opts { try o.step() }
            for i in shapes.indices {
                #expect(runs[0][i].values == runs[1][i].values)
                #expect(opts[0].lastProjection(for: runs[0][i]) == opts[1].lastProjection(for: runs[1][i]))
                if step < 2 { #expect(opts[1].diagnostics(for: runs[1][i]) == nil) }
                if step == 3 {
                    let d = try #require(opts[1].diagnostics(for: runs[1][i]))
                    let other = try #require(opts[0].diagnostics(for: runs[0][i]))
                    #expect("\(d)" == "\(other)") /* NaN where not tested: the same in both */
                    #expect(abs(d.weightNorm - Self.norm(before[i].map(Double.init))) <= 1e-6 * d.weightNorm)
                }
            }
        }
    }

    /// The baselines have no test: their diagnostics are the norms and the rate.
    @Test func baselinesGiveNorms() throws {
        let p = try Parameter<Float>(shape: [3, 4], values: (0..<12).map { Float($0) - 5 })
        let opt = try Adam(parameters: [p], learningRate: 0.1)
        opt.diagnosticsEnabled = true
        p.grad = [Float](repeating: 2, count: 12)
        try opt.step(gradScale: 4)
        let d = try #require(opt.diagnostics(for: p))
        #expect(d.projection == .unprojected && d.channelCosine.isNaN)
        #expect(d.gradientNorm == (12.0).squareRoot() * 0.5 && d.weightNorm == Self.norm((0..<12).map { Double($0) - 5 }))
    }
}
