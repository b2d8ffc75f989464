import Testing
import AdamPKit

/// Everything an optimizer holds, to show that a throwing call changed nothing.
func snapshot<O: Optimizer>(_ o: O) -> [[String: [O.Scalar]]] {
    o.parameters.map { p in
        var s = o.state(for: p)
        s["values"] = p.values
        s["step"] = [O.Scalar(o.stepCount(for: p))]
        return s
    }
}

func expectInvalid(_ name: String, _ value: Double, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected invalidHyperparameter \(name) = \(value)")
    } catch let OptimizerError.invalidHyperparameter(n, v, rule, _) {
        #expect(n == name)
        #expect(v == value || (v.isNaN && value.isNaN))
        #expect(!rule.isEmpty)
    } catch {
        Issue.record("unexpected error \(error)")
    }
}

@Suite struct BadInputTests {
    let w = Parameter<Float>(shape: [4, 2])

    @Test func adampRejectsInvalidHyperparameters() {
        expectInvalid("learningRate", -1) { _ = try AdamP(parameters: [w], learningRate: -1) }
        expectInvalid("learningRate", .infinity) { _ = try AdamP(parameters: [w], learningRate: .infinity) }
        expectInvalid("learningRate", .nan) { _ = try AdamP(parameters: [w], learningRate: .nan) }
        expectInvalid("betas.0", 1) { _ = try AdamP(parameters: [w], betas: (1, 0.999)) }
        expectInvalid("betas.0", -0.1) { _ = try AdamP(parameters: [w], betas: (-0.1, 0.999)) }
        expectInvalid("betas.1", 1.5) { _ = try AdamP(parameters: [w], betas: (0.9, 1.5)) }
        expectInvalid("eps", -1e-8) { _ = try AdamP(parameters: [w], eps: -1e-8) }
        expectInvalid("weightDecay", -0.1) { _ = try AdamP(parameters: [w], weightDecay: -0.1) }
        expectInvalid("delta", -0.1) { _ = try AdamP(parameters: [w], delta: -0.1) }
        expectInvalid("wdRatio", 1.5) { _ = try AdamP(parameters: [w], wdRatio: 1.5) }
        expectInvalid("wdRatio", -0.5) { _ = try AdamP(parameters: [w], wdRatio: -0.5) }
        expectInvalid("learningRate", -2) { _ = try AdamP(groups: [.init(parameters: [w], learningRate: -2)]) }
    }

    @Test func sgdpRejectsInvalidHyperparameters() {
        expectInvalid("learningRate", -0.1) { _ = try SGDP(parameters: [w], learningRate: -0.1) }
        expectInvalid("momentum", 1) { _ = try SGDP(parameters: [w], learningRate: 0.1, momentum: 1) }
        expectInvalid("momentum", -0.5) { _ = try SGDP(parameters: [w], learningRate: 0.1, momentum: -0.5) }
        expectInvalid("dampening", 1) { _ = try SGDP(parameters: [w], learningRate: 0.1, dampening: 1) }
        expectInvalid("weightDecay", -1) { _ = try SGDP(parameters: [w], learningRate: 0.1, weightDecay: -1) }
        expectInvalid("eps", -1) { _ = try SGDP(parameters: [w], learningRate: 0.1, eps: -1) }
        expectInvalid("delta", -1) { _ = try SGDP(parameters: [w], learningRate: 0.1, delta: -1) }
        expectInvalid("wdRatio", 2) { _ = try SGDP(parameters: [w], learningRate: 0.1, wdRatio: 2) }
    }

    @Test func errorMessagesNameFieldAndValue() {
        let e = OptimizerError.invalidHyperparameter(name: "momentum", value: 1, rule: "must be finite and in [0, 1)", group: nil)
        #expect(e.description.contains("momentum") && e.description.contains("1.0"))
    }

    /// A wrong gradient count anywhere fails the whole step before any write,
    /// including to parameters listed before the bad one; so does a bad
    /// learning rate or group. For all five optimizers (amsgrad for its buffer).
    static let makers: [@Sendable ([Parameter<Float>]) throws -> any Optimizer<Float>] = [
        { try AdamP(parameters: $0, learningRate: 0.1, weightDecay: 0.1) },
        { try SGDP(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.1) },
        { try Adam(parameters: $0, weightDecay: 0.1, amsgrad: true) }, { try AdamW(parameters: $0) },
        { try SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.1) },
    ]

    @Test(arguments: 0..<makers.count)
    func failedCallsChangeNothing(optimizer: Int) throws {
        let a = try Parameter<Float>(shape: [2, 2], values: [1, 2, 3, 4], name: "a")
        let b = try Parameter<Float>(shape: [3], values: [1, 2, 3], name: "b")
        let opt = try Self.makers[optimizer]([a, b])
        a.grad = [1, 1, 1, 1]
        b.grad = [1, 1, 1]
        try opt.step()
        let before = snapshot(opt)
        a.grad = [0.5, 0.5, 0.5, 0.5]
        b.grad = [1, 2]
        #expect(throws: OptimizerError.gradientCountMismatch(parameter: "b", expected: 3, actual: 2)) { try opt.step() }
        #expect(throws: OptimizerError.self) { try opt.setLearningRate(-1) }
        #expect(throws: OptimizerError.invalidGroup(1, groupCount: 1)) { try opt.setLearningRate(0.1, group: 1) }
        #expect(snapshot(opt) == before)
        #expect(b.grad == [1, 2]) // what was set reads back
        b.grad = [1, 2, 3]
        try opt.step()
        #expect(snapshot(opt) != before)
    }

    @Test func parameterRejectsWrongValueCountsAndShapes() throws {
        #expect(throws: OptimizerError.valueCountMismatch(shape: [2, 3], expected: 6, actual: 5)) {
            _ = try Parameter<Float>(shape: [2, 3], values: [1, 2, 3, 4, 5])
        }
        #expect(throws: OptimizerError.invalidShape([2, -3])) { _ = try Parameter<Float>(shape: [2, -3], values: []) }
        let p = try Parameter<Double>(shape: [2], values: [1, 2])
        #expect(throws: OptimizerError.valueCountMismatch(shape: [2], expected: 2, actual: 3)) { try p.setValues([1, 2, 3]) }
        #expect(p.values == [1, 2])
        let g: [Double] = [1]
        #expect(throws: OptimizerError.gradientCountMismatch(parameter: "parameter of shape [2]", expected: 2, actual: 1)) {
            try g.withUnsafeBufferPointer { try p.setGradient(borrowing: $0) }
        }
        #expect(p.grad == nil)
    }

    @Test func duplicateParametersAreRejected() {
        let p = Parameter<Float>(shape: [3], name: "p")
        #expect(throws: OptimizerError.duplicateParameter("p")) {
            _ = try AdamP(groups: [.init(parameters: [p]), .init(parameters: [p])])
        }
    }

    @Test func invalidLearningRateUpdateChangesNothing() throws {
        let opt = try AdamP(groups: [.init(parameters: [w]), .init(parameters: [Parameter<Float>(shape: [1])])],
                            learningRate: 0.01)
        #expect(throws: OptimizerError.self) { try opt.setLearningRate(-1) }
        #expect(try opt.learningRate(group: 0) == 0.01 && opt.learningRate(group: 1) == 0.01)
        #expect(throws: OptimizerError.invalidGroup(5, groupCount: 2)) { try opt.setLearningRate(0.1, group: 5) }
        var h = try opt.hyperparameters(group: 1)
        h.beta2 = 1
        #expect(throws: OptimizerError.self) { try opt.setHyperparameters(h, group: 1) }
        #expect(try opt.hyperparameters(group: 1).beta2 == 0.999)
    }
}
