import Foundation
import AdamPKit

/// A minimal reader of the .safetensors files in ../shared/fixtures (see
/// generate.py there): an 8-byte little-endian header length, a JSON header
/// (with `__metadata__`), then the raw little-endian tensors.
struct Safetensors {
    struct Entry { let dtype: String; let shape: [Int]; let range: Range<Int> }
    let metadata: [String: String]
    let entries: [String: Entry]
    private let data: Data
    private let base: Int

    init(contentsOf url: URL) throws {
        data = try Data(contentsOf: url)
        let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        base = 8 + n
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<base)) as! [String: Any]
        metadata = header["__metadata__"] as? [String: String] ?? [:]
        var entries: [String: Entry] = [:]
        for (key, value) in header where key != "__metadata__" {
            let d = value as! [String: Any]
            let off = d["data_offsets"] as! [Int]
            entries[key] = Entry(dtype: d["dtype"] as! String, shape: d["shape"] as! [Int], range: off[0]..<off[1])
        }
        self.entries = entries
    }

    func has(_ name: String) -> Bool { entries[name] != nil }

    func shape(_ name: String) -> [Int]? { entries[name]?.shape }

    /// The tensor converted to T (F32, F64, I64, BF16 and F16 are stored here;
    /// the 16-bit ones widen exactly).
    func values<T: BinaryFloatingPoint>(_ name: String, as _: T.Type = T.self) -> [T]? {
        guard let e = entries[name] else { return nil }
        let bytes = data.subdata(in: (base + e.range.lowerBound)..<(base + e.range.upperBound))
        return bytes.withUnsafeBytes { raw -> [T] in
            switch e.dtype {
            case "F32": return raw.bindMemory(to: Float.self).map { T($0) }
            case "F64": return raw.bindMemory(to: Double.self).map { T($0) }
            case "I64": return raw.bindMemory(to: Int64.self).map { T($0) }
            case "BF16": return raw.bindMemory(to: UInt16.self).map { T(Float(BFloat16(bitPattern: $0))) }
            case "F16": return raw.bindMemory(to: UInt16.self).map { T(Float(Float16(bitPattern: $0))) }
            default: fatalError("unexpected dtype \(e.dtype) in fixture")
            }
        }
    }

    /// A JSON field of the metadata.
    func json(_ key: String) -> Any? {
        metadata[key].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
    }
}

enum Fixtures {
    /// ../shared/fixtures beside the package root, or $ADAMP_FIXTURES.
    static var directory: URL {
        if let env = ProcessInfo.processInfo.environment["ADAMP_FIXTURES"] { return URL(fileURLWithPath: env) }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/fixtures")
    }

    static func files(optimizers: Set<String>) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".safetensors") }.sorted().filter { name in
            guard let f = try? Safetensors(contentsOf: directory.appendingPathComponent(name)) else { return true }
            return optimizers.contains(f.metadata["optimizer"] ?? "")
        }
    }
}
