import AdamPKit
import Foundation
import SeededRandom

/// The official adamp 0.3.0 code, transcribed literally into Swift in Double,
/// one tensor op at a time. It is slow and readable on purpose: the kernels
/// are tested against it on cases the fixtures do not cover.
struct ReferenceTensor {
    var shape: [Int]
    var p: [Double]
    var m: [Double]
    var v: [Double]
    var step = 0
    var projection = -1

    init(shape: [Int], values: [Double]) {
        self.shape = shape
        p = values
        m = .init(repeating: 0, count: values.count)
        v = m
    }
}

struct ReferenceHyper {
    var lr = 1e-3, beta1 = 0.9, beta2 = 0.999, momentum = 0.0, dampening = 0.0
    var eps = 1e-8, weightDecay = 0.0, delta = 0.1, wdRatio = 0.1, nesterov = false
}

enum Reference {
    /// Rows of the view: [shape[0], -1] (channel) or [1, -1] (layer).
    static func rows(_ x: [Double], _ n: Int) -> [ArraySlice<Double>] {
        let w = x.count / n
        return (0..<n).map { x[($0 * w)..<($0 * w + w)] }
    }

    static func norm(_ x: ArraySlice<Double>) -> Double { sqrt(x.reduce(0) { $0 + $1 * $1 }) }

    /// F.cosine_similarity(x, y, dim=1, eps).abs() as torch 2.x computes it.
    static func cosine(_ x: ArraySlice<Double>, _ y: ArraySlice<Double>, _ eps: Double) -> Double {
        let nx = max(norm(x), eps), ny = max(norm(y), eps)
        return abs(zip(x, y).reduce(0) { $0 + ($1.0 / nx) * ($1.1 / ny) })
    }

    /// _projection(): returns the projected perturb, the wd ratio, the view code.
    static func projection(p: [Double], grad: [Double], perturb: [Double], shape: [Int], h: ReferenceHyper) -> ([Double], Double, Int) {
        for (code, n) in [(1, shape[0]), (2, 1)] {
            let gr = rows(grad, n), pr = rows(p, n)
            let cos = zip(gr, pr).map { cosine($0, $1, h.eps) }
            if cos.max()! < h.delta / sqrt(Double(p.count / n)) {
                var out = perturb
                let w = p.count / n
                for r in 0..<n {
                    let dn = norm(pr[r]) + h.eps
                    let pn = pr[r].map { $0 / dn }
                    let s = zip(pn, perturb[(r * w)..<(r * w + w)]).reduce(0) { $0 + $1.0 * $1.1 }
                    for j in 0..<w { out[r * w + j] -= pn[j] * s }
                }
                return (out, h.wdRatio, code)
            }
        }
        return (perturb, 1, 0)
    }

    static func adamp(_ t: inout ReferenceTensor, grad: [Double]?, _ h: ReferenceHyper) {
        guard let g = grad else { t.projection = -1; return }
        t.step += 1
        let bc1 = 1 - pow(h.beta1, Double(t.step)), bc2 = 1 - pow(h.beta2, Double(t.step))
        for i in g.indices {
            t.m[i] = t.m[i] * h.beta1 + (1 - h.beta1) * g[i]
            t.v[i] = t.v[i] * h.beta2 + (1 - h.beta2) * g[i] * g[i]
        }
        let denom = t.v.map { sqrt($0) / sqrt(bc2) + h.eps }
        var perturb = g.indices.map { i in
            (h.nesterov ? h.beta1 * t.m[i] + (1 - h.beta1) * g[i] : t.m[i]) / denom[i]
        }
        var ratio = 1.0
        t.projection = 0
        if t.shape.count > 1 { (perturb, ratio, t.projection) = projection(p: t.p, grad: g, perturb: perturb, shape: t.shape, h: h) }
        if h.weightDecay > 0 { t.p = t.p.map { $0 * (1 - h.lr * h.weightDecay * ratio) } }
        for i in g.indices { t.p[i] += -(h.lr / bc1) * perturb[i] }
    }

    /// SGDP; `t.m` is the momentum buffer, which the projection overwrites
    /// when d_p is the buffer itself (no nesterov).
    static func sgdp(_ t: inout ReferenceTensor, grad: [Double]?, _ h: ReferenceHyper) {
        guard let g = grad else { t.projection = -1; return }
        t.step += 1
        for i in g.indices { t.m[i] = t.m[i] * h.momentum + (1 - h.dampening) * g[i] }
        var d = h.nesterov ? g.indices.map { g[$0] + h.momentum * t.m[$0] } : t.m
        var ratio = 1.0
        t.projection = 0
        if t.shape.count > 1 { (d, ratio, t.projection) = projection(p: t.p, grad: g, perturb: d, shape: t.shape, h: h) }
        if !h.nesterov { t.m = d }
        if h.weightDecay > 0 { t.p = t.p.map { $0 * (1 - h.lr * h.weightDecay * ratio / (1 - h.momentum)) } }
        for i in g.indices { t.p[i] += -h.lr * d[i] }
    }
}


/// Gradients built to hit each branch, as the fixture generator builds them.
enum GradientKind: CaseIterable { case random, channel, layer }

func makeGradient(_ kind: GradientKind, p: [Double], shape: [Int], rng: inout SplitMix) -> [Double] {
    var g = p.map { _ in rng.normal() * 0.1 }
    guard shape.count > 1, kind != .random, !p.isEmpty else { return g }
    let n = shape[0], w = p.count / n
    func removeAlong(_ g: inout [Double], _ dir: [Double], rows n: Int) {
        let w = g.count / n
        for r in 0..<n {
            let d = dir[(r * w)..<(r * w + w)], nd = Reference.norm(d)
            guard nd > 0 else { continue }
            let s = zip(g[(r * w)..<(r * w + w)], d).reduce(0) { $0 + $1.0 * $1.1 } / (nd * nd)
            for j in 0..<w { g[r * w + j] -= s * d[r * w + j] }
        }
    }
    if kind == .channel {
        removeAlong(&g, p, rows: n)
    } else {
        // Tilt each row towards its weights (so the channel view fails), then
        // remove the whole-layer component.
        for r in 0..<n {
            let coef = (n == 1 ? 0 : -1 + 2 * Double(r) / Double(n - 1))
                * Reference.norm(g[(r * w)..<(r * w + w)]) / max(Reference.norm(p[(r * w)..<(r * w + w)]), 1e-12)
            for j in 0..<w { g[r * w + j] += coef * p[r * w + j] }
        }
        removeAlong(&g, p, rows: 1)
    }
    return g
}
