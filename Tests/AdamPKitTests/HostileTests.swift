import Foundation
import Testing
@testable import AdamPKit

#if canImport(Glibc)
import Glibc
import SeededRandom
#endif

/// Hostile and careless use of checkpoints, step counts, gradient scaling,
/// clipping and schedules (issue 28, section 2): each test names the defect
/// (S1-S12) it covers and failed before its fix. A refusal names what is
/// wrong and changes nothing; nothing traps.
@Suite struct HostileTests {
    /// An AdamP over a weight, a bias and an empty parameter after two steps.
    func trained(diagnostics: Bool = false) throws -> AdamP<Double> {
        let w = try Parameter<Double>(shape: [3, 4], values: (0..<12).map { Double($0) - 5 }, name: "w")
        let b = try Parameter<Double>(shape: [4], values: [1, 2, 3, 4], name: "b")
        let e = Parameter<Double>(shape: [0, 3], name: "e")
        let opt = try AdamP(parameters: [w, b, e], learningRate: 0.01)
        opt.diagnosticsEnabled = diagnostics
        for k in 0..<2 {
            w.grad = (0..<12).map { Double(($0 * 7 + k) % 5) - 2 }
            b.grad = [0.5, -1, 2, Double(k)]
            e.grad = []
            try opt.step()
        }
        return opt
    }

    /// `sd` changed by `edit` is refused by `load(stateDict:)`, naming
    /// `mentions`, and the optimizer is as it was.
    func refused(_ edit: (inout StateDict) -> Void, _ mentions: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let opt = try trained()
        var sd = opt.stateDict()
        edit(&sd)
        let before = checkpointSnapshot(opt)
        do {
            try opt.load(stateDict: sd)
            Issue.record("loaded", sourceLocation: sourceLocation)
        } catch let OptimizerError.invalidCheckpoint(_, problem) {
            #expect(problem.contains(mentions), "\(problem)", sourceLocation: sourceLocation)
        }
        let after = checkpointSnapshot(opt)
        #expect(after.0 == before.0 && after.1 == before.1, "changed by a failed load", sourceLocation: sourceLocation)
    }

    /// S1 (a trap on a shape whose product overflows) and S2 (bytes that do
    /// not match the shape, zero-filled past those given): a state dict made
    /// in memory is checked as a file is.
    @Test func s1s2TensorsWhoseBytesAreNotTheirShape() throws {
        try refused({ $0.tensors["state.0.step"] = .init(dtype: "I64", shape: [Int.max, 2], data: Data(count: 8)) },
                    "tensor \"state.0.step\" has a shape [\(Int.max), 2] whose size overflows")
        try refused({ $0.tensors["state.0.exp_avg"]!.data = $0.tensors["state.0.exp_avg"]!.data.prefix(40) },
                    "tensor \"state.0.exp_avg\" has 40 bytes, but F64 of shape [3, 4] needs 96")
        try refused({ $0.tensors["state.1.exp_avg_sq"]!.shape = [-4] }, "negative dimension")
    }

    /// S3: a count the C library refuses to step from is refused at load.
    @Test func s3StepCountOutOfRangeIsRefused() throws {
        for bad in [Int64.max, -1] {
            try refused({ $0.tensors["state.0.step"] = .init(shape: [], values: [bad]) },
                        "state.0.step is \(bad): a step count is a whole number in [0, 2^63 - 1)")
        }
        try refused({ $0.tensors["state.0.step"] = .init(shape: [], values: [Double(0x1p63)]) }, "not a whole number")
    }

    /// S3, S4, S5: a count stepped to Int64.max (from a checkpoint's
    /// Int64.max - 1) neither traps nor says "please report it": with
    /// diagnostics on the step works and is diagnosed (it trapped), and the
    /// next step throws .stepCountLimit naming the parameter, changing
    /// nothing, for a parameter with elements and an empty one alike (the
    /// empty one trapped on `step += 1`).
    @Test func s3s4s5StepCountReachedByStepping() throws {
        for empty in [false, true] {
            let opt = try trained(diagnostics: true)
            var sd = opt.stateDict()
            let index = empty ? 2 : 0
            sd.tensors["state.\(index).step"] = .init(shape: [], values: [Int64.max - 1])
            if empty {
                sd.tensors["state.2.exp_avg"] = .init(shape: [0, 3], values: [Double]())
                sd.tensors["state.2.exp_avg_sq"] = .init(shape: [0, 3], values: [Double]())
            }
            try opt.load(stateDict: sd)
            let p = opt.parameters[index]
            p.grad = [Double](repeating: 0.5, count: p.count)
            try opt.step()
            #expect(opt.stepCount(for: p) == Int.max)
            if !empty { #expect(opt.diagnostics(for: p) != nil) }
            let before = checkpointSnapshot(opt)
            #expect(throws: OptimizerError.stepCountLimit(parameter: empty ? "e" : "w")) { try opt.step() }
            let after = checkpointSnapshot(opt)
            #expect(after.0 == before.0 && after.1 == before.1)
            #expect("\(OptimizerError.stepCountLimit(parameter: "w"))".contains("the most a step count holds"))
        }
    }

    /// Values no step from finite gradients writes: a negative second
    /// moment, a NaN or an infinity anywhere in the state, refused at load
    /// naming the tensor and the element; -0 and negative first moments load.
    @Test func stateValuesNoStepWritesAreRefused() throws {
        func setting(_ name: String, _ at: Int, _ v: Double) -> (inout StateDict) -> Void {
            { sd in
                var values = sd.tensors[name]!.values(as: Double.self)!
                values[at] = v
                sd.tensors[name] = .init(shape: sd.tensors[name]!.shape, values: values)
            }
        }
        try refused(setting("state.0.exp_avg_sq", 5, -1e-3), "state.0.exp_avg_sq holds -0.001 at element 5: a second moment is never negative")
        try refused(setting("state.1.exp_avg", 2, .nan), "state.1.exp_avg holds nan at element 2")
        try refused(setting("state.0.exp_avg_sq", 0, .infinity), "state.0.exp_avg_sq holds inf at element 0")
        let opt = try trained()
        var sd = opt.stateDict()
        setting("state.0.exp_avg_sq", 3, -0.0)(&sd)
        setting("state.0.exp_avg", 3, -7)(&sd)
        try opt.load(stateDict: sd)
    }

    /// The integrity check: a file whose data changed on disk is refused; a
    /// file without the digest (older, or another writer's) loads.
    @Test func theDataDigestIsWrittenAndChecked() throws {
        let opt = try trained()
        let bytes = try opt.stateDict().safetensors()
        let n = bytes.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
        let header = String(decoding: bytes[8..<8 + n], as: UTF8.self)
        #expect(header.contains("\"data_sha256\":\""))
        try withTemporaryFolder { dir in
            let url = dir.appendingPathComponent("ckpt.safetensors")
            var flipped = bytes
            flipped[bytes.count - 3] ^= 0x01
            try flipped.write(to: url)
            #expect(throws: OptimizerError.self) { try opt.load(from: url) }
            do { try opt.load(from: url) } catch let OptimizerError.invalidCheckpoint(_, problem) {
                #expect(problem.hasPrefix("corrupt: the SHA-256 of its data is "), "\(problem)")
            }
            // The same file with the digest blanked out of the header (same length) loads.
            let blank = header.replacingOccurrences(of: "\"data_sha256\"", with: "\"data_sha000\"")
            var unchecked = Data(bytes.prefix(8))
            unchecked.append(contentsOf: Array(blank.utf8))
            unchecked.append(bytes[(8 + n)...])
            try unchecked.write(to: url)
            let other = try trained()
            try other.load(from: url)
            // What the reader returns does not hold the digest: a round trip is exact.
            #expect(try StateDict(safetensors: bytes) == opt.stateDict())
        }
    }

    /// SHA-256's known answers (FIPS 180-4's examples), on both paths (the
    /// SHA extensions, where the CPU has them, and portable C), and the two
    /// paths alike at every length around the block and padding boundaries.
    @Test func sha256KnownAnswers() throws {
        let cases = [("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
                     ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                     ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
                     (String(repeating: "a", count: 1_000_000),
                      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")]
        for portable in [false, true] {
            for (text, digest) in cases {
                #expect(Array(text.utf8).withUnsafeBytes { SHA256.hex($0, portable: portable) } == digest)
            }
        }
        var rng = SplitMix(state: 28)
        let bytes = (0..<300).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        for n in 0...300 {
            bytes.withUnsafeBytes { b in
                let part = UnsafeRawBufferPointer(rebasing: b[0..<n])
                #expect(SHA256.hex(part, portable: false) == SHA256.hex(part, portable: true), "\(n) bytes")
            }
        }
    }

    /// S6: a gradient scale whose reciprocal overflows is an invalid
    /// argument naming it (it was a C "threads/config" failure).
    @Test func s6GradScaleWhoseReciprocalOverflows() throws {
        let opt = try trained()
        opt.parameters[0].grad = [Double](repeating: 1, count: 12)
        let before = checkpointSnapshot(opt)
        do {
            try opt.step(gradScale: 1e-300 * 1e-10)   // 1e-310: its reciprocal overflows
            Issue.record("stepped")
        } catch let OptimizerError.invalidArgument(name, _, _) {
            #expect(name == "gradScale")
        }
        let after = checkpointSnapshot(opt)
        #expect(after.0 == before.0 && after.1 == before.1)
        try opt.step(gradScale: 1e-300)   // a small scale whose reciprocal is finite is fine
    }

    /// S7: finite gradients whose squares overflow Double: the norm is
    /// finite (it was +inf, and nothing was clipped), computed as LAPACK's
    /// nrm2 computes it, and clipping brings them to the maximum norm.
    @Test func s7NormOfGradientsWhoseSquaresOverflow() throws {
        let make = { () throws -> (Parameter<Double>, Parameter<Double>) in
            (try Parameter<Double>(shape: [2, 2], values: [1, 2, 3, 4]), try Parameter<Double>(shape: [3], values: [1, 1, 1]))
        }
        let (a, b) = try make()
        a.grad = [3e200, -4e200, 0, 0]
        b.grad = [0, 1e200, 0]
        let expected = (26.0).squareRoot() * 1e200
        let norm = try clipGradNorm([a, b], maxNorm: 1)
        #expect(abs(norm - expected) <= 1e-15 * expected)
        let clipped = (a.grad! + b.grad!).map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(abs(clipped - 1) < 1e-6, "\(clipped)")
        // Through a step: the same clipping, fused.
        let (c, d) = try make(), (e, f) = try make()
        let fused = try SGD(parameters: [c, d], learningRate: 0.1)
        let plain = try SGD(parameters: [e, f], learningRate: 0.1)
        c.grad = [3e200, -4e200, 0, 0]
        d.grad = [0, 1e200, 0]
        e.grad = c.grad
        f.grad = d.grad
        let result = try fused.step(maxGradNorm: 1)
        #expect(abs(result.gradNorm! - expected) <= 1e-15 * expected)
        try clipGradNorm([e, f], maxNorm: 1)
        try plain.step()
        #expect(c.values == e.values && d.values == f.values)
    }

    /// S8: a OneCycleLR whose construction throws has changed nothing (it
    /// had set an infinite initial_lr, which a save wrote as invalid JSON).
    @Test func s8AScheduleThatThrowsChangesNothing() throws {
        let opt = try trained()
        let before = opt.stateDict()
        #expect(throws: OptimizerError.self) { try OneCycleLR(optimizer: opt, maxLR: 1e308, totalSteps: 10, divFactor: 1e-300) }
        #expect(opt.stateDict() == before)
        try withTemporaryFolder { dir in
            let url = dir.appendingPathComponent("ckpt.safetensors")
            try opt.save(to: url)
            try trained().load(from: url)
        }
    }

    /// S9: a first phase of no steps (pctStart · totalSteps = 1), where
    /// PyTorch divides by zero, is refused naming pctStart (it reported a
    /// NaN rate); a last phase of no steps is at its end (PyTorch divides by
    /// zero at the last step) and every other step is PyTorch's.
    @Test func s9OneCyclePhasesOfNoSteps() throws {
        let opt = try ScheduleTests.sgd()
        do {
            _ = try OneCycleLR(optimizer: opt, maxLR: 1, totalSteps: 10, pctStart: 0.1)
            Issue.record("constructed")
        } catch let OptimizerError.invalidArgument(name, _, rule) {
            #expect(name == "pctStart" && rule.contains("leaves the first phase no steps"))
        }
        #expect(try opt.learningRate(group: 0) == 0.1)
        // Three phases, the last of no steps: PyTorch gives 0.5/25, 0.5, 0.02
        // (2/3 · 3 - 1 = 1, 2 · 2/3 · 3 - 2 = 2 = 3 - 1), then divides by zero.
        let s = try OneCycleLR(optimizer: opt, maxLR: 0.5, totalSteps: 3, pctStart: 2.0 / 3, threePhase: true)
        var rates = [s.lastLearningRates[0]]
        for _ in 0..<3 {
            try s.step()
            rates.append(s.lastLearningRates[0])
        }
        let low = 0.02 / 1e4
        #expect(zip(rates, [0.02, 0.5, 0.02, low]).allSatisfy { ScheduleTests.close($0, $1) }, "\(rates)")
    }

    /// S10: OneCycleLR's last scheduled step (epoch totalSteps, which
    /// PyTorch allows) works with the linear strategy, whose extrapolation
    /// goes below zero there: the rate is 0 (it threw); PyTorch's values
    /// everywhere else (ScheduleTests compares the tables to that step).
    @Test func s10TheLastScheduledStep() throws {
        let opt = try ScheduleTests.sgd()
        let s = try OneCycleLR(optimizer: opt, maxLR: [0.5, 0.2], totalSteps: 15, pctStart: 0.4, annealStrategy: .linear,
                               divFactor: 10, finalDivFactor: 100)
        for _ in 0..<15 { try s.step() }
        #expect(s.lastEpoch == 15 && s.lastLearningRates[0] == 0)
        #expect(throws: OptimizerError.self) { try s.step() }
    }

    /// S11: a legal file name of 235 to 255 bytes saves (the temporary
    /// file's name was longer than 255 bytes).
    @Test func s11LongFileNamesSave() throws {
        let opt = try trained()
        try withTemporaryFolder { dir in
            for length in [235, 250, 255] {
                let name = String(repeating: "c", count: length - 12) + ".safetensors"
                let url = dir.appendingPathComponent(name)
                try opt.save(to: url)
                try trained().load(from: url)
            }
            // A name of multi-byte characters is cut on a character.
            let wide = String(repeating: "é", count: 120) + ".st"
            #expect(AtomicFile.temporaryName(for: wide).utf8.count <= 255)
            try opt.save(to: dir.appendingPathComponent(wide))
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).allSatisfy { !$0.hasPrefix(".") })
        }
    }

    /// S12: a directory, a /proc file and a file larger than the
    /// optimizer's checkpoint can be are refused saying so (a directory was
    /// "NSCocoaErrorDomain error 256"); the large one before it is read.
    @Test func s12WhatIsNotACheckpointFile() throws {
        let opt = try trained()
        func problem(_ url: URL) -> String {
            do { try opt.load(from: url) } catch let OptimizerError.invalidCheckpoint(file, problem) {
                #expect(file == url.path)
                return problem
            } catch { return "\(error)" }
            return "loaded"
        }
        try withTemporaryFolder { dir in
            #expect(problem(dir) == "is a directory, not a checkpoint file")
            #expect(problem(URL(fileURLWithPath: "/proc/self/status")).contains("holds more bytes than the 0 its size says"))
            #expect(problem(URL(fileURLWithPath: "/dev/null")).contains("is not a regular file"))
            #expect(problem(dir.appendingPathComponent("none")).contains("cannot be opened (No such file or directory)"))
            // A sparse file of 64 GiB: refused from its size, before a byte is read.
            let big = dir.appendingPathComponent("big.safetensors")
            #expect(FileManager.default.createFile(atPath: big.path, contents: nil))
            let fd = open(big.path, O_WRONLY)
            #expect(ftruncate(fd, 1 << 36) == 0)
            close(fd)
            let p = problem(big)
            #expect(p.contains("is 68719476736 bytes, more than this optimizer's checkpoint can be (at most "), "\(p)")
        }
    }
}
