import Foundation
import Testing
@testable import AdamPKit
import SeededRandom

/// A folder of its own for each test, removed afterwards.
func withTemporaryFolder<R>(_ body: (URL) throws -> R) throws -> R {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("adamp-ckpt-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    return try body(dir)
}

/// Everything a failed load must leave as it was: the state dict (groups,
/// steps, buffers) and the parameters' values.
func checkpointSnapshot<T: AdamPScalar>(_ opt: any Optimizer<T>) -> (StateDict, [[T]]) {
    (opt.stateDict(), opt.parameters.map(\.values))
}

/// A run of `spec` over `shapes`: the gradients of every step, recorded
/// from an uninterrupted run, so that a resumed run can replay them.
struct RecordedRun<T: AdamPScalar> {
    let initial: [[T]]
    var gradients: [[[T]?]] = []

    init(_ spec: Spec, shapes: [[Int]], steps: Int, seed: UInt64) throws {
        var rng = SplitMix(state: seed)
        initial = shapes.map { s in (0..<s.reduce(1, *)).map { _ in T(rng.normal() * 0.5) } }
        let params = try makeParameters(shapes: shapes, named: false)
        let opt = try spec.make(params)
        for k in 0..<steps {
            var gs: [[T]?] = []
            for (i, p) in params.enumerated() {
                // Parameters skip steps in different patterns, so step counts
                // differ; one starts late (SGD's first-step rule on resume).
                let skip = (i % 4 == 3 && k % 2 == 1) || (i % 5 == 4 && k < 4)
                let g = spec.gradient(i, k, p: p.values.map(Double.init), shape: p.shape, skip: skip, rng: &rng)
                p.grad = g.map { $0.map { T($0) } }
                gs.append(p.grad)
            }
            gradients.append(gs)
            try opt.step()
        }
    }

    func makeParameters(shapes: [[Int]], named: Bool) throws -> [Parameter<T>] {
        try zip(shapes, initial).enumerated().map { i, sv in
            try Parameter<T>(shape: sv.0, values: sv.1, name: named ? "p\(i)" : nil)
        }
    }

    func run(_ opt: any Optimizer<T>, steps: Range<Int>) throws {
        for k in steps {
            for (p, g) in zip(opt.parameters, gradients[k]) { p.grad = g }
            try opt.step()
        }
    }
}

/// The bytes of `a`: equal exactly when every element is bitwise equal.
func rawBytes<T>(_ a: [T]) -> Data { a.withUnsafeBytes { Data($0) } }

let checkpointShapes: [[Int]] = [[], [7], [5, 7], [1, 17], [6, 4, 3, 3], [4, 50], [8, 129], [0, 3]]

@Suite struct CheckpointTests {
    /// Stopped after k steps, saved, loaded into a new optimizer over
    /// parameters holding the same values, and continued: parameters, state
    /// and step counts bitwise those of the uninterrupted run, for every
    /// optimizer spec (nesterov, amsgrad, maximize, SGD's first-step rule),
    /// with step counts that differ per parameter.
    @Test(arguments: Spec.all)
    func resumeIsBitwise(spec: Spec) throws {
        try resume(Float.self, spec)
        try resume(Double.self, spec)
    }

    func resume<T: AdamPScalar>(_: T.Type, _ spec: Spec) throws {
        let steps = 7
        let rec = try RecordedRun<T>(spec, shapes: checkpointShapes, steps: steps, seed: 11)
        for (k, named) in [(1, false), (3, true), (5, false)] {
            let whole = try spec.make(rec.makeParameters(shapes: checkpointShapes, named: named))
            try rec.run(whole, steps: 0..<steps)

            let first = try spec.make(rec.makeParameters(shapes: checkpointShapes, named: named))
            try rec.run(first, steps: 0..<k)
            try withTemporaryFolder { dir in
                let url = dir.appendingPathComponent("opt.safetensors")
                try first.save(to: url)
                let params = try checkpointShapes.indices.map { i in
                    try Parameter<T>(shape: checkpointShapes[i], values: first.parameters[i].values, name: named ? "p\(i)" : nil)
                }
                let resumed = try spec.make(params)
                try resumed.load(from: url)
                #expect(resumed.stateDict() == first.stateDict(), "\(spec) k=\(k): state dict after load")
                try rec.run(resumed, steps: k..<steps)
                for (a, b) in zip(whole.parameters, resumed.parameters) {
                    let at = "\(spec) \(T.self) k=\(k) shape \(a.shape)"
                    #expect(rawBytes(a.values) == rawBytes(b.values), "\(at): values")
                    #expect(whole.stepCount(for: a) == resumed.stepCount(for: b), "\(at): step count")
                    #expect(bits(whole.state(for: a)) == bits(resumed.state(for: b)), "\(at): state")
                }
            }
        }
    }

    private func bits<T: AdamPScalar>(_ s: [String: [T]]) -> [String: Data] { s.mapValues(rawBytes) }

    /// The layout PyTorch's optimizer state_dict has: state.<index>.<name>
    /// tensors in the parameters' dtype and shape, the step as an I64
    /// scalar, and param_groups with PyTorch's keys.
    @Test func layoutIsPyTorchs() throws {
        let w = try Parameter<Float>(shape: [2, 3], values: [1, 2, 3, 4, 5, 6], name: "w")
        let b = Parameter<Float>(shape: [3], name: "b")
        let opt = try AdamP(groups: [AdamP<Float>.Group(parameters: [w]), AdamP<Float>.Group(parameters: [b], weightDecay: 0)],
                            learningRate: 0.01, weightDecay: 1e-4, nesterov: true)
        w.grad = [1, 0, 0, 0, 0, 1]
        try opt.step()
        let sd = opt.stateDict()
        #expect(Set(sd.tensors.keys) == ["state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq"])
        #expect(sd.tensors["state.0.step"] == StateDict.Tensor(shape: [], values: [Int64(1)]))
        #expect(sd.tensors["state.0.exp_avg"]?.shape == [2, 3])
        #expect(sd.tensors["state.0.exp_avg"]?.values(as: Float.self) == opt.state(for: w)["exp_avg"])
        #expect(sd.metadata["format"] == "swift-adamp.optimizer")
        #expect(sd.metadata["format_version"] == "1")
        #expect(sd.metadata["optimizer"] == "adamp")
        #expect(sd.metadata["dtype"] == "F32")
        let groups = try JSONSerialization.jsonObject(with: Data(sd.metadata["param_groups"]!.utf8)) as! [[String: Any]]
        #expect(groups.count == 2)
        #expect(Set(groups[0].keys) == ["lr", "betas", "eps", "weight_decay", "delta", "wd_ratio", "nesterov", "params"])
        #expect(groups[0]["lr"] as? Double == 0.01)
        #expect(groups[0]["betas"] as? [Double] == [0.9, 0.999])
        #expect(groups[0]["weight_decay"] as? Double == 1e-4)
        #expect(groups[1]["weight_decay"] as? Double == 0)
        #expect(groups[0]["nesterov"] as? Bool == true)
        #expect(groups[0]["params"] as? [Int] == [0])
        #expect(groups[1]["params"] as? [Int] == [1])
        let params = try JSONSerialization.jsonObject(with: Data(sd.metadata["parameters"]!.utf8)) as! [[String: Any]]
        #expect(params.map { $0["name"] as? String } == ["w", "b"])
        #expect(params.map { $0["shape"] as? [Int] } == [[2, 3], [3]])
        // The same bytes round trip through the file format.
        #expect(try StateDict(safetensors: sd.safetensors()) == sd)
    }

    /// Each optimizer writes its own keys; a group's hyperparameters come back
    /// exactly (decimal text read back bit for bit), SGDP's learning rate too.
    @Test func hyperparametersRoundTrip() throws {
        let p = Parameter<Double>(shape: [3, 2])
        let sgdp = try SGDP(parameters: [p], learningRate: 0.1 + 0.2, momentum: 0.9, dampening: 1.0 / 3, nesterov: false,
                            wdRatio: 0.25)
        let other = try SGDP(parameters: [Parameter<Double>(shape: [3, 2])], learningRate: 1)
        try other.load(stateDict: sgdp.stateDict())
        #expect(try other.hyperparameters() == sgdp.hyperparameters())
        let keys = { (sd: StateDict) in
            Set((try! JSONSerialization.jsonObject(with: Data(sd.metadata["param_groups"]!.utf8)) as! [[String: Any]])[0].keys)
        }
        #expect(keys(sgdp.stateDict()) == ["lr", "momentum", "dampening", "weight_decay", "nesterov", "eps", "delta", "wd_ratio", "params"])
        let sgd = try SGD(parameters: [Parameter<Float>(shape: [2])], momentum: 0.5, maximize: true)
        #expect(keys(sgd.stateDict()) == ["lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize", "params"])
        let adamw = try AdamW(parameters: [Parameter<Float>(shape: [2])], amsgrad: true)
        #expect(keys(adamw.stateDict()) == ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "params"])
        let fresh = try AdamW(parameters: [Parameter<Float>(shape: [2])])
        try fresh.load(stateDict: adamw.stateDict())
        #expect(try fresh.hyperparameters().amsgrad)
    }

    /// Loading changes nothing when the checkpoint does not fit; the error
    /// names the parameter or what differs.
    @Test func mismatchesAreErrorsThatChangeNothing() throws {
        func trained(_ names: [String?] = ["w", "b"], shapes: [[Int]] = [[4, 3], [3]]) throws -> AdamP<Float> {
            let ps = try zip(names, shapes).map { n, s in
                try Parameter<Float>(shape: s, values: (0..<s.reduce(1, *)).map { Float($0) + 1 }, name: n)
            }
            let opt = try AdamP(parameters: ps, learningRate: 0.01)
            for p in ps { p.grad = p.values.map { $0 * 0.1 - 0.2 } }
            try opt.step()
            return opt
        }
        let source = try trained().stateDict()
        func expectRefused<T: AdamPScalar>(_ target: any Optimizer<T>, _ sd: StateDict, mentions: String,
                                           sourceLocation: SourceLocation = #_sourceLocation) {
            let before = checkpointSnapshot(target)
            do {
                try target.load(stateDict: sd)
                Issue.record("loaded; expected an error mentioning \(mentions)", sourceLocation: sourceLocation)
            } catch let OptimizerError.invalidCheckpoint(file, problem) {
                #expect(file == nil, sourceLocation: sourceLocation)
                #expect(problem.contains(mentions), "\(problem)", sourceLocation: sourceLocation)
            } catch {
                Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
            }
            let after = checkpointSnapshot(target)
            #expect(after.0 == before.0 && after.1 == before.1, "changed by a failed load", sourceLocation: sourceLocation)
        }
        // Another optimizer kind, another dtype.
        expectRefused(try SGDP(parameters: [Parameter<Float>(shape: [4, 3]), Parameter<Float>(shape: [3])], learningRate: 0.1),
                      source, mentions: "\"adamp\"")
        expectRefused(try AdamP(parameters: [Parameter<Double>(shape: [4, 3]), Parameter<Double>(shape: [3])]),
                      source, mentions: "F32")
        // Count, shape, name.
        expectRefused(try trained(["w"], shapes: [[4, 3]]), source, mentions: "holds 2 parameters")
        expectRefused(try trained(shapes: [[3, 4], [3]]), source, mentions: "w has shape [3, 4]")
        expectRefused(try trained(["w", "bias"]), source, mentions: "\"bias\" is not in the checkpoint")
        expectRefused(try trained(["v", nil]), source, mentions: "parameter 0 is named \"v\" here but \"w\"")
        expectRefused(try trained(), try renamed(source, "b", to: "w"), mentions: "names two parameters \"w\"")
        // A state buffer of the wrong dtype or shape, or missing.
        var sd = source
        sd.tensors["state.1.exp_avg"] = .init(shape: [3], values: [0.0, 0, 0])
        expectRefused(try trained(), sd, mentions: "state.1.exp_avg of b is F64")
        sd = source
        sd.tensors["state.1.exp_avg"] = .init(shape: [1, 3], values: [Float(0), 0, 0])
        expectRefused(try trained(), sd, mentions: "state.1.exp_avg has shape [1, 3]")
        sd = source
        sd.tensors["state.0.exp_avg_sq"] = nil
        expectRefused(try trained(), sd, mentions: "state.0.exp_avg_sq is missing")
        sd.tensors["state.0.momentum_buffer"] = .init(shape: [4, 3], values: [Float](repeating: 0, count: 12))
        expectRefused(try trained(), sd, mentions: "exp_avg_sq is missing")
        sd = source
        sd.tensors["state.0.exp_avg_sq2"] = .init(shape: [1], values: [Float(0)])
        expectRefused(try trained(), sd, mentions: "\"state.0.exp_avg_sq2\" is not part")
        // Steps: NaN, negative, fractional.
        for bad: StateDict.Tensor in [.init(shape: [], values: [Double.nan]), .init(shape: [], values: [Int64(-1)]),
                                      .init(shape: [], values: [Float(1.5)]), .init(shape: [2], values: [Int64(1), 1])] {
            sd = source
            sd.tensors["state.0.step"] = bad
            expectRefused(try trained(), sd, mentions: "state.0.step")
        }
        // Hyperparameters out of range, of the wrong type; groups that differ.
        for (from, to, mentions) in [("\"lr\":0.01", "\"lr\":-1", "learningRate"), ("\"nesterov\":false", "\"nesterov\":3", "nesterov"),
                                     ("\"params\":[0,1]", "\"params\":[0,0]", "params"),
                                     ("\"params\":[0,1]", "\"params\":[0]", "holds 1 parameters")] {
            sd = source
            sd.metadata["param_groups"] = sd.metadata["param_groups"]!.replacingOccurrences(of: from, with: to)
            #expect(sd.metadata["param_groups"] != source.metadata["param_groups"], "\(from) not found")
            expectRefused(try trained(), sd, mentions: mentions)
        }
        sd = source
        sd.metadata["format_version"] = "2"
        expectRefused(try trained(), sd, mentions: "newer")
        sd.metadata["format"] = nil
        expectRefused(try trained(), sd, mentions: "not an optimizer checkpoint")
        sd = source
        sd.metadata["param_groups"] = "[{"
        expectRefused(try trained(), sd, mentions: "not valid JSON")
    }

    private func renamed(_ sd: StateDict, _ a: String, to b: String) throws -> StateDict {
        var out = sd
        out.metadata["parameters"] = sd.metadata["parameters"]!.replacingOccurrences(of: "\"\(a)\"", with: "\"\(b)\"")
        return out
    }

    /// A field a file leaves out takes its default (older files keep
    /// loading); keys of PyTorch's own (foreach, fused) are ignored.
    @Test func missingFieldsTakeDefaultsAndUnknownKeysAreIgnored() throws {
        let opt = try Adam(parameters: [Parameter<Float>(shape: [2])], learningRate: 0.5, amsgrad: true)
        var sd = opt.stateDict()
        sd.metadata["param_groups"] = #"[{"lr":0.25,"foreach":null,"fused":false,"params":[0]}]"#
        try opt.load(stateDict: sd)
        var expected = Adam<Float>.Hyperparameters()
        expected.learningRate = 0.25
        #expect(try opt.hyperparameters() == expected)
    }

    /// A version-1 file kept in the repository keeps loading, with the values
    /// it was written with (Tests/Checkpoints/README.md says how it was made).
    @Test func versionOneFileLoads() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Checkpoints/adamp_v1.safetensors")
        let w = Parameter<Float>(shape: [2, 3], name: "conv.weight"), b = Parameter<Float>(shape: [3], name: "conv.bias")
        let opt = try AdamP(parameters: [w, b])
        try opt.load(from: url)
        let h = try opt.hyperparameters()
        #expect(h.learningRate == 0.01 && h.weightDecay == 1e-4 && h.nesterov && h.delta == 0.1)
        #expect(opt.stepCount(for: w) == 2 && opt.stepCount(for: b) == 1)
        let m = opt.state(for: w)["exp_avg"]!
        #expect(m.count == 6 && m.allSatisfy { $0.isFinite } && m.contains { $0 != 0 })
    }
}
