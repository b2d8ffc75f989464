import Foundation

/// An element type a state dict's tensors can hold, with its safetensors name.
public protocol SafetensorsElement: Sendable {
    /// The safetensors dtype: "F32", "F64", "BF16", "F16", "I64", "U16".
    static var safetensorsDType: String { get }
}

extension Float: SafetensorsElement { public static var safetensorsDType: String { "F32" } }
extension Double: SafetensorsElement { public static var safetensorsDType: String { "F64" } }
extension Int64: SafetensorsElement { public static var safetensorsDType: String { "I64" } }
extension BFloat16: SafetensorsElement { public static var safetensorsDType: String { "BF16" } }
extension Float16: SafetensorsElement { public static var safetensorsDType: String { "F16" } }
extension UInt16: SafetensorsElement { public static var safetensorsDType: String { "U16" } }

/// Named tensors and string metadata: an optimizer's whole state in memory
/// (`stateDict()`, `load(stateDict:)`), and exactly what its .safetensors
/// checkpoint holds (`init(contentsOf:)`, `write(to:)`). The layout of an
/// optimizer's state dict is specified in docs/checkpoint-format.md.
public struct StateDict: Equatable, Sendable {
    /// One tensor: a safetensors dtype, a shape, and its bytes (row-major,
    /// little-endian).
    public struct Tensor: Equatable, Sendable {
        public var dtype: String
        public var shape: [Int]
        public var data: Data

        /// A tensor of the given bytes; `StateDict`'s readers and writers
        /// check that they match the dtype and shape.
        public init(dtype: String, shape: [Int], data: Data) {
            self.dtype = dtype
            self.shape = shape
            self.data = data
        }

        /// A tensor holding `values` (row-major) with the given shape.
        public init<T: SafetensorsElement>(shape: [Int], values: [T]) {
            self.init(dtype: T.safetensorsDType, shape: shape, data: values.withUnsafeBytes { Data($0) })
        }

        /// The values, or nil if the dtype is not `T`'s or the byte count is
        /// not a whole number of elements.
        public func values<T: SafetensorsElement>(as _: T.Type = T.self) -> [T]? {
            guard dtype == T.safetensorsDType, data.count % MemoryLayout<T>.size == 0 else { return nil }
            return [T](unsafeUninitializedCapacity: data.count / MemoryLayout<T>.size) { buffer, n in
                n = data.copyBytes(to: buffer) / MemoryLayout<T>.size
            }
        }
    }

    /// The tensors by name (`state.0.exp_avg`, ...).
    public var tensors: [String: Tensor]
    /// The `__metadata__` of the safetensors header.
    public var metadata: [String: String]

    public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Reads a .safetensors file, checking all of it (a regular file, header
    /// size, JSON, dtypes, shapes, offsets inside the file, no overlaps or
    /// holes, and the SHA-256 of the data where the header gives one) before
    /// it returns.
    /// - Throws: `OptimizerError.invalidCheckpoint` naming the file and the
    ///   problem.
    public init(contentsOf url: URL) throws {
        try self.init(contentsOf: url, maxBytes: .max)
    }

    /// `init(contentsOf:)`, refusing a file of more than `maxBytes` before
    /// reading it (an optimizer's `load(from:)` passes what its state can take).
    init(contentsOf url: URL, maxBytes: Int) throws {
        do {
            self = try Safetensors.read(url, maxBytes: maxBytes)
        } catch let e as Safetensors.Problem {
            throw OptimizerError.invalidCheckpoint(file: url.path, problem: e.message)
        }
    }

    /// Reads safetensors bytes, checked as `init(contentsOf:)` checks a file.
    /// - Throws: `OptimizerError.invalidCheckpoint` naming the problem.
    public init(safetensors data: Data) throws {
        do {
            self = try Safetensors.decode(data)
        } catch let e as Safetensors.Problem {
            throw OptimizerError.invalidCheckpoint(file: nil, problem: e.message)
        }
    }

    /// The safetensors bytes: an 8-byte little-endian header length, the JSON
    /// header (tensors in name order, padded with spaces to 8 bytes; its
    /// metadata also holds `data_sha256`, the SHA-256 of the data in hex,
    /// which readers check and do not return), then the tensors' bytes in
    /// the same order.
    /// - Throws: `OptimizerError.invalidCheckpoint` if a tensor's bytes do not
    ///   match its dtype and shape, or a name is reserved or empty.
    public func safetensors() throws -> Data {
        do {
            return try Safetensors.encode(self)
        } catch let e as Safetensors.Problem {
            throw OptimizerError.invalidCheckpoint(file: nil, problem: e.message)
        }
    }

    /// Writes the safetensors file atomically: to a temporary file in the same
    /// folder, flushed to disk, then renamed over `url`. On any failure the
    /// temporary file is removed and a file already at `url` is left as it was.
    /// - Throws: `OptimizerError.checkpointWriteFailed` naming the file and
    ///   the reason, or `.invalidCheckpoint` as `safetensors()`.
    public func write(to url: URL) throws {
        let bytes = try safetensors()
        try AtomicFile.write(bytes, to: url)
    }
}
