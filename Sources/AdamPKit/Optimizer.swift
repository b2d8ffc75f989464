import Foundation

/// What every optimizer of this package does, so that user code can swap one
/// for another by changing the line that creates it.
///
/// An optimizer and its parameters belong to one thread (or task) at a time:
/// `step()` is not safe to call concurrently on one optimizer, or on two that
/// share a `Parameter`. Neither type is `Sendable`, so Swift 6 rejects code
/// that would share them across isolation domains. A parameter may belong to
/// several optimizers; each `step()` then updates it.
///
/// Non-finite gradients are not checked: a NaN or infinite gradient element
/// makes that element's value and state NaN or infinite from then on (as in
/// PyTorch), and in AdamP and SGDP it fails the scale-invariance test, so its
/// tensor is not projected in that step.
public protocol Optimizer<Scalar>: AnyObject {
    associatedtype Scalar: AdamPScalar
    /// One parameter group's hyperparameters (e.g. `AdamP<Float>.Hyperparameters`).
    associatedtype Hyperparameters
    /// All parameters, in group order.
    var parameters: [Parameter<Scalar>] { get }
    /// The number of parameter groups.
    var groupCount: Int { get }
    /// Updates every parameter that has a gradient. Throws, changing nothing
    /// (no value, state or step count), if a gradient's count differs from
    /// its parameter's. Call it from one thread at a time (see above).
    func step() throws
    /// Updates every parameter that has a gradient, unscaling, clipping or
    /// guarding the gradients first as `options` says (see `StepOptions`).
    /// Throws, changing nothing, for an option out of range or as `step()`.
    @discardableResult
    func step(_ options: StepOptions) throws -> StepResult<Scalar>
    /// Removes every parameter's gradient (or zero-fills it).
    func zeroGrad(setToNone: Bool)
    /// The named state buffers of `parameter`; empty before its first step.
    func state(for parameter: Parameter<Scalar>) -> [String: [Scalar]]
    /// How many steps `parameter` has taken with a gradient.
    func stepCount(for parameter: Parameter<Scalar>) -> Int
    /// The learning rate of a group.
    func learningRate(group: Int) throws -> Double
    /// Sets the learning rate of one group, or of all when `group` is nil
    /// (for schedules). Throws, changing nothing, if it is invalid.
    func setLearningRate(_ learningRate: Double, group: Int?) throws
    /// What the projection did to `parameter` in its last step: `.unprojected` for
    /// optimizers without one, nil before the parameter's first step.
    func lastProjection(for parameter: Parameter<Scalar>) -> Projection?
    /// The hyperparameters of a group.
    func hyperparameters(group: Int) throws -> Hyperparameters
    /// Replaces a group's hyperparameters. Throws, changing nothing, if invalid.
    func setHyperparameters(_ hyperparameters: Hyperparameters, group: Int) throws
    /// How steps run: ISA, threads, cache block.
    var kernelOptions: KernelOptions { get }
    /// Sets how steps run. Throws, changing nothing, for an ISA this CPU lacks
    /// or a negative count.
    func setKernelOptions(_ options: KernelOptions) throws
    /// Whether steps record `diagnostics(for:)` (default false: then they cost nothing).
    var diagnosticsEnabled: Bool { get set }
    /// What the last step did to `parameter` and what the scale-invariance
    /// test saw (see `Diagnostics`); nil when diagnostics are off, before a
    /// step with them on, or for an empty parameter.
    func diagnostics(for parameter: Parameter<Scalar>) -> Diagnostics?
    /// Everything a run needs to resume, in memory: every group's
    /// hyperparameters, every parameter's step count and state buffers, and
    /// the parameters' order, names and shapes, laid out as PyTorch's
    /// optimizer `state_dict()` (docs/checkpoint-format.md).
    func stateDict() -> StateDict
    /// Replaces every group's hyperparameters and every parameter's step
    /// count and state with those of `stateDict`. Parameters are matched by
    /// name when every one (here and in the state dict) has one, else by
    /// position; parameter values are not part of it.
    /// - Throws: `OptimizerError.invalidCheckpoint` naming the problem (a
    ///   different optimizer, dtype, count, shape or name, a corrupt value),
    ///   having changed nothing.
    func load(stateDict: StateDict) throws
}

extension Optimizer {
    /// `step(StepOptions(...))`: e.g. `try opt.step(gradScale: 1024, skipIfNonfinite: true)`.
    @discardableResult
    public func step(gradScale: Double = 1, maxGradNorm: Double? = nil, normType: Double = 2,
                     skipIfNonfinite: Bool = false) throws -> StepResult<Scalar> {
        try step(StepOptions(gradScale: gradScale, maxGradNorm: maxGradNorm, normType: normType,
                             skipIfNonfinite: skipIfNonfinite))
    }

    /// Saves `stateDict()` to a .safetensors file, atomically: a file already
    /// at `url` is replaced whole or, if saving fails, left as it was.
    /// - Throws: `OptimizerError.checkpointWriteFailed` naming the file and why.
    public func save(to url: URL) throws { try stateDict().write(to: url) }

    /// Loads a checkpoint written by `save(to:)` (or by
    /// `python -m cadamp.convert` from PyTorch's).
    /// - Throws: `OptimizerError.invalidCheckpoint` naming the file and the
    ///   problem, having changed nothing.
    public func load(from url: URL) throws {
        let sd = try StateDict(contentsOf: url, maxBytes: (self as? any CheckpointLimit)?.checkpointByteLimit ?? .max)
        do { try load(stateDict: sd) } catch let OptimizerError.invalidCheckpoint(_, problem) {
            throw OptimizerError.invalidCheckpoint(file: url.path, problem: problem)
        }
    }

    /// Removes every parameter's gradient, as PyTorch's `zero_grad()` does.
    public func zeroGrad() { zeroGrad(setToNone: true) }
    /// The learning rate of the first group.
    public func learningRate() throws -> Double { try learningRate(group: 0) }
    /// The hyperparameters of the first group.
    public func hyperparameters() throws -> Hyperparameters { try hyperparameters(group: 0) }
    /// Sets the learning rate of every group.
    public func setLearningRate(_ learningRate: Double) throws { try setLearningRate(learningRate, group: nil) }
}

/// The most bytes an optimizer's checkpoint can take.
protocol CheckpointLimit {
    var checkpointByteLimit: Int { get }
}

/// The conformance every optimizer shares through its core.
protocol CoreBacked: Optimizer, InitialLearningRates, HyperparameterAccess, KernelView, CheckpointLimit
    where Hyperparameters: KernelHyperparameters {
    var core: OptimizerCore<Scalar, Hyperparameters> { get }
}

extension CoreBacked {
    public var parameters: [Parameter<Scalar>] { core.parameters }
    public var groupCount: Int { core.groups.count }
    public func step() throws { _ = try core.step() }
    @discardableResult
    public func step(_ options: StepOptions) throws -> StepResult<Scalar> { try core.step(options) }
    public func zeroGrad(setToNone: Bool) { core.zeroGrad(setToNone: setToNone) }
    public func state(for parameter: Parameter<Scalar>) -> [String: [Scalar]] { core.state(for: parameter) }
    public func stepCount(for parameter: Parameter<Scalar>) -> Int { core.stepCount(for: parameter) }

    public func lastProjection(for parameter: Parameter<Scalar>) -> Projection? {
        core.lastProjection(for: parameter)
    }

    public var diagnosticsEnabled: Bool {
        get { core.diagnosticsEnabled }
        set { core.diagnosticsEnabled = newValue }
    }
    public func diagnostics(for parameter: Parameter<Scalar>) -> Diagnostics? { core.diagnostics(for: parameter) }
    public func stateDict() -> StateDict { core.stateDict() }
    public func load(stateDict: StateDict) throws { try core.load(stateDict) }
    var checkpointByteLimit: Int { core.checkpointByteLimit }

    public var kernelOptions: KernelOptions { core.options }
    public func setKernelOptions(_ options: KernelOptions) throws { try core.setOptions(options) }

    public func hyperparameters(group: Int) throws -> Hyperparameters {
        try core.checkGroup(group)
        return core.groups[group]
    }

    public func setHyperparameters(_ hyperparameters: Hyperparameters, group: Int) throws {
        try core.setHyperparameters(hyperparameters, group: group)
    }

    public func learningRate(group: Int) throws -> Double {
        try core.checkGroup(group)
        return core.groups[group].learningRate
    }

    public func setLearningRate(_ learningRate: Double, group: Int?) throws {
        let targets = try group.map { g in try core.checkGroup(g); return [g] } ?? Array(core.groups.indices)
        // Validate all before setting any.
        var updated = targets.map { core.groups[$0] }
        for j in updated.indices {
            updated[j].learningRate = learningRate
            try core.validate(updated[j], group: targets[j])
        }
        for (j, g) in targets.enumerated() { try core.setHyperparameters(updated[j], group: g) }
    }
}
