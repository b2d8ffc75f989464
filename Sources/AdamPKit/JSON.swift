/// The JSON of checkpoint headers, read and written here so that every value
/// keeps its exact type and digits on every platform: a number keeps its
/// text (a count must be written as an integer; a Double reads back bit for
/// bit), duplicate keys and trailing bytes are errors, and nesting is bounded.
enum JSON: Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSON])
    case object([(key: String, value: JSON)])

    static func == (a: JSON, b: JSON) -> Bool { a.text == b.text }

    init(_ x: Double) { self = .number("\(x)") }
    init(_ x: Int) { self = .number("\(x)") }

    subscript(key: String) -> JSON? {
        if case let .object(members) = self { return members.first { $0.key == key }?.value }
        return nil
    }

    var int: Int? { if case let .number(t) = self { return Int(t) }; return nil }
    var double: Double? { if case let .number(t) = self { return Double(t) }; return nil }
    var string: String? { if case let .string(s) = self { return s }; return nil }
    var array: [JSON]? { if case let .array(a) = self { return a }; return nil }
    var isNull: Bool { self == .null }

    /// Compact JSON text.
    var text: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .number(t): return t
        case let .string(s): return JSON.quote(s)
        case let .array(a): return "[" + a.map(\.text).joined(separator: ",") + "]"
        case let .object(m): return "{" + m.map { JSON.quote($0.key) + ":" + $0.value.text }.joined(separator: ",") + "}"
        }
    }

    private static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    struct ParseError: Error { let message: String }

    /// Parses UTF-8 JSON text.
    static func parse<C: Collection>(_ bytes: C) throws -> JSON where C.Element == UInt8 {
        var p = Parser(bytes: Array(bytes))
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == p.bytes.count else { throw p.fail("unexpected bytes after the JSON value") }
        return v
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0
        static let maxDepth = 64

        func fail(_ m: String) -> ParseError { ParseError(message: "\(m) at byte \(i)") }

        mutating func skipSpace() {
            while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
        }

        mutating func literal(_ word: String, _ v: JSON) throws -> JSON {
            let w = Array(word.utf8)
            guard bytes.count - i >= w.count, Array(bytes[i..<i + w.count]) == w else { throw fail("invalid literal") }
            i += w.count
            return v
        }

        mutating func value(depth: Int) throws -> JSON {
            guard depth < Parser.maxDepth else { throw fail("nesting deeper than \(Parser.maxDepth)") }
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end") }
            switch bytes[i] {
            case UInt8(ascii: "n"): return try literal("null", .null)
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "["):
                i += 1
                var a: [JSON] = []
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                while true {
                    a.append(try value(depth: depth + 1))
                    skipSpace()
                    guard i < bytes.count else { throw fail("unterminated array") }
                    i += 1
                    if bytes[i - 1] == UInt8(ascii: "]") { return .array(a) }
                    guard bytes[i - 1] == UInt8(ascii: ",") else { throw fail("expected , or ]") }
                }
            case UInt8(ascii: "{"):
                i += 1
                var m: [(key: String, value: JSON)] = []
                var seen = Set<String>()
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(m) }
                while true {
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a key") }
                    let k = try string()
                    guard seen.insert(k).inserted else { throw fail("duplicate key \"\(k)\"") }
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected :") }
                    i += 1
                    m.append((k, try value(depth: depth + 1)))
                    skipSpace()
                    guard i < bytes.count else { throw fail("unterminated object") }
                    i += 1
                    if bytes[i - 1] == UInt8(ascii: "}") { return .object(m) }
                    guard bytes[i - 1] == UInt8(ascii: ",") else { throw fail("expected , or }") }
                }
            default: return try number()
            }
        }

        mutating func number() throws -> JSON {
            let start = i
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
            let digits = { (p: inout Parser) -> Int in
                let s = p.i
                while p.i < p.bytes.count, (0x30...0x39).contains(p.bytes[p.i]) { p.i += 1 }
                return p.i - s
            }
            guard digits(&self) > 0 else { throw fail("invalid value") }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") { i += 1; guard digits(&self) > 0 else { throw fail("invalid number") } }
            if i < bytes.count, bytes[i] | 0x20 == UInt8(ascii: "e") {
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard digits(&self) > 0 else { throw fail("invalid number") }
            }
            return .number(String(decoding: bytes[start..<i], as: UTF8.self))
        }

        mutating func hex4() throws -> UInt32 {
            guard bytes.count - i >= 4, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else {
                throw fail("invalid \\u escape")
            }
            i += 4
            return v
        }

        mutating func string() throws -> String {
            i += 1
            var out = String.UnicodeScalarView()
            var run = i
            var raw: [UInt8] = []
            while true {
                guard i < bytes.count else { throw fail("unterminated string") }
                let c = bytes[i]
                if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") {
                    raw += bytes[run..<i]
                    guard let s = String(validating: raw, as: UTF8.self) else { throw fail("invalid UTF-8") }
                    out.append(contentsOf: s.unicodeScalars)
                    raw = []
                    i += 1
                    if c == UInt8(ascii: "\"") { return String(out) }
                    guard i < bytes.count else { throw fail("unterminated string") }
                    let e = bytes[i]
                    i += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(Unicode.Scalar(e))
                    case UInt8(ascii: "b"): out.append("\u{08}")
                    case UInt8(ascii: "f"): out.append("\u{0C}")
                    case UInt8(ascii: "n"): out.append("\n")
                    case UInt8(ascii: "r"): out.append("\r")
                    case UInt8(ascii: "t"): out.append("\t")
                    case UInt8(ascii: "u"):
                        var v = try hex4()
                        if (0xD800..<0xDC00).contains(v), bytes.count - i >= 6, bytes[i] == UInt8(ascii: "\\"),
                           bytes[i + 1] == UInt8(ascii: "u") {
                            i += 2
                            let lo = try hex4()
                            guard (0xDC00..<0xE000).contains(lo) else { throw fail("invalid surrogate pair") }
                            v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)
                        }
                        guard let u = Unicode.Scalar(v) else { throw fail("invalid \\u escape") }
                        out.append(u)
                    default: throw fail("invalid escape")
                    }
                    run = i
                } else if c < 0x20 {
                    throw fail("control character in string")
                } else {
                    i += 1
                }
            }
        }
    }
}
