import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The safetensors format (https://github.com/huggingface/safetensors): an
/// 8-byte little-endian header length N, N bytes of JSON (an object: each
/// tensor's `dtype`, `shape` and `data_offsets` [begin, end) into the byte
/// buffer that follows, and an optional `__metadata__` of strings), then the
/// byte buffer. Everything is checked before anything is returned.
enum Safetensors {
    struct Problem: Error { let message: String; init(_ m: String) { message = m } }

    /// The header size refused before it is read (the safetensors library's limit).
    static let maxHeaderBytes = 100_000_000

    /// Bytes per element of every dtype the format names.
    static let dtypeSizes: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1,
        "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1,
    ]

    private typealias Entry = (name: String, dtype: String, shape: [Int], range: Range<Int>)

    /// The metadata key under which `encode` writes the SHA-256 of the
    /// data (the bytes after the header), which `decode` checks and removes:
    /// a file whose data was changed on disk is refused. Files without it
    /// (older ones, other writers) load unchecked.
    static let digestKey = "data_sha256"

    /// The bytes of the file at `url`, refused with a clear problem if it is
    /// not a regular file (a directory, a device), is larger than `maxBytes`
    /// (checked before anything is read), or holds other than its size says.
    static func bytes(of url: URL, maxBytes: Int = .max) throws -> Data {
        let path = url.path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Problem("cannot be opened (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Problem("cannot be read (\(String(cString: strerror(errno))))") }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw Problem("is a directory, not a checkpoint file") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw Problem("is not a regular file (a device, a pipe or a socket), not a checkpoint file")
        }
        let size = Int(info.st_size)
        guard size <= maxBytes else {
            throw Problem("is \(size) bytes, more than this optimizer's checkpoint can be (at most \(maxBytes)): not its checkpoint")
        }
        var data = Data(count: size)
        let got = data.withUnsafeMutableBytes { b -> Int in
            var done = 0
            while done < size {
                let n = systemRead(fd, b.baseAddress! + done, size - done)
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return n < 0 ? -1 : done }
                done += n
            }
            return done
        }
        guard got >= 0 else { throw Problem("cannot be read (\(String(cString: strerror(errno))))") }
        guard got == size else { throw Problem("changed while it was read: \(got) of its \(size) bytes could be read") }
        var probe: UInt8 = 0
        guard systemRead(fd, &probe, 1) == 0 else {
            throw Problem("holds more bytes than the \(size) its size says (a file of /proc or /sys?): not a checkpoint file")
        }
        return data
    }

    static func read(_ url: URL, maxBytes: Int = .max) throws -> StateDict {
        try decode(bytes(of: url, maxBytes: maxBytes))
    }

    static func decode(_ data: Data) throws -> StateDict {
        let bytes = Data(data) // indices from 0
        let n = try headerLength(bytes.prefix(8), fileSize: bytes.count)
        let (entries, parsed) = try parseHeader(bytes[8..<8 + n], bufferSize: bytes.count - 8 - n)
        var metadata = parsed
        let buffer = Data(bytes[(8 + n)...])
        if let want = metadata.removeValue(forKey: digestKey) {
            let got = buffer.withUnsafeBytes(SHA256.hex)
            guard got == want else {
                throw Problem("corrupt: the SHA-256 of its data is \(got), but its header says \(want)")
            }
        }
        return tensors(entries, buffer, metadata)
    }

    private static func tensors(_ entries: [Entry], _ buffer: Data, _ metadata: [String: String]) -> StateDict {
        var t: [String: StateDict.Tensor] = [:]
        for e in entries {
            t[e.name] = .init(dtype: e.dtype, shape: e.shape, data: buffer.subdata(in: e.range))
        }
        return StateDict(tensors: t, metadata: metadata)
    }

    private static func headerLength(_ prefix: Data, fileSize: Int) throws -> Int {
        guard prefix.count == 8 else { throw Problem("not a safetensors file: \(fileSize) bytes, shorter than the 8-byte header length") }
        let n = prefix.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard n <= UInt64(maxHeaderBytes) else {
            throw Problem("not a safetensors file, or a corrupt one: its header length \(n) exceeds the \(maxHeaderBytes)-byte limit")
        }
        guard 8 + Int(n) <= fileSize else {
            throw Problem("truncated: the header length says \(n) bytes but only \(fileSize - 8) follow")
        }
        return Int(n)
    }

    private static func parseHeader(_ header: Data, bufferSize: Int) throws -> ([Entry], [String: String]) {
        guard header.first == UInt8(ascii: "{") else { throw Problem("not a safetensors file: the header is not a JSON object") }
        let json: JSON
        do { json = try JSON.parse(header) } catch let e as JSON.ParseError {
            throw Problem("corrupt header: \(e.message)")
        }
        guard case let .object(members) = json else { throw Problem("corrupt header: not a JSON object") }
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in members {
            if name == "__metadata__" {
                guard case let .object(m) = value else { throw Problem("corrupt header: __metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v.string else { throw Problem("corrupt header: metadata \"\(k)\" is not a string") }
                    metadata[k] = s
                }
                continue
            }
            entries.append(try entry(name, value, bufferSize: bufferSize))
        }
        // The buffer is covered exactly: sorted by offset, each tensor starts
        // where the previous ended (no overlap, no hole).
        var end = 0
        for e in entries.sorted(by: { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }) {
            if e.range.lowerBound < end { throw Problem("corrupt header: tensor \"\(e.name)\" overlaps another") }
            if e.range.lowerBound > end { throw Problem("corrupt header: bytes \(end)..<\(e.range.lowerBound) of the data belong to no tensor") }
            end = e.range.upperBound
        }
        guard end == bufferSize else {
            throw Problem("corrupt header: the tensors end at byte \(end) of the data but the file holds \(bufferSize)")
        }
        return (entries, metadata)
    }

    private static func entry(_ name: String, _ v: JSON, bufferSize: Int) throws -> Entry {
        let at = "tensor \"\(name)\""
        guard let dtype = v["dtype"]?.string else { throw Problem("corrupt header: \(at) has no dtype") }
        guard dtypeSizes[dtype] != nil else { throw Problem("corrupt header: \(at) has an unknown dtype \"\(dtype)\"") }
        guard let dims = v["shape"]?.array, let shape = Optional(dims.compactMap(\.int)), shape.count == dims.count,
              shape.allSatisfy({ $0 >= 0 }) else {
            throw Problem("corrupt header: \(at) has no valid shape (a list of integers >= 0)")
        }
        guard let offs = v["data_offsets"]?.array, offs.count == 2, let b = offs[0].int, let e = offs[1].int,
              0 <= b, b <= e else {
            throw Problem("corrupt header: \(at) has no valid data_offsets [begin, end]")
        }
        guard e <= bufferSize else {
            throw Problem("\(at) lies outside the file: its data ends at byte \(e) but the data holds \(bufferSize) (truncated?)")
        }
        if let problem = bytesProblem(dtype: dtype, shape: shape, bytes: e - b) {
            throw Problem("corrupt header: \(at) \(problem)")
        }
        return (name, dtype, shape, b..<e)
    }

    private static func byteCount(_ shape: [Int], _ size: Int) -> Int? {
        var n = size
        for d in shape {
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = p
        }
        return n
    }

    /// What is wrong with a tensor of `dtype` and `shape` holding `bytes`
    /// bytes, or nil: the one rule of the reader, the writer and
    /// `load(stateDict:)` (whose tensors may come from anywhere).
    static func bytesProblem(dtype: String, shape: [Int], bytes: Int) -> String? {
        guard let size = dtypeSizes[dtype] else { return "has an unknown dtype \"\(dtype)\"" }
        guard shape.allSatisfy({ $0 >= 0 }) else { return "has a negative dimension in its shape \(shape)" }
        guard let need = byteCount(shape, size) else { return "has a shape \(shape) whose size overflows" }
        return need == bytes ? nil : "has \(bytes) bytes, but \(dtype) of shape \(shape) needs \(need)"
    }

    static func encode(_ sd: StateDict) throws -> Data {
        var header: [(key: String, value: JSON)] = []
        let names = sd.tensors.keys.sorted()
        var data = Data()
        for name in names { data.append(sd.tensors[name]!.data) }
        var metadata = sd.metadata
        metadata[digestKey] = data.withUnsafeBytes(SHA256.hex)
        header.append(("__metadata__", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        var offset = 0
        for name in names {
            let t = sd.tensors[name]!
            guard !name.isEmpty, name != "__metadata__" else { throw Problem("a tensor may not be named \"\(name)\"") }
            if let problem = bytesProblem(dtype: t.dtype, shape: t.shape, bytes: t.data.count) {
                throw Problem("tensor \"\(name)\" \(problem)")
            }
            header.append((name, .object([("dtype", .string(t.dtype)), ("shape", .array(t.shape.map(JSON.init))),
                                          ("data_offsets", .array([JSON(offset), JSON(offset + t.data.count)]))])))
            offset += t.data.count
        }
        var text = Array(JSON.object(header).text.utf8)
        text += [UInt8](repeating: 0x20, count: (8 - text.count % 8) % 8)
        var out = Data(capacity: 8 + text.count + offset)
        withUnsafeBytes(of: UInt64(text.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: text)
        out.append(data)
        return out
    }
}

/// read(2), which `Safetensors.read` hides inside the enum.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.read(fd, buffer, count)
    #else
    Darwin.read(fd, buffer, count)
    #endif
}
