import Foundation

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

    static func read(_ url: URL) throws -> StateDict {
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw Problem("cannot be opened (\(reason(error)))")
        }
        defer { try? handle.close() }
        do {
            let size = Int(try handle.seekToEnd())
            try handle.seek(toOffset: 0)
            let n = try headerLength(handle.read(upToCount: 8) ?? Data(), fileSize: size)
            let header = try handle.read(upToCount: n) ?? Data()
            guard header.count == n else { throw Problem("truncated: the header is cut short") }
            let (entries, metadata) = try parseHeader(header, bufferSize: size - 8 - n)
            let buffer = try handle.readToEnd() ?? Data()
            guard buffer.count == size - 8 - n else { throw Problem("changed while it was read") }
            return tensors(entries, buffer, metadata)
        } catch let p as Problem {
            throw p
        } catch {
            throw Problem("cannot be read (\(reason(error)))")
        }
    }

    static func decode(_ data: Data) throws -> StateDict {
        let bytes = Data(data) // indices from 0
        let n = try headerLength(bytes.prefix(8), fileSize: bytes.count)
        let (entries, metadata) = try parseHeader(bytes[8..<8 + n], bufferSize: bytes.count - 8 - n)
        return tensors(entries, Data(bytes[(8 + n)...]), metadata)
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
        guard let size = dtypeSizes[dtype] else { throw Problem("corrupt header: \(at) has an unknown dtype \"\(dtype)\"") }
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
        guard let bytes = byteCount(shape, size), bytes == e - b else {
            throw Problem("corrupt header: \(at) has \(e - b) bytes, but \(dtype) of shape \(shape) needs \(byteCount(shape, size).map(String.init) ?? "more than fit")")
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

    static func encode(_ sd: StateDict) throws -> Data {
        var header: [(key: String, value: JSON)] = []
        if !sd.metadata.isEmpty {
            header.append(("__metadata__", .object(sd.metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        var offset = 0
        let names = sd.tensors.keys.sorted()
        for name in names {
            let t = sd.tensors[name]!
            guard !name.isEmpty, name != "__metadata__" else { throw Problem("a tensor may not be named \"\(name)\"") }
            guard let size = dtypeSizes[t.dtype] else { throw Problem("tensor \"\(name)\" has an unknown dtype \"\(t.dtype)\"") }
            guard t.shape.allSatisfy({ $0 >= 0 }), byteCount(t.shape, size) == t.data.count else {
                throw Problem("tensor \"\(name)\" has \(t.data.count) bytes, which \(t.dtype) of shape \(t.shape) does not")
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
        for name in names { out.append(sd.tensors[name]!.data) }
        return out
    }

    static func reason(_ error: Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }
}
