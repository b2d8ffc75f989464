/// A trainable tensor: its values, its shape, and the gradient an optimizer
/// step will read.
///
/// Values live in memory the parameter owns, or, for zero-copy use with
/// another library's tensors, in memory the caller owns and lends
/// (`init(shape:borrowing:)`, `setGradient(borrowing:)`). The optimizer
/// updates the values in place.
///
/// The projection of AdamP/SGDP looks at the shape: a parameter of more than
/// one dimension is viewed as `[shape[0], count / shape[0]]` (one row per
/// output channel) and as `[1, count]` (the whole layer).
///
/// A parameter belongs to one thread (or task) at a time, with the optimizers
/// it is in: it is not `Sendable`.
public final class Parameter<Scalar: AdamPScalar> {
    /// The tensor's shape; `[]` is a scalar (one element).
    public let shape: [Int]
    /// The number of elements: the product of `shape`.
    public let count: Int
    /// A name used in error messages.
    public var name: String?

    let storage: UnsafeMutablePointer<Scalar>
    private let ownsStorage: Bool
    private var ownedGradient: UnsafeMutablePointer<Scalar>?

    enum Gradient {
        case none
        case owned
        case borrowed(UnsafePointer<Scalar>)
        /// Kept so that `grad` reads back what was set; `step()` throws on it.
        case mismatched([Scalar])
    }
    private(set) var gradient: Gradient = .none {
        didSet { gradientSlot.set(address: gradientPointer.map(UnsafeRawPointer.init), mismatched: isMismatched) }
    }
    /// What a step reads of the gradient, in an object of no generic type, so
    /// that a step over many parameters reads it without generic metadata.
    package let gradientSlot = GradientSlot()

    private var isMismatched: Bool { if case .mismatched = gradient { true } else { false } }

    /// A parameter filled with zeros. A negative dimension traps: use the
    /// throwing initialisers for shapes that come from outside.
    public convenience init(shape: [Int], name: String? = nil) {
        guard let count = Parameter.elementCount(shape) else {
            preconditionFailure(OptimizerError.invalidShape(shape).description)
        }
        self.init(shape: shape, count: count, name: name)
        storage.initialize(repeating: 0, count: count)
    }

    /// A parameter with the given values (row-major).
    /// - Throws: `OptimizerError.valueCountMismatch` if `values.count` differs
    ///   from the product of `shape`, `.invalidShape` for a negative dimension.
    public convenience init(shape: [Int], values: [Scalar], name: String? = nil) throws {
        guard let count = Parameter.elementCount(shape) else { throw OptimizerError.invalidShape(shape) }
        guard values.count == count else {
            throw OptimizerError.valueCountMismatch(shape: shape, expected: count, actual: values.count)
        }
        self.init(shape: shape, count: count, name: name)
        _ = UnsafeMutableBufferPointer(start: storage, count: count).initialize(from: values)
    }

    /// Zero-copy: a parameter whose values are `memory`, which the caller owns
    /// and must keep alive, and not move, for as long as the parameter is used.
    public init(shape: [Int], borrowing memory: UnsafeMutableBufferPointer<Scalar>, name: String? = nil) throws {
        guard let count = Parameter.elementCount(shape) else { throw OptimizerError.invalidShape(shape) }
        guard memory.count == count, let base = memory.baseAddress ?? (count == 0 ? Aligned.allocate(count: 1) : nil) else {
            throw OptimizerError.valueCountMismatch(shape: shape, expected: count, actual: memory.count)
        }
        self.shape = shape
        self.count = count
        self.name = name
        self.storage = base
        self.ownsStorage = memory.baseAddress == nil
    }

    private init(shape: [Int], count: Int, name: String?) {
        self.shape = shape
        self.count = count
        self.name = name
        self.storage = Aligned.allocate(count: count)
        self.ownsStorage = true
    }

    deinit {
        if ownsStorage { Aligned.deallocate(storage) }
        ownedGradient.map(Aligned.deallocate)
    }

    /// The product of `shape`, or nil if a dimension is negative or the
    /// elements' bytes do not fit in `Int` (no buffer could hold them).
    static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = p
        }
        return n.multipliedReportingOverflow(by: MemoryLayout<Scalar>.stride).overflow ? nil : n
    }

    /// A copy of the current values.
    public var values: [Scalar] {
        Array(UnsafeBufferPointer(start: storage, count: count))
    }

    /// Overwrites the values.
    /// - Throws: `OptimizerError.valueCountMismatch` (and changes nothing) if
    ///   the count differs.
    public func setValues(_ newValues: [Scalar]) throws {
        guard newValues.count == count else {
            throw OptimizerError.valueCountMismatch(shape: shape, expected: count, actual: newValues.count)
        }
        _ = UnsafeMutableBufferPointer(start: storage, count: count).update(fromContentsOf: newValues)
    }

    /// The gradient the next `step()` reads; `nil` means none, and the step
    /// skips this parameter, leaving its values and state untouched. Setting
    /// an array copies it. A count that differs from `count` is accepted
    /// here and reported by `step()`, which then throws before writing anything.
    public var grad: [Scalar]? {
        get {
            switch gradient {
            case .none: return nil
            case .owned: return Array(UnsafeBufferPointer(start: ownedGradient, count: count))
            case let .borrowed(p): return Array(UnsafeBufferPointer(start: p, count: count))
            case let .mismatched(g): return g
            }
        }
        set {
            guard let newValue else { gradient = .none; return }
            guard newValue.count == count else { gradient = .mismatched(newValue); return }
            let buffer = gradientBuffer()
            _ = UnsafeMutableBufferPointer(start: buffer, count: count).update(fromContentsOf: newValue)
            gradient = .owned
        }
    }

    /// Zero-copy: the next steps read the gradient from `memory`, which the
    /// caller owns and keeps alive; `nil` removes the gradient.
    /// - Throws: `OptimizerError.gradientCountMismatch` (and changes nothing)
    ///   if the count differs.
    public func setGradient(borrowing memory: UnsafeBufferPointer<Scalar>?) throws {
        guard let memory else { gradient = .none; return }
        guard memory.count == count, let base = memory.baseAddress ?? (count == 0 ? UnsafePointer(storage) : nil) else {
            throw OptimizerError.gradientCountMismatch(parameter: label, expected: count, actual: memory.count)
        }
        gradient = .borrowed(base)
    }

    /// Runs `body` on the values in place (no copy).
    public func withUnsafeMutableValues<R>(_ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: storage, count: count))
    }

    /// Runs `body` on the parameter's own gradient buffer in place, for code
    /// that writes gradients directly. A parameter without a gradient gets a
    /// zero-filled one first; afterwards it has a gradient.
    public func withUnsafeMutableGradient<R>(_ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R {
        if case .owned = gradient {} else {
            gradientBuffer().initialize(repeating: 0, count: count)
            gradient = .owned
        }
        return try body(UnsafeMutableBufferPointer(start: ownedGradient, count: count))
    }

    /// Removes the gradient (`setToNone`, PyTorch's default) or sets it to zeros.
    public func zeroGrad(setToNone: Bool = true) {
        if setToNone {
            gradient = .none
        } else {
            gradientBuffer().initialize(repeating: 0, count: count)
            gradient = .owned
        }
    }

    private func gradientBuffer() -> UnsafeMutablePointer<Scalar> {
        if let g = ownedGradient { return g }
        let g = Aligned.allocate(Scalar.self, count: count)
        ownedGradient = g
        return g
    }

    /// The pointer the kernels read, or nil for no gradient (or one of the
    /// wrong count, which the step refuses first: `gradientSlot.mismatched`).
    var gradientPointer: UnsafePointer<Scalar>? {
        switch gradient {
        case .owned: return UnsafePointer(ownedGradient)
        case let .borrowed(p): return p
        case .none, .mismatched: return nil
        }
    }

    package var label: String { name ?? "parameter of shape \(shape)" }
}

/// A parameter's gradient as the kernels take it: its address (nil: none) and
/// whether it was set with the wrong count (then `step()` throws), and a
/// copy of both in the table of every optimizer the parameter is in
/// (`GradientTable`), written when the gradient changes.
///
/// A step reads every parameter's gradient. From the slots themselves, each
/// a separate object between parameters' values and rarely in cache, that
/// was a cache miss per parameter: 0.14-0.17 ms of SGD's 3.3 ms step over
/// 20,000 [64, 8] weights, on one thread before the others start. From the
/// optimizer's table it is one sweep over contiguous memory.
///
/// Unchecked exclusivity (each property is only read or assigned whole, or
/// appended to, never passed inout across a call that could reach it again)
/// leaves no runtime call in setting a gradient, which a training loop does
/// for every parameter at every step.
package final class GradientSlot {
    @exclusivity(unchecked) package private(set) var address: UnsafeRawPointer?
    @exclusivity(unchecked) package private(set) var mismatched = false
    /// The entries of the tables that read this slot (each removed by its
    /// table's deinit, so none dangles).
    @exclusivity(unchecked) private(set) var readers: [UnsafeMutablePointer<GradientTable.Entry>] = []

    func set(address: UnsafeRawPointer?, mismatched: Bool) {
        self.address = address
        self.mismatched = mismatched
        for r in readers { r.pointee = GradientTable.Entry(address: address, mismatched: mismatched) }
    }

    fileprivate func addReader(_ entry: UnsafeMutablePointer<GradientTable.Entry>) {
        entry.pointee = GradientTable.Entry(address: address, mismatched: mismatched)
        readers.append(entry)
    }

    fileprivate func removeReader(_ entry: UnsafeMutablePointer<GradientTable.Entry>) {
        if let i = readers.firstIndex(of: entry) { readers.remove(at: i) }
    }
}

/// Every parameter's gradient slot, as one optimizer's step reads them: an
/// entry per parameter, in one allocation, kept equal to the slot by the
/// slot itself.
package final class GradientTable {
    package struct Entry {
        package var address: UnsafeRawPointer?
        package var mismatched: Bool
    }

    package let entries: UnsafeMutablePointer<Entry>
    package let count: Int
    private let slots: [GradientSlot]

    package init<Scalar>(_ parameters: [Parameter<Scalar>]) {
        slots = parameters.map(\.gradientSlot)
        count = slots.count
        entries = .allocate(capacity: max(count, 1))
        entries.initialize(repeating: Entry(address: nil, mismatched: false), count: max(count, 1))
        for (i, s) in slots.enumerated() { s.addReader(entries + i) }
    }

    deinit {
        for (i, s) in slots.enumerated() { s.removeReader(entries + i) }
        entries.deallocate()
    }
}
