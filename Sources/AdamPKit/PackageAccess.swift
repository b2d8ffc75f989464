import Foundation
internal import CAdamP

// What AdamPDistributed, in this package, needs of an optimizer: its C
// descriptors (the state it owns, its hyperparameters, its step counts) and
// how its steps run. Not public: a user's code sees optimizers through
// `Optimizer` only.

/// The kernels' view of an optimizer, whatever its hyperparameter type.
protocol KernelView: AnyObject {
    func kernelDescriptor(for parameter: AnyObject) -> UnsafeMutablePointer<adamp_tensor>?
    var kernelAlgorithm: adamp_algorithm { get }
    var kernelConfig: adamp_config { get }
}

extension CoreBacked {
    func kernelDescriptor(for parameter: AnyObject) -> UnsafeMutablePointer<adamp_tensor>? {
        core.indexOf[ObjectIdentifier(parameter)].map { core.tensors + core.slot[$0] }
    }
    var kernelAlgorithm: adamp_algorithm { core.algorithm }
    var kernelConfig: adamp_config { core.config }
}

package enum KernelAccess {
    /// `parameter`'s `adamp_tensor` in `optimizer` (its state, hyperparameters
    /// and step count live there), or nil if it is not one of its parameters.
    package static func descriptor(of optimizer: AnyObject, for parameter: AnyObject) -> UnsafeMutableRawPointer? {
        (optimizer as? KernelView)?.kernelDescriptor(for: parameter).map(UnsafeMutableRawPointer.init)
    }

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
    package static func checkpointBytes(_ url: URL, counts: [Int], elementSize: Int) throws -> Data {
        do {
            return try Safetensors.bytes(of: url, maxBytes: Checkpoint.byteLimit(counts: counts, elementSize: elementSize))
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
