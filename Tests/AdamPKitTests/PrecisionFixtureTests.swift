import Foundation
import Testing
import AdamPKit
import FixtureSupport

/// The 16-bit trajectories of Tests/Fixtures/precision (`record.py` there:
/// the official adamp 0.3.0 and torch.optim on float32 copies, rounded as
/// a 16-bit step is defined), replayed under every ISA in every mode:
/// without a master the 16-bit parameters and state, within an ulp or two in
/// a few elements at most (sums and torch's sqrt round differently, which
/// rounding to 16 bits nearly always absorbs); with one, the master as the
/// float32 fixtures are replayed, the parameter its rounding (`.float32`)
/// or upper half (`.split`). Projection decisions as recorded, every step.
@Suite struct PrecisionFixtureTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/precision")
    static let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        .filter { $0.hasSuffix(".safetensors") }.sorted()
    static let isas = testedISAs

    @Test func fixturesArePresent() {
        #expect(Self.files.count >= 20, "found \(Self.files.count) in \(Self.directory.path)")
    }

    @Test(arguments: files, isas)
    func replay(file: String, isa: KernelISA) throws {
        let fixture = try Safetensors(contentsOf: Self.directory.appendingPathComponent(file))
        let modes: [MasterWeights] = fixture.metadata["master"] == "off" ? [.off]
            : fixture.metadata["dtype"] == "bfloat16" ? [.float32, .split] : [.float32]
        for mode in modes {
            switch fixture.metadata["dtype"] {
            case "bfloat16": try LowReplay<BFloat16>(fixture: fixture, at: "\(file) [\(isa), \(mode.name)]", isa: isa, mode: mode).run()
            case "float16": try LowReplay<Float16>(fixture: fixture, at: "\(file) [\(isa), \(mode.name)]", isa: isa, mode: mode).run()
            default: Issue.record("\(file): dtype \(fixture.metadata["dtype"] ?? "none")")
            }
        }
    }
}

/// 16-bit values' distance in ulps: their bit patterns, ordered as the values.
struct Ulps {
    var worst = 0, differ = 0, total = 0

    static func ordered<S: BinaryFloatingPoint>(_ x: S) -> Int {
        let bits = x is BFloat16 ? Int((x as! BFloat16).bitPattern) : Int((x as! Float16).bitPattern)
        return bits & 0x8000 != 0 ? -(bits & 0x7FFF) : bits
    }

    mutating func add<S: BinaryFloatingPoint>(_ ours: [S], _ ref: [S]) {
        precondition(ours.count == ref.count)
        for (a, b) in zip(ours, ref) {
            let d = abs(Self.ordered(a) - Self.ordered(b))
            worst = max(worst, d)
            differ += d > 0 ? 1 : 0
        }
        total += ours.count
    }
}

struct LowReplay<S: AdamPScalar & BinaryFloatingPoint> {
    let fixture: Safetensors
    let at: String
    let isa: KernelISA
    let mode: MasterWeights

    /// Each parameter's master: the float32 copy, or the parameter and its trail.
    func masters(_ opt: any Optimizer<S>, _ params: [Parameter<S>]) -> [[Float]] {
        let sd = opt.stateDict()
        return params.enumerated().map { i, p in
            if mode == .split {
                let trail = sd.tensors["state.\(i).master_trail"]!.values(as: UInt16.self)!
                return zip(p.values, trail).map { Float(bitPattern: UInt32(($0 as! BFloat16).bitPattern) << 16 | UInt32($1)) }
            }
            return sd.tensors["state.\(i).master_param"]!.values(as: Float.self)!
        }
    }

    func run() throws {
        let names = fixture.json("params") as! [String]
        let steps = Int(fixture.metadata["steps"]!)!
        let decisions = fixture.json("projection") as! [String: [Int]]
        let kind = fixture.metadata["optimizer"]!
        let params = try names.map { n in
            try Parameter<S>(shape: fixture.shape("\(n).init")!, values: fixture.values("\(n).init")!, name: n)
        }
        let opt = try FixtureOptimizer.make(kind, hparams: fixture.json("hparams") as! [String: Any], Replay<S>.Make(params: params),
                                            masterWeights: mode)
        try opt.setKernelOptions(KernelOptions(isa: isa))
        // SGD is torch's arithmetic, rounding for rounding: bitwise in every mode.
        let exact = kind == "SGD", tolerance = exact ? 0 : 2e-4
        var ulps = Ulps()
        for k in 0..<steps {
            for (n, p) in zip(names, params) { p.grad = fixture.values("\(n).grad.\(k)") }
            try opt.step()
            for (n, p) in zip(names, params) {
                #expect(opt.projectionCode(for: p) == decisions[n]![k], "\(at): \(n) step \(k): projection")
            }
            if mode == .off {
                for (n, p) in zip(names, params) { ulps.add(p.values, fixture.values("\(n).after.\(k)")!) }
                continue
            }
            for ((n, p), m) in zip(zip(names, params), masters(opt, params)) {
                let e = relativeError(m, fixture.values("\(n).master.after.\(k)")!)
                #expect(e <= tolerance, "\(at): \(n)'s master after step \(k): error \(e)")
                // What the model sees: the master rounded, or its upper half.
                let seen = mode == .split ? m.map { S(Float(bitPattern: $0.bitPattern & 0xFFFF_0000)) } : m.map { S($0) }
                #expect(p.values.map(Ulps.ordered) == seen.map(Ulps.ordered), "\(at): \(n) after step \(k)")
            }
        }
        let sd = opt.stateDict()
        for (i, (n, p)) in zip(names, params).enumerated() {
            let recorded = Replay<Float>.stateKeys.filter { fixture.has("\(n).\($0)") }
            #expect(Set(opt.state(for: p).keys) == Set(recorded), "\(at): \(n) state \(opt.state(for: p).keys.sorted())")
            for key in recorded {
                if mode == .off {
                    ulps.add(try #require(opt.state(for: p)[key]), fixture.values("\(n).\(key)")!)
                } else { // float32 state
                    let ours = try #require(sd.tensors["state.\(i).\(key)"]?.values(as: Float.self), "\(at): \(n).\(key)")
                    let e = relativeError(ours, fixture.values("\(n).\(key)", as: Float.self)!)
                    #expect(e <= tolerance, "\(at): \(n).\(key): error \(e)")
                }
            }
            if let step: [Double] = fixture.values("\(n).step") {
                #expect(opt.stepCount(for: p) == Int(step[0]), "\(at): \(n) step count")
            }
        }
        if mode == .off {
            #expect(ulps.total > 0)
            #expect(!exact || ulps.differ == 0, "\(at): \(ulps.differ) of \(ulps.total) elements differ")
            #expect(ulps.worst <= 2 && ulps.differ <= ulps.total / 200,
                    "\(at): \(ulps.differ) of \(ulps.total) elements differ, by up to \(ulps.worst) ulps")
        }
    }
}
