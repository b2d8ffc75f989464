import Foundation
import AdamPKit

/// torch.optim's Adam, AdamW and SGD (`_single_tensor_adam`, `_single_tensor_sgd`),
/// transcribed literally into Swift in Double, one tensor op at a time.
struct TorchReferenceTensor {
    var p: [Double]
    var m: [Double], v: [Double], vmax: [Double]
    /// SGD's momentum_buffer: nil until the first step that uses it, as in torch.
    var buf: [Double]?
    var step = 0

    init(values: [Double]) {
        p = values
        m = .init(repeating: 0, count: values.count)
        (v, vmax) = (m, m)
    }
}

/// One configuration of a baseline optimizer, in torch.optim's terms.
struct Baseline: CustomStringConvertible, Sendable {
    enum Kind: String, Sendable { case adam = "Adam", adamw = "AdamW", sgd = "SGD" }
    var kind: Kind
    var lr = 1e-2, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.0
    var amsgrad = false, maximize = false
    var momentum = 0.0, dampening = 0.0, nesterov = false

    var description: String {
        kind == .sgd
            ? "SGD(momentum: \(momentum), dampening: \(dampening), wd: \(weightDecay), nesterov: \(nesterov), maximize: \(maximize))"
            : "\(kind)(betas: (\(beta1), \(beta2)), wd: \(weightDecay), amsgrad: \(amsgrad), maximize: \(maximize))"
    }

    /// Configurations that reach every branch of the kernels: L2 and decoupled
    /// decay, amsgrad, maximize, both forms of torch's lerp (|1 - beta1| below
    /// and above 0.5), momentum 0, dampening, nesterov.
    static let all: [Baseline] = [
        Baseline(kind: .adam),
        Baseline(kind: .adam, weightDecay: 1e-2, amsgrad: true, maximize: true),
        Baseline(kind: .adam, beta1: 0.3, beta2: 0.9, weightDecay: 0.1),
        Baseline(kind: .adamw, weightDecay: 1e-2, amsgrad: true),
        Baseline(kind: .adamw, beta1: 0.2, weightDecay: 0.1, maximize: true),
        Baseline(kind: .sgd, lr: 0.05),
        Baseline(kind: .sgd, lr: 0.05, weightDecay: 1e-2, maximize: true, momentum: 0.9, dampening: 0.1),
        Baseline(kind: .sgd, lr: 0.05, weightDecay: 1e-3, momentum: 0.9, nesterov: true),
    ]

    func make<T: AdamPScalar>(_ ps: [Parameter<T>]) throws -> any Optimizer<T> {
        switch kind {
        case .adam:
            return try Adam(parameters: ps, learningRate: lr, betas: (beta1, beta2), eps: eps, weightDecay: weightDecay,
                            amsgrad: amsgrad, maximize: maximize)
        case .adamw:
            return try AdamW(parameters: ps, learningRate: lr, betas: (beta1, beta2), eps: eps, weightDecay: weightDecay,
                             amsgrad: amsgrad, maximize: maximize)
        case .sgd:
            return try SGD(parameters: ps, learningRate: lr, momentum: momentum, dampening: dampening,
                           weightDecay: weightDecay, nesterov: nesterov, maximize: maximize)
        }
    }

    /// One step of torch.optim on one tensor; a nil gradient skips it.
    func step(_ t: inout TorchReferenceTensor, grad: [Double]?) {
        guard var g = grad else { return }
        if maximize { g = g.map { -$0 } }
        if kind == .sgd { return sgd(&t, g) }
        t.step += 1
        if weightDecay != 0 {
            if kind == .adamw { t.p = t.p.map { $0 * (1 - lr * weightDecay) } }
            else { g = g.indices.map { g[$0] + weightDecay * t.p[$0] } }
        }
        for i in g.indices {
            t.m[i] += (g[i] - t.m[i]) * (1 - beta1)                  // exp_avg.lerp_(grad, 1 - beta1)
            t.v[i] = t.v[i] * beta2 + (1 - beta2) * g[i] * g[i]
        }
        if amsgrad { t.vmax = t.vmax.indices.map { max(t.vmax[$0], t.v[$0]) } }
        let bc1 = 1 - pow(beta1, Double(t.step)), bc2 = 1 - pow(beta2, Double(t.step))
        let denom = (amsgrad ? t.vmax : t.v).map { sqrt($0) / sqrt(bc2) + eps }
        for i in g.indices { t.p[i] += -(lr / bc1) * t.m[i] / denom[i] }
    }

    private func sgd(_ t: inout TorchReferenceTensor, _ grad: [Double]) {
        t.step += 1
        var g = grad
        if weightDecay != 0 { g = g.indices.map { g[$0] + weightDecay * t.p[$0] } }
        if momentum != 0 {
            let b = t.buf.map { b in b.indices.map { b[$0] * momentum + (1 - dampening) * g[$0] } } ?? g
            t.buf = b
            g = nesterov ? g.indices.map { g[$0] + momentum * b[$0] } : b
        }
        for i in g.indices { t.p[i] -= lr * g[i] }
    }

    /// The state torch would hold for the tensor, by its names.
    func state(_ t: TorchReferenceTensor) -> [String: [Double]] {
        guard t.step > 0 else { return [:] }
        switch kind {
        case .sgd: return t.buf.map { ["momentum_buffer": $0] } ?? [:]
        default: return ["exp_avg": t.m, "exp_avg_sq": t.v].merging(amsgrad ? ["max_exp_avg_sq": t.vmax] : [:]) { a, _ in a }
        }
    }
}

extension Baseline {
    /// One step of one element, rounded op by op as PyTorch's CPU kernels
    /// round it (x86-64: `add` with alpha, `lerp` and `addcmul` fused), with
    /// IEEE sqrt. This pins the order of operations, which the Double
    /// reference above cannot see.
    func roundedStep<T: BinaryFloatingPoint>(p: inout T, g grad: T, m: inout T, v: inout T, vmax: inout T,
                                             buf: inout T?, step: Int) {
        var g = maximize ? -grad : grad
        let wd = T(weightDecay)
        if kind == .sgd {
            if weightDecay != 0 { g = g.addingProduct(p, wd) }
            if momentum != 0 {
                let b = buf.map { ($0 * T(momentum)).addingProduct(g, T(1 - dampening)) } ?? g
                buf = b
                g = nesterov ? g.addingProduct(b, T(momentum)) : b
            }
            p = p.addingProduct(g, T(-lr))
            return
        }
        if weightDecay != 0 {
            if kind == .adamw { p = p * T(1 - lr * weightDecay) } else { g = g.addingProduct(p, wd) }
        }
        let w = T(1 - beta1)
        m = abs(w) < 0.5 ? m.addingProduct(w, g - m) : g.addingProduct(w - 1, g - m)
        v = (v * T(beta2)).addingProduct(T(1 - beta2) * g, g)
        if amsgrad { vmax = vmax.isNaN || vmax > v ? vmax : v }
        let bc1 = 1 - pow(beta1, Double(step)), bc2 = 1 - pow(beta2, Double(step))
        let denom = (amsgrad ? vmax : v).squareRoot() / T(pow(bc2, 0.5)) + T(eps)
        p = p + (T(-(lr / bc1)) * m) / denom
    }
}
