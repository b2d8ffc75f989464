import Foundation
import Testing
import AdamPKit

/// A Python with torch and adamp 0.3.0: $ADAMP_PYTHON, else the package's
/// .venv (scripts/setup.sh makes it), else none (the interop tests then
/// report themselves skipped).
enum Interop {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let python: String? = {
        let candidates = [ProcessInfo.processInfo.environment["ADAMP_PYTHON"], root.path + "/.venv/bin/python"]
        return candidates.compactMap { $0 }.first { (try? run($0, ["-c", "import torch, adamp"])) == 0 }
    }()

    static let skipped: Comment = "no Python with torch and adamp 0.3.0 (set ADAMP_PYTHON, or run scripts/setup.sh to make .venv)"

    /// Runs a program, passing its output through; returns its exit status.
    @discardableResult
    static func run(_ program: String, _ args: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = args
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    static func script(_ args: [String]) throws {
        let status = try run(python!, [root.path + "/Tests/Interop/checkpoint_interop.py"] + args)
        #expect(status == 0, "checkpoint_interop.py \(args.joined(separator: " ")) exited with \(status)")
    }
}

@Suite(.enabled(if: Interop.python != nil, Interop.skipped))
struct CheckpointInteropTests {
    static let optimizers = ["adamp", "sgdp", "adam", "adamw", "sgd"]

    func make<T: AdamPScalar>(_ name: String, _ ps: [Parameter<T>]) throws -> any Optimizer<T> {
        switch name {
        case "adamp": return try AdamP(parameters: ps)
        case "sgdp": return try SGDP(parameters: ps, learningRate: 1)
        case "adam": return try Adam(parameters: ps)
        case "adamw": return try AdamW(parameters: ps)
        default: return try SGD(parameters: ps)
        }
    }

    /// From PyTorch: the official optimizer's state_dict after K steps,
    /// converted (scripts/convert_checkpoint.py) and loaded here, then one
    /// more step with the same gradient on both sides. And back: our
    /// checkpoint after K steps from the same start, converted and loaded into
    /// the official optimizer, then one more step on both sides.
    @Test(arguments: optimizers)
    func throughPyTorchAndBack(optimizer: String) throws {
        try withTemporaryFolder { dir in
            try Interop.script(["torch-run", dir.path, optimizer])
            try roundTrip(Float.self, optimizer, dir.appendingPathComponent("F32"))
            try roundTrip(Double.self, optimizer, dir.appendingPathComponent("F64"))
            try Interop.script(["torch-check", dir.path, optimizer])
        }
    }

    /// Our side in `dir`: loads PyTorch's checkpoint and compares one step;
    /// writes our checkpoint and step for torch-check.
    func roundTrip<T: AdamPScalar>(_: T.Type, _ name: String, _ dir: URL) throws {
        let dtype = T.safetensorsDType
        do {
            let c = try StateDict(contentsOf: dir.appendingPathComponent("case.safetensors"))
            let k = Int(c.metadata["steps"]!)!
            let n = c.tensors.keys.filter { $0.hasSuffix(".init") }.count
            func values(_ key: String) -> [T]? { c.tensors[key]?.values(as: T.self) }
            func parameters(_ suffix: String) throws -> [Parameter<T>] {
                try (0..<n).map { i in try Parameter<T>(shape: c.tensors["\(i).init"]!.shape, values: values("\(i).\(suffix)")!) }
            }
            func step(_ opt: any Optimizer<T>, _ s: Int) throws {
                for (i, p) in opt.parameters.enumerated() { p.grad = values("\(i).grad.\(s)") }
                try opt.step()
            }
            let tolerance = T.self == Float.self ? 2e-4 : 1e-9

            // PyTorch -> here.
            let fromTorch = try StateDict(contentsOf: dir.appendingPathComponent("from_torch.safetensors"))
            let resumed = try make(name, parameters("after_k"))
            try resumed.load(stateDict: fromTorch)
            try step(resumed, k)
            if name == "adamp" || name == "sgdp" {
                // The conv weight's gradient is orthogonal to it: the projected path.
                #expect(resumed.lastProjection(for: resumed.parameters[0]) == .channel, "\(name): not projected")
            }
            for (i, p) in resumed.parameters.enumerated() {
                let e = relativeError(p.values, values("\(i).after_k1")!)
                #expect(e <= tolerance, "\(name) \(dtype) from PyTorch: parameter \(i): error \(e)")
                for (key, ours) in resumed.state(for: p) {
                    let theirs = try #require(values("\(i).\(key)"), "\(name): \(key) of parameter \(i) only here")
                    let e = relativeError(ours, theirs)
                    #expect(e <= tolerance, "\(name) \(dtype) from PyTorch: parameter \(i) \(key): error \(e)")
                }
            }

            // Here -> PyTorch: the same hyperparameters (a state dict without
            // state gives them, and a fresh start), K steps from the start.
            var hyper = fromTorch
            hyper.tensors = [:]
            let ours = try make(name, parameters("init"))
            try ours.load(stateDict: hyper)
            for s in 0..<k { try step(ours, s) }
            try ours.save(to: dir.appendingPathComponent("swift_k.safetensors"))
            var result = StateDict()
            for (i, p) in ours.parameters.enumerated() { result.tensors["\(i).after_k"] = .init(shape: p.shape, values: p.values) }
            try step(ours, k)
            for (i, p) in ours.parameters.enumerated() {
                result.tensors["\(i).after_k1"] = .init(shape: p.shape, values: p.values)
                for (key, v) in ours.state(for: p) { result.tensors["\(i).\(key)"] = .init(shape: p.shape, values: v) }
            }
            try result.write(to: dir.appendingPathComponent("swift_result.safetensors"))
        }
    }
}
