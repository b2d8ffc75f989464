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
    /// One group's hyperparameters, with torch.optim.SGD's defaults.
    public struct Hyperparameters: Equatable, Sendable, KernelHyperparameters {
        public var learningRate: Double = 1e-3
        public var momentum: Double = 0
        public var dampening: Double = 0
        public var weightDecay: Double = 0
        public var nesterov: Bool = false
        public var maximize: Bool = false

        public init() {}

        var stateNames: [String] { momentum != 0 ? ["momentum_buffer"] : [] }
        var cValue: adamp_hparams {
            adamp_hparams(lr: learningRate, beta1: 0, beta2: 0, momentum: momentum, dampening: dampening,
                          eps: 0, weight_decay: weightDecay, delta: 0, wd_ratio: 0, nesterov: nesterov ? 1 : 0,
                          amsgrad: 0, maximize: maximize ? 1 : 0, reserved: 0)
        }
    }

    /// Parameters that share hyperparameters; a nil field takes the value the
    /// optimizer was created with.
    public struct Group {
        public var parameters: [Parameter<Scalar>]
        public var learningRate: Double?, momentum: Double?, dampening: Double?, weightDecay: Double?
        public var nesterov: Bool?, maximize: Bool?

        public init(parameters: [Parameter<Scalar>], learningRate: Double? = nil, momentum: Double? = nil,
                    dampening: Double? = nil, weightDecay: Double? = nil, nesterov: Bool? = nil,
                    maximize: Bool? = nil) {
            self.parameters = parameters
            (self.learningRate, self.momentum, self.dampening) = (learningRate, momentum, dampening)
            (self.weightDecay, self.nesterov, self.maximize) = (weightDecay, nesterov, maximize)
        }

        func resolved(_ d: Hyperparameters) -> Hyperparameters {
            var h = d
            (h.learningRate, h.momentum, h.dampening) = (learningRate ?? d.learningRate, momentum ?? d.momentum,
                                                         dampening ?? d.dampening)
            (h.weightDecay, h.nesterov, h.maximize) = (weightDecay ?? d.weightDecay, nesterov ?? d.nesterov,
                                                       maximize ?? d.maximize)
            return h
        }
    }

    let core: OptimizerCore<Scalar, Hyperparameters>

    /// One group of parameters, with torch.optim.SGD's defaults.
    /// - Throws: `OptimizerError.invalidHyperparameter` naming the field and
    ///   value, e.g. a negative momentum, or nesterov without momentum or with
    ///   dampening.
    public convenience init(parameters: [Parameter<Scalar>], learningRate: Double = 1e-3, momentum: Double = 0,
                            dampening: Double = 0, weightDecay: Double = 0, nesterov: Bool = false,
                            maximize: Bool = false) throws {
        try self.init(groups: [Group(parameters: parameters)], learningRate: learningRate, momentum: momentum,
                      dampening: dampening, weightDecay: weightDecay, nesterov: nesterov, maximize: maximize)
    }

    /// Several groups, each overriding the defaults given here.
    public init(groups: [Group], learningRate: Double = 1e-3, momentum: Double = 0, dampening: Double = 0,
                weightDecay: Double = 0, nesterov: Bool = false, maximize: Bool = false) throws {
        var d = Hyperparameters()
        (d.learningRate, d.momentum, d.dampening) = (learningRate, momentum, dampening)
        (d.weightDecay, d.nesterov, d.maximize) = (weightDecay, nesterov, maximize)
        core = try OptimizerCore(algorithm: ADAMP_ALGO_SGD, defaults: d, groups: groups.map { ($0.parameters, $0.resolved) })
    }
}
