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

    /// The gradient the next step reads, or nil.
    /// - Throws: `OptimizerError.gradientCountMismatch` if its count differs.
    package func kernelGradient() throws -> UnsafePointer<Scalar>? {
        if case let .mismatched(g) = gradient {
            throw OptimizerError.gradientCountMismatch(parameter: label, expected: count, actual: g.count)
        }
        return gradientPointer
    }
}
