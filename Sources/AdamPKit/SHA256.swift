internal import CSHA256

/// SHA-256, for the integrity check of checkpoints: the package writes the
/// digest of a file's data beside it and verifies it when it reads the file
/// back (Python's hashlib computes the same, so the converter, `cadamp.convert`,
/// writes and checks it too). In C (Sources/CSHA256), on the x86 SHA
/// extensions where the CPU has them: about 1.7 GB/s here, where Swift or
/// portable C take 170-300 MB/s.
enum SHA256 {
    /// The digest of `bytes`, as 64 lowercase hex digits; `portable` takes
    /// the portable C path (for tests).
    static func hex(_ bytes: UnsafeRawBufferPointer, portable: Bool) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        swift_adamp_sha256(bytes.baseAddress, bytes.count, &digest, portable ? 1 : 0)
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }

    static func hex(_ bytes: UnsafeRawBufferPointer) -> String { hex(bytes, portable: false) }
}
