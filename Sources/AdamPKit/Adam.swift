internal import CAdamP

/// Adam (Kingma & Ba, ICLR 2015) with coupled L2 weight decay, exactly as
/// `torch.optim.Adam` computes it (single-tensor path, every op rounded as
/// PyTorch rounds it on x86-64). For each parameter `p` with gradient `g`, at
/// its step `t`:
///
///     g ← −g if maximize;   g ← g + weightDecay · p
///     m ← β₁ m + (1 − β₁) g        v ← β₂ v + (1 − β₂) g²
///     v̂ = max(v̂, v) if amsgrad, else v
///     p ← p − lr / (1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε)
///
/// State, as PyTorch names it: `exp_avg`, `exp_avg_sq`, and `max_exp_avg_sq`
/// with amsgrad. The corresponding C function is `adamp_step` with `ADAMP_ALGO_ADAM`.
public typealias Adam<Scalar: AdamPScalar> = AdamOptimizer<Scalar, CoupledWeightDecay>

/// AdamW (Loshchilov & Hutter, ICLR 2019): Adam with decoupled weight decay,
/// exactly as `torch.optim.AdamW` computes it. For each parameter `p` with
/// gradient `g`, at its step `t`:
///
///     g ← −g if maximize
///     p ← p (1 − lr · weightDecay)
///     m ← β₁ m + (1 − β₁) g        v ← β₂ v + (1 − β₂) g²
///     v̂ = max(v̂, v) if amsgrad, else v
///     p ← p − lr / (1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε)
///
/// Its hyperparameters are Adam's but for the default weight decay (1e-2, as
/// in PyTorch). The corresponding C function is `adamp_step` with `ADAMP_ALGO_ADAMW`.
public typealias AdamW<Scalar: AdamPScalar> = AdamOptimizer<Scalar, DecoupledWeightDecay>

/// How an Adam applies its weight decay: the one difference between Adam and AdamW.
public protocol AdamWeightDecay: Sendable {
    /// Whether the decay is decoupled from the gradient (AdamW) or added to it (Adam's L2).
    static var isDecoupled: Bool { get }
    /// The default weight decay (Adam 0, AdamW 1e-2, as in PyTorch).
    static var defaultWeightDecay: Double { get }
}

/// Adam's weight decay: L2, added to the gradient.
public enum CoupledWeightDecay: AdamWeightDecay {
    public static var isDecoupled: Bool { false }
    public static var defaultWeightDecay: Double { 0 }
}

/// AdamW's weight decay: decoupled, applied to the parameter.
public enum DecoupledWeightDecay: AdamWeightDecay {
    public static var isDecoupled: Bool { true }
    public static var defaultWeightDecay: Double { 1e-2 }
}

/// The hyperparameters of one group of Adam (`Adam.Hyperparameters`) or
/// AdamW (`AdamW.Hyperparameters`). torch.optim's defaults are written here,
/// once: every initialiser's defaults read them.
public struct AdamHyperparameters<WeightDecay: AdamWeightDecay>: Equatable, Sendable, KernelHyperparameters {
    public var learningRate: Double = 1e-3
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    public var eps: Double = 1e-8
    public var weightDecay: Double = WeightDecay.defaultWeightDecay
    public var amsgrad: Bool = false
    public var maximize: Bool = false

    /// torch.optim's defaults for Adam, or for AdamW.
    public init() {}

    /// `(beta1, beta2)`, as PyTorch spells them.
    public var betas: (Double, Double) {
        get { (beta1, beta2) }
        set { (beta1, beta2) = newValue }
    }

    static var algorithm: adamp_algorithm { WeightDecay.isDecoupled ? ADAMP_ALGO_ADAMW : ADAMP_ALGO_ADAM }
    static var fields: [HyperparameterField<Self>] {
        [.real(ADAMP_FIELD_LR, \.learningRate), .real(ADAMP_FIELD_BETA1, \.beta1), .real(ADAMP_FIELD_BETA2, \.beta2),
         .real(ADAMP_FIELD_EPS, \.eps), .real(ADAMP_FIELD_WEIGHT_DECAY, \.weightDecay),
         .flag(ADAMP_FIELD_AMSGRAD, \.amsgrad), .flag(ADAMP_FIELD_MAXIMIZE, \.maximize)]
    }
    static var defaults: Self { Self() }
}

/// Adam and AdamW: see `Adam` and `AdamW`, the names to use.
public final class AdamOptimizer<Scalar: AdamPScalar, WeightDecay: AdamWeightDecay>: CoreBacked {
    public typealias Hyperparameters = AdamHyperparameters<WeightDecay>
    /// Parameters that share hyperparameters; a field left nil takes the
    /// optimizer's value.
    public typealias Group = ParameterGroup<Scalar, Hyperparameters>

    let core: OptimizerCore<Scalar, Hyperparameters>

    /// Adam (or AdamW) over one group of parameters, with torch.optim's defaults and rules.
    ///
    /// - Parameters:
    ///   - parameters: The parameters to update; each may appear once.
    ///   - learningRate: The step size `lr`, finite and >= 0 (default 1e-3).
    ///   - betas: The moments' decay rates `(β₁, β₂)`, each in [0, 1) (default (0.9, 0.999)).
    ///   - eps: Added to the denominator, >= 0 (default 1e-8).
    ///   - weightDecay: >= 0; Adam adds it to the gradient (default 0), AdamW
    ///     decays the parameter (default 1e-2).
    ///   - amsgrad: Use the running maximum of the second moment (default false).
    ///   - maximize: Ascend the gradient (default false).
    ///   - masterWeights: How `BFloat16` and `Float16` parameters keep their
    ///     exact value (`MasterWeights`; default `.off`). `.split` only for
    ///     `BFloat16`, else this throws `.invalidArgument` naming it.
    /// - Throws: `OptimizerError.invalidHyperparameter` naming the field and
    ///   value, `.duplicateParameter`, or `.invalidShape` for state too large
    ///   to address; nothing is allocated then.
    ///
    /// The corresponding C function is `adamp_step` with `ADAMP_ALGO_ADAM` (`ADAMP_ALGO_ADAMW`).
    public convenience init(parameters: [Parameter<Scalar>], learningRate: Double = Hyperparameters().learningRate,
                            betas: (Double, Double) = Hyperparameters().betas, eps: Double = Hyperparameters().eps,
                            weightDecay: Double = Hyperparameters().weightDecay, amsgrad: Bool = Hyperparameters().amsgrad,
                            maximize: Bool = Hyperparameters().maximize,
                            masterWeights: MasterWeights = .off) throws {
        try self.init(groups: [Group(parameters: parameters)], learningRate: learningRate, betas: betas, eps: eps,
                      weightDecay: weightDecay, amsgrad: amsgrad, maximize: maximize, masterWeights: masterWeights)
    }

    /// Adam (or AdamW) over several groups of parameters, each with its own hyperparameters.
    ///
    /// - Parameters:
    ///   - groups: The groups; a field a group leaves nil takes the value given here.
    ///   - learningRate: The default of every group, as in `init(parameters:…)`.
    ///   - betas: The default of every group, as in `init(parameters:…)`.
    ///   - eps: The default of every group, as in `init(parameters:…)`.
    ///   - weightDecay: The default of every group, as in `init(parameters:…)`.
    ///   - amsgrad: The default of every group, as in `init(parameters:…)`.
    ///   - maximize: The default of every group, as in `init(parameters:…)`.
    ///   - masterWeights: How 16-bit parameters keep their exact value (see `init(parameters:…)`).
    /// - Throws: As `init(parameters:…)`; `group` in the error names the group.
    ///
    /// The corresponding C function is `adamp_step` with `ADAMP_ALGO_ADAM` (`ADAMP_ALGO_ADAMW`).
    public init(groups: [Group], learningRate: Double = Hyperparameters().learningRate,
                betas: (Double, Double) = Hyperparameters().betas, eps: Double = Hyperparameters().eps,
                weightDecay: Double = Hyperparameters().weightDecay, amsgrad: Bool = Hyperparameters().amsgrad,
                maximize: Bool = Hyperparameters().maximize,
                masterWeights: MasterWeights = .off) throws {
        let defaults = Group(parameters: [], learningRate: learningRate, betas: betas, eps: eps, weightDecay: weightDecay,
                             amsgrad: amsgrad, maximize: maximize).resolved(over: Hyperparameters())
        core = try OptimizerCore(defaults: defaults, groups: groups, masterWeights: masterWeights)
    }
}

extension ParameterGroup {
    /// A group of Adam or AdamW parameters.
    ///
    /// - Parameters:
    ///   - parameters: The group's parameters.
    ///   - learningRate: The group's own value (nil: the optimizer's).
    ///   - betas: The group's own value (nil: the optimizer's).
    ///   - eps: The group's own value (nil: the optimizer's).
    ///   - weightDecay: The group's own value (nil: the optimizer's).
    ///   - amsgrad: The group's own value (nil: the optimizer's).
    ///   - maximize: The group's own value (nil: the optimizer's).
    public init<WeightDecay>(parameters: [Parameter<Scalar>], learningRate: Double? = nil, betas: (Double, Double)? = nil,
                             eps: Double? = nil, weightDecay: Double? = nil, amsgrad: Bool? = nil, maximize: Bool? = nil)
        where Hyperparameters == AdamHyperparameters<WeightDecay> {
        self.init(parameters)
        (self.learningRate, self.betas, self.eps, self.weightDecay) = (learningRate, betas, eps, weightDecay)
        (self.amsgrad, self.maximize) = (amsgrad, maximize)
    }
}
