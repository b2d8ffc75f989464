import Foundation

/// The learning rate times `gamma` every `stepSize` epochs, as PyTorch's
/// `StepLR`: `lr = base · γ^⌊epoch / stepSize⌋`.
public final class StepLR: ClosedFormSchedule {
    let target: ScheduleTarget
    public let stepSize: Int
    public let gamma: Double
    public internal(set) var lastEpoch = 0
    public internal(set) var lastLearningRates: [Double] = []

    /// - Parameters:
    ///   - optimizer: The optimizer whose learning rates this sets (now, to epoch 0's).
    ///   - stepSize: Epochs between decays, > 0.
    ///   - gamma: The factor, finite and >= 0 (default 0.1).
    /// - Throws: `OptimizerError.invalidArgument` naming the argument; nothing is changed.
    public init(optimizer: any Optimizer, stepSize: Int, gamma: Double = 0.1) throws {
        try ArgumentCheck.require(stepSize > 0, "stepSize", stepSize, "must be > 0")
        try ArgumentCheck.finite(gamma, "gamma")
        (self.stepSize, self.gamma) = (stepSize, gamma)
        target = try ScheduleTarget(optimizer)
        try jump(to: 0)
        target.attach()
    }

    func learningRate(group: Int, epoch: Int) -> Double {
        target.baseRates[group] * pow(gamma, Double(epoch / stepSize))
    }
}

/// The learning rate times `gamma` every epoch, as PyTorch's `ExponentialLR`:
/// `lr = base · γ^epoch`.
public final class ExponentialLR: ClosedFormSchedule {
    let target: ScheduleTarget
    public let gamma: Double
    public internal(set) var lastEpoch = 0
    public internal(set) var lastLearningRates: [Double] = []

    /// - Parameters:
    ///   - optimizer: The optimizer whose learning rates this sets.
    ///   - gamma: The factor per epoch, finite and >= 0.
    /// - Throws: `OptimizerError.invalidArgument` naming the argument; nothing is changed.
    public init(optimizer: any Optimizer, gamma: Double) throws {
        try ArgumentCheck.finite(gamma, "gamma")
        self.gamma = gamma
        target = try ScheduleTarget(optimizer)
        try jump(to: 0)
        target.attach()
    }

    func learningRate(group: Int, epoch: Int) -> Double { target.baseRates[group] * pow(gamma, Double(epoch)) }
}

/// A linear ramp of the factor from `startFactor` to `endFactor` over
/// `totalIters` epochs, then constant, as PyTorch's `LinearLR` (the usual
/// warm-up): `lr = base · (s + (e − s) · min(epoch, T) / T)`.
public final class LinearLR: ClosedFormSchedule {
    let target: ScheduleTarget
    public let startFactor: Double, endFactor: Double
    public let totalIters: Int
    public internal(set) var lastEpoch = 0
    public internal(set) var lastLearningRates: [Double] = []

    /// - Parameters:
    ///   - optimizer: The optimizer whose learning rates this sets.
    ///   - startFactor: In (0, 1] (default 1/3).
    ///   - endFactor: In [0, 1] (default 1).
    ///   - totalIters: Epochs of the ramp, > 0 (default 5).
    /// - Throws: `OptimizerError.invalidArgument` naming the argument; nothing is changed.
    public init(optimizer: any Optimizer, startFactor: Double = 1.0 / 3, endFactor: Double = 1, totalIters: Int = 5) throws {
        try ArgumentCheck.require(startFactor > 0 && startFactor <= 1, "startFactor", startFactor, "must be in (0, 1]")
        try ArgumentCheck.require(endFactor >= 0 && endFactor <= 1, "endFactor", endFactor, "must be in [0, 1]")
        try ArgumentCheck.require(totalIters > 0, "totalIters", totalIters, "must be > 0")
        (self.startFactor, self.endFactor, self.totalIters) = (startFactor, endFactor, totalIters)
        target = try ScheduleTarget(optimizer)
        try jump(to: 0)
        target.attach()
    }

    func learningRate(group: Int, epoch: Int) -> Double {
        target.baseRates[group]
            * (startFactor + (endFactor - startFactor) * Double(min(totalIters, epoch)) / Double(totalIters))
    }
}

/// Half a cosine from the base rate down to `etaMin` over `tMax` epochs, as
/// PyTorch's `CosineAnnealingLR` (its closed form; past `tMax` the cosine
/// goes on, rising again, as PyTorch's does):
/// `lr = η_min + (base − η_min) · (1 + cos(π · epoch / T_max)) / 2`.
public final class CosineAnnealingLR: ClosedFormSchedule {
    let target: ScheduleTarget
    public let tMax: Int
    public let etaMin: Double
    public internal(set) var lastEpoch = 0
    public internal(set) var lastLearningRates: [Double] = []

    /// - Parameters:
    ///   - optimizer: The optimizer whose learning rates this sets.
    ///   - tMax: Epochs of the half cosine, > 0.
    ///   - etaMin: The lowest rate, finite and >= 0 (default 0).
    /// - Throws: `OptimizerError.invalidArgument` naming the argument; nothing is changed.
    public init(optimizer: any Optimizer, tMax: Int, etaMin: Double = 0) throws {
        try ArgumentCheck.require(tMax > 0, "tMax", tMax, "must be > 0")
        try ArgumentCheck.finite(etaMin, "etaMin")
        (self.tMax, self.etaMin) = (tMax, etaMin)
        target = try ScheduleTarget(optimizer)
        try jump(to: 0)
        target.attach()
    }

    func learningRate(group: Int, epoch: Int) -> Double {
        etaMin + (target.baseRates[group] - etaMin) * (1 + cos(Double.pi * Double(epoch) / Double(tMax))) / 2
    }
}

/// The 1cycle policy (Smith & Topin, 2017), as PyTorch's `OneCycleLR`: the
/// rate rises from `maxLR / divFactor` to `maxLR` over the first `pctStart`
/// of `totalSteps`, then falls to `maxLR / divFactor / finalDivFactor`;
/// momentum (β₁, or SGD's momentum) moves the other way between
/// `maxMomentum` and `baseMomentum`. Step it after every batch.
public final class OneCycleLR: ClosedFormSchedule {
    /// How the rate moves within a phase.
    public enum AnnealStrategy: String, Sendable { case cos, linear }

    let target: ScheduleTarget
    public let maxLR: [Double]
    public let totalSteps: Int
    public let pctStart: Double
    public let annealStrategy: AnnealStrategy
    public let divFactor: Double, finalDivFactor: Double
    public let cycleMomentum: Bool
    public let baseMomentum: Double, maxMomentum: Double
    public let threePhase: Bool
    public internal(set) var lastEpoch = 0
    public internal(set) var lastLearningRates: [Double] = []

    /// - Parameters:
    ///   - optimizer: The optimizer whose learning rates (and momentum) this sets.
    ///   - maxLR: The peak rate, finite and > 0: one for all groups, or one per group.
    ///   - totalSteps: The steps of the cycle, > 0; stepping past it throws.
    ///   - pctStart: The rising part of the cycle, in (0, 1) (default 0.3).
    ///   - annealStrategy: `.cos` (default) or `.linear`.
    ///   - divFactor: The start rate is `maxLR / divFactor`, > 0 (default 25).
    ///   - finalDivFactor: The final rate is the start rate over this, > 0 (default 1e4).
    ///   - cycleMomentum: Move momentum against the rate (default true, as
    ///     PyTorch); needs an optimizer with β₁ or momentum.
    ///   - baseMomentum: The least momentum (or β₁), in [0, 1) (default 0.85).
    ///   - maxMomentum: The most, in [0, 1) (default 0.95).
    ///   - threePhase: PyTorch's three-phase variant (default false).
    /// - Throws: `OptimizerError.invalidArgument` naming the argument; nothing is changed.
    public init(optimizer: any Optimizer, maxLR: [Double], totalSteps: Int, pctStart: Double = 0.3,
                annealStrategy: AnnealStrategy = .cos, divFactor: Double = 25, finalDivFactor: Double = 1e4,
                cycleMomentum: Bool = true, baseMomentum: Double = 0.85, maxMomentum: Double = 0.95,
                threePhase: Bool = false) throws {
        try ArgumentCheck.require(maxLR.count == optimizer.groupCount, "maxLR", maxLR,
                                  "must have one rate per parameter group (\(optimizer.groupCount))")
        for x in maxLR { try ArgumentCheck.positive(x, "maxLR") }
        try ArgumentCheck.require(totalSteps > 0, "totalSteps", totalSteps, "must be > 0")
        try ArgumentCheck.require(pctStart > 0 && pctStart < 1, "pctStart", pctStart, "must be in (0, 1)")
        try ArgumentCheck.positive(divFactor, "divFactor")
        try ArgumentCheck.positive(finalDivFactor, "finalDivFactor")
        for x in maxLR {
            try ArgumentCheck.require((x / divFactor).isFinite, "divFactor", divFactor,
                                      "must leave maxLR / divFactor finite (maxLR \(x))")
        }
        // PyTorch divides by the first phase's length at step 0.
        try ArgumentCheck.require(pctStart * Double(totalSteps) - 1 != 0, "pctStart", pctStart,
                                  "times totalSteps (\(totalSteps)) is 1, which leaves the first phase no steps")
        try ArgumentCheck.require(baseMomentum >= 0 && baseMomentum < 1, "baseMomentum", baseMomentum, "must be in [0, 1)")
        try ArgumentCheck.require(maxMomentum >= 0 && maxMomentum < 1, "maxMomentum", maxMomentum, "must be in [0, 1)")
        (self.maxLR, self.totalSteps, self.pctStart, self.annealStrategy) = (maxLR, totalSteps, pctStart, annealStrategy)
        (self.divFactor, self.finalDivFactor, self.cycleMomentum) = (divFactor, finalDivFactor, cycleMomentum)
        (self.baseMomentum, self.maxMomentum, self.threePhase) = (baseMomentum, maxMomentum, threePhase)
        try ArgumentCheck.require(!cycleMomentum || ScheduleTarget.momentumField(of: optimizer) != nil, "cycleMomentum", cycleMomentum,
                                  "needs an optimizer with betas or momentum")
        target = try ScheduleTarget(optimizer, overriding: maxLR.map { $0 / divFactor })
        try jump(to: 0)
        target.attach()
    }

    /// OneCycleLR with one peak rate for every group.
    public convenience init(optimizer: any Optimizer, maxLR: Double, totalSteps: Int, pctStart: Double = 0.3,
                            annealStrategy: AnnealStrategy = .cos, divFactor: Double = 25, finalDivFactor: Double = 1e4,
                            cycleMomentum: Bool = true, baseMomentum: Double = 0.85, maxMomentum: Double = 0.95,
                            threePhase: Bool = false) throws {
        try self.init(optimizer: optimizer, maxLR: Array(repeating: maxLR, count: optimizer.groupCount),
                      totalSteps: totalSteps, pctStart: pctStart, annealStrategy: annealStrategy, divFactor: divFactor,
                      finalDivFactor: finalDivFactor, cycleMomentum: cycleMomentum, baseMomentum: baseMomentum,
                      maxMomentum: maxMomentum, threePhase: threePhase)
    }

    /// PyTorch's phases: (last step, start and end rate, start and end momentum).
    private func phases(_ g: Int) -> [(end: Double, lr: (Double, Double), m: (Double, Double))] {
        let initial = target.baseRates[g], peak = maxLR[g], low = initial / finalDivFactor
        let n = Double(totalSteps)
        if threePhase {
            return [(pctStart * n - 1, (initial, peak), (maxMomentum, baseMomentum)),
                    (2 * pctStart * n - 2, (peak, initial), (baseMomentum, maxMomentum)),
                    (n - 1, (initial, low), (maxMomentum, maxMomentum))]
        }
        return [(pctStart * n - 1, (initial, peak), (maxMomentum, baseMomentum)),
                (n - 1, (peak, low), (baseMomentum, maxMomentum))]
    }

    private func anneal(_ from: (Double, Double), _ pct: Double) -> Double {
        switch annealStrategy {
        case .cos: return from.1 + (from.0 - from.1) / 2 * (cos(Double.pi * pct) + 1)
        case .linear: return (from.1 - from.0) * pct + from.0
        }
    }

    /// The phase of `epoch` and how far into it. A last phase of no steps
    /// (three phases, `2 · pctStart · totalSteps = totalSteps + 1`), where
    /// PyTorch divides by zero at its last step, is at its end.
    private func position(_ g: Int, _ epoch: Int) -> (phase: Int, pct: Double) {
        let ps = phases(g)
        var start = 0.0
        for (i, p) in ps.enumerated() {
            if Double(epoch) <= p.end || i == ps.count - 1 {
                return (i, p.end == start ? 1 : (Double(epoch) - start) / (p.end - start))
            }
            start = p.end
        }
        return (ps.count - 1, 1)
    }

    /// PyTorch's rate at every step of the cycle, 0 to `totalSteps`. Past
    /// step `totalSteps - 1` it extrapolates the last phase, which with
    /// `.linear` goes below 0 at step `totalSteps`; the optimizers here take
    /// no negative rate, so there it is 0.
    func learningRate(group: Int, epoch: Int) throws -> Double {
        try ArgumentCheck.require(epoch <= totalSteps, "step", epoch,
                                  "the schedule has \(totalSteps) total steps; it cannot step further")
        let (i, pct) = position(group, epoch)
        return max(0, anneal(phases(group)[i].lr, pct))
    }

    /// PyTorch's momentum, likewise kept below 1 where it extrapolates past it.
    func momentum(group: Int, epoch: Int) -> Double? {
        guard cycleMomentum else { return nil }
        let (i, pct) = position(group, epoch)
        return min(max(0, anneal(phases(group)[i].m, pct)), Double(1).nextDown)
    }
}

/// Schedules one after another, as PyTorch's `SequentialLR`: `schedulers[i]`
/// runs from `milestones[i − 1]` (restarting at its own epoch 0) to
/// `milestones[i]`. Linear warm-up then cosine:
///
///     let warm = try LinearLR(optimizer: opt, startFactor: 0.01, totalIters: 500)
///     let cos = try CosineAnnealingLR(optimizer: opt, tMax: 9_500)
///     let sched = try SequentialLR(optimizer: opt, schedulers: [warm, cos], milestones: [500])
public final class SequentialLR: LRScheduler {
    public let milestones: [Int]
    private let schedulers: [any ClosedFormSchedule]
    public private(set) var lastEpoch = 0
    public private(set) var lastLearningRates: [Double] = []

    /// - Parameters:
    ///   - optimizer: The optimizer all the schedulers drive.
    ///   - schedulers: At least one, all schedules of this package on `optimizer`.
    ///   - milestones: One fewer than the schedulers, increasing, >= 0.
    /// - Throws: `OptimizerError.invalidArgument` naming the argument; nothing is changed.
    public init(optimizer: any Optimizer, schedulers: [any LRScheduler], milestones: [Int]) throws {
        try ArgumentCheck.require(!schedulers.isEmpty, "schedulers", schedulers.count, "must hold at least one scheduler")
        let own = schedulers.compactMap { $0 as? any ClosedFormSchedule }
        try ArgumentCheck.require(own.count == schedulers.count, "schedulers", schedulers.count,
                                  "must be schedules of this package")
        for (i, s) in own.enumerated() {
            try ArgumentCheck.require(s.target.optimizer === optimizer, "schedulers[\(i)]", type(of: s),
                                      "must drive the same optimizer")
        }
        try ArgumentCheck.require(milestones.count == schedulers.count - 1, "milestones", milestones,
                                  "must hold one fewer value than schedulers (\(schedulers.count))")
        try ArgumentCheck.require(zip(milestones, milestones.dropFirst()).allSatisfy { $0 < $1 } && milestones.allSatisfy { $0 >= 0 },
                                  "milestones", milestones, "must be increasing and >= 0")
        self.milestones = milestones
        self.schedulers = own
        try start(of: 0)
    }

    private func index(_ epoch: Int) -> Int { milestones.filter { $0 <= epoch }.count }

    /// Restarts the schedule of `epoch` at its own epoch 0.
    private func start(of epoch: Int) throws {
        let s = schedulers[index(epoch)]
        try s.jump(to: 0)
        lastLearningRates = s.lastLearningRates
    }

    public func step() throws {
        let next = lastEpoch + 1, i = index(next)
        if i > 0 && milestones[i - 1] == next {
            try start(of: next)
        } else {
            try schedulers[i].step()
            lastLearningRates = schedulers[i].lastLearningRates
        }
        lastEpoch = next
    }
}
