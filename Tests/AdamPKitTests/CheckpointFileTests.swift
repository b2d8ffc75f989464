import Foundation
import Testing
@testable import AdamPKit

/// Bad files are refused with an error naming the file and the problem, and
/// the optimizer is unchanged; saving is atomic.
@Suite struct CheckpointFileTests {
    /// An AdamP over two parameters after two steps, and its saved bytes.
    func trained() throws -> (AdamP<Float>, Data) {
        let w = try Parameter<Float>(shape: [3, 4], values: (0..<12).map { Float($0) - 5 }, name: "w")
        let b = try Parameter<Float>(shape: [4], values: [1, 2, 3, 4], name: "b")
        let opt = try AdamP(parameters: [w, b], learningRate: 0.01)
        for k in 0..<2 {
            w.grad = (0..<12).map { Float(($0 * 7 + k) % 5) - 2 }
            b.grad = [0.5, -1, 2, Float(k)]
            try opt.step()
        }
        return (opt, try opt.stateDict().safetensors())
    }

    /// The header's JSON and where the data begins.
    func header(_ d: Data) -> (text: String, dataStart: Int) {
        let n = d.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
        return (String(decoding: d[8..<8 + n], as: UTF8.self), 8 + n)
    }

    /// A file made from `d` with its header text replaced (length fixed up).
    func withHeader(_ d: Data, _ edit: (String) -> String) -> Data {
        let (text, start) = header(d)
        let new = Array(edit(text).utf8)
        var out = Data()
        withUnsafeBytes(of: UInt64(new.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: new)
        out.append(d[start...])
        return out
    }

    @Test func badFilesAreRefusedAndChangeNothing() throws {
        let (good, bytes) = try trained()
        let (text, start) = header(bytes)
        let first = try #require(text.range(of: #""data_offsets":\[0,(\d+)\]"#, options: .regularExpression))
        let firstEnd = Int(text[first].split(separator: ",").last!.dropLast())!
        let second = try #require(text.range(of: "\"data_offsets\":\\[\(firstEnd),(\\d+)\\]", options: .regularExpression))
        let secondEnd = Int(text[second].split(separator: ",").last!.dropLast())!
        var cases: [(String, Data, String)] = [
            ("empty", Data(), "not a safetensors file"),
            ("text", Data("hello, this is not a checkpoint\n".utf8), "not a safetensors file"),
            ("zip (a torch.save file)", Data([0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 7, count: 60)), "not a safetensors file"),
            ("truncated header", bytes.prefix(start - 10), "truncated"),
            ("truncated data", bytes.prefix(bytes.count - 4), "outside the file"),
            ("corrupt header", withHeader(bytes) { $0.replacingOccurrences(of: "\"dtype\"", with: "\"dty\u{01}pe\"") }, "corrupt header"),
            ("not an object", withHeader(bytes) { "[" + $0.dropFirst() }, "not a safetensors file"),
            ("offsets outside the file", withHeader(bytes) { $0.replacingOccurrences(of: "[0,\(firstEnd)]", with: "[0,\(firstEnd + 1_000_000)]") }, "outside the file"),
            ("overlapping tensors", withHeader(bytes) { $0.replacingOccurrences(of: "[\(firstEnd),\(secondEnd)]", with: "[\(firstEnd - 4),\(secondEnd - 4)]") }, "overlaps"),
            ("wrong dtype", withHeader(bytes) { $0.replacingOccurrences(of: "\"F32\"", with: "\"F16\"") }, "needs"),
            ("unknown dtype", withHeader(bytes) { $0.replacingOccurrences(of: "\"F32\"", with: "\"Q7\"") }, "unknown dtype"),
            ("future version", withHeader(bytes) { $0.replacingOccurrences(of: #""format_version":"1""#, with: #""format_version":"7""#) }, "format version 7 is newer"),
            ("duplicate key", withHeader(bytes) { $0.replacingOccurrences(of: "{\"__metadata__\"", with: "{\"x\":1,\"x\":2,\"__metadata__\"") }, "duplicate key"),
        ]
        // A header length far beyond the limit is refused before anything is read.
        var huge = Data()
        withUnsafeBytes(of: UInt64(1) << 40) { huge.append(contentsOf: $0) }
        huge.append(Data("{}".utf8))
        cases.append(("huge header", huge, "exceeds the 100000000-byte limit"))
        // NaN where a count must be: the step stored as F64 NaN.
        var sd = good.stateDict()
        sd.tensors["state.1.step"] = .init(shape: [], values: [Double.nan])
        cases.append(("NaN step", try sd.safetensors(), "state.1.step is nan"))

        try withTemporaryFolder { dir in
            for (name, data, mentions) in cases {
                let url = dir.appendingPathComponent("bad.safetensors")
                try data.write(to: url)
                let (opt, _) = try trained()
                let before = checkpointSnapshot(opt)
                do {
                    try opt.load(from: url)
                    Issue.record("\(name): loaded")
                } catch let OptimizerError.invalidCheckpoint(file, problem) {
                    #expect(file == url.path, "\(name)")
                    #expect(problem.contains(mentions), "\(name): \(problem)")
                    let message = "\(OptimizerError.invalidCheckpoint(file: file, problem: problem))"
                    #expect(message.hasPrefix("checkpoint \(url.path): "), "\(name): \(message)")
                } catch {
                    Issue.record("\(name): unexpected \(error)")
                }
                let after = checkpointSnapshot(opt)
                #expect(after.0 == before.0 && after.1 == before.1, "\(name): changed by a failed load")
            }
            let missing = dir.appendingPathComponent("none.safetensors")
            #expect(throws: OptimizerError.self) { try good.load(from: missing) }
        }
        // The good bytes load (so the cases above fail for their own reason).
        try withTemporaryFolder { dir in
            let url = dir.appendingPathComponent("good.safetensors")
            try bytes.write(to: url)
            let (opt, _) = try trained()
            try opt.load(from: url)
        }
    }

    /// A save that fails at any point (disk full while writing, fsync,
    /// rename), or cannot start (no folder), leaves the file already there
    /// as it was and no temporary file behind.
    @Test func saveIsAtomic() throws {
        let (opt, _) = try trained()
        try withTemporaryFolder { dir in
            let url = dir.appendingPathComponent("ckpt.safetensors")
            let old = Data("the previous checkpoint".utf8)
            try old.write(to: url)
            let bytes = try opt.stateDict().safetensors()
            var full = AtomicFile.IO()
            var written = 0
            full.write = { fd, b in
                // The disk fills up after 100 bytes.
                guard written < 100 else { errno = ENOSPC; return -1 }
                let n = Glibc.write(fd, b.baseAddress, min(b.count, 100 - written))
                written += n
                return n
            }
            var noSync = AtomicFile.IO()
            noSync.fsync = { _ in errno = EIO; return -1 }
            var noRename = AtomicFile.IO()
            noRename.rename = { _, _ in errno = EXDEV; return -1 }
            for (name, io, mentions) in [("disk full", full, "No space left"), ("fsync", noSync, "flushing"),
                                         ("rename", noRename, "renaming")] {
                do {
                    try AtomicFile.write(bytes, to: url, io: io)
                    Issue.record("\(name): saved")
                } catch let OptimizerError.checkpointWriteFailed(file, reason) {
                    #expect(file == url.path)
                    #expect(reason.contains(mentions), "\(name): \(reason)")
                }
                #expect(try Data(contentsOf: url) == old, "\(name): the old file changed")
                #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["ckpt.safetensors"], "\(name): left files")
            }
            let nowhere = dir.appendingPathComponent("no/such/folder/ckpt.safetensors")
            #expect(throws: OptimizerError.self) { try opt.save(to: nowhere) }
            try Data().write(to: dir.appendingPathComponent("file"))
            #expect(throws: OptimizerError.self) { try opt.save(to: dir.appendingPathComponent("file/ckpt.safetensors")) }
            // And a save that works replaces the file whole.
            try opt.save(to: url)
            #expect(try Data(contentsOf: url) == bytes)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["ckpt.safetensors", "file"])
        }
    }

    /// JSON numbers are read back bit for bit, and text with escapes survives.
    @Test func jsonRoundTrips() throws {
        for x in [0.1, 1e-8, Double.leastNonzeroMagnitude, 0.999, 1.0 / 3, 1e300, -0.0, 123456789.125] {
            #expect(try JSON.parse(Array(JSON(x).text.utf8)).double?.bitPattern == x.bitPattern, "\(x)")
        }
        let s = "a\"b\\c\n\u{01}é😀"
        #expect(try JSON.parse(Array(JSON.string(s).text.utf8)).string == s)
        #expect(try JSON.parse(Array(#""\ud83d\ude00""#.utf8)).string == "😀")
        for bad in ["", "[1,]", "{\"a\":1,}", "01x", "[1] 2", "\"abc", "nul", String(repeating: "[", count: 100)] {
            #expect(throws: JSON.ParseError.self, "\(bad)") { try JSON.parse(Array(bad.utf8)) }
        }
    }
}
