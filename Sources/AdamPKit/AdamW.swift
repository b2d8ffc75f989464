internal import CAdamP

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
/// Its hyperparameters and groups are Adam's; only the default weight decay
/// differs (1e-2, as in PyTorch). The corresponding C kernel is
/// `adamp_step(ADAMP_ALGO_ADAMW, …)`.
public final class AdamW<Scalar: AdamPScalar>: CoreBacked {
    public typealias Hyperparameters = Adam<Scalar>.Hyperparameters
    public typealias Group = Adam<Scalar>.Group

    let core: OptimizerCore<Scalar, Hyperparameters>

    /// One group of parameters, with torch.optim.AdamW's defaults.
    /// - Throws: `OptimizerError.invalidHyperparameter` naming the field and value.
    public convenience init(parameters: [Parameter<Scalar>], learningRate: Double = 1e-3,
                            betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8, weightDecay: Double = 1e-2,
                            amsgrad: Bool = false, maximize: Bool = false) throws {
        try self.init(groups: [Group(parameters: parameters)], learningRate: learningRate, betas: betas, eps: eps,
                      weightDecay: weightDecay, amsgrad: amsgrad, maximize: maximize)
    }

    /// Several groups, each overriding the defaults given here.
    public init(groups: [Group], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                eps: Double = 1e-8, weightDecay: Double = 1e-2, amsgrad: Bool = false, maximize: Bool = false) throws {
        let d = Hyperparameters(learningRate, betas, eps, weightDecay, amsgrad, maximize)
        core = try OptimizerCore(algorithm: ADAMP_ALGO_ADAMW, defaults: d, groups: groups.map { ($0.parameters, $0.resolved) })
    }
}
