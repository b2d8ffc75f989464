import Testing
import AdamPKit

/// Runs a baseline's kernels and the literal torch.optim transcription side by
/// side and returns the worst relative error over values and state.
func compareWithTorchReference<T: AdamPScalar>(_: T.Type, _ b: Baseline, seed: UInt64, steps: Int = 6) throws -> Double {
    var rng = SplitMix(state: seed)
    var refs = referenceShapes.map { s in TorchReferenceTensor(values: (0..<s.reduce(1, *)).map { _ in rng.normal() * 0.5 }) }
    let params = try zip(referenceShapes, refs).map { try Parameter<T>(shape: $0, values: $1.p.map { T($0) }) }
    let opt = try b.make(params)
    var worst = 0.0
    for k in 0..<steps {
        var skipped: [Bool] = []
        for i in refs.indices {
            // Every fourth parameter misses odd steps; every fifth starts at step 2
            // (so SGD's buffer starts from a later gradient).
            let skip = (i % 4 == 3 && k % 2 == 1) || (i % 5 == 4 && k < 2)
            let g = skip ? nil : refs[i].p.map { _ in rng.normal() * 0.1 }
            skipped.append(skip)
            params[i].grad = g.map { $0.map { T($0) } }
            b.step(&refs[i], grad: g.map { $0.map { Double(T($0)) } })
        }
        try opt.step()
        for (i, (r, p)) in zip(refs, params).enumerated() {
            worst = max(worst, relativeError(p.values.map(Double.init), r.p))
            #expect(opt.stepCount(for: p) == r.step)
            #expect(opt.projectionCode(for: p) == (skipped[i] ? -1 : 0))
            let ours = opt.state(for: p), theirs = b.state(r)
            #expect(Set(ours.keys) == Set(theirs.keys), "\(b): state \(ours.keys.sorted()) vs \(theirs.keys.sorted())")
            for (key, value) in theirs where ours[key] != nil {
                worst = max(worst, relativeError(ours[key]!.map(Double.init), value))
            }
        }
    }
    return worst
}

/// The baselines' runs, as VariantRun does for AdamP and SGDP.
func baselineRun<T: AdamPScalar>(_: T.Type, _ b: Baseline, shapes: [[Int]], options: KernelOptions,
                                 seed: UInt64) throws -> (values: [[T]], states: [[String: [T]]]) {
    var rng = SplitMix(state: seed)
    let params = try shapes.map { s in try Parameter<T>(shape: s, values: (0..<s.reduce(1, *)).map { _ in T(rng.normal() * 0.5) }) }
    let opt = try b.make(params)
    try opt.setKernelOptions(options)
    for k in 0..<3 {
        for (i, p) in params.enumerated() {
            p.grad = (i % 7 == 6 && k == 1) ? nil : p.values.map { _ in T(rng.normal() * 0.1) }
        }
        try opt.step()
    }
    return (params.map(\.values), params.map { opt.state(for: $0) })
}

@Suite struct BaselineTests {
    @Test(arguments: Baseline.all)
    func doubleMatchesTorchReference(baseline: Baseline) throws {
        for seed: UInt64 in [1, 2] {
            let e = try compareWithTorchReference(Double.self, baseline, seed: seed)
            #expect(e < 1e-12, "\(baseline): error \(e)")
        }
    }

    @Test(arguments: Baseline.all)
    func floatTracksTorchReference(baseline: Baseline) throws {
        let e = try compareWithTorchReference(Float.self, baseline, seed: 3)
        #expect(e < 2e-4, "\(baseline): error \(e)")
    }

    /// The baselines are element-wise: every variant gives the scalar
    /// reference's bits, on every length around the tiles.
    @Test(arguments: fastISAs, Baseline.all)
    func variantsMatchScalarBitwise(isa: KernelISA, baseline: Baseline) throws {
        let shapes = variantShapes.filter { $0.count <= 2 }
        for type in [Float.self, Double.self] as [any AdamPScalar.Type] {
            func check<T: AdamPScalar>(_ t: T.Type) throws {
                let ref = try baselineRun(t, baseline, shapes: shapes, options: KernelOptions(isa: .scalar), seed: 4)
                let fast = try baselineRun(t, baseline, shapes: shapes, options: KernelOptions(isa: isa), seed: 4)
                for i in shapes.indices {
                    #expect(fast.values[i] == ref.values[i], "\(isa) \(baseline) \(T.self) \(shapes[i]): values")
                    #expect(fast.states[i] == ref.states[i], "\(isa) \(baseline) \(T.self) \(shapes[i]): state")
                }
            }
            try check(type)
        }
    }

    @Test(arguments: Baseline.all)
    func resultsDoNotDependOnThreads(baseline: Baseline) throws {
        let shapes = [[256, 1152], [300_000], [3, 40_000], [1000], [7]]
        let ref = try baselineRun(Float.self, baseline, shapes: shapes, options: KernelOptions(threads: 1), seed: 9)
        for threads in [2, 3, 8] {
            let run = try baselineRun(Float.self, baseline, shapes: shapes, options: KernelOptions(threads: threads), seed: 9)
            #expect(run.values == ref.values && run.states == ref.states, "\(baseline) threads \(threads)")
        }
    }

    @Test func defaultsAreTorchs() throws {
        let w = Parameter<Float>(shape: [3])
        let adam = try Adam(parameters: [w]).hyperparameters()
        #expect(adam.learningRate == 1e-3 && adam.betas == (0.9, 0.999) && adam.eps == 1e-8)
        #expect(adam.weightDecay == 0 && !adam.amsgrad && !adam.maximize)
        #expect(try AdamW(parameters: [w]).hyperparameters().weightDecay == 1e-2)
        let sgd = try SGD(parameters: [w]).hyperparameters()
        #expect(sgd.learningRate == 1e-3 && sgd.momentum == 0 && sgd.dampening == 0 && sgd.weightDecay == 0)
        #expect(!sgd.nesterov && !sgd.maximize)
    }

    /// State appears as torch creates it: none for SGD without momentum, and
    /// max_exp_avg_sq once amsgrad is on (switching it on later adds a zero buffer).
    @Test func stateFollowsHyperparameters() throws {
        let w = try Parameter<Float>(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let sgd = try SGD(parameters: [w], learningRate: 0.1)
        w.grad = [1, 1, 1, 1, 1, 1]
        try sgd.step()
        #expect(sgd.state(for: w).isEmpty && sgd.stepCount(for: w) == 1 && w.values == [0.9, 1.9, 2.9, 3.9, 4.9, 5.9])
        let adam = try Adam(parameters: [w])
        try adam.step()
        #expect(Set(adam.state(for: w).keys) == ["exp_avg", "exp_avg_sq"])
        var h = try adam.hyperparameters()
        h.amsgrad = true
        try adam.setHyperparameters(h, group: 0)
        #expect(adam.state(for: w)["max_exp_avg_sq"] == [0, 0, 0, 0, 0, 0])
        let v = adam.state(for: w)["exp_avg_sq"]!
        try adam.step()
        #expect(adam.state(for: w)["max_exp_avg_sq"]! == adam.state(for: w)["exp_avg_sq"]!)
        #expect(adam.state(for: w)["exp_avg_sq"]! != v && adam.stepCount(for: w) == 2)
    }

    @Test func adamFamilyRejectsInvalidHyperparameters() {
        let w = Parameter<Float>(shape: [4, 2])
        expectInvalid("learningRate", -1) { _ = try Adam(parameters: [w], learningRate: -1) }
        expectInvalid("eps", -1) { _ = try Adam(parameters: [w], eps: -1) }
        expectInvalid("betas.0", 1) { _ = try Adam(parameters: [w], betas: (1, 0.999)) }
        expectInvalid("betas.1", -0.5) { _ = try AdamW(parameters: [w], betas: (0.9, -0.5)) }
        expectInvalid("weightDecay", -1e-2) { _ = try AdamW(parameters: [w], weightDecay: -1e-2) }
        expectInvalid("learningRate", .nan) { _ = try AdamW(groups: [.init(parameters: [w], learningRate: .nan)]) }
    }

    @Test func sgdRejectsInvalidHyperparameters() {
        let w = Parameter<Float>(shape: [4, 2])
        expectInvalid("learningRate", -0.1) { _ = try SGD(parameters: [w], learningRate: -0.1) }
        expectInvalid("momentum", -0.5) { _ = try SGD(parameters: [w], momentum: -0.5) }
        expectInvalid("dampening", .infinity) { _ = try SGD(parameters: [w], momentum: 0.9, dampening: .infinity) }
        expectInvalid("weightDecay", -1) { _ = try SGD(parameters: [w], weightDecay: -1) }
        // torch: "Nesterov momentum requires a momentum and zero dampening".
        expectInvalid("nesterov", 1) { _ = try SGD(parameters: [w], nesterov: true) }
        expectInvalid("nesterov", 1) { _ = try SGD(parameters: [w], momentum: 0.9, dampening: 0.1, nesterov: true) }
        // torch accepts momentum >= 1 and any dampening; so do we.
        #expect(throws: Never.self) { _ = try SGD(parameters: [w], momentum: 1.5, dampening: -1) }
    }

    /// User code written against the protocol takes any of the five.
    @Test func optimizersSwapByOneLine() throws {
        func train(_ make: ([Parameter<Double>]) throws -> any Optimizer<Double>) throws -> Double {
            let w = try Parameter<Double>(shape: [2, 2], values: [1, -2, 3, 0.5])
            let opt = try make([w])
            func loss() -> Double { w.values.reduce(0) { $0 + $1 * $1 } }
            let start = loss()
            for _ in 0..<50 {
                w.grad = w.values.map { 2 * $0 } // d/dw |w|^2
                try opt.step()
                opt.zeroGrad()
            }
            return loss() / start
        }
        #expect(try train { try Adam(parameters: $0, learningRate: 0.05) } < 0.5)
        #expect(try train { try AdamW(parameters: $0, learningRate: 0.05) } < 0.5)
        #expect(try train { try SGD(parameters: $0, learningRate: 0.05, momentum: 0.9) } < 0.5)
        #expect(try train { try AdamP(parameters: $0, learningRate: 0.05) } < 0.5)
        #expect(try train { try SGDP(parameters: $0, learningRate: 0.05, momentum: 0.9) } < 0.5)
    }
}

@Suite struct BaselineRoundingTests {
    /// Every kernel gives, bit for bit, the op-by-op rounding of PyTorch's
    /// kernels: for 3 steps of Float and Double, on lengths around the tiles.
    @Test(arguments: Baseline.all)
    func kernelsRoundAsTorch(baseline: Baseline) throws {
        func check<T: AdamPScalar>(_: T.Type) throws {
            var rng = SplitMix(state: 21)
            let n = 77
            let w = try Parameter<T>(shape: [n], values: (0..<n).map { _ in T(rng.normal()) })
            var p = w.values, m = [T](repeating: 0, count: n), v = m, vmax = m
            var buf = [T?](repeating: nil, count: n)
            for isa in KernelISA.allCases where isa != .auto && isa.isSupported {
                let q = try Parameter<T>(shape: [n], values: w.values)
                let opt = try baseline.make([q])
                try opt.setKernelOptions(KernelOptions(isa: isa))
                var rng2 = rng
                for step in 1...3 {
                    let g = (0..<n).map { _ in T(rng2.normal() * 0.1) }
                    q.grad = g
                    try opt.step()
                    if isa == .scalar {
                        for i in 0..<n {
                            baseline.roundedStep(p: &p[i], g: g[i], m: &m[i], v: &v[i], vmax: &vmax[i], buf: &buf[i], step: step)
                        }
                    }
                }
                let st = opt.state(for: q), at = "\(baseline) \(T.self) [\(isa)]"
                let differing = zip(q.values, p).filter { $0 != $1 }.count
                #expect(differing == 0, "\(at): \(differing) of \(n) values differ")
                let same = baseline.kind == .sgd
                    ? st["momentum_buffer"] == (baseline.momentum != 0 ? buf.map { $0! } : nil)
                    : st["exp_avg"] == m && st["exp_avg_sq"] == v && st["max_exp_avg_sq"] == (baseline.amsgrad ? vmax : nil)
                #expect(same, "\(at): state differs")
            }
        }
        try check(Float.self)
        try check(Double.self)
    }
}
