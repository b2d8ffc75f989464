import Testing
import AdamPKit
import SeededRandom

/// Every optimizer configuration the tests run, in one table: how to make
/// it, the f64 reference that computes it, and the gradients that exercise
/// it. The variant, thread, and reference tests all run from it.
struct Spec: CustomStringConvertible, Sendable {
    enum Kind: Sendable { case adamp, sgdp, baseline(Baseline) }
    var kind: Kind
    var nesterov = false
    var weightDecay = 1e-2

    static func adamp(nesterov: Bool = false, weightDecay: Double = 1e-2) -> Spec {
        Spec(kind: .adamp, nesterov: nesterov, weightDecay: weightDecay)
    }

    static func sgdp(nesterov: Bool = false, weightDecay: Double = 1e-2) -> Spec {
        Spec(kind: .sgdp, nesterov: nesterov, weightDecay: weightDecay)
    }

    /// AdamP and SGDP, with and without nesterov.
    static let projecting: [Spec] = [.adamp(), .adamp(nesterov: true), .sgdp(), .sgdp(nesterov: true)]
    /// Adam, AdamW and SGD in configurations that reach every kernel branch.
    static let baselines: [Spec] = Baseline.all.map { Spec(kind: .baseline($0)) }
    static let all = projecting + baselines
    /// For the reference comparisons, AdamP and SGDP with three weight decays as well.
    static let references: [Spec] = [0.0, 1e-2, 0.3].flatMap { wd in
        [false, true].flatMap { n in [Spec.adamp(nesterov: n, weightDecay: wd), .sgdp(nesterov: n, weightDecay: wd)] }
    } + baselines

    var projects: Bool {
        if case .baseline = kind { return false }
        return true
    }

    var description: String {
        switch kind {
        case .adamp: "AdamP(nesterov: \(nesterov), wd: \(weightDecay))"
        case .sgdp: "SGDP(nesterov: \(nesterov), wd: \(weightDecay))"
        case let .baseline(b): b.description
        }
    }

    /// The official hyperparameters the tests give AdamP and SGDP.
    var hyper: ReferenceHyper {
        var h = ReferenceHyper()
        (h.nesterov, h.weightDecay) = (nesterov, weightDecay)
        if case .sgdp = kind { (h.lr, h.momentum, h.dampening) = (0.05, 0.9, 0.1) } else { h.lr = 1e-2 }
        return h
    }

    func make<T: AdamPScalar>(_ ps: [Parameter<T>]) throws -> any Optimizer<T> {
        let h = hyper
        switch kind {
        case .adamp:
            return try AdamP(parameters: ps, learningRate: h.lr, eps: h.eps, weightDecay: h.weightDecay, nesterov: nesterov)
        case .sgdp:
            return try SGDP(parameters: ps, learningRate: h.lr, momentum: h.momentum, dampening: h.dampening,
                            weightDecay: h.weightDecay, nesterov: nesterov)
        case let .baseline(b):
            return try b.make(ps)
        }
    }

    func reference(shape: [Int], values: [Double]) -> any ReferenceModel {
        switch kind {
        case .adamp, .sgdp: OfficialReference(t: ReferenceTensor(shape: shape, values: values), h: hyper, sgdp: !isAdamP)
        case let .baseline(b): TorchReference(t: TorchReferenceTensor(values: values), b: b)
        }
    }

    private var isAdamP: Bool {
        if case .adamp = kind { return true }
        return false
    }

    /// The gradient of parameter `i` at step `k`, nil where `skip`. AdamP and
    /// SGDP get gradients orthogonal to the weights per row, per layer, or
    /// neither, in turn (to reach both views); the baselines random ones.
    func gradient(_ i: Int, _ k: Int, p: [Double], shape: [Int], skip: Bool, rng: inout SplitMix) -> [Double]? {
        if skip { return nil }
        if projects { return makeGradient(GradientKind.allCases[(i + k) % 3], p: p, shape: shape, rng: &rng) }
        return p.map { _ in rng.normal() * 0.1 }
    }
}

/// A reference optimizer's view of one tensor.
protocol ReferenceModel {
    var p: [Double] { get }
    var step: Int { get }
    /// The fixture's projection code after the last step: -1 skipped (or no step yet).
    var projectionCode: Int { get }
    /// The state PyTorch would hold, by its names; empty before the first step.
    var state: [String: [Double]] { get }
    mutating func step(grad: [Double]?)
}

/// The official adamp 0.3.0 code (Reference.swift).
struct OfficialReference: ReferenceModel {
    var t: ReferenceTensor
    let h: ReferenceHyper
    let sgdp: Bool
    var p: [Double] { t.p }
    var step: Int { t.step }
    var projectionCode: Int { t.step == 0 ? -1 : t.projection }
    var state: [String: [Double]] {
        guard t.step > 0 else { return [:] }
        return sgdp ? ["momentum": t.m] : ["exp_avg": t.m, "exp_avg_sq": t.v]
    }

    mutating func step(grad: [Double]?) {
        if sgdp { Reference.sgdp(&t, grad: grad, h) } else { Reference.adamp(&t, grad: grad, h) }
    }
}

/// torch.optim (TorchReference.swift).
struct TorchReference: ReferenceModel {
    var t: TorchReferenceTensor
    let b: Baseline
    var skipped = false
    var p: [Double] { t.p }
    var step: Int { t.step }
    var projectionCode: Int { skipped || t.step == 0 ? -1 : 0 }
    var state: [String: [Double]] { b.state(t) }

    mutating func step(grad: [Double]?) {
        skipped = grad == nil
        b.step(&t, grad: grad)
    }
}

/// Runs the kernels and the spec's reference side by side for `steps` steps
/// over `referenceShapes` and returns the worst relative error over values
/// and state, checking projection codes, step counts and state names on the way.
func compareWithReference<T: AdamPScalar>(_: T.Type, _ spec: Spec, seed: UInt64, steps: Int = 6) throws -> Double {
    var rng = SplitMix(state: seed)
    var refs = referenceShapes.map { s in spec.reference(shape: s, values: (0..<s.reduce(1, *)).map { _ in rng.normal() * 0.5 }) }
    let params = try zip(referenceShapes, refs).map { try Parameter<T>(shape: $0, values: $1.p.map { T($0) }) }
    let opt = try spec.make(params)
    var worst = 0.0
    var seen = Set<Int>()
    for k in 0..<steps {
        for i in refs.indices {
            // Every fourth parameter misses odd steps; every fifth starts at
            // step 2 (so SGD's buffer starts from a later gradient).
            let skip = (i % 4 == 3 && k % 2 == 1) || (i % 5 == 4 && k < 2)
            let g = spec.gradient(i, k, p: refs[i].p, shape: referenceShapes[i], skip: skip, rng: &rng)
            params[i].grad = g.map { $0.map { T($0) } }
            // The reference sees the gradient as the kernels do, rounded to T.
            refs[i].step(grad: g.map { $0.map { Double(T($0)) } })
        }
        try opt.step()
        for (r, p) in zip(refs, params) {
            let at = "\(spec) shape \(p.shape) step \(k)"
            worst = max(worst, relativeError(p.values.map(Double.init), r.p))
            #expect(opt.projectionCode(for: p) == r.projectionCode, "\(at): projection")
            #expect(opt.stepCount(for: p) == r.step, "\(at): step count")
            seen.insert(r.projectionCode)
            let ours = opt.state(for: p), theirs = r.state
            #expect(Set(ours.keys) == Set(theirs.keys), "\(at): state \(ours.keys.sorted()) vs \(theirs.keys.sorted())")
            for (key, value) in theirs where ours[key] != nil {
                worst = max(worst, relativeError(ours[key]!.map(Double.init), value))
            }
        }
    }
    // The cases must reach every branch, or the comparison proves little.
    if spec.projects { #expect(seen.isSuperset(of: [-1, 0, 1, 2]), "\(spec): branches reached: \(seen.sorted())") }
    return worst
}

/// One run of the kernels under `options`: parameters built from `seed`,
/// stepped `steps` times; the variant and thread tests compare runs.
struct SpecRun<T: AdamPScalar> {
    var values: [[T]] = []
    var states: [[String: [T]]] = []
    var codes: [[Int]] = []

    init(_ spec: Spec, shapes: [[Int]], options: KernelOptions, seed: UInt64, steps: Int = 3) throws {
        var rng = SplitMix(state: seed)
        let initial = shapes.map { s in (0..<s.reduce(1, *)).map { _ in rng.normal() * 0.5 } }
        let params = try zip(shapes, initial).map { try Parameter<T>(shape: $0, values: $1.map { T($0) }) }
        let opt = try spec.make(params)
        try opt.setKernelOptions(options)
        codes = shapes.map { _ in [] }
        for k in 0..<steps {
            for (i, p) in params.enumerated() {
                let g = spec.gradient(i, k, p: p.values.map(Double.init), shape: p.shape, skip: i % 7 == 6 && k == 1, rng: &rng)
                p.grad = g.map { $0.map { T($0) } }
            }
            try opt.step()
            for (i, p) in params.enumerated() { codes[i].append(opt.projectionCode(for: p)) }
        }
        values = params.map(\.values)
        states = params.map { opt.state(for: $0) }
    }
}
