internal import CAdamP

/// Adam (Kingma & Ba, ICLR 2015), with coupled L2 weight decay, exactly as
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
/// with amsgrad. The corresponding C kernel is `adamp_step(ADAMP_ALGO_ADAM, …)`.
public final class Adam<Scalar: AdamPScalar>: CoreBacked {
    /// One group's hyperparameters, with torch.optim.Adam's defaults. AdamW
    /// uses the same struct.
    public struct Hyperparameters: Equatable, Sendable, KernelHyperparameters {
        public var learningRate: Double = 1e-3
        public var beta1: Double = 0.9
        public var beta2: Double = 0.999
        public var eps: Double = 1e-8
        public var weightDecay: Double = 0
        public var amsgrad: Bool = false
        public var maximize: Bool = false

        public init() {}

        init(_ learningRate: Double, _ betas: (Double, Double), _ eps: Double, _ weightDecay: Double,
             _ amsgrad: Bool, _ maximize: Bool) {
            (self.learningRate, self.betas, self.eps) = (learningRate, betas, eps)
            (self.weightDecay, self.amsgrad, self.maximize) = (weightDecay, amsgrad, maximize)
        }

        /// `(beta1, beta2)`, as PyTorch spells them.
        public var betas: (Double, Double) {
            get { (beta1, beta2) }
            set { (beta1, beta2) = newValue }
        }

        var stateNames: [String] { ["exp_avg", "exp_avg_sq"] + (amsgrad ? ["max_exp_avg_sq"] : []) }
        var cValue: adamp_hparams {
            adamp_hparams(lr: learningRate, beta1: beta1, beta2: beta2, momentum: 0, dampening: 0,
                          eps: eps, weight_decay: weightDecay, delta: 0, wd_ratio: 0, nesterov: 0,
                          amsgrad: amsgrad ? 1 : 0, maximize: maximize ? 1 : 0, reserved: 0)
        }
    }

    /// Parameters that share hyperparameters; a nil field takes the value the
    /// optimizer was created with.
    public struct Group {
        public var parameters: [Parameter<Scalar>]
        public var learningRate: Double?, betas: (Double, Double)?, eps: Double?, weightDecay: Double?
        public var amsgrad: Bool?, maximize: Bool?

        public init(parameters: [Parameter<Scalar>], learningRate: Double? = nil, betas: (Double, Double)? = nil,
                    eps: Double? = nil, weightDecay: Double? = nil, amsgrad: Bool? = nil, maximize: Bool? = nil) {
            self.parameters = parameters
            (self.learningRate, self.betas, self.eps, self.weightDecay) = (learningRate, betas, eps, weightDecay)
            (self.amsgrad, self.maximize) = (amsgrad, maximize)
        }

        func resolved(_ d: Hyperparameters) -> Hyperparameters {
            Hyperparameters(learningRate ?? d.learningRate, betas ?? d.betas, eps ?? d.eps,
                            weightDecay ?? d.weightDecay, amsgrad ?? d.amsgrad, maximize ?? d.maximize)
        }
    }

    let core: OptimizerCore<Scalar, Hyperparameters>

    /// One group of parameters, with torch.optim.Adam's defaults.
    /// - Throws: `OptimizerError.invalidHyperparameter` naming the field and
    ///   value, e.g. for a negative learning rate or a beta outside [0, 1).
    public convenience init(parameters: [Parameter<Scalar>], learningRate: Double = 1e-3,
                            betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8, weightDecay: Double = 0,
                            amsgrad: Bool = false, maximize: Bool = false) throws {
        try self.init(groups: [Group(parameters: parameters)], learningRate: learningRate, betas: betas, eps: eps,
                      weightDecay: weightDecay, amsgrad: amsgrad, maximize: maximize)
    }

    /// Several groups, each overriding the defaults given here.
    public init(groups: [Group], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                eps: Double = 1e-8, weightDecay: Double = 0, amsgrad: Bool = false, maximize: Bool = false) throws {
        let d = Hyperparameters(learningRate, betas, eps, weightDecay, amsgrad, maximize)
        core = try OptimizerCore(algorithm: ADAMP_ALGO_ADAM, defaults: d, groups: groups.map { ($0.parameters, $0.resolved) })
    }
}
