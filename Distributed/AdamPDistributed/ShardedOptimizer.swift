import AdamPKit
internal import CAdamP
internal import CAdamPMPI

/// An optimizer of this package sharded across the processes of a
/// `Communicator` (ZeRO stage 1): every rank holds the whole parameters and
/// gradients, but optimizer state only for its shard of their rows; each
/// rank steps its rows, and the updated rows are all-gathered into every
/// rank's parameters. AdamP's and SGDP's per-row statistics, and the layer
/// view's projection sum, are combined across ranks in row order, so that
/// the parameters, state and decisions are bitwise those of `Base` stepping
/// the whole model in one process, for any number of ranks.
///
/// Partition: whole rows (`shape[0]`; a tensor of one dimension is one row),
/// contiguous in the order of `parameters`, balanced by elements. `base` is
/// an ordinary optimizer over this rank's rows (`shards`), so hyperparameters,
/// groups and schedules are set on it as on any optimizer; it holds about
/// 1/N of the state (`stateBytes`).
///
/// Every method below is collective: all ranks call it, in the same order.
public final class ShardedOptimizer<Base: Optimizer> {
    public typealias Scalar = Base.Scalar

    /// The processes the optimizer spans.
    public let communicator: Communicator
    /// The model's parameters, whole on every rank; set their gradients
    /// (all ranks alike, e.g. after averaging them) and call `step()`.
    public let parameters: [Parameter<Scalar>]
    /// This rank's rows of each parameter (same order), viewing its memory:
    /// a parameter this rank owns no rows of has an empty shard.
    public let shards: [Parameter<Scalar>]
    /// The optimizer over `shards`: its hyperparameters and groups are the
    /// sharded optimizer's, its state this rank's share of it.
    public let base: Base
    /// Where the last step's time went (seconds): the kernels, and the
    /// collectives including waiting for slower ranks.
    public private(set) var lastStepTiming: (compute: Double, communication: Double) = (0, 0)

    let shard: OpaquePointer
    /// One C descriptor per non-empty parameter (`kernelIndex[k]` is its index).
    let tensors: UnsafeMutablePointer<adamp_tensor>
    let kernelIndex: [Int]
    /// Per parameter: `base`'s descriptor of its shard (state, hyperparameters, step count).
    let shardDescriptors: [UnsafeMutablePointer<adamp_tensor>]
    /// Each parameter's index in `parameters`.
    let indexOf: [ObjectIdentifier: Int]
    /// Per parameter its gradient slot, per descriptor its values' address;
    /// the empty parameters.
    let gradientSlots: [GradientSlot]
    let values: [UnsafeMutableRawPointer]
    let emptyIndex: [Int]
    /// Per parameter: this rank's first row and row count, in C rows
    /// (`shape[0]`, or the whole tensor as one row).
    let rows: [(first: Int, count: Int)]

    /// Shards `parameters` over `communicator`'s ranks and makes `base` over
    /// this rank's shards with `makeOptimizer`, which is given a function
    /// from each parameter to its shard:
    ///
    ///     let opt = try ShardedOptimizer(parameters: params, communicator: world) { shard in
    ///         try AdamP(parameters: shard(params), learningRate: 1e-3, weightDecay: 1e-2)
    ///     }
    ///
    /// - Parameters:
    ///   - parameters: Every parameter, the same shapes in the same order on every rank.
    ///   - communicator: The ranks (`Communicator.world()`).
    ///   - averagingGradients: false (default): the gradients of `parameters`
    ///     are the same on every rank (averaged already). true: each rank's
    ///     are its own, and `step()` averages them over the ranks for the rows
    ///     it owns, in rank order, `(((g₀ + g₁) + …) + g_{N−1}) / N` rounded
    ///     as `Scalar` at each operation, whatever the partition.
    ///   - makeOptimizer: Makes the optimizer over the shards (every one of
    ///     them, once): any optimizer of AdamPKit, with any groups.
    /// - Throws: On every rank: `DistributedError.ranksDisagree` naming what
    ///   differs (shapes, algorithm, hyperparameters), `.failedOnAnotherRank`,
    ///   `.mpiFailed`; `OptimizerError` from `makeOptimizer` (other ranks:
    ///   `.failedOnAnotherRank`); `.invalidInput` if the optimizer does not
    ///   take every shard exactly once.
    public init(parameters: [Parameter<Scalar>], communicator: Communicator, averagingGradients: Bool = false,
                _ makeOptimizer: (_ shard: (Parameter<Scalar>) -> Parameter<Scalar>) throws -> Base) throws {
        self.communicator = communicator
        self.parameters = parameters
        let kernelIndex = parameters.indices.filter { parameters[$0].count > 0 }
        // The C descriptors of the non-empty parameters: their shapes give the
        // partition; their hyperparameters and state come from `base`, below.
        var layout = kernelIndex.map { i -> adamp_tensor in
            let p = parameters[i], r = p.channelRows
            return adamp_tensor(param: UnsafeMutableRawPointer(p.kernelValues), grad: nil, state0: nil, state1: nil,
                                state2: nil, hparams: nil, rows: r, cols: p.count / r, ndim: Int32(clamping: p.shape.count),
                                projection: ADAMP_PROJ_SKIPPED.rawValue, step: 0)
        }
        let rows = Self.partition(layout, parameters.count, kernelIndex, communicator)
        self.rows = rows
        indexOf = Dictionary(uniqueKeysWithValues: parameters.enumerated().map { (ObjectIdentifier($1), $0) })
        let shards = try zip(parameters, rows).map { try Self.shard(of: $0, rows: $1) }
        self.shards = shards
        self.kernelIndex = kernelIndex
        gradientSlots = parameters.map(\.gradientSlot)
        values = kernelIndex.map { UnsafeMutableRawPointer(parameters[$0].kernelValues) }
        emptyIndex = parameters.indices.filter { parameters[$0].count == 0 }
        // A failure on one rank must not leave the others waiting in a collective.
        var made: Result<(Base, [UnsafeMutablePointer<adamp_tensor>]), Error>
        do {
            let byParameter = Dictionary(uniqueKeysWithValues: zip(parameters.map(ObjectIdentifier.init), shards))
            let base = try makeOptimizer { byParameter[ObjectIdentifier($0)] ?? $0 }
            made = .success((base, try Self.descriptors(base, shards)))
        } catch {
            made = .failure(error)
        }
        var e = adamp_mpi_error()
        let verdict = adamp_mpi_comm_all(communicator.comm, made.isSuccess ? 1 : 0, &e)
        if verdict < 0 { try DistributedError.check(Int32(ADAMP_MPI_E_MPI), e) }
        let (base, shardDescriptors) = try made.get()
        if verdict == 0 { throw DistributedError.failedOnAnotherRank("another rank could not make its optimizer (see its error)") }
        self.base = base
        self.shardDescriptors = shardDescriptors
        for (k, i) in kernelIndex.enumerated() { layout[k].hparams = shardDescriptors[i].pointee.hparams }
        tensors = .allocate(capacity: max(kernelIndex.count, 1))
        tensors.initialize(from: layout, count: layout.count)
        let algorithm = adamp_algorithm(rawValue: KernelAccess.algorithm(of: base)!)
        var created: OpaquePointer?
        var options = adamp_mpi_options(size: MemoryLayout<adamp_mpi_options>.size, average_gradients: averagingGradients ? 1 : 0)
        let status = adamp_mpi_shard_create(communicator.comm, algorithm, Self.dtype, tensors, kernelIndex.count, &options,
                                            &created, &e)
        if status != 0 { tensors.deallocate() }
        try DistributedError.check(status, e)
        shard = created!
    }

    deinit {
        adamp_mpi_shard_free(shard)
        tensors.deallocate()
    }

    static var dtype: adamp_dtype { Scalar.self == Double.self ? ADAMP_F64 : ADAMP_F32 }

    /// This rank's rows of each of `count` parameters (`layout[k]` describing
    /// parameter `kernelIndex[k]`), from the C library's partition.
    private static func partition(_ layout: [adamp_tensor], _ count: Int, _ kernelIndex: [Int],
                                  _ c: Communicator) -> [(first: Int, count: Int)] {
        var bound = [Int](repeating: 0, count: c.size + 1)
        layout.withUnsafeBufferPointer { adamp_mpi_partition($0.baseAddress, $0.count, Int32(c.size), &bound) }
        var out = [(first: Int, count: Int)](repeating: (0, 0), count: count)
        var row0 = 0
        for (k, i) in kernelIndex.enumerated() {
            let lo = max(bound[c.rank], row0), hi = min(bound[c.rank + 1], row0 + layout[k].rows)
            out[i] = lo < hi ? (lo - row0, hi - lo) : (0, 0)
            row0 += layout[k].rows
        }
        return out
    }

    /// The shard of `p`: its rows `rows`, as a parameter viewing its memory.
    private static func shard(of p: Parameter<Scalar>, rows: (first: Int, count: Int)) throws -> Parameter<Scalar> {
        guard rows.count > 0 else { return Parameter(shape: p.shape.count > 1 ? [0] + p.shape.dropFirst() : [0], name: p.name) }
        let cols = p.count / p.channelRows
        let shape = p.shape.count > 1 ? [rows.count] + p.shape.dropFirst() : p.shape
        let memory = UnsafeMutableBufferPointer(start: p.kernelValues + rows.first * cols, count: rows.count * cols)
        return try Parameter(shape: shape, borrowing: memory, name: p.name)
    }

    /// `base`'s descriptor of each shard, checking that it takes every one once.
    private static func descriptors(_ base: Base, _ shards: [Parameter<Scalar>]) throws -> [UnsafeMutablePointer<adamp_tensor>] {
        guard KernelAccess.algorithm(of: base) != nil else {
            throw DistributedError.invalidInput("\(Base.self) is not an optimizer of AdamPKit")
        }
        guard base.parameters.count == shards.count else {
            throw DistributedError.invalidInput("the optimizer takes \(base.parameters.count) parameters; give it every one of the \(shards.count) shards, once")
        }
        return try shards.map { s in
            guard let d = KernelAccess.descriptor(of: base, for: s) else {
                throw DistributedError.invalidInput("the optimizer does not take the shard of \(s.name.map { "'\($0)'" } ?? "a parameter of shape \(s.shape)")")
            }
            return d.assumingMemoryBound(to: adamp_tensor.self)
        }
    }

    /// The rows of `parameter` (one of `parameters`) whose state this rank
    /// holds and which it updates: rows of `shape[0]`, or `0..<1` for the
    /// whole of a parameter of fewer than two dimensions; empty for none.
    public func ownedRows(of parameter: Parameter<Scalar>) -> Range<Int> {
        guard let i = indexOf[ObjectIdentifier(parameter)] else { return 0..<0 }
        return rows[i].first..<rows[i].first + rows[i].count
    }

    /// Bytes of optimizer state this rank holds, and what one process would hold.
    public var stateBytes: (rank: Int, unsharded: Int) {
        var mine = 0, all = 0
        for (i, p) in parameters.enumerated() {
            let d = shardDescriptors[i].pointee
            let buffers = [d.state0, d.state1, d.state2].filter { $0 != nil }.count
            mine += buffers * shards[i].count * MemoryLayout<Scalar>.size
            all += buffers * p.count * MemoryLayout<Scalar>.size
        }
        return (mine, all)
    }

    /// One step, collective: every rank updates its rows from the gradients
    /// of `parameters` (divided by `gradScale`, e.g. a loss scale or the
    /// number of ranks whose gradients were summed), then the rows are
    /// all-gathered. A parameter without a gradient (on every rank alike) is
    /// skipped, as in `Base.step()`.
    /// - Throws: On every rank, having changed nothing: `OptimizerError` for
    ///   this rank's bad input (a gradient of the wrong count, a gradScale out
    ///   of range), `DistributedError.failedOnAnotherRank` for another's,
    ///   `.ranksDisagree` (hyperparameters, which parameters have gradients,
    ///   step counts). `.mpiFailed` if MPI fails, after which the parameters
    ///   are undefined.
    public func step(gradScale: Double = 1) throws {
        var problem: Error?
        do { try StepOptions(gradScale: gradScale).validate() } catch { problem = error }
        // Per parameter no generic code and no reference counting: a model may
        // have tens of thousands of tensors.
        var mismatched = false
        let tensors = tensors, values = values
        kernelIndex.withUnsafeBufferPointer { index in
            shardDescriptors.withUnsafeBufferPointer { shards in
                gradientSlots.withUnsafeBufferPointer { slots in
                    for k in 0..<index.count {
                        let i = index[k], d = shards[i], t = tensors + k
                        (t.pointee.state0, t.pointee.state1, t.pointee.state2) = (d.pointee.state0, d.pointee.state1, d.pointee.state2)
                        (t.pointee.hparams, t.pointee.step) = (d.pointee.hparams, d.pointee.step)
                        t.pointee.param = values[k]
                        t.pointee.grad = slots[i].address
                        if slots[i].mismatched { // the C step then rejects this rank's input
                            t.pointee.param = nil
                            mismatched = true
                        }
                    }
                }
            }
        }
        // So that every rank throws: this rank's own error, by name.
        if mismatched {
            do { try Parameter.checkGradientCounts(parameters) } catch { problem = problem ?? error }
        }
        if problem == nil, let i = parameters.indices.first(where: {
            gradientSlots[$0].address != nil && shardDescriptors[$0].pointee.step == .max
        }) {
            problem = OptimizerError.stepCountLimit(parameter: parameters[i].label)
        }
        var options = adamp_step_options(size: MemoryLayout<adamp_step_options>.size,
                                         grad_mul: problem == nil ? 1 / gradScale : .nan, drop_stats: 0)
        var timing = adamp_mpi_timing(), e = adamp_mpi_error()
        let status = KernelAccess.withConfig(of: base) { config in
            adamp_mpi_step(shard, config.assumingMemoryBound(to: adamp_config.self), tensors, kernelIndex.count,
                           &options, &timing, &e)
        }!
        if let problem { throw problem }
        try DistributedError.check(status, e)
        lastStepTiming = (timing.compute, timing.communicate)
        for k in 0..<kernelIndex.count {
            shardDescriptors[kernelIndex[k]].pointee.step = tensors[k].step
            shardDescriptors[kernelIndex[k]].pointee.projection = tensors[k].projection
        }
        // Empty parameters have nothing to update; their steps count as in one process.
        for i in emptyIndex {
            let has = gradientSlots[i].address != nil
            if has { shardDescriptors[i].pointee.step += 1 }
            shardDescriptors[i].pointee.projection = has ? ADAMP_PROJ_NONE.rawValue : ADAMP_PROJ_SKIPPED.rawValue
        }
    }

    /// Removes every parameter's gradient (or zero-fills it).
    public func zeroGrad(setToNone: Bool = true) {
        for p in parameters { p.zeroGrad(setToNone: setToNone) }
    }

    /// How many steps `parameter` (one of `parameters`) has taken.
    public func stepCount(for parameter: Parameter<Scalar>) -> Int {
        guard let i = indexOf[ObjectIdentifier(parameter)] else { return 0 }
        return Int(shardDescriptors[i].pointee.step)
    }

    /// What the projection did to `parameter` in its last step (nil before its first).
    public func lastProjection(for parameter: Parameter<Scalar>) -> Projection? {
        guard let i = indexOf[ObjectIdentifier(parameter)], shardDescriptors[i].pointee.step > 0 else { return nil }
        return Projection(rawValue: Int(shardDescriptors[i].pointee.projection))
    }
}

extension Result {
    var isSuccess: Bool { if case .success = self { true } else { false } }
}
