import AdamPKit
import Foundation

/// What a test does with the optimizer a fixture recorded, given as a maker
/// of the optimizer's own type: one process steps it; the MPI tests also
/// shard it (`ShardedOptimizer<O>` needs the type).
public protocol FixtureOptimizerUse {
    associatedtype Scalar: AdamPScalar
    associatedtype Result
    func use<O: Optimizer>(_ make: @escaping ([Parameter<Scalar>]) throws -> O) throws -> Result where O.Scalar == Scalar
}

public enum FixtureOptimizerError: Error { case unsupported(String) }

/// The optimizers the fixtures record, from their metadata: `kind` (the
/// `optimizer` field) and `hparams` (PyTorch's keys). A hyperparameter the
/// fixture leaves out takes its package's default, from the optimizer's own
/// `Hyperparameters()` (the one place each default is written).
/// `masterWeights` is how 16-bit parameters keep their exact value.
public enum FixtureOptimizer {
    public static func make<U: FixtureOptimizerUse>(_ kind: String, hparams: [String: Any], _ u: U,
                                                    masterWeights m: MasterWeights = .off) throws -> U.Result {
        typealias T = U.Scalar
        let h = hparams.compactMapValues { ($0 as? NSNumber)?.doubleValue }
        let betas = (hparams["betas"] as? [NSNumber])?.map(\.doubleValue)
        func fill<H>(_ x: inout H, _ numbers: [String: WritableKeyPath<H, Double>], _ flags: [String: WritableKeyPath<H, Bool>]) {
            for (key, field) in numbers { if let v = h[key] { x[keyPath: field] = v } }
            for (key, field) in flags { if let v = h[key] { x[keyPath: field] = v != 0 } }
        }
        func adam<W>(_ x: inout AdamHyperparameters<W>) {
            fill(&x, ["lr": \.learningRate, "eps": \.eps, "weight_decay": \.weightDecay], ["amsgrad": \.amsgrad, "maximize": \.maximize])
            if let b = betas { x.betas = (b[0], b[1]) }
        }
        /// `optimizer` with its one group's hyperparameters set to `x`.
        func with<O: Optimizer>(_ optimizer: O, _ x: O.Hyperparameters) throws -> O {
            try optimizer.setHyperparameters(x, group: 0)
            return optimizer
        }
        switch kind {
        case "AdamP":
            var x = AdamP<T>.Hyperparameters()
            fill(&x, ["lr": \.learningRate, "eps": \.eps, "weight_decay": \.weightDecay, "delta": \.delta,
                      "wd_ratio": \.wdRatio], ["nesterov": \.nesterov])
            if let b = betas { x.betas = (b[0], b[1]) }
            return try u.use { try with(AdamP(parameters: $0, masterWeights: m), x) }
        case "SGDP":
            guard let lr = h["lr"] else { throw FixtureOptimizerError.unsupported("SGDP without lr") }
            var x = SGDP<T>.Hyperparameters(learningRate: lr)
            fill(&x, ["momentum": \.momentum, "dampening": \.dampening, "weight_decay": \.weightDecay, "eps": \.eps,
                      "delta": \.delta, "wd_ratio": \.wdRatio], ["nesterov": \.nesterov])
            return try u.use { try with(SGDP(parameters: $0, learningRate: x.learningRate, masterWeights: m), x) }
        case "Adam":
            var x = Adam<T>.Hyperparameters()
            adam(&x)
            return try u.use { try with(Adam(parameters: $0, masterWeights: m), x) }
        case "AdamW":
            var x = AdamW<T>.Hyperparameters()
            adam(&x)
            return try u.use { try with(AdamW(parameters: $0, masterWeights: m), x) }
        case "SGD":
            var x = SGD<T>.Hyperparameters()
            fill(&x, ["lr": \.learningRate, "momentum": \.momentum, "dampening": \.dampening, "weight_decay": \.weightDecay],
                 ["nesterov": \.nesterov, "maximize": \.maximize])
            return try u.use { try with(SGD(parameters: $0, masterWeights: m), x) }
        default:
            throw FixtureOptimizerError.unsupported(kind)
        }
    }
}
