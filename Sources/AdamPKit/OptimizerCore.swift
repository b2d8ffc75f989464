import Foundation
internal import CAdamP

/// What the core needs from an optimizer's hyperparameter struct.
protocol KernelHyperparameters {
    /// The C library's algorithm these hyperparameters drive.
    static var algorithm: adamp_algorithm { get }
    /// Every field, once: the C value, checkpoints and error names follow it.
    static var fields: [HyperparameterField<Self>] { get }
    /// The defaults (a field without one, SGDP's learning rate, is NaN).
    static var defaults: Self { get }
    var learningRate: Double { get set }
}

extension KernelHyperparameters {
    /// The C library's view of these hyperparameters (unused fields 0).
    var cValue: adamp_hparams {
        var c = adamp_hparams()
        for f in Self.fields { c[f.field] = f.get(self) }
        return c
    }

    /// The state buffers a step uses under these hyperparameters, in the
    /// order the kernels take them (state0, state1, state2), named as PyTorch
    /// names them: the C library's list (adamp_state_count, adamp_state_name).
    var stateNames: [String] {
        (0..<stateCount).map { String(cString: adamp_state_name(Self.algorithm, Int32($0))) }
    }

    /// How many state buffers a step uses under these hyperparameters.
    var stateCount: Int {
        var c = cValue
        return max(Int(adamp_state_count(Self.algorithm, &c)), 0)
    }
}

/// The machinery every optimizer shares: the parameters, their C tensor
/// descriptors and state buffers (owned here), the statistics scratch, and
/// the step. State is made when a group's hyperparameters first need it (at
/// init, or when e.g. amsgrad is switched on); a step allocates nothing.
final class OptimizerCore<Scalar: AdamPScalar, H: KernelHyperparameters> {
    let algorithm: adamp_algorithm
    let parameters: [Parameter<Scalar>]
    private(set) var groups: [H]
    /// The group each parameter is in.
    let groupOfParameter: [Int]
    let indexOf: [ObjectIdentifier: Int]
    /// Descriptor `i` is parameters[i]'s.
    let tensors: UnsafeMutablePointer<adamp_tensor>
    /// The parameters' gradients, as a step reads them (see `GradientSlot`).
    let gradients: GradientTable
    private let hparams: UnsafeMutablePointer<adamp_hparams>
    /// State lives in arenas: per group and buffer index k, one allocation
    /// holding buffer k of every parameter of the group, each at
    /// `arenaOffset[i]` (on a cache line), made when the first parameter of
    /// the group needs buffer k. So a step's moments are read as long
    /// streams across tensors, not as short ones that end before the
    /// hardware prefetcher has learnt them: on 20,000 tensors of [64, 8],
    /// Adam's step took 8.7 ms with one allocation per parameter, 6.9 ms
    /// with arenas (C harness, 2 threads).
    /// Offsets and sizes in bytes: state elements are `stateElement` bytes
    /// (the parameter's type, or `Float` with master weights).
    private var arenas: [[UnsafeMutableRawPointer?]]
    private let arenaOffset: [Int]
    private let arenaCount: [Int]
    /// The master weights the parameters keep (`.off` for `Float` and
    /// `Double`, their own master), and the state's dtype and element size.
    let master: adamp_master
    let stateDType: adamp_dtype
    let stateElement: Int
    /// With master weights: each parameter's master (or trail), in one
    /// allocation, and per descriptor its address (adamp_step_options.masters).
    private let masterArena: UnsafeMutableRawPointer?
    let masters: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// The master buffer's state name ("master_param", "master_trail"), its
    /// element size and safetensors dtype, as the C library names them
    /// (`adamp_master_buffer`).
    let masterBuffer: (name: String, element: Int, dtype: String)?
    /// Per parameter, how many state buffers it has (its regions of arenas
    /// beyond them are unused, and zero).
    private var stateBuffers: [Int]
    let stats: UnsafeMutablePointer<Double>
    let statsCount: Int
    /// Diagnostics, when enabled: per descriptor from C, per parameter the
    /// norms Swift computes, and the groups' rates in the step.
    var diagnosticsEnabled = false {
        didSet { if !diagnosticsEnabled { hasDiagnostics = false } }
    }
    let diagnosed: UnsafeMutablePointer<adamp_diagnostics>
    var swiftNorms: [(Double, Double)?]
    var diagnosedRates: [Double] = []
    var hasDiagnostics = false
    /// The gradient-norm pass's output (per descriptor) and workspace.
    private let norms: UnsafeMutablePointer<Double>
    private let normsWork: UnsafeMutablePointer<Double>
    private let normsWorkCount: Int
    private(set) var options = KernelOptions()
    /// Each group's base rate for schedules (PyTorch's `initial_lr`): set by
    /// the first schedule attached, saved in checkpoints.
    var initialLearningRates: [Double?]
    /// Internal rather than private so that a test can make the C call fail.
    var config = adamp_config(isa: ADAMP_ISA_AUTO, threads: 0, block: 0)

    /// Each group's fields are set over `defaults`; everything is validated
    /// before anything is made.
    init(defaults: H, groups spec: [ParameterGroup<Scalar, H>], masterWeights: MasterWeights = .off) throws {
        let algorithm = H.algorithm
        let dtype = Scalar.scalarKind.cType
        // .float32 is every type's (Float and Double are their own master);
        // the others are those the C library lets the type keep.
        guard masterWeights == .float32 || adamp_master_takes(masterWeights.cValue, dtype) != 0 else {
            let types: [any AdamPScalar.Type] = [BFloat16.self, Float16.self]
            let takes = types.filter { adamp_master_takes(masterWeights.cValue, $0.scalarKind.cType) != 0 }
            throw OptimizerError.invalidArgument(name: "masterWeights", value: ".\(masterWeights)",
                                                 rule: "keeps \(takes.map { "\($0)" }.joined(separator: " and ")) parameters, not \(Scalar.self)")
        }
        // Float and Double are their own master.
        let master = adamp_master_takes(masterWeights.cValue, dtype) != 0 ? masterWeights.cValue : ADAMP_MASTER_OFF
        let stateDType = adamp_state_dtype(dtype, master)
        let stateElement = adamp_dtype_size(stateDType)
        try Self.validate(defaults, algorithm: algorithm, group: nil)
        let groups = spec.map { (parameters: $0.parameters, hyperparameters: $0.resolved(over: defaults)) }
        for (i, g) in groups.enumerated() {
            try Self.validate(g.hyperparameters, algorithm: algorithm, group: groups.count > 1 ? i : nil)
        }
        self.algorithm = algorithm
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
        let stateCounts = groups.map(\.hyperparameters.stateCount)
        for (p, g) in zip(parameters, groupOf) {
            try Self.checkStateFits(p, buffers: stateCounts[g], element: stateElement)
        }
        var arenaOffset = [Int](repeating: 0, count: parameters.count)
        var arenaCount = [Int](repeating: 0, count: groups.count)
        for (i, (p, g)) in zip(parameters, groupOf).enumerated() {
            arenaOffset[i] = arenaCount[g]
            guard let bytes = Aligned.lineBytes(p.count, size: stateElement),
                  case let (end, false) = arenaCount[g].addingReportingOverflow(bytes) else {
                throw OptimizerError.invalidShape(p.shape)
            }
            arenaCount[g] = end
        }
        self.arenaOffset = arenaOffset
        self.arenaCount = arenaCount
        self.master = master
        self.stateDType = stateDType
        self.stateElement = stateElement
        // The master buffers: one allocation, each parameter's on a cache line.
        var name: UnsafePointer<CChar>?, element: UnsafePointer<CChar>?
        adamp_master_buffer(master, &name, &element)
        masterBuffer = try name.map { name in
            // The element types C keeps masters in, as Swift holds them.
            let types = ["float32": (MemoryLayout<Float>.size, Float.safetensorsDType),
                         "uint16": (MemoryLayout<UInt16>.size, UInt16.safetensorsDType)]
            guard let e = element.map({ String(cString: $0) }), let (size, dtype) = types[e] else {
                throw OptimizerError.invalidArgument(name: "masterWeights", value: String(cString: adamp_master_name(master)),
                                                     rule: "a master element type this build knows (the C library's is \(element.map { String(cString: $0) } ?? "none"))")
            }
            return (String(cString: name), size, dtype)
        }
        let masterElement = masterBuffer?.element ?? 0
        masters = .allocate(capacity: max(parameters.count, 1))
        masters.initialize(repeating: nil, count: max(parameters.count, 1))
        if masterBuffer != nil {
            var offsets: [Int] = []
            var total = 0
            for p in parameters {
                offsets.append(total)
                guard let bytes = Aligned.lineBytes(p.count, size: masterElement),
                      case let (end, false) = total.addingReportingOverflow(bytes) else {
                    masters.deallocate()
                    throw OptimizerError.invalidShape(p.shape)
                }
                total = end
            }
            let arena = Aligned.allocate(bytes: total)
            arena.initializeMemory(as: UInt8.self, repeating: 0, count: max(total, 1))
            for i in parameters.indices { masters[i] = arena + offsets[i] }
            masterArena = arena
        } else {
            masterArena = nil
        }
        arenas = Array(repeating: Array(repeating: nil, count: Int(ADAMP_MAX_STATES)), count: groups.count)
        self.parameters = parameters
        self.groups = groups.map(\.hyperparameters)
        self.initialLearningRates = Array(repeating: nil, count: groups.count)
        self.groupOfParameter = groupOf
        self.indexOf = indexOf

        hparams = .allocate(capacity: max(groups.count, 1))
        for (i, g) in self.groups.enumerated() { (hparams + i).initialize(to: g.cValue) }
        tensors = .allocate(capacity: max(parameters.count, 1))
        stateBuffers = .init(repeating: 0, count: parameters.count)
        gradients = GradientTable(parameters)
        for (i, p) in parameters.enumerated() {
            (tensors + i).initialize(to: p.descriptor(hparams: UnsafePointer(hparams + groupOf[i])))
        }
        // Algorithms without projection ignore the statistics (adamp.h).
        statsCount = adamp_stats_len(tensors, parameters.count)
        stats = .allocate(capacity: max(statsCount, 1))
        stats.initialize(repeating: 0, count: max(statsCount, 1))
        diagnosed = .allocate(capacity: max(parameters.count, 1))
        diagnosed.initialize(repeating: adamp_diagnostics(), count: max(parameters.count, 1))
        swiftNorms = Array(repeating: nil, count: parameters.count)
        norms = .allocate(capacity: max(2 * parameters.count, 1))
        norms.initialize(repeating: 0, count: max(2 * parameters.count, 1))
        normsWorkCount = adamp_grad_norms_len(tensors, parameters.count)
        normsWork = .allocate(capacity: max(normsWorkCount, 1))
        normsWork.initialize(repeating: 0, count: max(normsWorkCount, 1))
        for i in parameters.indices { reserveState(i, buffers: stateCounts[groupOf[i]]) }
    }

    deinit {
        tensors.deallocate()
        hparams.deallocate()
        stats.deallocate()
        norms.deallocate()
        diagnosed.deallocate()
        normsWork.deallocate()
        for a in arenas.joined() { a?.deallocate() }
        masterArena?.deallocate()
        masters.deallocate()
    }

    /// Throws, before anything is allocated, if `n` state buffers for `p`
    /// would not fit in memory's address range (rather than trap on overflow).
    private static func checkStateFits(_ p: Parameter<Scalar>, buffers n: Int, element: Int) throws {
        guard let bytes = Aligned.lineBytes(p.count, size: element), !bytes.multipliedReportingOverflow(by: n).overflow else {
            throw OptimizerError.invalidShape(p.shape)
        }
    }

    /// Gives parameter `i` at least `n` state buffers: new ones zero-filled,
    /// as PyTorch creates state, existing ones kept.
    private func reserveState(_ i: Int, buffers n: Int) {
        guard n > stateBuffers[i] else { return }
        let g = groupOfParameter[i]
        for k in stateBuffers[i]..<n where arenas[g][k] == nil {
            let a = Aligned.allocate(bytes: arenaCount[g])
            a.initializeMemory(as: UInt8.self, repeating: 0, count: max(arenaCount[g], 1))
            arenas[g][k] = a
        }
        stateBuffers[i] = n
        let t = tensors + i
        let at = { (k: Int) in k < n ? self.stateBuffer(i, k) : nil }
        (t.pointee.state0, t.pointee.state1, t.pointee.state2) = (at(0), at(1), at(2))
    }

    /// Parameter `i`'s state buffer k (k < stateBuffers[i]).
    private func stateBuffer(_ i: Int, _ k: Int) -> UnsafeMutableRawPointer {
        arenas[groupOfParameter[i]][k]! + arenaOffset[i]
    }

    /// Parameter `i`'s state buffer k, or its master (k == nil), as bytes.
    func buffer(_ i: Int, _ k: Int?) -> UnsafeMutableRawBufferPointer {
        if let k { return UnsafeMutableRawBufferPointer(start: stateBuffer(i, k), count: parameters[i].count * stateElement) }
        return UnsafeMutableRawBufferPointer(start: masters[i], count: parameters[i].count * (masterBuffer?.element ?? 0))
    }

    /// Gives each parameter about to take its first step (those with a
    /// gradient, or `only`) its master: its
    /// values widened (float32), or a zero trail (split: the parameter is
    /// the master's upper half). Runs after every check of the step (and
    /// before the diagnostics read the masters).
    func startMasters(_ only: [Int]? = nil) {
        guard master != ADAMP_MASTER_OFF else { return }
        if let only {
            for i in only { startMaster(i) }
        } else {
            for i in parameters.indices where tensors[i].grad != nil { startMaster(i) }
        }
    }

    private func startMaster(_ i: Int) {
        let b = buffer(i, nil), n = parameters[i].count
        guard tensors[i].step == 0, n > 0 else { return }
        if master == ADAMP_MASTER_SPLIT {
            b.initializeMemory(as: UInt8.self, repeating: 0)
        } else {
            let out = b.bindMemory(to: Float.self)
            let p = parameters[i].storage
            for e in 0..<n { out[e] = Float(p[e]) }
        }
    }

    func validate(_ h: H, group: Int?) throws { try Self.validate(h, algorithm: algorithm, group: group) }

    /// Checks `h` with the C rules, so that Swift and C agree on them, and
    /// names the bad field by its Swift label.
    static func validate(_ h: H, algorithm: adamp_algorithm, group: Int?) throws {
        var c = h.cValue
        var field = ADAMP_FIELD_NONE
        var rule: UnsafePointer<CChar>?
        let status = adamp_hparams_check(algorithm, &c, &field, &rule)
        guard status != ADAMP_OK else { return }
        let (name, value) = swiftField(field, c)
        throw OptimizerError.invalidHyperparameter(
            name: name, value: value, rule: rule.map { String(cString: $0) } ?? "", group: group)
    }

    private static func swiftField(_ f: adamp_field, _ h: adamp_hparams) -> (String, Double) {
        (HyperparameterFields.swiftName(f), h[f])
    }

    // MARK: step

    func step(_ options: StepOptions = StepOptions()) throws -> StepResult<Scalar> {
        // Every check before any write: a throwing step changes nothing.
        try options.validate()
        let count = parameters.count
        let live = try StepDriver.takeGradients(parameters, gradients, into: tensors)
        var gradNorm: Double?
        var nonfinite: [Parameter<Scalar>] = []
        var mul = 1 / options.gradScale
        if options.needsNorms && live > 0 {
            try GradientNorms.measure(&config, Scalar.scalarKind.cType, tensors, count, sumsq: norms,
                                      maxabs: norms + count, work: normsWork, workCount: normsWorkCount)
            nonfinite = parameters.indices.filter { !norms[count + $0].isFinite }.map { parameters[$0] }
            let total = GradientNorms.total(tensors, sumsq: UnsafeBufferPointer(start: norms, count: count),
                                            maxabs: UnsafeBufferPointer(start: norms + count, count: count),
                                            normType: options.normType, scale: options.gradScale, as: Scalar.self)
            gradNorm = total
            if options.skipIfNonfinite && !nonfinite.isEmpty {
                return StepResult(skipped: true, nonfinite: nonfinite, gradNorm: total)
            }
            if let maxNorm = options.maxGradNorm { mul *= GradientNorms.coefficient(maxNorm: maxNorm, total: total) }
        }
        startMasters()
        if diagnosticsEnabled { diagnosticNorms(mul: mul) }
        // Checks everything before it writes anything: this is the last check
        // that can fail, and nothing visible has changed before it. The
        // statistics are kept only for diagnostics, which read them.
        var o = adamp_step_options()  // the fields not set here at their defaults (zero)
        o.size = MemoryLayout<adamp_step_options>.size
        o.grad_mul = mul
        o.drop_stats = diagnosticsEnabled ? 0 : 1
        o.master = Int32(master.rawValue)
        o.masters = UnsafePointer(masters)
        let status = adamp_step_ex(&config, algorithm, Scalar.scalarKind.cType, tensors, count, stats, statsCount, &o)
        guard status == ADAMP_OK else {
            throw OptimizerError.kernelFailure(String(cString: adamp_status_string(status)))
        }
        if diagnosticsEnabled { recordDiagnostics() }
        return StepResult(skipped: false, nonfinite: nonfinite, gradNorm: gradNorm)
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
        guard let i = index(p), tensors[i].step > 0, p.count > 0 else { return [:] }
        // The buffers in use come first; one kept from earlier hyperparameters is not shown.
        let names = groups[groupOfParameter[i]].stateNames
        return Dictionary(uniqueKeysWithValues: zip(names, savedState(i).buffers.map(values)))
    }

    /// A state buffer's elements as `Scalar` (rounded, where the state is
    /// `Float` for master weights).
    private func values(_ b: UnsafeRawBufferPointer) -> [Scalar] {
        if stateDType == Scalar.scalarKind.cType { return Array(b.bindMemory(to: Scalar.self)) }
        return b.bindMemory(to: Float.self).map { Scalar($0) }
    }

    func stepCount(for p: Parameter<Scalar>) -> Int {
        index(p).map { Int(tensors[$0].step) } ?? 0
    }

    func lastProjection(for p: Parameter<Scalar>) -> Projection? {
        guard let i = index(p), tensors[i].step > 0 else { return nil }
        return Projection(rawValue: Int(tensors[i].projection))
    }

    // MARK: checkpoints

    /// Parameter `i`'s step count and every state buffer it has (those in
    /// use first; a buffer kept from earlier hyperparameters after them).
    func savedState(_ i: Int) -> (step: Int64, buffers: [UnsafeRawBufferPointer], master: UnsafeRawBufferPointer?) {
        let buffers = (0..<stateBuffers[i]).map { UnsafeRawBufferPointer(buffer(i, $0)) }
        return (tensors[i].step, buffers, masterBuffer == nil ? nil : UnsafeRawBufferPointer(buffer(i, nil)))
    }

    /// Replaces every group's hyperparameters and every parameter's step
    /// count and state (`buffers[i][k]`: buffer k's bytes; buffers beyond
    /// them are zeroed),
    /// as a checkpoint holds them. The caller has validated all of it
    /// (`validate`, `checkStateFits`), so nothing here can fail.
    func restore(groups newGroups: [H], steps: [Int64], buffers: [[Data]], masters saved: [Data?]) {
        for (g, h) in newGroups.enumerated() {
            groups[g] = h
            hparams[g] = h.cValue
        }
        for i in parameters.indices {
            reserveState(i, buffers: max(groups[groupOfParameter[i]].stateCount, buffers[i].count))
            for k in 0..<stateBuffers[i] { buffer(i, k).initializeMemory(as: UInt8.self, repeating: 0) }
            for (k, data) in buffers[i].enumerated() { _ = data.copyBytes(to: buffer(i, k)) }
            if let m = saved[i] { _ = m.copyBytes(to: buffer(i, nil)) }
            tensors[i].step = steps[i]
            tensors[i].projection = ADAMP_PROJ_SKIPPED.rawValue
        }
    }

    /// Throws `.invalidShape` if parameter `i` could not hold `n` state buffers.
    func checkStateFits(_ i: Int, buffers n: Int) throws {
        try Self.checkStateFits(parameters[i], buffers: n, element: stateElement)
    }

    // MARK: groups

    func checkGroup(_ g: Int) throws {
        guard groups.indices.contains(g) else { throw OptimizerError.invalidGroup(g, groupCount: groups.count) }
    }

    func setHyperparameters(_ h: H, group g: Int) throws {
        try checkGroup(g)
        try validate(h, group: g)
        let n = h.stateCount
        for i in parameters.indices where groupOfParameter[i] == g { try checkStateFits(i, buffers: n) }
        groups[g] = h
        hparams[g] = h.cValue
        for i in parameters.indices where groupOfParameter[i] == g { reserveState(i, buffers: n) }
    }
}

/// What the projection did to a parameter in its last step. (No case is
/// named `none`: `lastProjection(for:) == .none` would compare with
/// `Optional.none`.) The raw values are the C library's `adamp_projection`.
public enum Projection: Sendable, CaseIterable, RawRepresentable {
    /// The parameter had no gradient in the last step and was left untouched.
    case skipped
    /// Not scale-invariant (or one-dimensional, or an optimizer without a
    /// projection): the plain update.
    case unprojected
    /// Scale-invariant per output channel: projected row by row.
    case channel
    /// Scale-invariant as a whole layer: projected over the whole tensor.
    case layer

    var cValue: adamp_projection {
        switch self {
        case .skipped: ADAMP_PROJ_SKIPPED
        case .unprojected: ADAMP_PROJ_NONE
        case .channel: ADAMP_PROJ_CHANNEL
        case .layer: ADAMP_PROJ_LAYER
        }
    }

    public var rawValue: Int { Int(cValue.rawValue) }
    public init?(rawValue: Int) {
        guard let p = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = p
    }
}
