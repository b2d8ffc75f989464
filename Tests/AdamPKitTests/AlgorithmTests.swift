import Foundation
import Testing
import AdamPKit

/// Shapes that cover every path: scalars and vectors (never projected), one
/// row, one column, widths below and above any SIMD tile, 3-D to 5-D.
let referenceShapes: [[Int]] = [
    [], [1], [33], [5, 7], [1, 17], [17, 1], [3, 1, 1, 1], [6, 4, 3, 3], [4, 50], [2, 3, 4, 5, 2], [8, 129],
]

enum Algo: CaseIterable { case adamp, sgdp }

@Suite struct AlgorithmTests {
    /// Every spec against its literal f64 reference (the official code for
    /// AdamP and SGDP, torch.optim for the baselines).
    @Test(arguments: Spec.references)
    func doubleMatchesReference(spec: Spec) throws {
        // AdamP and SGDP already come in three weight decays (Spec.references).
        for seed: UInt64 in spec.projects ? [1] : [1, 2] {
            let e = try compareWithReference(Double.self, spec, seed: seed)
            #expect(e < (spec.projects ? 1e-10 : 1e-12), "\(spec): error \(e)")
        }
    }

    @Test(arguments: Spec.references)
    func floatTracksReference(spec: Spec) throws {
        let e = try compareWithReference(Float.self, spec, seed: 7)
        #expect(e < 2e-4, "\(spec): error \(e)")
    }

    /// torch 2.x clamps each norm to eps separately. Here |g| = 1e-9 < eps and
    /// |p| = 1e3, g parallel to p: torch's rule gives cos = 1e-6 / (1e-8 * 1e3)
    /// = 0.1 < 0.5 / sqrt(4), so the channel view fires and removes the whole
    /// update; the older max(|g||p|, eps) rule (or eps added to the product)
    /// gives cos ~ 1 and an unprojected step of about lr.
    @Test(arguments: Algo.allCases)
    func cosineUsesTorchEpsRule(algo: Algo) throws {
        let w = try Parameter<Double>(shape: [2, 4], values: [1000, 0, 0, 0, 0, 1000, 0, 0])
        w.grad = [1e-9, 0, 0, 0, 0, 1e-9, 0, 0]
        let opt: any Optimizer<Double> = algo == .adamp
            ? try AdamP(parameters: [w], learningRate: 0.1, delta: 0.5)
            : try SGDP(parameters: [w], learningRate: 1e6, delta: 0.5)
        try opt.step()
        #expect(opt.lastProjection(for: w) == .channel)
        #expect(abs(w.values[0] - 1000) < 1e-6 && abs(w.values[5] - 1000) < 1e-6, "\(w.values)")
    }

    /// A view passes only when every row is below the threshold: one row
    /// aligned with its weights keeps the channel view from firing.
    @Test func oneAlignedRowBlocksTheChannelView() throws {
        let w = try Parameter<Double>(shape: [2, 2], values: [1, 0, 0, 1])
        w.grad = [0, 1, 0, 1] // row 0 orthogonal, row 1 parallel
        let opt = try AdamP(parameters: [w])
        try opt.step()
        #expect(opt.lastProjection(for: w) != .channel)
    }

    @Test func parameterWithoutGradientIsSkipped() throws {
        let a = try Parameter<Float>(shape: [3, 2], values: [1, 2, 3, 4, 5, 6])
        let b = try Parameter<Float>(shape: [2], values: [1, 2])
        let opt = try AdamP(parameters: [a, b], learningRate: 0.1, weightDecay: 0.5)
        b.grad = [1, 1]
        try opt.step()
        #expect(a.values == [1, 2, 3, 4, 5, 6])
        #expect(opt.state(for: a).isEmpty && opt.stepCount(for: a) == 0)
        #expect(opt.stepCount(for: b) == 1 && b.values != [1, 2])
        a.grad = [1, 0, 0, 1, 1, 0]
        b.grad = nil
        let bState = opt.state(for: b), bValues = b.values
        try opt.step()
        #expect(opt.stepCount(for: a) == 1 && opt.stepCount(for: b) == 1)
        #expect(opt.state(for: b) == bState && b.values == bValues)
        #expect(opt.lastProjection(for: b) == .skipped)
    }

    /// SGDP divides its weight decay by 1 - momentum; with g = 0 and a vector
    /// (never projected) the step is exactly that decay.
    @Test func sgdpWeightDecayIsDividedByOneMinusMomentum() throws {
        let w = try Parameter<Double>(shape: [2], values: [2, -4])
        w.grad = [0, 0]
        let opt = try SGDP(parameters: [w], learningRate: 0.1, momentum: 0.5, weightDecay: 0.2)
        try opt.step()
        let decay = 1 - 0.1 * 0.2 / (1 - 0.5)
        #expect(w.values == [2 * decay, -4 * decay])
    }

    @Test func defaultsAreTheOfficialOnes() throws {
        let w = Parameter<Float>(shape: [4])
        let h = try AdamP(parameters: [w]).hyperparameters()
        #expect(h.learningRate == 1e-3 && h.beta1 == 0.9 && h.beta2 == 0.999 && h.eps == 1e-8)
        #expect(h.weightDecay == 0 && h.delta == 0.1 && h.wdRatio == 0.1 && !h.nesterov)
        let s = try SGDP(parameters: [w], learningRate: 0.1).hyperparameters()
        #expect(s.momentum == 0 && s.dampening == 0 && s.weightDecay == 0 && !s.nesterov)
        #expect(s.eps == 1e-8 && s.delta == 0.1 && s.wdRatio == 0.1)
    }

    /// Groups carry their own hyperparameters: the same data in two groups with
    /// different learning rates moves by different amounts, each as a
    /// single-group optimizer with that rate would move it.
    @Test func parameterGroupsUseTheirOwnHyperparameters() throws {
        func fresh() throws -> Parameter<Double> {
            let p = try Parameter<Double>(shape: [3], values: [1, 2, 3])
            p.grad = [0.5, -0.5, 0.25]
            return p
        }
        let a = try fresh(), b = try fresh(), solo = try fresh()
        let opt = try AdamP(groups: [.init(parameters: [a]), .init(parameters: [b], learningRate: 0.5, weightDecay: 0.1)],
                            learningRate: 0.01)
        try AdamP(parameters: [solo], learningRate: 0.5, weightDecay: 0.1).step()
        try opt.step()
        #expect(try opt.learningRate(group: 0) == 0.01 && opt.learningRate(group: 1) == 0.5)
        #expect(b.values == solo.values)
        #expect(a.values != b.values)
        try opt.setLearningRate(0.2)
        #expect(try opt.learningRate(group: 1) == 0.2)
    }

    /// Every parameter's state is its own, though a group's buffers share
    /// one allocation (OptimizerCore's arenas): parameters of awkward sizes
    /// in two groups, one switching amsgrad on midway (a buffer made for
    /// the group later), end exactly as each does alone.
    @Test func everyParameterHasItsOwnState() throws {
        let sizes = [1, 15, 16, 17, 33, 2]
        func fresh() throws -> [Parameter<Float>] {
            try sizes.enumerated().map { i, n in
                let p = try Parameter<Float>(shape: [n], values: (0..<n).map { Float($0 + i) / 7 })
                p.grad = (0..<n).map { Float(($0 * 5 + i) % 11) / 3 - 1.5 }
                return p
            }
        }
        let together = try fresh()
        let opt = try Adam(groups: [.init(parameters: Array(together[..<3])),
                                    .init(parameters: Array(together[3...]), learningRate: 0.05)], learningRate: 0.01)
        let alone = try fresh()
        let solos = try alone.enumerated().map { i, p in try Adam(parameters: [p], learningRate: i < 3 ? 0.01 : 0.05) }
        for step in 0..<4 {
            if step == 2 {
                var h = try opt.hyperparameters(group: 1)
                h.amsgrad = true
                try opt.setHyperparameters(h, group: 1)
                for s in solos[3...] {
                    var hs = try s.hyperparameters()
                    hs.amsgrad = true
                    try s.setHyperparameters(hs, group: 0)
                }
            }
            try opt.step()
            for s in solos { try s.step() }
        }
        for i in sizes.indices {
            #expect(together[i].values == alone[i].values)
            #expect(opt.state(for: together[i]) == solos[i].state(for: alone[i]))
        }
        #expect(opt.state(for: together[4])["max_exp_avg_sq"] != nil && opt.state(for: together[0])["max_exp_avg_sq"] == nil)
    }

    /// Zero-copy: the optimizer updates memory the caller owns, and reads a
    /// gradient from memory the caller owns.
    @Test func borrowedMemoryIsUpdatedInPlace() throws {
        var values: [Float] = [1, 2, 3, 4]
        let grad: [Float] = [1, 1, 1, 1]
        try values.withUnsafeMutableBufferPointer { vb in
            try grad.withUnsafeBufferPointer { gb in
                let p = try Parameter<Float>(shape: [4], borrowing: vb)
                try p.setGradient(borrowing: gb)
                try SGDP(parameters: [p], learningRate: 0.5).step()
            }
        }
        #expect(values == [0.5, 1.5, 2.5, 3.5])
    }

    @Test func zeroGradRemovesOrZeroesGradients() throws {
        let p = Parameter<Float>(shape: [2])
        p.grad = [1, 2]
        let opt = try AdamP(parameters: [p])
        opt.zeroGrad()
        #expect(p.grad == nil)
        opt.zeroGrad(setToNone: false)
        #expect(p.grad == [0, 0])
    }

    @Test func emptyParameterCountsStepsAndChangesNothing() throws {
        let e = Parameter<Float>(shape: [0, 3])
        let w = try Parameter<Float>(shape: [2], values: [1, 2])
        e.grad = []
        w.grad = [1, 1]
        let opt = try AdamP(parameters: [e, w])
        try opt.step()
        #expect(opt.stepCount(for: e) == 1 && e.values.isEmpty && w.values != [1, 2])
    }
}

/// `lastProjection(for:) == .none` once compiled as a comparison with
/// Optional.none; no case may be named so, and a switch over the documented
/// cases is exhaustive.
@Suite struct ProjectionNamingTests {
    @Test func noCaseIsConfusedWithOptionalNone() throws {
        let b = try Parameter<Float>(shape: [2], values: [1, 2])
        let opt = try AdamP(parameters: [b])
        #expect(opt.lastProjection(for: b) == nil)
        b.grad = [1, 1]
        try opt.step()
        #expect(opt.lastProjection(for: b) == .unprojected)
        #expect(opt.lastProjection(for: b) != nil)
        #expect(!Projection.allCases.map { "\($0)" }.contains("none"))
        let names = Projection.allCases.map { p -> String in
            switch p {
            case .skipped: "skipped"
            case .unprojected: "unprojected"
            case .channel: "channel"
            case .layer: "layer"
            }
        }
        #expect(names == ["skipped", "unprojected", "channel", "layer"])
    }
}
