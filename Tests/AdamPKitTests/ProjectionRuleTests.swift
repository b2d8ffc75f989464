import Foundation
import Testing
import AdamPKit

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
