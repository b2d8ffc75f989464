internal import CAdamP

/// SGDP (Heo et al., ICLR 2021): SGD with momentum whose update, on
/// scale-invariant weights, loses its component along the weights.
///
/// For each parameter `p` with gradient `g`:
///
///     buf ← μ buf + (1 − dampening) g
///     d   = buf                              (nesterov: g + μ buf)
///     if p has > 1 dimension and, for the channel view [shape[0], −1] or else the
///        layer view [1, −1], every row r has |cos(g_r, p_r)| < δ / √width:
///            d_r −= p̂_r (p̂_r · d_r),  p̂_r = p_r / (‖p_r‖ + ε),   ratio = wdRatio
///     p ← p (1 − lr · weightDecay · ratio / (1 − μ)) − lr · d
///
/// exactly as the official `adamp` 0.3.0 package computes it. Without
/// nesterov, `d` is the momentum buffer itself, so the projection is kept in
/// the buffer, as in the official code (other ports copy it first). The
/// corresponding C kernel is `adamp_step(ADAMP_ALGO_SGDP, …)`.
public final class SGDP<Scalar: AdamPScalar>: CoreBacked {
    /// One group's hyperparameters. The official defaults are written here,
    /// once (the learning rate has none, as in the official code).
    public struct Hyperparameters: Equatable, Sendable, KernelHyperparameters {
        public var learningRate: Double
        public var momentum: Double = 0
        public var dampening: Double = 0
        public var weightDecay: Double = 0
        public var nesterov: Bool = false
        public var eps: Double = 1e-8
        public var delta: Double = 0.1
        public var wdRatio: Double = 0.1
        /// Which parameters are projected: the paper's test (default), never, or a forced view.
        public var projection: ProjectionRule = .auto

        /// The official defaults, with the learning rate given.
        public init(learningRate: Double) { self.learningRate = learningRate }

        /// The defaults, for initialisers' default arguments.
        @usableFromInline static var defaults: Self { Self(learningRate: .nan) }
        static var algorithm: adamp_algorithm { ADAMP_ALGO_SGDP }
        static var fields: [HyperparameterField<Self>] {
            [.real(ADAMP_FIELD_LR, \.learningRate), .real(ADAMP_FIELD_MOMENTUM, \.momentum),
             .real(ADAMP_FIELD_DAMPENING, \.dampening), .real(ADAMP_FIELD_WEIGHT_DECAY, \.weightDecay),
             .flag(ADAMP_FIELD_NESTEROV, \.nesterov), .real(ADAMP_FIELD_EPS, \.eps),
             .real(ADAMP_FIELD_DELTA, \.delta), .real(ADAMP_FIELD_WD_RATIO, \.wdRatio),
             .choice(ADAMP_FIELD_PROJECTION, \.projection)]
        }
    }

    /// Parameters that share hyperparameters; a field left nil takes the
    /// optimizer's value.
    public typealias Group = ParameterGroup<Scalar, Hyperparameters>

    let core: OptimizerCore<Scalar, Hyperparameters>

    /// SGDP over one group of parameters.
    ///
    /// - Parameters:
    ///   - parameters: The parameters to update; each may appear once.
    ///   - learningRate: The step size `lr`, finite and >= 0 (required, as in the official code).
    ///   - momentum: μ, in [0, 1) (default 0).
    ///   - dampening: In [0, 1) (default 0).
    ///   - weightDecay: Decoupled weight decay, >= 0, divided by 1 − μ (default 0).
    ///   - nesterov: Nesterov momentum (default false).
    ///   - eps: Added to the weight norm, >= 0 (default 1e-8).
    ///   - delta: The scale-invariance threshold δ, >= 0 (default 0.1).
    ///   - wdRatio: The weight decay's factor on projected parameters, in [0, 1] (default 0.1).
    ///   - masterWeights: How `BFloat16` and `Float16` parameters keep their
    ///     exact value (`MasterWeights`; default `.off`). `.split` only for
    ///     `BFloat16`, else this throws `.invalidArgument` naming it.
    /// - Throws: `OptimizerError.invalidHyperparameter` naming the field and
    ///   value, `.duplicateParameter`, or `.invalidShape` for state too large
    ///   to address; nothing is allocated then.
    ///
    /// The corresponding C function is `adamp_step` with `ADAMP_ALGO_SGDP`.
    public convenience init(parameters: [Parameter<Scalar>], learningRate: Double,
                            momentum: Double = Hyperparameters.defaults.momentum,
                            dampening: Double = Hyperparameters.defaults.dampening,
                            weightDecay: Double = Hyperparameters.defaults.weightDecay,
                            nesterov: Bool = Hyperparameters.defaults.nesterov, eps: Double = Hyperparameters.defaults.eps,
                            delta: Double = Hyperparameters.defaults.delta,
                            wdRatio: Double = Hyperparameters.defaults.wdRatio,
                            masterWeights: MasterWeights = .off) throws {
        try self.init(groups: [Group(parameters: parameters)], learningRate: learningRate, momentum: momentum,
                      dampening: dampening, weightDecay: weightDecay, nesterov: nesterov, eps: eps,
                      delta: delta, wdRatio: wdRatio, masterWeights: masterWeights)
    }

    /// SGDP over several groups of parameters, each with its own hyperparameters.
    ///
    /// - Parameters:
    ///   - groups: The groups; a field a group leaves nil takes the value given here.
    ///   - learningRate: The default of every group, as in `init(parameters:…)`.
    ///   - momentum: The default of every group, as in `init(parameters:…)`.
    ///   - dampening: The default of every group, as in `init(parameters:…)`.
    ///   - weightDecay: The default of every group, as in `init(parameters:…)`.
    ///   - nesterov: The default of every group, as in `init(parameters:…)`.
    ///   - eps: The default of every group, as in `init(parameters:…)`.
    ///   - delta: The default of every group, as in `init(parameters:…)`.
    ///   - wdRatio: The default of every group, as in `init(parameters:…)`.
    ///   - masterWeights: How 16-bit parameters keep their exact value (see `init(parameters:…)`).
    /// - Throws: As `init(parameters:…)`; `group` in the error names the group.
    ///
    /// The corresponding C function is `adamp_step` with `ADAMP_ALGO_SGDP`.
    public init(groups: [Group], learningRate: Double, momentum: Double = Hyperparameters.defaults.momentum,
                dampening: Double = Hyperparameters.defaults.dampening,
                weightDecay: Double = Hyperparameters.defaults.weightDecay,
                nesterov: Bool = Hyperparameters.defaults.nesterov, eps: Double = Hyperparameters.defaults.eps,
                delta: Double = Hyperparameters.defaults.delta, wdRatio: Double = Hyperparameters.defaults.wdRatio,
                masterWeights: MasterWeights = .off) throws {
        let defaults = Group(parameters: [], learningRate: learningRate, momentum: momentum, dampening: dampening,
                             weightDecay: weightDecay, nesterov: nesterov, eps: eps, delta: delta, wdRatio: wdRatio)
            .resolved(over: Hyperparameters(learningRate: learningRate))
        core = try OptimizerCore(defaults: defaults, groups: groups, masterWeights: masterWeights)
    }
}

extension ParameterGroup {
    /// A group of SGDP parameters.
    ///
    /// - Parameters:
    ///   - parameters: The group's parameters.
    ///   - learningRate: The group's own value (nil: the optimizer's).
    ///   - momentum: The group's own value (nil: the optimizer's).
    ///   - dampening: The group's own value (nil: the optimizer's).
    ///   - weightDecay: The group's own value (nil: the optimizer's).
    ///   - nesterov: The group's own value (nil: the optimizer's).
    ///   - eps: The group's own value (nil: the optimizer's).
    ///   - delta: The group's own value (nil: the optimizer's).
    ///   - wdRatio: The group's own value (nil: the optimizer's).
    ///   - projection: Which of the group's parameters are projected (nil: `.auto`, the paper's test).
    public init(parameters: [Parameter<Scalar>], learningRate: Double? = nil, momentum: Double? = nil,
                dampening: Double? = nil, weightDecay: Double? = nil, nesterov: Bool? = nil, eps: Double? = nil,
                delta: Double? = nil, wdRatio: Double? = nil, projection: ProjectionRule? = nil)
        where Hyperparameters == SGDP<Scalar>.Hyperparameters {
        self.init(parameters)
        (self.learningRate, self.momentum, self.dampening, self.weightDecay) = (learningRate, momentum, dampening, weightDecay)
        (self.nesterov, self.eps, self.delta, self.wdRatio, self.projection) = (nesterov, eps, delta, wdRatio, projection)
    }
}
