import Foundation
internal import CAdamP

/// What a step does to the gradients before it uses them: loss unscaling,
/// clipping by global norm, and the non-finite guard. Folded into the step:
/// the kernels multiply each gradient element as they read it, so neither
/// unscaling nor clipping costs a pass over memory; the norm (and the guard)
/// costs one read of the gradients.
public struct StepOptions: Equatable, Sendable {
    /// The loss scale the gradients carry (mixed precision): they are divided
    /// by it (multiplied by its reciprocal, exactly for powers of two), as
    /// PyTorch's fused optimizers' `grad_scale`. Finite and > 0; default 1.
    public var gradScale: Double
    /// Clip the unscaled gradients to this global norm, as
    /// `torch.nn.utils.clip_grad_norm_` (coefficient `maxNorm / (norm + 1e-6)`
    /// when below 1). Finite and >= 0; nil (default): no clipping.
    public var maxGradNorm: Double?
    /// The norm clipping uses: 2 (default) or `.infinity`.
    public var normType: Double
    /// Skip the whole step (changing nothing) if any gradient holds a NaN or
    /// an infinity, as PyTorch's `found_inf` (default false).
    public var skipIfNonfinite: Bool

    public init(gradScale: Double = 1, maxGradNorm: Double? = nil, normType: Double = 2, skipIfNonfinite: Bool = false) {
        (self.gradScale, self.maxGradNorm, self.normType, self.skipIfNonfinite) = (gradScale, maxGradNorm, normType, skipIfNonfinite)
    }

    /// Whether a pass over the gradients is needed before the step.
    var needsNorms: Bool { maxGradNorm != nil || skipIfNonfinite }

    package func validate() throws {
        // The gradients are multiplied by 1 / gradScale, which must be finite too.
        try ArgumentCheck.require(gradScale.isFinite && gradScale > 0 && (1 / gradScale).isFinite, "gradScale", gradScale,
                                  "must be finite and > 0, with a finite reciprocal (above 5.6e-309)")
        if let m = maxGradNorm { try ArgumentCheck.finite(m, "maxGradNorm") }
        try GradientNorms.checkNormType(normType)
    }
}

/// What a step with `StepOptions` did.
public struct StepResult<Scalar: AdamPScalar> {
    /// True when the step was skipped (`skipIfNonfinite` and a gradient held
    /// a NaN or an infinity): no parameter, state buffer or step count changed.
    public let skipped: Bool
    /// The parameters whose gradients held a NaN or an infinity (checked when
    /// clipping or guarding; empty otherwise).
    public let nonfinite: [Parameter<Scalar>]
    /// The global norm of the unscaled gradients before clipping, when it was
    /// computed (clipping or guarding); nil otherwise.
    public let gradNorm: Double?
}

/// The global norm over many gradients, from one threaded pass in C
/// (`adamp_grad_norms`), and the clipping coefficient from it.
enum GradientNorms {
    static func checkNormType(_ p: Double) throws {
        try ArgumentCheck.require(p == 2 || p == .infinity, "normType", p, "must be 2 or .infinity")
    }

    /// The per-tensor sums of squares and largest magnitudes of `count`
    /// descriptors (those without a gradient give 0), into `sumsq`,
    /// `maxabs` (count each) and `work` (adamp_grad_norms_len).
    static func measure(_ config: inout adamp_config, _ dtype: adamp_dtype, _ tensors: UnsafePointer<adamp_tensor>,
                        _ count: Int, sumsq: UnsafeMutablePointer<Double>, maxabs: UnsafeMutablePointer<Double>,
                        work: UnsafeMutablePointer<Double>, workCount: Int) throws {
        let status = adamp_grad_norms(&config, dtype, tensors, count, sumsq, maxabs, work, workCount)
        guard status == ADAMP_OK else { throw OptimizerError.kernelFailure(String(cString: adamp_status_string(status))) }
    }

    /// The global norm of the gradients of `tensors` (`sumsq.count` of
    /// them) from their sums, divided by the loss scale. Where finite
    /// gradients' squares overflow Double (elements near 1e154 and above),
    /// the 2-norm is taken again, as LAPACK's nrm2 takes it: the sum of
    /// squares of the elements divided by the largest magnitude, times it.
    /// (torch.nn.utils.clip_grad_norm_ sums the squares as they are: its norm
    /// is then infinite, and it zeroes every gradient.)
    static func total<Scalar: AdamPScalar>(_ tensors: UnsafePointer<adamp_tensor>, sumsq: UnsafeBufferPointer<Double>,
                                           maxabs: UnsafeBufferPointer<Double>, normType: Double, scale: Double,
                                           as _: Scalar.Type) -> Double {
        let largest = maxabs.reduce(0) { $0.isNaN || $1.isNaN ? .nan : max($0, $1) }
        if normType == .infinity { return largest / scale }
        let sum = sumsq.reduce(0, +)
        guard !sum.isFinite, largest.isFinite, largest > 0 else { return sum.squareRoot() / scale }
        var scaled = 0.0
        for i in 0..<sumsq.count {
            guard let g = tensors[i].grad?.assumingMemoryBound(to: Scalar.self) else { continue }
            for e in 0..<tensors[i].rows * tensors[i].cols {
                let x = Double(g[e]) / largest
                scaled += x * x
            }
        }
        return largest * scaled.squareRoot() / scale
    }

    /// PyTorch's clipping coefficient, clamped to at most 1; 1 for a norm
    /// that is not finite (PyTorch would make every gradient NaN: guard the
    /// step with `skipIfNonfinite`, or look at the norm, instead).
    static func coefficient(maxNorm: Double, total: Double) -> Double {
        guard total.isFinite else { return 1 }
        return min(maxNorm / (total + 1e-6), 1)
    }
}

/// Clips the gradients of `parameters` to a global norm, as
/// `torch.nn.utils.clip_grad_norm_`: computes the norm over all of them in
/// one threaded pass and, when `maxNorm / (norm + 1e-6)` is below 1,
/// multiplies every gradient by it in place.
///
/// Through an optimizer, `step(maxGradNorm:)` does the same without the
/// second pass over memory.
///
/// - Parameters:
///   - parameters: Their gradients (those without one are left out). A
///     borrowed gradient (`setGradient(borrowing:)`) cannot be scaled in place.
///   - maxNorm: Finite, >= 0.
///   - normType: 2 (default) or `.infinity`.
/// - Returns: The norm before clipping, computed without overflow (finite
///   gradients whose squares overflow Double give their finite norm; see
///   `GradientNorms.total`). If it is not finite (a NaN or an infinity in a
///   gradient), nothing is scaled (PyTorch would make every gradient NaN).
/// - Throws: `OptimizerError.invalidArgument` for a bad `maxNorm` or
///   `normType`, or a borrowed gradient; `.gradientCountMismatch`; nothing
///   is changed then.
///
/// The corresponding C function is `adamp_grad_norms`.
@discardableResult
public func clipGradNorm<Scalar: AdamPScalar>(_ parameters: [Parameter<Scalar>], maxNorm: Double,
                                              normType: Double = 2) throws -> Double {
    try ArgumentCheck.finite(maxNorm, "maxNorm")
    try GradientNorms.checkNormType(normType)
    var live: [Parameter<Scalar>] = []
    for p in parameters {
        switch p.gradient {
        case let .mismatched(g):
            throw OptimizerError.gradientCountMismatch(parameter: p.label, expected: p.count, actual: g.count)
        case .borrowed:
            throw OptimizerError.invalidArgument(name: "parameters", value: p.label,
                                                 rule: "a borrowed gradient cannot be clipped in place: use step(maxGradNorm:)")
        case .owned where p.count > 0: live.append(p)
        default: break
        }
    }
    guard !live.isEmpty else { return 0 }
    var tensors = live.map { p in
        adamp_tensor(param: UnsafeMutableRawPointer(p.storage), grad: UnsafeRawPointer(p.gradientPointer!), state0: nil,
                     state1: nil, state2: nil, hparams: nil, rows: 1, cols: p.count, ndim: 1, projection: 0, step: 0)
    }
    var sumsq = [Double](repeating: 0, count: live.count), maxabs = sumsq
    var work = [Double](repeating: 0, count: max(adamp_grad_norms_len(&tensors, live.count), 1))
    var config = adamp_config(isa: ADAMP_ISA_AUTO, threads: 0, block: 0)
    try GradientNorms.measure(&config, Scalar.scalarKind.cType, &tensors, live.count, sumsq: &sumsq, maxabs: &maxabs,
                              work: &work, workCount: work.count)
    let total = sumsq.withUnsafeBufferPointer { s in
        maxabs.withUnsafeBufferPointer {
            GradientNorms.total(&tensors, sumsq: s, maxabs: $0, normType: normType, scale: 1, as: Scalar.self)
        }
    }
    let coef = GradientNorms.coefficient(maxNorm: maxNorm, total: total)
    if coef < 1 {
        let c = Scalar(coef)
        for p in live { p.withUnsafeMutableGradient { g in for i in g.indices { g[i] *= c } } }
    }
    return total
}
