internal import CAdamP

/// Stochastic gradient descent with momentum, exactly as `torch.optim.SGD`
/// computes it. For each parameter `p` with gradient `g`:
///
///     g ← −g if maximize;   g ← g + weightDecay · p
///     if μ ≠ 0:  buf ← g on the parameter's first step, else μ buf + (1 − dampening) g
///                g ← g + μ buf if nesterov, else buf
///     p ← p − lr · g
///
/// State, as PyTorch names it: `momentum_buffer` (none when μ = 0). The
/// corresponding C kernel is `adamp_step(ADAMP_ALGO_SGD, …)`.
public final class SGD<Scalar: AdamPScalar>: CoreBacked {
    /// One group's hyperparameters. torch.optim.SGD's defaults are written
    /// here, once: every initialiser's defaults read them.
    public struct Hyperparameters: Equatable, Sendable, KernelHyperparameters {
        public var learningRate: Double = 1e-3
        public var momentum: Double = 0
        public var dampening: Double = 0
        public var weightDecay: Double = 0
        public var nesterov: Bool = false
        public var maximize: Bool = false

        /// torch.optim.SGD's defaults.
        public init() {}

        static var algorithm: adamp_algorithm { ADAMP_ALGO_SGD }
        static var fields: [HyperparameterField<Self>] {
            [.real(ADAMP_FIELD_LR, \.learningRate), .real(ADAMP_FIELD_MOMENTUM, \.momentum),
             .real(ADAMP_FIELD_DAMPENING, \.dampening), .real(ADAMP_FIELD_WEIGHT_DECAY, \.weightDecay),
             .flag(ADAMP_FIELD_NESTEROV, \.nesterov), .flag(ADAMP_FIELD_MAXIMIZE, \.maximize)]
        }
        static var defaults: Self { Self() }
    }

    /// Parameters that share hyperparameters; a field left nil takes the
    /// optimizer's value.
    public typealias Group = ParameterGroup<Scalar, Hyperparameters>

    let core: OptimizerCore<Scalar, Hyperparameters>

    /// SGD over one group of parameters, with torch.optim.SGD's defaults and rules.
    ///
    /// - Parameters:
    ///   - parameters: The parameters to update; each may appear once.
    ///   - learningRate: The step size `lr`, finite and >= 0 (default 1e-3).
    ///   - momentum: μ, finite and >= 0; 0 keeps no buffer (default 0).
    ///   - dampening: Any finite value (default 0).
    ///   - weightDecay: L2 weight decay added to the gradient, >= 0 (default 0).
    ///   - nesterov: Nesterov momentum; needs μ > 0 and dampening 0 (default false).
    ///   - maximize: Ascend the gradient (default false).
    ///   - masterWeights: How `BFloat16` and `Float16` parameters keep their
    ///     exact value (`MasterWeights`; default `.off`). `.split` only for
    ///     `BFloat16`, else this throws `.invalidArgument` naming it.
    /// - Throws: `OptimizerError.invalidHyperparameter` naming the field and
    ///   value, `.duplicateParameter`, or `.invalidShape` for state too large
    ///   to address; nothing is allocated then.
    ///
    /// The corresponding C function is `adamp_step` with `ADAMP_ALGO_SGD`.
    public convenience init(parameters: [Parameter<Scalar>], learningRate: Double = Hyperparameters().learningRate,
                            momentum: Double = Hyperparameters().momentum, dampening: Double = Hyperparameters().dampening,
                            weightDecay: Double = Hyperparameters().weightDecay, nesterov: Bool = Hyperparameters().nesterov,
                            maximize: Bool = Hyperparameters().maximize,
                            masterWeights: MasterWeights = .off) throws {
        try self.init(groups: [Group(parameters: parameters)], learningRate: learningRate, momentum: momentum,
                      dampening: dampening, weightDecay: weightDecay, nesterov: nesterov, maximize: maximize, masterWeights: masterWeights)
    }

    /// SGD over several groups of parameters, each with its own hyperparameters.
    ///
    /// - Parameters:
    ///   - groups: The groups; a field a group leaves nil takes the value given here.
    ///   - learningRate: The default of every group, as in `init(parameters:…)`.
    ///   - momentum: The default of every group, as in `init(parameters:…)`.
    ///   - dampening: The default of every group, as in `init(parameters:…)`.
    ///   - weightDecay: The default of every group, as in `init(parameters:…)`.
    ///   - nesterov: The default of every group, as in `init(parameters:…)`.
    ///   - maximize: The default of every group, as in `init(parameters:…)`.
    ///   - masterWeights: How 16-bit parameters keep their exact value (see `init(parameters:…)`).
    /// - Throws: As `init(parameters:…)`; `group` in the error names the group.
    ///
    /// The corresponding C function is `adamp_step` with `ADAMP_ALGO_SGD`.
    public init(groups: [Group], learningRate: Double = Hyperparameters().learningRate,
                momentum: Double = Hyperparameters().momentum, dampening: Double = Hyperparameters().dampening,
                weightDecay: Double = Hyperparameters().weightDecay, nesterov: Bool = Hyperparameters().nesterov,
                maximize: Bool = Hyperparameters().maximize,
                masterWeights: MasterWeights = .off) throws {
        let defaults = Group(parameters: [], learningRate: learningRate, momentum: momentum, dampening: dampening,
                             weightDecay: weightDecay, nesterov: nesterov, maximize: maximize).resolved(over: Hyperparameters())
        core = try OptimizerCore(defaults: defaults, groups: groups, masterWeights: masterWeights)
    }
}

extension ParameterGroup {
    /// A group of SGD parameters.
    ///
    /// - Parameters:
    ///   - parameters: The group's parameters.
    ///   - learningRate: The group's own value (nil: the optimizer's).
    ///   - momentum: The group's own value (nil: the optimizer's).
    ///   - dampening: The group's own value (nil: the optimizer's).
    ///   - weightDecay: The group's own value (nil: the optimizer's).
    ///   - nesterov: The group's own value (nil: the optimizer's).
    ///   - maximize: The group's own value (nil: the optimizer's).
    public init(parameters: [Parameter<Scalar>], learningRate: Double? = nil, momentum: Double? = nil,
                dampening: Double? = nil, weightDecay: Double? = nil, nesterov: Bool? = nil,
                maximize: Bool? = nil) where Hyperparameters == SGD<Scalar>.Hyperparameters {
        self.init(parameters)
        (self.learningRate, self.momentum, self.dampening) = (learningRate, momentum, dampening)
        (self.weightDecay, self.nesterov, self.maximize) = (weightDecay, nesterov, maximize)
    }
}
