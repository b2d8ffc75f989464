import Testing
import AdamPKit

/// The first use of the API, as a user writes it: it must compile and behave
/// as its comments say.
@Suite struct FirstUseTests {
    @Test func firstUseWorksAsWritten() throws {
        let initial = (0..<(16 * 8 * 3 * 3)).map { Float($0 % 7) - 3 }
        let gradient: [Float]? = initial.map { $0 * 0.01 + 0.001 }
        let w = try Parameter<Float>(shape: [16, 8, 3, 3], values: initial) // throws if counts differ
        let b = Parameter<Float>(shape: [16])                                 // zeros
        w.grad = gradient            // [Float]?; nil = no gradient: step() skips w
        let opt = try AdamP(parameters: [w, b], learningRate: 1e-3, betas: (0.9, 0.999),
                            eps: 1e-8, weightDecay: 0, delta: 0.1, wdRatio: 0.1, nesterov: false)
        try opt.step()
        let values: [Float] = w.values                     // [Float], after the step
        let state: [String: [Float]] = opt.state(for: w)   // "exp_avg", "exp_avg_sq"
        let count: Int = opt.stepCount(for: w)
        #expect(values != initial && values.count == initial.count)
        #expect(Set(state.keys) == ["exp_avg", "exp_avg_sq"] && state["exp_avg"]!.count == w.count)
        #expect(count == 1)
        #expect(b.values == [Float](repeating: 0, count: 16) && opt.stepCount(for: b) == 0) // no gradient: skipped
        let sgdp = try SGDP(parameters: [w, b], learningRate: 0.1, momentum: 0.9, dampening: 0,
                            weightDecay: 1e-4, nesterov: false, eps: 1e-8, delta: 0.1, wdRatio: 0.1)
        try sgdp.step()
        #expect(Array(sgdp.state(for: w).keys) == ["momentum"])
        #expect(throws: OptimizerError.self) { _ = try Parameter<Float>(shape: [16, 8, 3, 3], values: [1, 2]) }
        // Every label after `parameters:` has the official default (SGDP's learning rate has none).
        _ = try AdamP(parameters: [w])
        _ = try SGDP(parameters: [w], learningRate: 0.1)
        let d = try Parameter<Double>(shape: [2, 2], values: [1, 0, 0, 1])
        d.grad = [0.5, 0.5, 0.5, 0.5]
        try AdamP(parameters: [d]).step()
        #expect(d.values != [1, 0, 0, 1])
    }

    /// The baselines' calling shape, as issue 4 writes it.
    @Test func baselineSnippetsWorkAsWritten() throws {
        let ps = [try Parameter<Float>(shape: [4, 3], values: (0..<12).map { Float($0) / 10 }), Parameter<Float>(shape: [4])]
        for p in ps { p.grad = [Float](repeating: 0.5, count: p.count) }
        let adam = try Adam(parameters: ps, learningRate: 1e-3, betas: (0.9, 0.999), eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false)
        let sgd = try SGD(parameters: ps, learningRate: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, maximize: false)
        try adam.step()
        try sgd.step()
        // Adam's first step moves each element by lr (m / sqrt(v) = 1); SGD's buffer is the gradient.
        #expect(ps[1].values.allSatisfy { abs($0 - (-1e-3 - 0.05)) < 1e-6 })
        #expect(sgd.state(for: ps[0]) == ["momentum_buffer": [Float](repeating: 0.5, count: 12)])
        #expect(Set(adam.state(for: ps[0]).keys) == ["exp_avg", "exp_avg_sq"] && adam.stepCount(for: ps[0]) == 1)
    }
}

@Suite struct VersionTests {
    /// One version, written in adamp.h, reported by the C library and Swift alike.
    @Test func versionIsTheCLibrarys() {
        #expect(AdamPVersion.string == "\(AdamPVersion.major).\(AdamPVersion.minor).\(AdamPVersion.patch)")
        #expect(AdamPVersion.major >= 1)
    }
}

/// One source for each default and each group field (issue 9).
@Suite struct HyperparameterSourceTests {
    @Test func adamWHyperparametersHaveAdamWsDefaults() throws {
        #expect(AdamW<Float>.Hyperparameters().weightDecay == 1e-2)
        #expect(Adam<Float>.Hyperparameters().weightDecay == 0)
        let w = Parameter<Float>(shape: [2])
        #expect(try AdamW(parameters: [w]).hyperparameters() == AdamW<Float>.Hyperparameters())
        #expect(try Adam(parameters: [w]).hyperparameters() == Adam<Float>.Hyperparameters())
        #expect(try AdamP(parameters: [w]).hyperparameters() == AdamP<Float>.Hyperparameters())
        #expect(try SGD(parameters: [w]).hyperparameters() == SGD<Float>.Hyperparameters())
        #expect(try SGDP(parameters: [w], learningRate: 0.1).hyperparameters() == SGDP<Float>.Hyperparameters(learningRate: 0.1))
    }

    @Test func groupsSetReadAndResolveTheirFields() throws {
        let a = Parameter<Float>(shape: [2]), b = Parameter<Float>(shape: [3])
        var g = AdamP<Float>.Group(parameters: [b], learningRate: 0.5)
        #expect(g.learningRate == 0.5 && g.weightDecay == nil)
        g.weightDecay = 0.1
        g.betas = (0.8, 0.99)
        g.beta1 = 0.7 // set after betas: wins
        let opt = try AdamP(groups: [.init(parameters: [a]), g], learningRate: 0.01)
        let h0 = try opt.hyperparameters(group: 0), h1 = try opt.hyperparameters(group: 1)
        #expect(h0.learningRate == 0.01 && h0.weightDecay == 0)
        #expect(h1.learningRate == 0.5 && h1.weightDecay == 0.1 && h1.beta1 == 0.7 && h1.beta2 == 0.99)
        g.learningRate = nil
        #expect(g.learningRate == nil)
        let w = try AdamW(groups: [.init(parameters: [a], amsgrad: true)])
        #expect(try w.hyperparameters().weightDecay == 1e-2 && w.hyperparameters().amsgrad)
    }

    /// State names come from the C library's list.
    @Test func stateNamesAreTheCLibrarys() throws {
        let w = Parameter<Float>(shape: [2])
        w.grad = [1, 1]
        let cases: [(any Optimizer<Float>, Set<String>)] = [
            (try AdamP(parameters: [w]), ["exp_avg", "exp_avg_sq"]),
            (try SGDP(parameters: [w], learningRate: 0.1), ["momentum"]),
            (try Adam(parameters: [w], amsgrad: true), ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
            (try AdamW(parameters: [w]), ["exp_avg", "exp_avg_sq"]),
            (try SGD(parameters: [w], momentum: 0.9), ["momentum_buffer"]),
            (try SGD(parameters: [w]), []),
        ]
        for (opt, names) in cases {
            try opt.step()
            #expect(Set(opt.state(for: w).keys) == names)
        }
    }
}
