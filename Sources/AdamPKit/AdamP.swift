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
    /// One group's hyperparameters, with the official defaults.
    public struct Hyperparameters: Equatable, Sendable, KernelHyperparameters {
        public var learningRate: Double = 1e-3
        public var beta1: Double = 0.9
        public var beta2: Double = 0.999
        public var eps: Double = 1e-8
        public var weightDecay: Double = 0
        public var delta: Double = 0.1
        public var wdRatio: Double = 0.1
        public var nesterov: Bool = false

        public init() {}

        /// `(beta1, beta2)`, as the official code spells them.
        public var betas: (Double, Double) {
            get { (beta1, beta2) }
            set { (beta1, beta2) = newValue }
        }

        var stateNames: [String] { ["exp_avg", "exp_avg_sq"] }
        var cValue: adamp_hparams {
            adamp_hparams(lr: learningRate, beta1: beta1, beta2: beta2, momentum: 0, dampening: 0,
                          eps: eps, weight_decay: weightDecay, delta: delta, wd_ratio: wdRatio,
                          nesterov: nesterov ? 1 : 0, amsgrad: 0, maximize: 0, reserved: 0)
        }
    }

    /// Parameters that share hyperparameters; a nil field takes the value the
    /// optimizer was created with.
    public struct Group {
        public var parameters: [Parameter<Scalar>]
        public var learningRate: Double?, betas: (Double, Double)?, eps: Double?, weightDecay: Double?
        public var delta: Double?, wdRatio: Double?, nesterov: Bool?

        public init(parameters: [Parameter<Scalar>], learningRate: Double? = nil, betas: (Double, Double)? = nil,
                    eps: Double? = nil, weightDecay: Double? = nil, delta: Double? = nil,
                    wdRatio: Double? = nil, nesterov: Bool? = nil) {
            self.parameters = parameters
            (self.learningRate, self.betas, self.eps, self.weightDecay) = (learningRate, betas, eps, weightDecay)
            (self.delta, self.wdRatio, self.nesterov) = (delta, wdRatio, nesterov)
        }

        func resolved(_ d: Hyperparameters) -> Hyperparameters {
            var h = d
            h.learningRate = learningRate ?? d.learningRate
            h.betas = betas ?? d.betas
            h.eps = eps ?? d.eps
            h.weightDecay = weightDecay ?? d.weightDecay
            h.delta = delta ?? d.delta
            h.wdRatio = wdRatio ?? d.wdRatio
            h.nesterov = nesterov ?? d.nesterov
            return h
        }
    }

    let core: OptimizerCore<Scalar, Hyperparameters>

    /// One group of parameters. Defaults are the official ones.
    /// - Throws: `OptimizerError.invalidHyperparameter` naming the field and
    ///   value, e.g. for a negative learning rate or a beta outside [0, 1).
    public convenience init(parameters: [Parameter<Scalar>], learningRate: Double = 1e-3,
                            betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                            weightDecay: Double = 0, delta: Double = 0.1, wdRatio: Double = 0.1,
                            nesterov: Bool = false) throws {
        try self.init(groups: [Group(parameters: parameters)], learningRate: learningRate, betas: betas,
                      eps: eps, weightDecay: weightDecay, delta: delta, wdRatio: wdRatio, nesterov: nesterov)
    }

    /// Several groups, each overriding the defaults given here.
    public init(groups: [Group], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                eps: Double = 1e-8, weightDecay: Double = 0, delta: Double = 0.1, wdRatio: Double = 0.1,
                nesterov: Bool = false) throws {
        var d = Hyperparameters()
        (d.learningRate, d.betas, d.eps, d.weightDecay) = (learningRate, betas, eps, weightDecay)
        (d.delta, d.wdRatio, d.nesterov) = (delta, wdRatio, nesterov)
        core = try OptimizerCore(algorithm: ADAMP_ALGO_ADAMP, defaults: d, groups: groups.map { ($0.parameters, $0.resolved) })
    }
}
