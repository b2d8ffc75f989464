import Testing
import AdamPKit
import FixtureSupport
import SeededRandom

@Suite struct BaselineTests {
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
            for isa in testedISAs {
                let q = try Parameter<T>(shape: [n], values: w.values)
                let opt = try baseline.make([q])
                try opt.setKernelOptions(KernelOptions(isa: isa))
                var rng2 = rng
                for step in 1...3 {
                    let g = (0..<n).map { _ in T(rng2.normal() * 0.1) }
                    q.grad = g
                    try opt.step()
                    if isa == testedISAs.first { // the rounded reference, once
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
