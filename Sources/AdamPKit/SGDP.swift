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
    /// One group's hyperparameters, with the official defaults (the learning
    /// rate has none).
    public struct Hyperparameters: Equatable, Sendable, KernelHyperparameters {
        public var learningRate: Double
        public var momentum: Double = 0
        public var dampening: Double = 0
        public var weightDecay: Double = 0
        public var nesterov: Bool = false
        public var eps: Double = 1e-8
        public var delta: Double = 0.1
        public var wdRatio: Double = 0.1

        public init(learningRate: Double) { self.learningRate = learningRate }

        var stateNames: [String] { ["momentum"] }
        var cValue: adamp_hparams {
            adamp_hparams(lr: learningRate, beta1: 0, beta2: 0, momentum: momentum, dampening: dampening,
                          eps: eps, weight_decay: weightDecay, delta: delta, wd_ratio: wdRatio,
                          nesterov: nesterov ? 1 : 0, amsgrad: 0, maximize: 0, reserved: 0)
        }
    }

    /// Parameters that share hyperparameters; a nil field takes the value the
    /// optimizer was created with.
    public struct Group {
        public var parameters: [Parameter<Scalar>]
        public var learningRate: Double?, momentum: Double?, dampening: Double?, weightDecay: Double?
        public var nesterov: Bool?, eps: Double?, delta: Double?, wdRatio: Double?

        public init(parameters: [Parameter<Scalar>], learningRate: Double? = nil, momentum: Double? = nil,
                    dampening: Double? = nil, weightDecay: Double? = nil, nesterov: Bool? = nil,
                    eps: Double? = nil, delta: Double? = nil, wdRatio: Double? = nil) {
            self.parameters = parameters
            (self.learningRate, self.momentum, self.dampening, self.weightDecay) = (learningRate, momentum, dampening, weightDecay)
            (self.nesterov, self.eps, self.delta, self.wdRatio) = (nesterov, eps, delta, wdRatio)
        }

        func resolved(_ d: Hyperparameters) -> Hyperparameters {
            var h = d
            h.learningRate = learningRate ?? d.learningRate
            h.momentum = momentum ?? d.momentum
            h.dampening = dampening ?? d.dampening
            h.weightDecay = weightDecay ?? d.weightDecay
            h.nesterov = nesterov ?? d.nesterov
            h.eps = eps ?? d.eps
            h.delta = delta ?? d.delta
            h.wdRatio = wdRatio ?? d.wdRatio
            return h
        }
    }

    let core: OptimizerCore<Scalar, Hyperparameters>

    /// One group of parameters. `learningRate` is required, as in the
    /// official code; the other defaults are the official ones.
    /// - Throws: `OptimizerError.invalidHyperparameter` naming the field and
    ///   value, e.g. for momentum or dampening outside [0, 1).
    public convenience init(parameters: [Parameter<Scalar>], learningRate: Double, momentum: Double = 0,
                            dampening: Double = 0, weightDecay: Double = 0, nesterov: Bool = false,
                            eps: Double = 1e-8, delta: Double = 0.1, wdRatio: Double = 0.1) throws {
        try self.init(groups: [Group(parameters: parameters)], learningRate: learningRate, momentum: momentum,
                      dampening: dampening, weightDecay: weightDecay, nesterov: nesterov, eps: eps,
                      delta: delta, wdRatio: wdRatio)
    }

    /// Several groups, each overriding the defaults given here.
    public init(groups: [Group], learningRate: Double, momentum: Double = 0, dampening: Double = 0,
                weightDecay: Double = 0, nesterov: Bool = false, eps: Double = 1e-8, delta: Double = 0.1,
                wdRatio: Double = 0.1) throws {
        var d = Hyperparameters(learningRate: learningRate)
        (d.momentum, d.dampening, d.weightDecay, d.nesterov) = (momentum, dampening, weightDecay, nesterov)
        (d.eps, d.delta, d.wdRatio) = (eps, delta, wdRatio)
        core = try OptimizerCore(algorithm: ADAMP_ALGO_SGDP, defaults: d, groups: groups.map { ($0.parameters, $0.resolved) })
    }
}
