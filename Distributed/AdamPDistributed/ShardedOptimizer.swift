#if MPI
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
    /// One C descriptor per parameter, whole: its values and gradient, and
    /// the state, hyperparameters and step count of its shard in `base`.
    let tensors: UnsafeMutablePointer<adamp_tensor>
    /// Per parameter: its shard's index among `base`'s parameters.
    let baseIndex: [Int]
    /// Each parameter's index in `parameters`.
    let indexOf: [ObjectIdentifier: Int]
    /// The parameters' gradients, as a step reads them.
    let gradients: GradientTable
    /// With master weights (`base`'s): per parameter, its shard's master in
    /// `base` (this rank's rows, as its state).
    let masters: UnsafeMutablePointer<UnsafeMutableRawPointer?>
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
    ///     as `Scalar` at each operation, whatever the partition (`BFloat16`
    ///     and `Float16`: sent in 16 bits, each operation in `Float`, the
    ///     average rounded once).
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
        // The C descriptors, whole: their shapes give the partition; their
        // hyperparameters and state come from `base`, below.
        let tensors = UnsafeMutablePointer<adamp_tensor>.allocate(capacity: max(parameters.count, 1))
        for (i, p) in parameters.enumerated() { p.writeDescriptor(to: tensors + i) }
        var ok = false
        defer { if !ok { tensors.deallocate() } }
        let rows = Self.partition(tensors, parameters.count, communicator)
        self.rows = rows
        indexOf = Dictionary(uniqueKeysWithValues: parameters.enumerated().map { (ObjectIdentifier($1), $0) })
        let shards = try zip(parameters, rows).map { try Self.shard(of: $0, rows: $1) }
        self.shards = shards
        gradients = GradientTable(parameters)
        // A failure on one rank must not leave the others waiting in a collective.
        var made: Result<(Base, [Int]), Error>
        do {
            let byParameter = Dictionary(uniqueKeysWithValues: zip(parameters.map(ObjectIdentifier.init), shards))
            let base = try makeOptimizer { byParameter[ObjectIdentifier($0)] ?? $0 }
            made = .success((base, try Self.indices(base, shards)))
        } catch {
            made = .failure(error)
        }
        var e = adamp_mpi_error()
        let verdict = adamp_mpi_comm_all(communicator.comm, made.isSuccess ? 1 : 0, &e)
        if verdict < 0 { try DistributedError.check(Int32(ADAMP_MPI_E_MPI), e) }
        let (base, baseIndex) = try made.get()
        if verdict == 0 { throw DistributedError.failedOnAnotherRank("another rank could not make its optimizer (see its error)") }
        self.base = base
        self.baseIndex = baseIndex
        self.tensors = tensors
        masters = .allocate(capacity: max(parameters.count, 1))
        masters.initialize(repeating: nil, count: max(parameters.count, 1))
        KernelAccess.takeState(of: base, baseIndex, into: tensors)
        let algorithm = adamp_algorithm(rawValue: KernelAccess.algorithm(of: base)!)
        var created: OpaquePointer?
        var options = adamp_mpi_options(size: MemoryLayout<adamp_mpi_options>.size, average_gradients: averagingGradients ? 1 : 0)
        let status = adamp_mpi_shard_create(communicator.comm, algorithm, Self.dtype, tensors, parameters.count, &options,
                                            &created, &e)
        if status != Int32(ADAMP_OK.rawValue) { masters.deallocate() }
        try DistributedError.check(status, e)
        shard = created!
        ok = true
    }

    deinit {
        adamp_mpi_shard_free(shard)
        tensors.deallocate()
        masters.deallocate()
    }

    static var dtype: adamp_dtype { adamp_dtype(rawValue: KernelAccess.dtype(of: Scalar.self)) }

    /// This rank's rows of each of `count` parameters (`tensors[i]`
    /// describing parameter i), from the C library's partition.
    private static func partition(_ tensors: UnsafePointer<adamp_tensor>, _ count: Int,
                                  _ c: Communicator) -> [(first: Int, count: Int)] {
        var bound = [Int](repeating: 0, count: c.size + 1)
        adamp_mpi_partition(tensors, count, Int32(c.size), &bound)
        var out = [(first: Int, count: Int)](repeating: (0, 0), count: count)
        var row0 = 0
        for i in 0..<count {
            let lo = max(bound[c.rank], row0), hi = min(bound[c.rank + 1], row0 + tensors[i].rows)
            out[i] = lo < hi ? (lo - row0, hi - lo) : (0, 0)
            row0 += tensors[i].rows
        }
        return out
    }

    /// The shard of `p`: its rows `rows`, as a parameter viewing its memory.
    private static func shard(of p: Parameter<Scalar>, rows: (first: Int, count: Int)) throws -> Parameter<Scalar> {
        guard rows.count > 0 else { return Parameter(shape: p.shape.count > 1 ? [0] + p.shape.dropFirst() : [0], name: p.name) }
        let cols = p.channelCols
        let shape = p.shape.count > 1 ? [rows.count] + p.shape.dropFirst() : p.shape
        let memory = UnsafeMutableBufferPointer(start: p.kernelValues + rows.first * cols, count: rows.count * cols)
        return try Parameter(shape: shape, borrowing: memory, name: p.name)
    }

    /// Each shard's index among `base`'s parameters, checking that it takes every one once.
    private static func indices(_ base: Base, _ shards: [Parameter<Scalar>]) throws -> [Int] {
        guard KernelAccess.algorithm(of: base) != nil else {
            throw DistributedError.invalidInput("\(Base.self) is not an optimizer of AdamPKit")
        }
        guard base.parameters.count == shards.count else {
            throw DistributedError.invalidInput("the optimizer takes \(base.parameters.count) parameters; give it every one of the \(shards.count) shards, once")
        }
        if let found = KernelAccess.indices(in: base, of: shards) { return found }
        let s = shards.first { KernelAccess.indices(in: base, of: [$0]) == nil }!
        throw DistributedError.invalidInput("the optimizer does not take the shard of \(s.name.map { "'\($0)'" } ?? "a parameter of shape \(s.shape)")")
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
        KernelAccess.takeState(of: base, baseIndex, into: tensors)
        let size = KernelAccess.elementSizes(of: base)
        for (i, p) in parameters.enumerated() {
            let d = tensors[i]
            let bytes = [d.state0, d.state1, d.state2].filter { $0 != nil }.count * size.state + size.master
            mine += bytes * shards[i].count
            all += bytes * p.count
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
        // This rank's own problems, found as a one-process step finds them:
        // every rank must still enter the collective, which refuses the step
        // on every rank.
        var problem: Error?, local = ADAMP_OK
        do { try StepOptions(gradScale: gradScale).validate() } catch { (problem, local) = (error, ADAMP_E_INVALID_CONFIG) }
        KernelAccess.takeState(of: base, baseIndex, into: tensors)
        do { _ = try StepDriver.takeGradients(parameters, gradients, into: tensors) } catch {
            if problem == nil { (problem, local) = (error, ADAMP_E_INVALID_SIZE) }
        }
        var options = adamp_step_options()  // the fields not set here at their defaults (zero)
        options.size = MemoryLayout<adamp_step_options>.size
        options.grad_mul = 1 / gradScale
        // Master weights: a shard about to take its first step takes its master from its values.
        let keepsMasters = local == ADAMP_OK && KernelAccess.elementSizes(of: base).master > 0
        let starting = !keepsMasters ? []
            : baseIndex.indices.filter { tensors[$0].grad != nil && tensors[$0].step == 0 }.map { baseIndex[$0] }
        options.master = Int32(KernelAccess.takeMasters(of: base, baseIndex, starting: starting,
                                                        into: masters))
        options.masters = UnsafePointer(masters)
        var timing = adamp_mpi_timing(), e = adamp_mpi_error()
        let status = KernelAccess.withConfig(of: base) { config in
            adamp_mpi_step(shard, config.assumingMemoryBound(to: adamp_config.self), tensors, parameters.count,
                           &options, Int32(local.rawValue), &timing, &e)
        }!
        if let problem { throw problem }
        try DistributedError.check(status, e)
        lastStepTiming = (timing.compute, timing.communicate)
        KernelAccess.recordStep(of: base, baseIndex, from: tensors)
    }

    /// Removes every parameter's gradient (or zero-fills it).
    public func zeroGrad(setToNone: Bool = true) {
        for p in parameters { p.zeroGrad(setToNone: setToNone) }
    }

    /// How many steps `parameter` (one of `parameters`) has taken.
    public func stepCount(for parameter: Parameter<Scalar>) -> Int {
        guard let i = indexOf[ObjectIdentifier(parameter)] else { return 0 }
        return base.stepCount(for: shards[i])
    }

    /// What the projection did to `parameter` in its last step (nil before its first).
    public func lastProjection(for parameter: Parameter<Scalar>) -> Projection? {
        guard let i = indexOf[ObjectIdentifier(parameter)] else { return nil }
        return base.lastProjection(for: shards[i])
    }
}

extension Result {
    var isSuccess: Bool { if case .success = self { true } else { false } }
}
#endif
