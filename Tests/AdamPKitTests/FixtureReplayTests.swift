import Foundation
import Testing
import AdamPKit
import FixtureSupport

/// |ours - ref| / (|ref| + 1e-3), the largest over the elements.
func relativeError<T: BinaryFloatingPoint>(_ ours: [T], _ ref: [T]) -> Double {
    precondition(ours.count == ref.count, "count \(ours.count) vs \(ref.count)")
    var worst = 0.0
    for (a, b) in zip(ours, ref) {
        let e = abs(Double(a) - Double(b)) / (abs(Double(b)) + 1e-3)
        if !(e <= worst) { worst = e.isNaN ? .infinity : e }
    }
    return worst
}

/// Replays one recorded trajectory through the public Swift API.
struct Replay<T: AdamPScalar> {
    let fixture: Safetensors
    let file: String
    var options = KernelOptions()
    /// Demand bitwise equality instead of AdamP's tolerances: for every
    /// parameter, or only for those the projection never touched.
    var exact = false, exactUnprojected = false
    var tolerance: Double { exact ? 0 : T.self == Float.self ? 2e-4 : 1e-9 }

    func tolerance(_ name: String, _ decisions: [String: [Int]]) -> Double {
        exactUnprojected && decisions[name]!.allSatisfy { $0 <= 0 } ? 0 : tolerance
    }

    func run() throws {
        let meta = fixture.metadata
        let names = fixture.json("params") as! [String]
        let steps = Int(meta["steps"]!)!
        let decisions = fixture.json("projection") as! [String: [Int]]
        let params = try names.map { n in
            try Parameter<T>(shape: fixture.shape("\(n).init")!, values: fixture.values("\(n).init")!, name: n)
        }
        let optimizer = try FixtureOptimizer.make(meta["optimizer"]!, hparams: fixture.json("hparams") as! [String: Any],
                                                  Make(params: params))
        try optimizer.setKernelOptions(options)

        for k in 0..<steps {
            for (n, p) in zip(names, params) { p.grad = fixture.values("\(n).grad.\(k)") }
            try optimizer.step()
            for (n, p) in zip(names, params) {
                if let after: [T] = fixture.values("\(n).after.\(k)") {
                    let e = relativeError(p.values, after)
                    #expect(e <= tolerance(n, decisions), "\(file): \(n) after step \(k): error \(e)")
                }
                let expected = decisions[n]![k]
                let got = optimizer.projectionCode(for: p)
                #expect(got == expected, "\(file): \(n) step \(k): projection \(got) vs recorded \(expected)")
            }
        }
        for (n, p) in zip(names, params) {
            let e = relativeError(p.values, fixture.values("\(n).final")!)
            #expect(e <= tolerance(n, decisions), "\(file): \(n) final: error \(e)")
            // The same state buffers, by PyTorch's names, as the recorded ones.
            let state = optimizer.state(for: p)
            let recorded = Self.stateKeys.filter { fixture.has("\(n).\($0)") }
            #expect(Set(state.keys) == Set(recorded), "\(file): \(n) state \(state.keys.sorted()) vs \(recorded)")
            for key in recorded {
                let ours = try #require(state[key], "\(file): \(n) has no state \(key)")
                let e = relativeError(ours, fixture.values("\(n).\(key)")!)
                #expect(e <= tolerance(n, decisions), "\(file): \(n).\(key): error \(e)")
            }
            if let step: [Double] = fixture.values("\(n).step") {
                #expect(optimizer.stepCount(for: p) == Int(step[0]), "\(file): \(n) step count")
            }
        }
    }

    static var stateKeys: [String] { ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "momentum", "momentum_buffer"] }

    /// The recorded optimizer (FixtureSupport reads its hyperparameters).
    struct Make: FixtureOptimizerUse {
        let params: [Parameter<T>]
        func use<O: Optimizer>(_ make: @escaping ([Parameter<T>]) throws -> O) throws -> any Optimizer<T> where O.Scalar == T {
            try make(params)
        }
    }
}



extension Optimizer {
    /// The fixture's code: -1 no gradient, 0 none, 1 channel, 2 layer.
    func projectionCode(for p: Parameter<Scalar>) -> Int { lastProjection(for: p)?.rawValue ?? -1 }
}

@Suite struct FixtureReplayTests {
    static let files = Fixtures.files(optimizers: ["AdamP", "SGDP", "Adam", "AdamW", "SGD"])

    @Test func fixturesArePresent() {
        // The replay below must not pass by having nothing to replay.
        let torch = Self.files.filter { $0.hasPrefix("torch_") }.count
        #expect(Self.files.count - torch >= 8, "found \(Self.files.count - torch) AdamP/SGDP fixtures in \(Fixtures.directory.path)")
        #expect(torch >= 8, "found \(torch) torch.optim fixtures in \(Fixtures.directory.path)")
    }

    /// Every fixture through every kernel variant this machine has.
    @Test(arguments: files, testedISAs)
    func replay(file: String, isa: KernelISA) throws {
        let fixture = try Safetensors(contentsOf: Fixtures.directory.appendingPathComponent(file))
        let options = KernelOptions(isa: isa)
        switch fixture.metadata["dtype"] {
        case "float32": try Replay<Float>(fixture: fixture, file: "\(file) [\(isa)]", options: options).run()
        case "float64": try Replay<Double>(fixture: fixture, file: "\(file) [\(isa)]", options: options).run()
        default: Issue.record("\(file): unknown dtype")
        }
    }

    /// SGDP's tensors that are never projected take the official code's
    /// element-wise ops only, rounded as PyTorch rounds them (with its fused
    /// multiply-adds), so they replay bitwise; projected ones differ by the
    /// rounding of sums.
    @Test(arguments: files.filter { $0.hasPrefix("sgdp") }, testedISAs)
    func sgdpUnprojectedReplaysBitwise(file: String, isa: KernelISA) throws {
        let fixture = try Safetensors(contentsOf: Fixtures.directory.appendingPathComponent(file))
        let options = KernelOptions(isa: isa), at = "\(file) [\(isa)]"
        if fixture.metadata["dtype"] == "float64" {
            try Replay<Double>(fixture: fixture, file: at, options: options, exactUnprojected: true).run()
        } else {
            try Replay<Float>(fixture: fixture, file: at, options: options, exactUnprojected: true).run()
        }
    }

    /// SGD is nothing but negation, multiplies and fused multiply-adds, each
    /// rounded as PyTorch rounds it, so it replays bitwise. (Adam cannot:
    /// PyTorch's CPU sqrt is not correctly rounded, about 1 element in 5 in
    /// float32 differs by an ulp from IEEE sqrt.)
    @Test(arguments: files.filter { $0.hasPrefix("torch_sgd") }, testedISAs)
    func sgdReplaysBitwise(file: String, isa: KernelISA) throws {
        let fixture = try Safetensors(contentsOf: Fixtures.directory.appendingPathComponent(file))
        #expect(fixture.metadata["dtype"] == "float32")
        try Replay<Float>(fixture: fixture, file: "\(file) [\(isa)]", options: KernelOptions(isa: isa), exact: true).run()
    }
}
