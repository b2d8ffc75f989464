internal import CAdamP

/// What a step did to one parameter, and what AdamP's or SGDP's
/// scale-invariance test saw: the quantities the paper is about. Read from
/// the statistics the step computed anyway (`adamp_diagnose`); for
/// parameters the statistics do not cover (one-dimensional ones, and every
/// parameter of Adam, AdamW and SGD) the norms are computed before the step,
/// which costs a read of their values and gradients.
public struct Diagnostics: Equatable, Sendable {
    /// What the projection did.
    public let projection: Projection
    /// The largest |cos(g_r, w_r)| over the rows (channel view), and the
    /// threshold δ/√(row width) it is tested against; NaN where not tested.
    public let channelCosine: Double, channelThreshold: Double
    /// |cos(g, w)| over the whole tensor (layer view), and δ/√(count); NaN
    /// where not tested.
    public let layerCosine: Double, layerThreshold: Double
    /// ‖w‖ before the step.
    public let weightNorm: Double
    /// ‖g‖ as the step used it (after unscaling and clipping).
    public let gradientNorm: Double
    /// The group's learning rate in the step.
    public let learningRate: Double

    /// The effective step size of a scale-invariant weight, learning rate
    /// over ‖w‖² (the paper's quantity: a growing norm shrinks it).
    public var effectiveStepSize: Double { learningRate / (weightNorm * weightNorm) }
}

extension OptimizerCore {
    /// Norms of the parameters the statistics do not cover, before the step:
    /// ‖w‖ (the master, where there is one) and ‖g · mul‖, computed as the
    /// kernels compute it: in the element type, or in Float for 16-bit types.
    func diagnosticNorms(mul: Double) {
        let projects = adamp_algorithm_projects(algorithm) != 0, m = Scalar(mul), mf = Float(mul)
        let narrow = MemoryLayout<Scalar>.size == 2
        for (i, p) in parameters.enumerated() {
            guard p.count > 0, let g = p.gradientPointer, !(projects && p.shape.count > 1) else {
                swiftNorms[i] = nil
                continue
            }
            let master = UnsafeRawPointer(buffer(i, nil).baseAddress), bits = UnsafeRawPointer(p.storage)
            var ww = 0.0, gg = 0.0
            for k in 0..<p.count {
                let w: Double = switch self.master {
                case ADAMP_MASTER_FLOAT32: Double(master!.load(fromByteOffset: 4 * k, as: Float.self))
                case ADAMP_MASTER_SPLIT:
                    Double(Float(bitPattern: UInt32(bits.load(fromByteOffset: 2 * k, as: UInt16.self)) << 16
                                 | UInt32(master!.load(fromByteOffset: 2 * k, as: UInt16.self))))
                default: Double(p.storage[k])
                }
                let x = narrow ? Double(Float(g[k]) * mf) : Double(mul == 1 ? g[k] : g[k] * m)
                ww += w * w
                gg += x * x
            }
            swiftNorms[i] = (ww.squareRoot(), gg.squareRoot())
        }
    }

    /// After a step: what the test saw, from the statistics.
    func recordDiagnostics() {
        let status = adamp_diagnose(algorithm, Scalar.scalarKind.cType, tensors, parameters.count, stats, statsCount, diagnosed)
        precondition(status == ADAMP_OK, "adamp_diagnose: \(String(cString: adamp_status_string(status)))")
        diagnosedRates = groups.map(\.learningRate)
        hasDiagnostics = true
    }

    func diagnostics(for p: Parameter<Scalar>) -> Diagnostics? {
        guard diagnosticsEnabled, hasDiagnostics, let i = indexOf[ObjectIdentifier(p)], p.count > 0 else { return nil }
        let d = diagnosed[i]
        let norms = swiftNorms[i] ?? (d.weight_norm, d.grad_norm)
        return Diagnostics(projection: Projection(rawValue: Int(d.projection)) ?? .skipped,
                           channelCosine: d.channel_cosine, channelThreshold: d.channel_threshold,
                           layerCosine: d.layer_cosine, layerThreshold: d.layer_threshold,
                           weightNorm: norms.0, gradientNorm: norms.1,
                           learningRate: diagnosedRates[groupOfParameter[i]])
    }
}
