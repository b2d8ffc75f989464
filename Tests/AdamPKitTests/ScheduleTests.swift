import Foundation
import Testing
@testable import AdamPKit

/// The schedules against the values torch.optim.lr_scheduler gives
/// (ScheduleTables.swift, made by Tests/Schedules/make_tables.py): two groups
/// with their own base rates, every epoch, and OneCycleLR's momentum.
@Suite struct ScheduleTests {
    static func sgd() throws -> SGD<Float> {
        try SGD(groups: [SGD<Float>.Group(parameters: [Parameter(shape: [1])], learningRate: 0.1),
                         SGD<Float>.Group(parameters: [Parameter(shape: [1])], learningRate: 0.03)], momentum: 0.9)
    }

    static func adam() throws -> Adam<Float> {
        try Adam(groups: [Adam<Float>.Group(parameters: [Parameter(shape: [1])], learningRate: 0.1),
                          Adam<Float>.Group(parameters: [Parameter(shape: [1])], learningRate: 0.03)])
    }

    static var cases: [(String, (any Optimizer) throws -> any LRScheduler, Bool)] { [
        ("stepLR", { try StepLR(optimizer: $0, stepSize: 3, gamma: 0.5) }, false),
        ("exponentialLR", { try ExponentialLR(optimizer: $0, gamma: 0.9) }, false),
        ("linearLR", { try LinearLR(optimizer: $0, startFactor: 0.25, endFactor: 1, totalIters: 4) }, false),
        ("cosineAnnealingLR", { try CosineAnnealingLR(optimizer: $0, tMax: 10, etaMin: 0.001) }, false),
        ("oneCycleCos", { try OneCycleLR(optimizer: $0, maxLR: 0.5, totalSteps: 20) }, true),
        ("oneCycleLinear", { try OneCycleLR(optimizer: $0, maxLR: [0.5, 0.2], totalSteps: 15, pctStart: 0.4,
                                            annealStrategy: .linear, divFactor: 10, finalDivFactor: 100) }, false),
        ("oneCycleThreePhase", { try OneCycleLR(optimizer: $0, maxLR: 0.4, totalSteps: 16, threePhase: true) }, false),
        ("warmupCosine", { o in
            try SequentialLR(optimizer: o, schedulers: [LinearLR(optimizer: o, startFactor: 0.1, totalIters: 3),
                                                        CosineAnnealingLR(optimizer: o, tMax: 8)], milestones: [3]) }, false),
        ("threeStages", { o in
            try SequentialLR(optimizer: o, schedulers: [ExponentialLR(optimizer: o, gamma: 0.8),
                                                        StepLR(optimizer: o, stepSize: 2, gamma: 0.5),
                                                        LinearLR(optimizer: o, startFactor: 0.5, totalIters: 2)],
                             milestones: [2, 7]) }, false),
    ] }

    /// PyTorch steps most schedules recursively (lr ← lr · γ, ...); these
    /// are its closed forms, equal up to the recursion's rounding.
    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 * abs(b) + 1e-15 }

    @Test(arguments: Array(cases.indices))
    func matchesPyTorch(_ i: Int) throws {
        let (name, make, usesAdam) = Self.cases[i]
        let table = try #require(torchScheduleTables[name])
        let opt: any Optimizer = usesAdam ? try Self.adam() : try Self.sgd()
        let s = try make(opt)
        for (epoch, torchRates) in table.lr.enumerated() {
            // OneCycleLR's linear strategy extrapolates below 0 at its last
            // step; the optimizers here take no negative rate: 0 there.
            let expected = torchRates.map { max(0, $0) }
            if epoch > 0 { try s.step() }
            #expect(s.lastEpoch == epoch)
            let rates = try (0..<2).map { try opt.learningRate(group: $0) }
            #expect(zip(rates, expected).allSatisfy(Self.close), "\(name) epoch \(epoch): \(rates) vs \(expected)")
            #expect(zip(s.lastLearningRates, expected).allSatisfy(Self.close), "\(name) epoch \(epoch): lastLearningRates")
            let momenta = try (0..<2).map { g -> Double in
                if let a = opt as? Adam<Float> { return try a.hyperparameters(group: g).beta1 }
                return try (opt as! SGD<Float>).hyperparameters(group: g).momentum
            }
            #expect(zip(momenta, table.momentum[epoch]).allSatisfy(Self.close), "\(name) epoch \(epoch): momentum \(momenta)")
        }
    }

    /// The closed forms as PyTorch's documentation states them, at epochs
    /// the tables do not reach.
    @Test func closedForms() throws {
        let opt = try Self.sgd()
        let c = try CosineAnnealingLR(optimizer: opt, tMax: 1000, etaMin: 1e-4)
        for _ in 0..<777 { try c.step() }
        let expected = 1e-4 + (0.1 - 1e-4) * (1 + cos(Double.pi * 777 / 1000)) / 2
        #expect(try opt.learningRate(group: 0) == expected)
        let e = try ExponentialLR(optimizer: Self.sgd(), gamma: 0.99)
        for _ in 0..<500 { try e.step() }
        #expect(e.lastLearningRates[1] == 0.03 * pow(0.99, 500))
    }

    /// A second schedule on the same optimizer starts from the base rates the
    /// first one found (PyTorch's initial_lr), which checkpoints keep.
    @Test func baseRatesAreKeptAndSaved() throws {
        let opt = try Self.sgd()
        _ = try LinearLR(optimizer: opt, startFactor: 0.5, totalIters: 2)
        #expect(try opt.learningRate(group: 0) == 0.05)
        let cos = try CosineAnnealingLR(optimizer: opt, tMax: 4)
        #expect(cos.lastLearningRates == [0.1, 0.03])
        try cos.step()
        let other = try Self.sgd()
        try other.load(stateDict: opt.stateDict())
        #expect(try other.learningRate(group: 0) == cos.lastLearningRates[0])
        let resumed = try CosineAnnealingLR(optimizer: other, tMax: 4)
        #expect(resumed.lastLearningRates == [0.1, 0.03], "base rates from the checkpoint, not the current rates")
        let groups = try JSONSerialization.jsonObject(with: Data(opt.stateDict().metadata["param_groups"]!.utf8)) as! [[String: Any]]
        #expect(groups.map { $0["initial_lr"] as? Double } == [0.1, 0.03])
    }

    /// Arguments PyTorch rejects (and some it lets through to a division by
    /// zero) throw, naming the argument, and change nothing.
    @Test func badArgumentsChangeNothing() throws {
        let opt = try Self.sgd()
        let attempts: [(String, () throws -> Any)] = [
            ("stepSize", { try StepLR(optimizer: opt, stepSize: 0) }),
            ("gamma", { try StepLR(optimizer: opt, stepSize: 2, gamma: .nan) }),
            ("gamma", { try ExponentialLR(optimizer: opt, gamma: -0.5) }),
            ("startFactor", { try LinearLR(optimizer: opt, startFactor: 0) }),
            ("endFactor", { try LinearLR(optimizer: opt, endFactor: 1.5) }),
            ("totalIters", { try LinearLR(optimizer: opt, totalIters: 0) }),
            ("tMax", { try CosineAnnealingLR(optimizer: opt, tMax: 0) }),
            ("etaMin", { try CosineAnnealingLR(optimizer: opt, tMax: 3, etaMin: .infinity) }),
            ("maxLR", { try OneCycleLR(optimizer: opt, maxLR: -1, totalSteps: 10) }),
            ("maxLR", { try OneCycleLR(optimizer: opt, maxLR: [0.1], totalSteps: 10) }),
            ("totalSteps", { try OneCycleLR(optimizer: opt, maxLR: 1, totalSteps: 0) }),
            ("pctStart", { try OneCycleLR(optimizer: opt, maxLR: 1, totalSteps: 10, pctStart: 1) }),
            ("pctStart", { try OneCycleLR(optimizer: opt, maxLR: 1, totalSteps: 10, pctStart: 0) }),
            ("divFactor", { try OneCycleLR(optimizer: opt, maxLR: 1, totalSteps: 10, divFactor: 0) }),
            ("baseMomentum", { try OneCycleLR(optimizer: opt, maxLR: 1, totalSteps: 10, baseMomentum: 1) }),
            ("milestones", { try SequentialLR(optimizer: opt, schedulers: [], milestones: []) }),
        ]
        for (name, attempt) in attempts {
            #expect(throws: OptimizerError.self, "\(name)") {
                do { _ = try attempt() } catch let e as OptimizerError {
                    if case let .invalidArgument(got, _, _) = e { #expect(got == name || name == "milestones", "\(e)") }
                    throw e
                }
            }
            #expect(try opt.learningRate(group: 0) == 0.1 && opt.learningRate(group: 1) == 0.03, "\(name) changed the rates")
        }
        // Milestones that do not fit the schedulers.
        let other = try Self.sgd()
        let a = try LinearLR(optimizer: opt, totalIters: 2), b = try StepLR(optimizer: opt, stepSize: 2)
        let foreign = try StepLR(optimizer: other, stepSize: 2)
        for (schedulers, milestones, name) in [([a, b] as [any LRScheduler], [Int](), "milestones"), ([a, b], [3, 4], "milestones"),
                                               ([a, b, a], [4, 2], "milestones"), ([a, b], [-1], "milestones"),
                                               ([a, foreign], [2], "schedulers[1]")] {
            #expect {
                try SequentialLR(optimizer: opt, schedulers: schedulers, milestones: milestones)
            } throws: { e in
                guard case let OptimizerError.invalidArgument(got, _, _) = e else { return false }
                return got == name
            }
        }
        // Stepping a OneCycleLR past its end.
        let one = try OneCycleLR(optimizer: opt, maxLR: 1, totalSteps: 3)
        for _ in 0..<3 { try one.step() }
        let rates = one.lastLearningRates, momentum = try opt.hyperparameters(group: 0).momentum
        #expect(throws: OptimizerError.self) { try one.step() }
        #expect(one.lastEpoch == 3 && one.lastLearningRates == rates)
        #expect(try opt.learningRate(group: 0) == rates[0] && opt.hyperparameters(group: 0).momentum == momentum)
        // cycleMomentum needs an optimizer with one: AdamP has betas, so it works.
        let adamp = try AdamP(parameters: [Parameter<Float>(shape: [2])])
        _ = try OneCycleLR(optimizer: adamp, maxLR: 0.01, totalSteps: 10)
        #expect(try adamp.hyperparameters().beta1 == 0.95)
    }
}
