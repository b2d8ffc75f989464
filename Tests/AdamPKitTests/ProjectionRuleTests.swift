import Foundation
import Testing
import AdamPKit
import SeededRandom

/// Per-group rules: the projection rule, and the usual split into groups.
@Suite struct ProjectionRuleTests {
    static func weights(_ grad: GradientKind, seed: UInt64 = 9) throws -> Parameter<Double> {
        var rng = SplitMix(state: seed)
        let shape = [6, 4, 3, 3]
        let p = try Parameter<Double>(shape: shape, values: (0..<216).map { _ in rng.normal() })
        p.grad = makeGradient(grad, p: p.values, shape: shape, rng: &rng)
        return p
    }

    /// `.never` leaves a scale-invariant weight unprojected; `.channel` and
    /// `.layer` project whatever the test says: the update then has no
    /// component along each row (channel) or the whole weight (layer).
    @Test(arguments: ["adamp", "sgdp"])
    func rulesOverrideTheTest(optimizer: String) throws {
        func run(_ rule: ProjectionRule, _ grad: GradientKind) throws -> (Projection?, [Double], [Double]) {
            let p = try Self.weights(grad)
            let before = p.values
            let opt: any Optimizer<Double> = optimizer == "adamp"
                ? try AdamP(groups: [AdamP.Group(parameters: [p], projection: rule)], learningRate: 0.01)
                : try SGDP(groups: [SGDP.Group(parameters: [p], projection: rule)], learningRate: 0.1, momentum: 0.9)
            try opt.step()
            return (opt.lastProjection(for: p), before, p.values)
        }
        #expect(try run(.auto, .channel).0 == .channel)
        #expect(try run(.never, .channel).0 == .unprojected)
        #expect(try run(.auto, .random).0 == .unprojected)
        for (rule, rows) in [(ProjectionRule.channel, 6), (.layer, 1)] {
            let (decision, before, after) = try run(rule, .random)
            #expect(decision == (rule == .channel ? .channel : .layer))
            // Without weight decay, after - before is the update: orthogonal to w per row.
            let w = before.count / rows
            for r in 0..<rows {
                let b = Array(before[r * w..<(r + 1) * w]), d = zip(after[r * w..<(r + 1) * w], b).map { $0 - $1 }
                let dot = zip(b, d).reduce(0) { $0 + $1.0 * $1.1 }
                let scale = b.reduce(0) { $0 + $1 * $1 }.squareRoot() * d.reduce(0) { $0 + $1 * $1 }.squareRoot()
                #expect(abs(dot) <= 1e-9 * scale, "\(optimizer) \(rule) row \(r): radial part \(dot / scale)")
            }
        }
        // The same forced view as the test's choice gives the same bits.
        let auto = try run(.auto, .channel), forced = try run(.channel, .channel)
        #expect(auto.2 == forced.2)
    }

    /// A weight of more than 16,384 elements whose rule decides is stepped in
    /// one sweep, its statistics taken in its update (step.c): it takes the
    /// same bits as the paper's test gives when the test agrees (gradients
    /// made orthogonal to each row of the weights as they are before each
    /// step, and `.channel`; random ones and `.never`), over three steps,
    /// with the same diagnostics. Float and Double, nesterov or not, 1 and 2
    /// threads.
    @Test(arguments: ["adamp", "sgdp"], [false, true])
    func aRuleTakesTheTestsBits(optimizer: String, nesterov: Bool) throws {
        func run<S: AdamPScalar>(_: S.Type, _ rule: ProjectionRule, _ grad: GradientKind, threads: Int)
            throws -> ([S], Projection?, Diagnostics?) {
            var rng = SplitMix(state: 21)
            let shape = [64, 32, 3, 3] // 18,432 elements, rows of 288
            let p = try Parameter<S>(shape: shape, values: (0..<18432).map { _ in S(rng.normal()) })
            let opt: any Optimizer<S> = optimizer == "adamp"
                ? try AdamP(groups: [AdamP.Group(parameters: [p], projection: rule)], learningRate: 0.01,
                            weightDecay: 0.1, nesterov: nesterov)
                : try SGDP(groups: [SGDP.Group(parameters: [p], projection: rule)], learningRate: 0.1, momentum: 0.9,
                           weightDecay: 1e-4, nesterov: nesterov)
            try opt.setKernelOptions(KernelOptions(threads: threads))
            opt.diagnosticsEnabled = true
            for _ in 0..<3 {
                let values = p.values.map { Double($0) }
                p.grad = makeGradient(grad, p: values, shape: p.shape, rng: &rng).map { S($0) }
                try opt.step()
            }
            return (p.values, opt.lastProjection(for: p), opt.diagnostics(for: p))
        }
        for threads in [1, 2] {
            for (rule, grad, decision) in [(ProjectionRule.channel, GradientKind.channel, Projection.channel),
                                           (.never, .random, .unprojected)] {
                let f = (try run(Float.self, .auto, grad, threads: threads), try run(Float.self, rule, grad, threads: threads))
                #expect(f.0.1 == decision && f.1.1 == decision)
                let same = f.0.0 == f.1.0
                #expect(same, "\(optimizer) Float \(rule): the rule's step differs from the test's")
                #expect(f.0.2?.weightNorm == f.1.2?.weightNorm && f.0.2?.channelCosine == f.1.2?.channelCosine)
                let d = (try run(Double.self, .auto, grad, threads: threads), try run(Double.self, rule, grad, threads: threads))
                let sameD = d.0.0 == d.1.0
                #expect(d.0.1 == decision && sameD, "\(optimizer) Double \(rule): the rule's step differs")
                #expect(d.0.2?.gradientNorm == d.1.2?.gradientNorm && d.0.2?.layerCosine == d.1.2?.layerCosine)
            }
        }
    }

    /// The rule is a hyperparameter like the others: in checkpoints
    /// (`"projection"`: 0 auto, 1 never, 2 channel, 3 layer), and checked.
    @Test func ruleIsSavedAndChecked() throws {
        let p = try Self.weights(.random)
        let opt = try SGDP(groups: [SGDP.Group(parameters: [p], projection: .layer)], learningRate: 0.1)
        let sd = opt.stateDict()
        #expect(sd.metadata["param_groups"]!.contains("\"projection\":3"))
        let other = try SGDP(parameters: [Parameter<Double>(shape: [6, 4, 3, 3])], learningRate: 0.1)
        try other.load(stateDict: sd)
        #expect(try other.hyperparameters().projection == .layer)
        var bad = sd
        bad.metadata["param_groups"] = sd.metadata["param_groups"]!.replacingOccurrences(of: "\"projection\":3", with: "\"projection\":7")
        #expect(throws: OptimizerError.self) { try other.load(stateDict: bad) }
        #expect(try other.hyperparameters().projection == .layer)
    }

    /// The usual groups: weights, and 1-D parameters or names matching a
    /// pattern, with no weight decay and no projection.
    @Test func splitting() throws {
        let conv = Parameter<Float>(shape: [8, 3, 3, 3], name: "conv.weight")
        let bn = Parameter<Float>(shape: [8], name: "bn.weight"), bias = Parameter<Float>(shape: [8], name: "conv.bias")
        let fc = Parameter<Float>(shape: [10, 8], name: "fc.weight"), fcb = Parameter<Float>(shape: [10, 1], name: "fc.bias")
        let emb = Parameter<Float>(shape: [100, 8], name: "embed.tokens")
        let all = [conv, bn, bias, fc, fcb, emb]
        let groups = try AdamP.groups(splitting: all, noDecayPatterns: ParameterSplit.defaultNoDecayPatterns + ["^embed\\."])
        #expect(groups.count == 2)
        #expect(groups[0].parameters.map(\.name) == ["conv.weight", "fc.weight"])
        #expect(groups[1].parameters.map(\.name) == ["bn.weight", "conv.bias", "fc.bias", "embed.tokens"])
        #expect(groups[0].weightDecay == nil && groups[1].weightDecay == 0 && groups[1].projection == .never)
        let opt = try AdamP(groups: groups, learningRate: 1e-3, weightDecay: 0.05)
        #expect(try opt.hyperparameters(group: 0).weightDecay == 0.05 && opt.hyperparameters(group: 1).weightDecay == 0)
        #expect(try opt.hyperparameters(group: 1).projection == .never && opt.hyperparameters(group: 0).projection == .auto)
        let sgd = try SGD.groups(splitting: all)
        #expect(sgd[1].weightDecay == 0 && sgd[1].parameters.count == 3)
        #expect(throws: OptimizerError.self) { _ = try AdamW<Float>.groups(splitting: all, noDecayPatterns: ["(unclosed"]) }
    }
}
