internal import CAdamP

/// AdamP (Heo et al., ICLR 2021): Adam whose update, on scale-invariant
/// weights, loses its component along the weights, so that their norm stops
/// growing and the effective step size stops shrinking.
///
/// For each parameter `p` with gradient `g`, at its step `t`:
///
///     m_t = β₁ m + (1 − β₁) g               v_t = β₂ v + (1 − β₂) g²
///     u   = m_t / (√v_t / √(1 − β₂ᵗ) + ε)    (nesterov: (β₁ m_t + (1 − β₁) g) / (…))
///     if p has > 1 dimension and, for the channel view [shape[0], −1] or else the
///        layer view [1, −1], every row r has |cos(g_r, p_r)| < δ / √width:
///            u_r −= p̂_r (p̂_r · u_r),  p̂_r = p_r / (‖p_r‖ + ε),   ratio = wdRatio
///     p ← p (1 − lr · weightDecay · ratio) − lr / (1 − β₁ᵗ) · u
///
/// exactly as the official `adamp` 0.3.0 package computes it, including
/// PyTorch's `cosine_similarity` eps rule. The corresponding C kernel is
/// `adamp_step(ADAMP_ALGO_ADAMP, …)`.
public final class AdamP<Scalar: AdamPScalar>: CoreBacked {
    /// One group's hyperparameters. The official defaults are written here,
    /// once: every initialiser's defaults read them.
    public struct Hyperparameters: Equatable, Sendable, KernelHyperparameters {
        public var learningRate: Double = 1e-3
        public var beta1: Double = 0.9
        public var beta2: Double = 0.999
        public var eps: Double = 1e-8
        public var weightDecay: Double = 0
        public var delta: Double = 0.1
        public var wdRatio: Double = 0.1
        public var nesterov: Bool = false
        /// Which parameters are projected: the paper's test (default), never, or a forced view.
        public var projection: ProjectionRule = .auto

        /// The official defaults.
        public init() {}

        /// `(beta1, beta2)`, as the official code spells them.
        public var betas: (Double, Double) {
            get { (beta1, beta2) }
            set { (beta1, beta2) = newValue }
        }

        static var algorithm: adamp_algorithm { ADAMP_ALGO_ADAMP }
        static var fields: [HyperparameterField<Self>] {
            [.real(ADAMP_FIELD_LR, \.learningRate), .real(ADAMP_FIELD_BETA1, \.beta1), .real(ADAMP_FIELD_BETA2, \.beta2),
             .real(ADAMP_FIELD_EPS, \.eps), .real(ADAMP_FIELD_WEIGHT_DECAY, \.weightDecay),
             .real(ADAMP_FIELD_DELTA, \.delta), .real(ADAMP_FIELD_WD_RATIO, \.wdRatio),
             .flag(ADAMP_FIELD_NESTEROV, \.nesterov),
             .choice(ADAMP_FIELD_PROJECTION, \.projection)]
        }
        static var defaults: Self { Self() }
    }

    /// Parameters that share hyperparameters; a field left nil takes the
    /// optimizer's value.
    public typealias Group = ParameterGroup<Scalar, Hyperparameters>

    let core: OptimizerCore<Scalar, Hyperparameters>

    /// AdamP over one group of parameters.
    ///
    /// - Parameters:
    ///   - parameters: The parameters to update; each may appear once.
    ///   - learningRate: The step size `lr`, finite and >= 0 (default 1e-3).
    ///   - betas: The moments' decay rates `(β₁, β₂)`, each in [0, 1) (default (0.9, 0.999)).
    ///   - eps: Added to the denominator and to the weight norm, >= 0 (default 1e-8).
    ///   - weightDecay: Decoupled weight decay, >= 0 (default 0).
    ///   - delta: The scale-invariance threshold δ, >= 0 (default 0.1).
    ///   - wdRatio: The weight decay's factor on projected parameters, in [0, 1] (default 0.1).
    ///   - nesterov: Nesterov momentum (default false).
    ///   - masterWeights: How `BFloat16` and `Float16` parameters keep their
    ///     exact value (`MasterWeights`; default `.off`). `.split` only for
    ///     `BFloat16`, else this throws `.invalidArgument` naming it.
    /// - Throws: `OptimizerError.invalidHyperparameter` naming the field and
    ///   value, `.duplicateParameter`, or `.invalidShape` for state too large
    ///   to address; nothing is allocated then.
    ///
    /// The corresponding C function is `adamp_step` with `ADAMP_ALGO_ADAMP`.
    public convenience init(parameters: [Parameter<Scalar>], learningRate: Double = Hyperparameters().learningRate,
                            betas: (Double, Double) = Hyperparameters().betas, eps: Double = Hyperparameters().eps,
                            weightDecay: Double = Hyperparameters().weightDecay, delta: Double = Hyperparameters().delta,
                            wdRatio: Double = Hyperparameters().wdRatio, nesterov: Bool = Hyperparameters().nesterov,
                            masterWeights: MasterWeights = .off) throws {
        try self.init(groups: [Group(parameters: parameters)], learningRate: learningRate, betas: betas,
                      eps: eps, weightDecay: weightDecay, delta: delta, wdRatio: wdRatio, nesterov: nesterov, masterWeights: masterWeights)
    }

    /// AdamP over several groups of parameters, each with its own hyperparameters.
    ///
    /// - Parameters:
    ///   - groups: The groups; a field a group leaves nil takes the value given here.
    ///   - learningRate: The default of every group, as in `init(parameters:…)`.
    ///   - betas: The default of every group, as in `init(parameters:…)`.
    ///   - eps: The default of every group, as in `init(parameters:…)`.
    ///   - weightDecay: The default of every group, as in `init(parameters:…)`.
    ///   - delta: The default of every group, as in `init(parameters:…)`.
    ///   - wdRatio: The default of every group, as in `init(parameters:…)`.
    ///   - nesterov: The default of every group, as in `init(parameters:…)`.
    ///   - masterWeights: How 16-bit parameters keep their exact value (see `init(parameters:…)`).
    /// - Throws: As `init(parameters:…)`; `group` in the error names the group.
    ///
    /// The corresponding C function is `adamp_step` with `ADAMP_ALGO_ADAMP`.
    public init(groups: [Group], learningRate: Double = Hyperparameters().learningRate,
                betas: (Double, Double) = Hyperparameters().betas, eps: Double = Hyperparameters().eps,
                weightDecay: Double = Hyperparameters().weightDecay, delta: Double = Hyperparameters().delta,
                wdRatio: Double = Hyperparameters().wdRatio, nesterov: Bool = Hyperparameters().nesterov,
                masterWeights: MasterWeights = .off) throws {
        let defaults = Group(parameters: [], learningRate: learningRate, betas: betas, eps: eps, weightDecay: weightDecay,
                             delta: delta, wdRatio: wdRatio, nesterov: nesterov).resolved(over: Hyperparameters())
        core = try OptimizerCore(defaults: defaults, groups: groups, masterWeights: masterWeights)
    }
}

extension ParameterGroup {
    /// A group of AdamP parameters.
    ///
    /// - Parameters:
    ///   - parameters: The group's parameters.
    ///   - learningRate: The group's own value (nil: the optimizer's).
    ///   - betas: The group's own value (nil: the optimizer's).
    ///   - eps: The group's own value (nil: the optimizer's).
    ///   - weightDecay: The group's own value (nil: the optimizer's).
    ///   - delta: The group's own value (nil: the optimizer's).
    ///   - wdRatio: The group's own value (nil: the optimizer's).
    ///   - nesterov: The group's own value (nil: the optimizer's).
    ///   - projection: Which of the group's parameters are projected (nil: `.auto`, the paper's test).
    public init(parameters: [Parameter<Scalar>], learningRate: Double? = nil, betas: (Double, Double)? = nil,
                eps: Double? = nil, weightDecay: Double? = nil, delta: Double? = nil, wdRatio: Double? = nil,
                nesterov: Bool? = nil, projection: ProjectionRule? = nil) where Hyperparameters == AdamP<Scalar>.Hyperparameters {
        self.init(parameters)
        (self.learningRate, self.betas, self.eps, self.weightDecay) = (learningRate, betas, eps, weightDecay)
        (self.delta, self.wdRatio, self.nesterov, self.projection) = (delta, wdRatio, nesterov, projection)
    }
}
