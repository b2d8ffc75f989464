internal import CAdamP

/// What the core needs from an optimizer's hyperparameter struct.
protocol KernelHyperparameters {
    static var algorithm: adamp_algorithm { get }
    /// Names of the state buffers, in the order the kernels use them.
    static var stateNames: [String] { get }
    var learningRate: Double { get set }
    var cValue: adamp_hparams { get }
}

/// The machinery AdamP and SGDP share: the parameters, their C tensor
/// descriptors and state buffers (owned here, made once), the statistics
/// scratch, and the step. A step allocates nothing.
final class OptimizerCore<Scalar: AdamPScalar, H: KernelHyperparameters> {
    let parameters: [Parameter<Scalar>]
    private(set) var groups: [H]
    private let groupOfParameter: [Int]
    private let indexOf: [ObjectIdentifier: Int]
    /// Descriptor `slot[i]` belongs to parameters[i]. Empty parameters have
    /// nothing to update (and rows == 0, which the C API rejects), so their
    /// descriptors sit after the first `kernelCount`, which go to C.
    private let tensors: UnsafeMutablePointer<adamp_tensor>
    private let slot: [Int]
    private let kernelCount: Int
    private let hparams: UnsafeMutablePointer<adamp_hparams>
    private let state: [UnsafeMutablePointer<Scalar>]
    private let stats: UnsafeMutablePointer<Double>
    private let statsCount: Int
    private(set) var options = KernelOptions()
    private var config = adamp_config(isa: ADAMP_ISA_AUTO, threads: 0, block: 0)

    /// `groups` pairs parameters with a function that fills in a group's
    /// overrides over `defaults`; everything is validated before anything is made.
    init(defaults: H, groups spec: [(parameters: [Parameter<Scalar>], resolve: (H) -> H)]) throws {
        try Self.validate(defaults, group: nil)
        let groups = spec.map { (parameters: $0.parameters, hyperparameters: $0.resolve(defaults)) }
        for (i, g) in groups.enumerated() { try Self.validate(g.hyperparameters, group: groups.count > 1 ? i : nil) }
        var parameters: [Parameter<Scalar>] = []
        var groupOf: [Int] = []
        var indexOf: [ObjectIdentifier: Int] = [:]
        for (gi, g) in groups.enumerated() {
            for p in g.parameters {
                guard indexOf.updateValue(parameters.count, forKey: ObjectIdentifier(p)) == nil else {
                    throw OptimizerError.duplicateParameter(p.label)
                }
                parameters.append(p)
                groupOf.append(gi)
            }
        }
        self.parameters = parameters
        self.groups = groups.map(\.hyperparameters)
        self.groupOfParameter = groupOf
        self.indexOf = indexOf

        hparams = .allocate(capacity: max(groups.count, 1))
        for (i, g) in self.groups.enumerated() { (hparams + i).initialize(to: g.cValue) }
        tensors = .allocate(capacity: max(parameters.count, 1))
        let nStates = H.stateNames.count
        // One allocation per parameter, each state buffer starting on a cache line.
        let strides = parameters.map { Aligned.padded($0.count, of: Scalar.self) }
        state = strides.map { stride in
            let buffer = Aligned.allocate(Scalar.self, count: stride * nStates)
            buffer.initialize(repeating: 0, count: max(stride * nStates, 1))
            return buffer
        }
        let nonEmpty = parameters.indices.filter { parameters[$0].count > 0 }
        let order = nonEmpty + parameters.indices.filter { parameters[$0].count == 0 }
        var slot = [Int](repeating: 0, count: parameters.count)
        for (s, i) in order.enumerated() { slot[i] = s }
        self.slot = slot
        kernelCount = nonEmpty.count
        for (i, p) in parameters.enumerated() {
            let rows = p.shape.count > 1 ? p.shape[0] : 1
            (tensors + slot[i]).initialize(to: adamp_tensor(
                param: UnsafeMutableRawPointer(p.storage),
                grad: nil,
                state0: UnsafeMutableRawPointer(state[i]),
                state1: nStates > 1 ? UnsafeMutableRawPointer(state[i] + strides[i]) : nil,
                hparams: UnsafePointer(hparams + groupOf[i]),
                rows: rows,
                cols: rows == 0 ? 0 : p.count / rows,
                ndim: Int32(clamping: p.shape.count),
                projection: ADAMP_PROJ_SKIPPED.rawValue,
                step: 0))
        }
        statsCount = adamp_stats_len(tensors, kernelCount)
        stats = .allocate(capacity: max(statsCount, 1))
        stats.initialize(repeating: 0, count: max(statsCount, 1))
    }

    deinit {
        tensors.deallocate()
        hparams.deallocate()
        stats.deallocate()
        for s in state { Aligned.deallocate(s) }
    }

    /// Checks `h` with the C rules, so that Swift and C agree on them, and
    /// names the bad field by its Swift label.
    static func validate(_ h: H, group: Int?) throws {
        var c = h.cValue
        var field = ADAMP_FIELD_NONE
        var rule: UnsafePointer<CChar>?
        let status = adamp_hparams_check(H.algorithm, &c, &field, &rule)
        guard status != ADAMP_OK else { return }
        let (name, value) = swiftField(field, c)
        throw OptimizerError.invalidHyperparameter(
            name: name, value: value, rule: rule.map { String(cString: $0) } ?? "", group: group)
    }

    private static func swiftField(_ f: adamp_field, _ h: adamp_hparams) -> (String, Double) {
        switch f {
        case ADAMP_FIELD_LR: return ("learningRate", h.lr)
        case ADAMP_FIELD_BETA1: return ("betas.0", h.beta1)
        case ADAMP_FIELD_BETA2: return ("betas.1", h.beta2)
        case ADAMP_FIELD_MOMENTUM: return ("momentum", h.momentum)
        case ADAMP_FIELD_DAMPENING: return ("dampening", h.dampening)
        case ADAMP_FIELD_EPS: return ("eps", h.eps)
        case ADAMP_FIELD_WEIGHT_DECAY: return ("weightDecay", h.weight_decay)
        case ADAMP_FIELD_DELTA: return ("delta", h.delta)
        case ADAMP_FIELD_WD_RATIO: return ("wdRatio", h.wd_ratio)
        default: return (String(cString: adamp_field_name(f)), .nan)
        }
    }

    // MARK: step

    func step() throws {
        // Every check before any write: a throwing step changes nothing.
        for p in parameters {
            if case let .mismatched(g) = p.gradient {
                throw OptimizerError.gradientCountMismatch(parameter: p.label, expected: p.count, actual: g.count)
            }
        }
        var live = 0
        for (i, p) in parameters.enumerated() {
            let t = tensors + slot[i]
            let g = p.gradientPointer
            if p.count == 0 {
                // Nothing to update, but the step is counted as PyTorch counts it.
                if g != nil { t.pointee.step += 1 }
                t.pointee.projection = g != nil ? ADAMP_PROJ_NONE.rawValue : ADAMP_PROJ_SKIPPED.rawValue
                continue
            }
            t.pointee.param = UnsafeMutableRawPointer(p.storage)
            t.pointee.grad = UnsafeRawPointer(g)
            if g != nil { live += 1 }
        }
        guard live > 0 else {
            for s in 0..<kernelCount { tensors[s].projection = ADAMP_PROJ_SKIPPED.rawValue }
            return
        }
        let status = adamp_step(&config, H.algorithm, Scalar.scalarKind.cType, tensors, kernelCount, stats, statsCount)
        guard status == ADAMP_OK else {
            throw OptimizerError.kernelFailure(String(cString: adamp_status_string(status)))
        }
    }

    func zeroGrad(setToNone: Bool) {
        for p in parameters { p.zeroGrad(setToNone: setToNone) }
    }

    func setOptions(_ o: KernelOptions) throws {
        config = try o.validated()
        options = o
    }

    // MARK: state

    private func index(_ p: Parameter<Scalar>) -> Int? { indexOf[ObjectIdentifier(p)] }

    func state(for p: Parameter<Scalar>) -> [String: [Scalar]] {
        guard let i = index(p), tensors[slot[i]].step > 0, p.count > 0 else { return [:] }
        var out: [String: [Scalar]] = [:]
        for (k, name) in H.stateNames.enumerated() {
            out[name] = Array(UnsafeBufferPointer(start: state[i] + k * Aligned.padded(p.count, of: Scalar.self), count: p.count))
        }
        return out
    }

    func stepCount(for p: Parameter<Scalar>) -> Int {
        index(p).map { Int(tensors[slot[$0]].step) } ?? 0
    }

    func lastProjection(for p: Parameter<Scalar>) -> Projection? {
        guard let i = index(p), tensors[slot[i]].step > 0 else { return nil }
        return Projection(rawValue: Int(tensors[slot[i]].projection))
    }

    // MARK: groups

    func checkGroup(_ g: Int) throws {
        guard groups.indices.contains(g) else { throw OptimizerError.invalidGroup(g, groupCount: groups.count) }
    }

    func setHyperparameters(_ h: H, group g: Int) throws {
        try checkGroup(g)
        try Self.validate(h, group: g)
        groups[g] = h
        hparams[g] = h.cValue
    }
}

/// What the projection did to a parameter in its last step.
public enum Projection: Int, Sendable {
    /// The parameter had no gradient in the last step and was left untouched.
    case skipped = -1
    /// Not scale-invariant (or one-dimensional): the plain update.
    case none = 0
    /// Scale-invariant per output channel: projected row by row.
    case channel = 1
    /// Scale-invariant as a whole layer: projected over the whole tensor.
    case layer = 2
}
