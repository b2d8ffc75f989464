#if BLAS
import AdamPKit

/// The optimizers the demo compares, each with the settings its authors
/// recommend: torch.optim's SGD with Nesterov momentum and the official
/// AdamP README's AdamP and SGDP settings; Adam and AdamW with torch's
/// defaults. Biases and normalisation gains get no weight decay (and no
/// projection), as `groups(splitting:)` makes them.
public enum DemoOptimizer: String, CaseIterable, Sendable {
    case sgd, sgdp, adam, adamw, adamp

    /// The name in tables and charts.
    public var label: String {
        switch self {
        case .sgd: return "SGD"
        case .sgdp: return "SGDP"
        case .adam: return "Adam"
        case .adamw: return "AdamW"
        case .adamp: return "AdamP"
        }
    }

    /// Whether it is one of the paper's optimizers (which project).
    public var projects: Bool { self == .sgdp || self == .adamp }

    /// A new optimizer over `parameters`, with the recipe's settings (and
    /// bfloat16 parameters' exact values kept as split masters).
    func make<S: DemoScalar>(_ parameters: [Parameter<S>]) throws -> any Optimizer<S> {
        let m = S.masterWeights
        switch self {
        case .sgd:
            return try SGD(groups: SGD.groups(splitting: parameters), learningRate: 0.1, momentum: 0.9,
                           weightDecay: 1e-4, nesterov: true, masterWeights: m)
        case .sgdp:
            return try SGDP(groups: SGDP.groups(splitting: parameters), learningRate: 0.1, momentum: 0.9,
                            weightDecay: 1e-4, nesterov: true, masterWeights: m)
        case .adam:
            return try Adam(groups: Adam.groups(splitting: parameters), learningRate: 1e-3, masterWeights: m)
        case .adamw:
            return try AdamW(groups: AdamW.groups(splitting: parameters), learningRate: 1e-3, weightDecay: 1e-2, masterWeights: m)
        case .adamp:
            return try AdamP(groups: AdamP.groups(splitting: parameters), learningRate: 1e-3, weightDecay: 1e-2, masterWeights: m)
        }
    }

    /// The learning-rate schedule, stepped after every optimizer step: a
    /// linear warm-up over the first epoch, then a cosine to zero.
    func schedule<S: DemoScalar>(_ optimizer: any Optimizer<S>, stepsPerEpoch: Int, epochs: Int) throws -> any LRScheduler {
        let total = stepsPerEpoch * epochs
        guard epochs > 1 else { return try CosineAnnealingLR(optimizer: optimizer, tMax: total) }
        return try SequentialLR(optimizer: optimizer, schedulers: [
            LinearLR(optimizer: optimizer, startFactor: 0.1, totalIters: stepsPerEpoch),
            CosineAnnealingLR(optimizer: optimizer, tMax: total - stepsPerEpoch),
        ], milestones: [stepsPerEpoch])
    }
}

/// How the network keeps its parameters: float32, or bfloat16 with float32
/// master weights split into the parameter and a 16-bit trail.
public enum Precision: String, CaseIterable, Sendable {
    case f32, bf16
}

/// The parameters' type of a precision.
public protocol DemoScalar: AdamPScalar {
    static var precision: Precision { get }
    static var masterWeights: MasterWeights { get }
}

extension Float: DemoScalar {
    public static var precision: Precision { .f32 }
    public static var masterWeights: MasterWeights { .off }
}

extension BFloat16: DemoScalar {
    public static var precision: Precision { .bf16 }
    public static var masterWeights: MasterWeights { .split }
}
#endif
