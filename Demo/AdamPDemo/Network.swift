#if BLAS
import AdamPKit
import Foundation
import SeededRandom

/// The demo's network, a classifier whose two hidden layers are
/// scale-invariant, as most weights of modern networks are:
///
///     x → fc1 → BatchNorm → ReLU → fc2 → LayerNorm → ReLU → fc3 (+ bias) → softmax
///
/// `fc1` has no bias and is followed by BatchNorm, which normalises each of
/// its output channels over the batch: scaling a row of `fc1.weight` changes
/// nothing, so each row's gradient is orthogonal to it (AdamP's channel
/// view). `fc2` is followed by LayerNorm, which normalises each sample over
/// all channels: scaling the whole `fc2.weight` changes nothing, but one row
/// alone does (AdamP's layer view). `fc3` is an ordinary weight.
///
/// Forward and backward are written here over OpenBLAS's `cblas_sgemm`; the
/// weights and gradients live in this object's memory and are lent to the
/// optimizer's `Parameter`s without a copy.
///
/// In `.bf16` the parameters and their gradients are bfloat16 (what the
/// optimizer steps, `bf16Parameters`), and every product takes its operands
/// rounded to bfloat16 by OpenBLAS's `cblas_sbgemm` (float32 sums), as a
/// bf16 model runs under autocast; the normalisations, the activations'
/// other arithmetic and the loss stay float32, on the weights widened
/// (exactly) into the float32 matrices. Those hold the parameters widened at
/// all times: whoever changes the parameters (the optimizer's step, in the
/// training loop) calls `widenWeights()`.
final class Network {
    static let eps: Float = 1e-5, bnMomentum: Float = 0.1

    let inputs: Int, hidden: Int, classes: Int, maxBatch: Int
    // Weights and their gradients ([out, in], as torch.nn.Linear).
    let w1, w2, w3: Matrix
    let g1, b1, g2, b2, b3: Matrix          // BN and LN gains and shifts, fc3's bias: [1, n]
    let dw1, dw2, dw3, dg1, db1, dg2, db2, db3: Matrix
    // BatchNorm's running statistics, used at evaluation (as torch's eval()).
    let runningMean, runningVar: Matrix
    // Activations of the last training forward, for backward.
    private let x, z1, xhat1, a1, z2, xhat2, a2, logits, da, dz: Matrix
    private let invstd1: Matrix, invstd2: Matrix
    private let channelSums: Matrix         // [2, hidden]: BatchNorm's per-channel sums
    /// Seconds spent in BLAS since the last reset.
    var blasSeconds = 0.0
    let precision: Precision
    /// In `.bf16`: each parameter's bfloat16 values and gradient, and the
    /// float32 matrices they are widened into and rounded from.
    private var low: [(values: UnsafeMutableBufferPointer<BFloat16>, grad: UnsafeMutableBufferPointer<BFloat16>,
                       value: Matrix, gradient: Matrix)] = []
    /// In `.bf16`: the two operands of a product, rounded to bfloat16 (for
    /// `cblas_sbgemm`), or without it rounded and widened back (for
    /// `cblas_sgemm`: products of bfloat16 values are exact in float32, so
    /// the two differ only in the order of the sums).
    private let operands: (UnsafeMutableBufferPointer<BFloat16>, UnsafeMutableBufferPointer<BFloat16>)
    private let widened: (UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>)

    /// The parameters, named as a PyTorch module would name them, lending
    /// this network's memory (in `.f32`; in `.bf16`, `bf16Parameters`).
    private(set) var parameters: [Parameter<Float>] = []
    private(set) var bf16Parameters: [Parameter<BFloat16>] = []

    /// The parameters the optimizer steps, of the network's precision.
    func parameters<S: DemoScalar>(_: S.Type) -> [Parameter<S>] {
        S.precision == .bf16 ? bf16Parameters as! [Parameter<S>] : parameters as! [Parameter<S>]
    }

    init(inputs: Int, hidden: Int, classes: Int, maxBatch: Int, seed: UInt64, precision: Precision = .f32) throws {
        (self.inputs, self.hidden, self.classes, self.maxBatch) = (inputs, hidden, classes, maxBatch)
        self.precision = precision
        let operand = precision == .bf16 ? max(maxBatch, hidden, classes) * max(inputs, hidden, classes) : 0
        let (n16, n32) = openBLASSBGEMM != nil ? (operand, 0) : (0, operand)
        operands = (.allocate(capacity: n16), .allocate(capacity: n16))
        widened = (.allocate(capacity: n32), .allocate(capacity: n32))
        (w1, w2, w3) = (Matrix(hidden, inputs), Matrix(hidden, hidden), Matrix(classes, hidden))
        (g1, b1, g2, b2, b3) = (Matrix(1, hidden), Matrix(1, hidden), Matrix(1, hidden), Matrix(1, hidden), Matrix(1, classes))
        (dw1, dw2, dw3) = (Matrix(hidden, inputs), Matrix(hidden, hidden), Matrix(classes, hidden))
        (dg1, db1, dg2, db2, db3) = (Matrix(1, hidden), Matrix(1, hidden), Matrix(1, hidden), Matrix(1, hidden), Matrix(1, classes))
        (runningMean, runningVar) = (Matrix(1, hidden), Matrix(1, hidden))
        x = Matrix(maxBatch, inputs)
        (z1, xhat1, a1, z2, xhat2, a2) = (Matrix(maxBatch, hidden), Matrix(maxBatch, hidden), Matrix(maxBatch, hidden),
                                          Matrix(maxBatch, hidden), Matrix(maxBatch, hidden), Matrix(maxBatch, hidden))
        (logits, da, dz) = (Matrix(maxBatch, classes), Matrix(maxBatch, hidden), Matrix(maxBatch, hidden))
        (invstd1, invstd2, channelSums) = (Matrix(1, hidden), Matrix(maxBatch, 1), Matrix(2, hidden))

        var rng = SplitMix(seed: seed)
        for w in [w1, w2, w3] { try orthogonalInit(w, rng: &rng) }
        for g in [g1, g2] { g.buffer.update(repeating: 1) }
        runningVar.buffer.update(repeating: 1)

        let named: [(String, [Int], Matrix, Matrix)] = [
            ("fc1.weight", [hidden, inputs], w1, dw1), ("bn1.weight", [hidden], g1, dg1), ("bn1.bias", [hidden], b1, db1),
            ("fc2.weight", [hidden, hidden], w2, dw2), ("ln2.weight", [hidden], g2, dg2), ("ln2.bias", [hidden], b2, db2),
            ("fc3.weight", [classes, hidden], w3, dw3), ("fc3.bias", [classes], b3, db3),
        ]
        tensors = named.map { ($0.0, $0.1, $0.2) }
            + [("bn1.running_mean", [hidden], runningMean), ("bn1.running_var", [hidden], runningVar)]
        if precision == .bf16 {
            low = named.map { _, _, value, grad in
                let v = UnsafeMutableBufferPointer<BFloat16>.allocate(capacity: value.count)
                let g = UnsafeMutableBufferPointer<BFloat16>.allocate(capacity: grad.count)
                v.initialize(repeating: BFloat16(0))
                g.initialize(repeating: BFloat16(0))
                return (v, g, value, grad)
            }
            bf16Parameters = try zip(named, low).map { n, l in
                let p = try Parameter(shape: n.1, borrowing: l.values, name: n.0)
                try p.setGradient(borrowing: UnsafeBufferPointer(l.grad))
                return p
            }
            roundWeights()
        } else {
            parameters = try named.map { name, shape, value, grad in
                let p = try Parameter(shape: shape, borrowing: value.buffer, name: name)
                try p.setGradient(borrowing: UnsafeBufferPointer(grad.buffer))
                return p
            }
        }
        let index = { (name: String) in named.firstIndex { $0.0 == name }! }
        scaleInvariant = [("fc1", w1, index("fc1.weight")), ("fc2", w2, index("fc2.weight"))]
    }

    deinit {
        for l in low { l.values.deallocate(); l.grad.deallocate() }
        for o in [operands.0, operands.1] { o.deallocate() }
        for o in [widened.0, widened.1] { o.deallocate() }
    }

    /// In `.bf16`: the parameters' bfloat16 values into the float32
    /// matrices (exactly), after the optimizer changed them.
    func widenWeights() {
        for l in low { for i in 0..<l.value.count { l.value.base[i] = Float(l.values[i]) } }
    }

    /// In `.bf16`: the float32 matrices into the parameters, rounded (exact
    /// for values a checkpoint saved from them), and widened back.
    func roundWeights() {
        for l in low { for i in 0..<l.value.count { l.values[i] = BFloat16(l.value.base[i]) } }
        widenWeights()
    }

    /// The model's state, named as a PyTorch module's state_dict: the
    /// parameters, then BatchNorm's running statistics.
    private(set) var tensors: [(name: String, shape: [Int], value: Matrix)] = []

    /// The scale-invariant weights the demo reports on: a short name, the
    /// weight's memory, and its parameter's index.
    private(set) var scaleInvariant: [(name: String, weight: Matrix, index: Int)] = []

    /// One training step's forward and backward on the rows `batch` of
    /// `data`: fills every gradient and returns the batch's mean loss.
    func trainStep(_ data: Dataset, rows batch: ArraySlice<Int>) -> Double {
        let n = batch.count
        precondition(n >= 2 && n <= maxBatch, "batch of \(n) (BatchNorm needs 2 to \(maxBatch))")
        gather(data, batch)
        forward(n, training: true)
        let loss = softmaxCrossEntropy(n, labels: batch.map { Int(data.labels[$0]) }, gradient: true).loss
        backward(n)
        for l in low { for i in 0..<l.gradient.count { l.grad[i] = BFloat16(l.gradient.base[i]) } }
        return loss
    }

    /// Evaluation (BatchNorm from its running statistics): the mean loss and
    /// the number of correct predictions on `data`.
    func evaluate(_ data: Dataset) -> (loss: Double, correct: Int) {
        var loss = 0.0, correct = 0
        for start in stride(from: 0, to: data.count, by: maxBatch) {
            let rows = start..<min(start + maxBatch, data.count)
            gather(data, Array(rows)[...])
            forward(rows.count, training: false)
            let r = softmaxCrossEntropy(rows.count, labels: rows.map { Int(data.labels[$0]) }, gradient: false)
            loss += r.loss * Double(rows.count)
            correct += r.correct
        }
        return (loss / Double(max(1, data.count)), correct)
    }

    /// `gemm` in `.f32`; in `.bf16`, its operands rounded to bfloat16 first
    /// (counted as BLAS time) and multiplied by `cblas_sbgemm`, or by
    /// `cblas_sgemm` where OpenBLAS has no `cblas_sbgemm`.
    private func product(_ a: UnsafePointer<Float>, transposed ta: Bool, _ b: UnsafePointer<Float>, transposed tb: Bool,
                         into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, seconds: inout Double) {
        guard precision == .bf16 else {
            return gemm(a, transposed: ta, b, transposed: tb, into: c, m: m, n: n, k: k, seconds: &seconds)
        }
        let t0 = now()
        if let f = openBLASSBGEMM {
            for i in 0..<m * k { operands.0[i] = BFloat16(a[i]) }
            for i in 0..<k * n { operands.1[i] = BFloat16(b[i]) }
            seconds += now() - t0
            sbgemm(f, operands.0.baseAddress!, transposed: ta, operands.1.baseAddress!, transposed: tb, into: c, m: m, n: n, k: k,
                   seconds: &seconds)
        } else {
            for i in 0..<m * k { widened.0[i] = Float(BFloat16(a[i])) }
            for i in 0..<k * n { widened.1[i] = Float(BFloat16(b[i])) }
            seconds += now() - t0
            gemm(widened.0.baseAddress!, transposed: ta, widened.1.baseAddress!, transposed: tb, into: c, m: m, n: n, k: k,
                 seconds: &seconds)
        }
    }

    private func gather(_ data: Dataset, _ rows: ArraySlice<Int>) {
        data.features.withUnsafeBufferPointer { f in
            for (i, r) in rows.enumerated() {
                x[i].update(from: f.baseAddress! + r * inputs, count: inputs)
            }
        }
    }

    private func forward(_ n: Int, training: Bool) {
        let h = hidden
        product(x.base, transposed: false, w1.base, transposed: true, into: z1.base, m: n, n: h, k: inputs, seconds: &blasSeconds)
        // BatchNorm over the batch, per channel (biased variance to
        // normalise, unbiased into the running estimate, as torch).
        if training {
            let mean = channelSums[0], variance = channelSums[1]
            mean.update(repeating: 0, count: h)
            variance.update(repeating: 0, count: h)
            for i in 0..<n { for j in 0..<h { mean[j] += z1[i][j] } }
            for j in 0..<h { mean[j] /= Float(n) }
            for i in 0..<n { for j in 0..<h { let d = z1[i][j] - mean[j]; variance[j] += d * d } }
            for j in 0..<h {
                let v = variance[j] / Float(n)
                invstd1.base[j] = 1 / (v + Network.eps).squareRoot()
                runningMean.base[j] += Network.bnMomentum * (mean[j] - runningMean.base[j])
                runningVar.base[j] += Network.bnMomentum * (v * Float(n) / Float(n - 1) - runningVar.base[j])
            }
            for i in 0..<n { for j in 0..<h { xhat1[i][j] = (z1[i][j] - mean[j]) * invstd1.base[j] } }
        } else {
            for i in 0..<n {
                for j in 0..<h {
                    xhat1[i][j] = (z1[i][j] - runningMean.base[j]) / (runningVar.base[j] + Network.eps).squareRoot()
                }
            }
        }
        for i in 0..<n { for j in 0..<h { a1[i][j] = max(0, g1.base[j] * xhat1[i][j] + b1.base[j]) } }

        product(a1.base, transposed: false, w2.base, transposed: true, into: z2.base, m: n, n: h, k: h, seconds: &blasSeconds)
        // LayerNorm over the channels, per sample.
        for i in 0..<n {
            let z = z2[i]
            var mean: Float = 0, variance: Float = 0
            for j in 0..<h { mean += z[j] }
            mean /= Float(h)
            for j in 0..<h { let d = z[j] - mean; variance += d * d }
            let s = 1 / (variance / Float(h) + Network.eps).squareRoot()
            invstd2.base[i] = s
            for j in 0..<h {
                xhat2[i][j] = (z[j] - mean) * s
                a2[i][j] = max(0, g2.base[j] * xhat2[i][j] + b2.base[j])
            }
        }
        product(a2.base, transposed: false, w3.base, transposed: true, into: logits.base, m: n, n: classes, k: h, seconds: &blasSeconds)
        for i in 0..<n { for j in 0..<classes { logits[i][j] += b3.base[j] } }
    }

    /// The mean cross-entropy and the correct count; with `gradient`, leaves
    /// d(loss)/d(logits) in `logits`.
    private func softmaxCrossEntropy(_ n: Int, labels: [Int], gradient: Bool) -> (loss: Double, correct: Int) {
        var loss = 0.0, correct = 0
        for i in 0..<n {
            let l = logits[i]
            var best = 0
            for j in 1..<classes where l[j] > l[best] { best = j }
            if best == labels[i] { correct += 1 }
            let top = l[best]
            var sum: Float = 0
            for j in 0..<classes { sum += exp(l[j] - top) }
            loss += Double(log(sum) + top - l[labels[i]])
            if gradient {
                for j in 0..<classes { l[j] = (exp(l[j] - top) / sum - (j == labels[i] ? 1 : 0)) / Float(n) }
            }
        }
        return (loss / Double(n), correct)
    }

    private func backward(_ n: Int) {
        let h = hidden
        // fc3: dW3 = dlogitsᵀ·a2, db3 = Σ dlogits, da2 = dlogits·W3.
        product(logits.base, transposed: true, a2.base, transposed: false, into: dw3.base, m: classes, n: h, k: n, seconds: &blasSeconds)
        db3.buffer.update(repeating: 0)
        for i in 0..<n { for j in 0..<classes { db3.base[j] += logits[i][j] } }
        product(logits.base, transposed: false, w3.base, transposed: false, into: da.base, m: n, n: h, k: classes, seconds: &blasSeconds)
        // ReLU and LayerNorm, per sample:
        // dz = invstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = dy·γ.
        dg2.buffer.update(repeating: 0)
        db2.buffer.update(repeating: 0)
        for i in 0..<n {
            var m1: Float = 0, m2: Float = 0
            for j in 0..<h {
                let dy = a2[i][j] > 0 ? da[i][j] : 0
                dg2.base[j] += dy * xhat2[i][j]
                db2.base[j] += dy
                let dx = dy * g2.base[j]
                dz[i][j] = dx
                m1 += dx
                m2 += dx * xhat2[i][j]
            }
            m1 /= Float(h)
            m2 /= Float(h)
            for j in 0..<h { dz[i][j] = invstd2.base[i] * (dz[i][j] - m1 - xhat2[i][j] * m2) }
        }
        product(dz.base, transposed: true, a1.base, transposed: false, into: dw2.base, m: h, n: h, k: n, seconds: &blasSeconds)
        product(dz.base, transposed: false, w2.base, transposed: false, into: da.base, m: n, n: h, k: h, seconds: &blasSeconds)
        // ReLU and BatchNorm, per channel over the batch.
        dg1.buffer.update(repeating: 0)
        db1.buffer.update(repeating: 0)
        let m1 = channelSums[0], m2 = channelSums[1]
        m1.update(repeating: 0, count: h)
        m2.update(repeating: 0, count: h)
        for i in 0..<n {
            for j in 0..<h {
                let dy = a1[i][j] > 0 ? da[i][j] : 0
                dg1.base[j] += dy * xhat1[i][j]
                db1.base[j] += dy
                let dx = dy * g1.base[j]
                da[i][j] = dx
                m1[j] += dx
                m2[j] += dx * xhat1[i][j]
            }
        }
        for j in 0..<h { m1[j] /= Float(n); m2[j] /= Float(n) }
        for i in 0..<n {
            for j in 0..<h { dz[i][j] = invstd1.base[j] * (da[i][j] - m1[j] - xhat1[i][j] * m2[j]) }
        }
        product(dz.base, transposed: true, x.base, transposed: false, into: dw1.base, m: h, n: inputs, k: n, seconds: &blasSeconds)
    }
}
#endif
