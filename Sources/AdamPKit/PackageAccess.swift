import Foundation
internal import CAdamP

// What AdamPDistributed, in this package, needs of an optimizer: its C
// descriptors (the state it owns, its hyperparameters, its step counts) and
// how its steps run. Not public: a user's code sees optimizers through
// `Optimizer` only.

/// The kernels' view of an optimizer, whatever its hyperparameter type.
protocol KernelView: AnyObject {
    func kernelIndex(of parameter: AnyObject) -> Int?
    var kernelTensors: UnsafeMutablePointer<adamp_tensor> { get }
    var kernelAlgorithm: adamp_algorithm { get }
    var kernelConfig: adamp_config { get }
    /// The master weights its parameters keep, and per parameter its master's memory.
    var kernelMasters: (master: adamp_master, buffers: UnsafeMutablePointer<UnsafeMutableRawPointer?>) { get }
    /// Bytes of a state element and of a master element (0: none).
    var kernelElementSizes: (state: Int, master: Int) { get }
    func kernelStartMasters(_ indices: [Int])
}

extension CoreBacked {
    func kernelIndex(of parameter: AnyObject) -> Int? { core.indexOf[ObjectIdentifier(parameter)] }
    var kernelTensors: UnsafeMutablePointer<adamp_tensor> { core.tensors }
    var kernelAlgorithm: adamp_algorithm { core.algorithm }
    var kernelConfig: adamp_config { core.config }
    var kernelMasters: (master: adamp_master, buffers: UnsafeMutablePointer<UnsafeMutableRawPointer?>) {
        (core.master, core.masters)
    }
    var kernelElementSizes: (state: Int, master: Int) { (core.stateElement, core.masterBuffer?.element ?? 0) }
    func kernelStartMasters(_ indices: [Int]) { core.startMasters(indices) }
}

package enum KernelAccess {
    /// Each of `parameters`' index among `optimizer`'s, or nil if one is not
    /// its parameter (or it is not an optimizer of this package).
    package static func indices(in optimizer: AnyObject, of parameters: [AnyObject]) -> [Int]? {
        guard let view = optimizer as? KernelView else { return nil }
        let found = parameters.compactMap(view.kernelIndex(of:))
        return found.count == parameters.count ? found : nil
    }

    /// For a step of other descriptors over the same state (a sharded
    /// step's whole tensors, whose state is this optimizer's shards'):
    /// `tensors[k]` (`adamp_tensor`s) takes the state buffers, group
    /// hyperparameters and step count of `optimizer`'s parameter
    /// `indices[k]`, as they are now.
    package static func takeState(of optimizer: AnyObject, _ indices: [Int], into tensors: UnsafeMutableRawPointer) {
        guard let from = (optimizer as? KernelView)?.kernelTensors else { return }
        let to = tensors.assumingMemoryBound(to: adamp_tensor.self)
        for (k, i) in indices.enumerated() {
            let d = from[i]
            (to[k].state0, to[k].state1, to[k].state2) = (d.state0, d.state1, d.state2)
            (to[k].hparams, to[k].step) = (d.hparams, d.step)
        }
    }

    /// For such a step: the master weights `optimizer` keeps (an
    /// `adamp_master`'s raw value), and `masters[k]` (`void *`s) the master
    /// memory of its parameter `indices[k]`; each of those whose
    /// `steps[k]` is 0 first takes its master from its values.
    package static func takeMasters(of optimizer: AnyObject, _ indices: [Int], starting: [Int],
                                    into masters: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> UInt32 {
        guard let view = optimizer as? KernelView else { return ADAMP_MASTER_OFF.rawValue }
        let (master, buffers) = view.kernelMasters
        view.kernelStartMasters(starting)
        for (k, i) in indices.enumerated() { masters[k] = buffers[i] }
        return master.rawValue
    }

    /// Bytes of one element of `optimizer`'s state and of its masters (0: none).
    package static func elementSizes(of optimizer: AnyObject) -> (state: Int, master: Int) {
        (optimizer as? KernelView)?.kernelElementSizes ?? (0, 0)
    }

    /// After such a step: `optimizer`'s parameter `indices[k]` takes the
    /// step count and projection of `tensors[k]`.
    package static func recordStep(of optimizer: AnyObject, _ indices: [Int], from tensors: UnsafeRawPointer) {
        guard let to = (optimizer as? KernelView)?.kernelTensors else { return }
        let from = tensors.assumingMemoryBound(to: adamp_tensor.self)
        for (k, i) in indices.enumerated() { (to[i].step, to[i].projection) = (from[k].step, from[k].projection) }
    }

    /// The C library's element type of `Scalar` (an `adamp_dtype`'s raw value).
    package static func dtype<Scalar: AdamPScalar>(of _: Scalar.Type) -> UInt32 { Scalar.scalarKind.cType.rawValue }

    /// The `adamp_algorithm` of `optimizer`'s steps.
    package static func algorithm(of optimizer: AnyObject) -> UInt32? {
        (optimizer as? KernelView)?.kernelAlgorithm.rawValue
    }

    /// Runs `body` with `optimizer`'s `adamp_config`.
    package static func withConfig<R>(of optimizer: AnyObject, _ body: (UnsafeRawPointer) throws -> R) rethrows -> R? {
        guard var c = (optimizer as? KernelView)?.kernelConfig else { return nil }
        return try withUnsafePointer(to: &c) { try body(UnsafeRawPointer($0)) }
    }

    /// For each of an optimizer's parameters (`names`), its entry among a
    /// checkpoint's (`fileNames`), as `load(stateDict:)` matches them; nil
    /// where they cannot be matched (`load` then says why).
    package static func checkpointEntries(fileNames: [String?], names: [String?]) -> [Int]? {
        try? Checkpoint.match(fileNames: fileNames, names: names)
    }

    /// The bytes of the checkpoint file at `url` for parameters of `counts`
    /// elements of `elementSize` bytes, read as `load(from:)` reads them.
    /// - Throws: `OptimizerError.invalidCheckpoint` naming the file and why
    ///   it cannot be one (a directory, a device, too large to be one).
    package static func checkpointBytes(_ url: URL, counts: [Int], elementSize: Int, masterSize: Int = 0) throws -> Data {
        do {
            let limit = Checkpoint.byteLimit(counts: counts, elementSize: elementSize, masterSize: masterSize)
            return try Safetensors.bytes(of: url, maxBytes: limit)
        } catch let e as Safetensors.Problem {
            throw OptimizerError.invalidCheckpoint(file: url.path, problem: e.message)
        }
    }

    /// The `parameters` metadata of a checkpoint: each one's name and shape.
    package static func parametersMetadata(_ parameters: [(name: String?, shape: [Int])]) -> String {
        JSON.array(parameters.map { p in
            .object([("name", p.name.map(JSON.string) ?? .null), ("shape", .array(p.shape.map(JSON.init)))])
        }).text
    }
}

extension Parameter {
    /// The values' memory, which the parameter keeps for its lifetime.
    package var kernelValues: UnsafeMutablePointer<Scalar> { storage }

    /// The rows of the channel view the kernels take: `shape[0]`, or 1 for a
    /// parameter of fewer than two dimensions (0 for an empty one's first
    /// dimension of 0).
    package var channelRows: Int { shape.count > 1 ? shape[0] : 1 }

    /// Throws `OptimizerError.gradientCountMismatch` for the first of
    /// `parameters` whose gradient was set with the wrong count (their
    /// `gradientSlot.mismatched`): what a step throws, before it writes anything.
    package static func checkGradientCounts(_ parameters: [Parameter<Scalar>]) throws {
        for p in parameters where p.gradientSlot.mismatched {
            if case let .mismatched(g) = p.gradient {
                throw OptimizerError.gradientCountMismatch(parameter: p.label, expected: p.count, actual: g.count)
            }
        }
    }
}
