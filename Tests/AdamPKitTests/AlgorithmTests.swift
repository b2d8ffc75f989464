import Foundation
import Testing
import AdamPKit

/// Shapes that cover every path: scalars and vectors (never projected), one
/// row, one column, widths below and above any SIMD tile, 3-D to 5-D.
let referenceShapes: [[Int]] = [
    [], [1], [33], [5, 7], [1, 17], [17, 1], [3, 1, 1, 1], [6, 4, 3, 3], [4, 50], [2, 3, 4, 5, 2], [8, 129],
]

enum Algo: CaseIterable { case adamp, sgdp }

/// Runs the kernels and the literal reference side by side for `steps` steps
/// and returns the worst relative error over values and state, checking the
/// projection decisions on the way.
func compareWithReference<T: AdamPScalar>(_: T.Type, algo: Algo, nesterov: Bool, weightDecay: Double,
                                          seed: UInt64, steps: Int = 6) throws -> Double {
    var rng = SplitMix(state: seed)
    var h = ReferenceHyper()
    h.nesterov = nesterov
    h.weightDecay = weightDecay
    if algo == .sgdp { (h.lr, h.momentum, h.dampening) = (0.05, 0.9, 0.1) } else { h.lr = 1e-2 }
    var refs = referenceShapes.map { shape in
        ReferenceTensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in rng.normal() * 0.5 })
    }
    let params = try refs.map { try Parameter<T>(shape: $0.shape, values: $0.p.map { T($0) }) }
    let opt: any Optimizer<T> = algo == .adamp
        ? try AdamP(parameters: params, learningRate: h.lr, eps: h.eps, weightDecay: h.weightDecay, nesterov: nesterov)
        : try SGDP(parameters: params, learningRate: h.lr, momentum: h.momentum, dampening: h.dampening,
                   weightDecay: h.weightDecay, nesterov: nesterov)
    var worst = 0.0
    var seen = Set<Int>()
    for k in 0..<steps {
        for i in refs.indices {
            let kind = GradientKind.allCases[(i + k) % 3]
            // Every fourth parameter misses its gradient on odd steps.
            let g: [Double]? = (i % 4 == 3 && k % 2 == 1) ? nil
                : makeGradient(kind, p: refs[i].p, shape: refs[i].shape, rng: &rng)
            params[i].grad = g.map { $0.map { T($0) } }
            // The reference sees the gradient as the kernels do, rounded to T.
            let gT = g.map { $0.map { Double(T($0)) } }
            if algo == .adamp { Reference.adamp(&refs[i], grad: gT, h) } else { Reference.sgdp(&refs[i], grad: gT, h) }
        }
        try opt.step()
        for (r, p) in zip(refs, params) {
            worst = max(worst, relativeError(p.values.map(Double.init), r.p))
            #expect(opt.projectionCode(for: p) == (r.step == 0 ? -1 : r.projection), "shape \(r.shape) step \(k)")
            #expect(opt.stepCount(for: p) == r.step)
            seen.insert(r.projection)
            let st = opt.state(for: p)
            if r.step > 0 {
                let key = algo == .adamp ? "exp_avg" : "momentum"
                worst = max(worst, relativeError(st[key]!.map(Double.init), r.m))
                if algo == .adamp { worst = max(worst, relativeError(st["exp_avg_sq"]!.map(Double.init), r.v)) }
            } else {
                #expect(st.isEmpty)
            }
        }
    }
    // The cases must reach every branch, or the comparison proves little.
    #expect(seen.isSuperset(of: [-1, 0, 1, 2]), "branches reached: \(seen.sorted())")
    return worst
}

@Suite struct AlgorithmTests {
    @Test(arguments: Algo.allCases, [false, true])
    func doubleMatchesLiteralReference(algo: Algo, nesterov: Bool) throws {
        for (seed, wd) in [(UInt64(1), 0.0), (2, 1e-2), (3, 0.3)] {
            let e = try compareWithReference(Double.self, algo: algo, nesterov: nesterov, weightDecay: wd, seed: seed)
            #expect(e < 1e-10, "\(algo) nesterov=\(nesterov) wd=\(wd): error \(e)")
        }
    }

    @Test(arguments: Algo.allCases, [false, true])
    func floatTracksLiteralReference(algo: Algo, nesterov: Bool) throws {
        let e = try compareWithReference(Float.self, algo: algo, nesterov: nesterov, weightDecay: 1e-2, seed: 7)
        #expect(e < 2e-4, "\(algo) nesterov=\(nesterov): error \(e)")
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
