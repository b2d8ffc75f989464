internal import CAdamP

/// A learning-rate schedule, as `torch.optim.lr_scheduler` defines them:
/// construction sets the learning rates of epoch 0, and each `step()` (called
/// after the optimizer's step) those of the next epoch. Each group follows
/// the schedule from its own base rate: the optimizer's learning rate when
/// the first schedule was attached to it (PyTorch's `initial_lr`, kept by the
/// optimizer and saved in its checkpoints).
public protocol LRScheduler: AnyObject {
    /// The epoch whose rates were set last: 0 after construction.
    var lastEpoch: Int { get }
    /// The learning rate of each group set by the last step (or construction).
    var lastLearningRates: [Double] { get }
    /// Sets the learning rates of the next epoch.
    /// - Throws: `OptimizerError.invalidArgument` if the schedule has ended
    ///   (OneCycleLR past its total steps), changing nothing.
    func step() throws
}

/// The schedules of this package: a closed form of the epoch per group.
protocol ClosedFormSchedule: LRScheduler {
    var target: ScheduleTarget { get }
    var lastEpoch: Int { get set }
    var lastLearningRates: [Double] { get set }
    /// The learning rate of `group` at `epoch`.
    func learningRate(group: Int, epoch: Int) throws -> Double
    /// Other fields set with the rates (OneCycleLR's momentum), by group.
    func momentum(group: Int, epoch: Int) -> Double?
}

extension ClosedFormSchedule {
    public func step() throws { try jump(to: lastEpoch + 1) }

    func momentum(group: Int, epoch: Int) -> Double? { nil }

    /// Sets the rates of `epoch`, all or (on a throw) none.
    func jump(to epoch: Int) throws {
        let groups = target.groupCount
        let rates = try (0..<groups).map { try learningRate(group: $0, epoch: epoch) }
        let momenta = (0..<groups).map { momentum(group: $0, epoch: epoch) }
        try target.set(rates: rates, momenta: momenta)
        lastEpoch = epoch
        lastLearningRates = rates
    }
}

/// The optimizer a schedule drives, seen through what every optimizer has.
struct ScheduleTarget {
    let optimizer: any Optimizer
    /// Each group's base rate: PyTorch's `initial_lr`, set by the first
    /// schedule and kept by the optimizer (for optimizers of this package).
    let baseRates: [Double]

    var groupCount: Int { optimizer.groupCount }

    /// The target of a schedule on `optimizer`: each group's base rate is
    /// its `initial_lr`, or its rate if it has none (`overriding` replaces
    /// them, as OneCycleLR does). Nothing is changed until `attach()`.
    init(_ optimizer: any Optimizer, overriding: [Double]? = nil) throws {
        self.optimizer = optimizer
        let current = try (0..<optimizer.groupCount).map { try optimizer.learningRate(group: $0) }
        let kept = (optimizer as? any InitialLearningRates)?.initialLearningRates
        baseRates = current.indices.map { g in overriding?[g] ?? kept?[g] ?? current[g] }
    }

    /// Keeps the base rates as the optimizer's `initial_lr`: a schedule
    /// attaches once its first rates are set, so that one whose construction
    /// throws has changed nothing (it set an infinite initial_lr, which a
    /// checkpoint then held as invalid JSON).
    func attach() {
        (optimizer as? any InitialLearningRates)?.initialLearningRates = baseRates
    }

    /// Sets every group's rate (and momentum where given); if one is
    /// refused, those already set are put back and the error is rethrown.
    func set(rates: [Double], momenta: [Double?]) throws {
        let old = try (0..<groupCount).map { g in
            (try optimizer.learningRate(group: g), try momenta[g].map { _ in try momentumOf(group: g) })
        }
        do {
            for g in 0..<groupCount {
                try optimizer.setLearningRate(rates[g], group: g)
                if let m = momenta[g] { try setMomentum(m, group: g) }
            }
        } catch {
            for g in 0..<groupCount {
                try? optimizer.setLearningRate(old[g].0, group: g)
                if let m = old[g].1 { try? setMomentum(m, group: g) }
            }
            throw error
        }
    }

    /// Which field is the optimizer's momentum: β₁ if it has betas, else
    /// momentum (as OneCycleLR chooses), or nil for neither.
    var momentumField: adamp_field? { Self.momentumField(of: optimizer) }

    static func momentumField(of optimizer: any Optimizer) -> adamp_field? {
        (optimizer as? any HyperparameterAccess)?.momentumField
    }

    func momentumOf(group: Int) throws -> Double {
        try (optimizer as! any HyperparameterAccess).field(momentumField!, group: group)
    }

    func setMomentum(_ value: Double, group: Int) throws {
        try (optimizer as! any HyperparameterAccess).setField(momentumField!, value, group: group)
    }
}

/// The optimizers of this package keep each group's `initial_lr`.
protocol InitialLearningRates: AnyObject {
    var initialLearningRates: [Double?] { get set }
}

/// A hyperparameter of the optimizers of this package by its C field.
protocol HyperparameterAccess: AnyObject {
    var momentumField: adamp_field? { get }
    func field(_ f: adamp_field, group: Int) throws -> Double
    func setField(_ f: adamp_field, _ value: Double, group: Int) throws
}

extension CoreBacked {
    var initialLearningRates: [Double?] {
        get { core.initialLearningRates }
        set { core.initialLearningRates = newValue }
    }

    var momentumField: adamp_field? {
        let fields = Set(Hyperparameters.fields.map(\.field.rawValue))
        if fields.contains(ADAMP_FIELD_BETA1.rawValue) { return ADAMP_FIELD_BETA1 }
        return fields.contains(ADAMP_FIELD_MOMENTUM.rawValue) ? ADAMP_FIELD_MOMENTUM : nil
    }

    func field(_ f: adamp_field, group: Int) throws -> Double {
        try core.checkGroup(group)
        return core.groups[group].cValue[f]
    }

    func setField(_ f: adamp_field, _ value: Double, group: Int) throws {
        try core.checkGroup(group)
        var h = core.groups[group]
        guard let entry = Hyperparameters.fields.first(where: { $0.field == f }) else { return }
        entry.set(&h, value)
        try core.setHyperparameters(h, group: group)
    }
}

/// Checks of arguments (schedules', clipping's, a step's options), each
/// naming the argument.
enum ArgumentCheck {
    static func require(_ ok: Bool, _ name: String, _ value: Any, _ rule: String) throws {
        if !ok { throw OptimizerError.invalidArgument(name: name, value: "\(value)", rule: rule) }
    }

    static func finite(_ x: Double, _ name: String, atLeast low: Double = 0) throws {
        try require(x.isFinite && x >= low, name, x, "must be finite and >= \(low == 0 ? "0" : "\(low)")")
    }

    static func positive(_ x: Double, _ name: String) throws {
        try require(x.isFinite && x > 0, name, x, "must be finite and > 0")
    }
}
