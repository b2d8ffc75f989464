import Foundation
import Testing
@testable import AdamPKit
import SeededRandom

/// `BFloat16` and `Float16` parameters: the one definition (the `Float` step
/// of widened values, each stored value rounded once to nearest-even), the
/// master weights (`.float32`, `.split`) bitwise the `Float` optimizer's,
/// checkpoints that resume bitwise in every mode, and the refusals.
@Suite struct MixedPrecisionTests {
    // MARK: BFloat16

    @Test func bfloat16WidensExactlyAndRoundsToNearestEven() {
        for bits in 0...UInt16.max {
            let b = BFloat16(bitPattern: bits), f = Float(b)
            #expect(f.bitPattern == UInt32(bits) << 16)
            if !f.isNaN { #expect(BFloat16(f).bitPattern == bits) }
        }
        // Ties to even, below and above; the carry into the exponent; overflow.
        #expect(BFloat16(Float(bitPattern: 0x3f80_8000)).bitPattern == 0x3f80)
        #expect(BFloat16(Float(bitPattern: 0x3f81_8000)).bitPattern == 0x3f82)
        #expect(BFloat16(Float(bitPattern: 0x3f80_8001)).bitPattern == 0x3f81)
        #expect(BFloat16(Float(bitPattern: 0x3fff_ffff)).bitPattern == 0x4000)
        #expect(BFloat16(Float.greatestFiniteMagnitude).isInfinite)
        #expect(BFloat16(-Float.leastNonzeroMagnitude).bitPattern == 0x8000)
        // NaN stays NaN, quieted, its sign kept.
        let snan = BFloat16(Float(bitPattern: 0xff80_0001))
        #expect(snan.isNaN && !snan.isSignalingNaN && snan.sign == .minus)
        // From Double: rounded once (through Float rounded to odd).
        let justAboveTie = 1 + 0x1p-8 + 0x1p-40   // Float rounds it to the tie 1 + 2^-8, which would go to even (1)
        #expect(BFloat16(justAboveTie) == BFloat16(bitPattern: 0x3f81))
        #expect(BFloat16(1 + 0x1p-8 as Double) == 1)
        #expect(BFloat16(0.1).description == "0.100097656")
        #expect(BFloat16(3) + BFloat16(0.5) == 3.5 && -BFloat16(2) < 0 && BFloat16(9).squareRoot() == 3)
    }

    // MARK: the step

    static let shapes = [[8, 3, 3, 3], [40, 17], [33], [1, 200]]

    /// Deterministic values in about [-2, 2).
    static func values(_ n: Int, seed: Int) -> [Float] {
        var rng = SplitMix(seed: UInt64(seed))
        return (0..<n).map { _ in Float(Double(rng.next() >> 11) * 0x1p-53 * 4 - 2) }
    }

    /// Gradients for `ps`, those of weights made orthogonal to each row of
    /// `weights` (so that AdamP's test projects them).
    static func gradients(_ weights: [[Float]], step: Int) -> [[Float]] {
        zip(shapes, weights).enumerated().map { k, sw in
            let (shape, w) = sw
            var g = values(w.count, seed: 1000 * step + k)
            guard shape.count > 1 else { return g }
            let rows = shape[0], cols = w.count / rows
            for r in 0..<rows {
                var dot = 0.0, ww = 0.0
                for c in 0..<cols { dot += Double(g[r * cols + c]) * Double(w[r * cols + c]); ww += Double(w[r * cols + c] * w[r * cols + c]) }
                for c in 0..<cols { g[r * cols + c] -= Float(dot / ww * Double(w[r * cols + c])) }
            }
            return g
        }
    }

    typealias Make<S: AdamPScalar> = ([Parameter<S>], MasterWeights) throws -> any Optimizer<S>
    static func makers<S: AdamPScalar>(_: S.Type) -> [(String, Make<S>)] {
        [("Adam", { try Adam(parameters: $0, learningRate: 1e-2, weightDecay: 1e-2, masterWeights: $1) }),
         ("AdamW", { try AdamW(parameters: $0, learningRate: 1e-2, amsgrad: true, masterWeights: $1) }),
         ("SGD", { try SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3, masterWeights: $1) }),
         ("AdamP", { try AdamP(parameters: $0, learningRate: 1e-2, weightDecay: 1e-2, nesterov: true, masterWeights: $1) }),
         ("SGDP", { try SGDP(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-3, nesterov: true, masterWeights: $1) })]
    }

    static func parameters<S: AdamPScalar>(_: S.Type) throws -> [Parameter<S>] {
        try shapes.enumerated().map { k, s in
            try Parameter<S>(shape: s, values: values(s.reduce(1, *), seed: k).map { S($0) })
        }
    }

    /// With a master, after 10 steps: the master is the Float optimizer's
    /// parameter and the state its state, bitwise; the parameter is the
    /// master rounded (float32) or its upper half (split).
    func masterIsTheFloatOptimizer<S: AdamPScalar>(_: S.Type, _ mode: MasterWeights) throws {
        for ((name, make), (_, makeFloat)) in zip(Self.makers(S.self), Self.makers(Float.self)) {
            let low = try Self.parameters(S.self)
            let floats = try low.map { try Parameter<Float>(shape: $0.shape, values: $0.values.map { Float($0) }) }
            let opt = try make(low, mode), ref = try makeFloat(floats, .off)
            var projected = false
            for step in 0..<10 {
                for ((p, f), g) in zip(zip(low, floats), Self.gradients(floats.map(\.values), step: step)) {
                    p.grad = g.map { S($0) }
                    f.grad = g.map { Float(S($0)) }
                }
                try opt.step()
                try ref.step()
                projected = projected || low.contains { opt.lastProjection(for: $0) == .channel }
            }
            let sd = opt.stateDict(), rd = ref.stateDict()
            for (i, (p, f)) in zip(low, floats).enumerated() {
                let master: [Float]
                if mode == .split {
                    let trail = sd.tensors["state.\(i).master_trail"]!.values(as: UInt16.self)!
                    master = zip(p.values, trail).map { Float(bitPattern: UInt32(($0 as! BFloat16).bitPattern) << 16 | UInt32($1)) }
                    #expect(p.values.map { ($0 as! BFloat16).bitPattern } == f.values.map { UInt16($0.bitPattern >> 16) }, "\(name)")
                } else {
                    master = sd.tensors["state.\(i).master_param"]!.values(as: Float.self)!
                    #expect(p.values == f.values.map { S($0) }, "\(name)")
                }
                #expect(master.map(\.bitPattern) == f.values.map(\.bitPattern), "\(name) \(S.self) \(mode) parameter \(i)")
                for (key, t) in rd.tensors where key.hasPrefix("state.\(i).") && !key.hasSuffix(".step") {
                    #expect(sd.tensors[key] == t, "\(name) \(key)")
                }
            }
            if name.hasSuffix("P") { #expect(projected, "\(name): the projection's path was taken") }
        }
    }

    @Test func float32MasterIsTheFloatOptimizerBitwise() throws {
        try masterIsTheFloatOptimizer(BFloat16.self, .float32)
        try masterIsTheFloatOptimizer(Float16.self, .float32)
    }

    @Test func splitMasterIsTheFloatOptimizerBitwise() throws {
        try masterIsTheFloatOptimizer(BFloat16.self, .split)
    }

    /// Without a master: each step is the Float step of the widened
    /// parameter, gradient and state, each stored value rounded once.
    func offIsTheFloatStepRoundedOnce<S: AdamPScalar>(_: S.Type) throws {
        for ((name, make), (_, makeFloat)) in zip(Self.makers(S.self), Self.makers(Float.self)) {
            let low = try Self.parameters(S.self)
            let opt = try make(low, .off)
            for step in 0..<6 {
                // The Float optimizer from this state, widened.
                let floats = try low.map { try Parameter<Float>(shape: $0.shape, values: $0.values.map { Float($0) }) }
                let ref = try makeFloat(floats, .off)
                if step > 0 { try ref.load(stateDict: Self.widened(opt.stateDict())) }
                for ((p, f), g) in zip(zip(low, floats), Self.gradients(floats.map(\.values), step: step)) {
                    p.grad = g.map { S($0) }
                    f.grad = g.map { Float(S($0)) }
                }
                try opt.step()
                try ref.step()
                let sd = opt.stateDict(), rd = ref.stateDict()
                for (p, f) in zip(low, floats) { #expect(p.values == f.values.map { S($0) }, "\(name) step \(step)") }
                for (key, t) in rd.tensors where !key.hasSuffix(".step") {
                    #expect(sd.tensors[key]!.dtype == S.safetensorsDType)
                    #expect(sd.tensors[key]!.values(as: S.self)! == t.values(as: Float.self)!.map { S($0) }, "\(name) \(key)")
                }
            }
        }
    }

    /// A state dict of `S` state as the same of Float state.
    static func widened(_ sd: StateDict) -> StateDict {
        var out = sd
        out.metadata["dtype"] = "F32"
        for (k, t) in sd.tensors where t.dtype == "BF16" || t.dtype == "F16" {
            let wide: [Float] = t.dtype == "BF16" ? t.values(as: BFloat16.self)!.map { Float($0) }
                : t.values(as: Float16.self)!.map { Float($0) }
            out.tensors[k] = .init(shape: t.shape, values: wide)
        }
        return out
    }

    @Test func offIsTheFloatStepRoundedOnce() throws {
        try offIsTheFloatStepRoundedOnce(BFloat16.self)
        try offIsTheFloatStepRoundedOnce(Float16.self)
    }

    /// Loss scaling, clipping and the non-finite guard read the 16-bit
    /// gradients widened: with a float32 master, the same steps as the
    /// Float optimizer's given the widened gradients, bitwise; and the
    /// diagnostics see the same.
    @Test func gradientRulesAndDiagnosticsWithMasters() throws {
        let low = try Self.parameters(BFloat16.self)
        let floats = try low.map { try Parameter<Float>(shape: $0.shape, values: $0.values.map { Float($0) }) }
        let opt = try AdamP(parameters: low, learningRate: 1e-2, masterWeights: .float32)
        let ref = try AdamP(parameters: floats, learningRate: 1e-2)
        opt.diagnosticsEnabled = true
        ref.diagnosticsEnabled = true
        for step in 0..<6 {
            for ((p, f), g) in zip(zip(low, floats), Self.gradients(floats.map(\.values), step: step)) {
                p.grad = g.map { BFloat16($0 * 1024) }
                f.grad = g.map { Float(BFloat16($0 * 1024)) }
            }
            if step == 3 { low[1].grad![0] = .infinity; floats[1].grad![0] = .infinity }
            let a = try opt.step(gradScale: 1024, maxGradNorm: 0.5, skipIfNonfinite: true)
            let b = try ref.step(gradScale: 1024, maxGradNorm: 0.5, skipIfNonfinite: true)
            #expect(a.skipped == b.skipped && a.gradNorm == b.gradNorm && a.skipped == (step == 3))
            for (p, f) in zip(low, floats) {
                // NaN fields (a view a vector has not) compare by their printed value.
                #expect("\(opt.diagnostics(for: p)!)" == "\(ref.diagnostics(for: f)!)", "step \(step)")
            }
        }
        let sd = opt.stateDict()
        for (i, f) in floats.enumerated() {
            #expect(sd.tensors["state.\(i).master_param"]!.values(as: Float.self)! == f.values)
            #expect(opt.stepCount(for: low[i]) == 5)
        }
    }

    // MARK: checkpoints

    func resumes<S: AdamPScalar>(_: S.Type, _ mode: MasterWeights) throws {
        func run(_ opt: any Optimizer<S>, _ ps: [Parameter<S>], _ steps: Range<Int>) throws {
            for step in steps {
                for (p, g) in zip(ps, Self.gradients(ps.map { $0.values.map { Float($0) } }, step: step)) { p.grad = g.map { S($0) } }
                try opt.step()
            }
        }
        let a = try Self.parameters(S.self)
        let oa = try AdamP(parameters: a, learningRate: 1e-2, weightDecay: 1e-2, masterWeights: mode)
        try run(oa, a, 0..<4)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mixed-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        try oa.save(to: file)
        let saved = a.map(\.values)
        try run(oa, a, 4..<8)
        let b = try zip(Self.shapes, saved).map { try Parameter<S>(shape: $0, values: $1) }
        let ob = try AdamP(parameters: b, learningRate: 1e-2, weightDecay: 1e-2, masterWeights: mode)
        try ob.load(from: file)
        try run(ob, b, 4..<8)
        #expect(zip(a, b).allSatisfy { $0.values == $1.values } && oa.stateDict() == ob.stateDict(), "\(S.self) \(mode)")
        let dtypes = Set(ob.stateDict().tensors.filter { !$0.key.hasSuffix(".step") }.values.map(\.dtype))
        #expect(dtypes == (mode == .off ? [S.safetensorsDType] : mode == .split ? ["F32", "U16"] : ["F32"]))
    }

    @Test func checkpointsResumeBitwiseInEveryMode() throws {
        try resumes(BFloat16.self, .off)
        try resumes(Float16.self, .off)
        try resumes(BFloat16.self, .float32)
        try resumes(Float16.self, .float32)
        try resumes(BFloat16.self, .split)
    }

    @Test func aCheckpointOfAnotherModeIsRefusedAndChangesNothing() throws {
        let a = try Self.parameters(BFloat16.self)
        let oa = try Adam(parameters: a, masterWeights: .split)
        for p in a { p.grad = p.values }
        try oa.step()
        let ob = try Adam(parameters: try Self.parameters(BFloat16.self), masterWeights: .float32)
        let before = ob.stateDict()
        #expect(throws: OptimizerError.self) { try ob.load(stateDict: oa.stateDict()) }
        do { try ob.load(stateDict: oa.stateDict()) } catch {
            #expect("\(error)".contains("master weights \"split\"; this optimizer keeps \"float32\""))
        }
        var missing = oa.stateDict()
        missing.tensors["state.0.master_trail"] = nil
        let oc = try Adam(parameters: try Self.parameters(BFloat16.self), masterWeights: .split)
        #expect(throws: OptimizerError.self) { try oc.load(stateDict: missing) }
        #expect(ob.stateDict() == before)
    }

    // MARK: refusals

    @Test func splitIsForBFloat16Only() throws {
        for make in [{ _ = try Adam(parameters: [Parameter<Float16>(shape: [2])], masterWeights: .split) },
                     { _ = try SGDP(parameters: [Parameter<Float>(shape: [2])], learningRate: 0.1, masterWeights: .split) }] {
            do {
                try make()
                Issue.record("split accepted")
            } catch let OptimizerError.invalidArgument(name, value, rule) {
                #expect(name == "masterWeights" && value == ".split" && rule.contains("BFloat16"))
            }
        }
        // Float and Double are their own master: .float32 steps them as .off.
        let a = try Parameter<Float>(shape: [3], values: [1, 2, 3]), b = try Parameter<Float>(shape: [3], values: [1, 2, 3])
        let oa = try Adam(parameters: [a], masterWeights: .float32), ob = try Adam(parameters: [b])
        a.grad = [0.5, -1, 2]
        b.grad = [0.5, -1, 2]
        try oa.step()
        try ob.step()
        #expect(a.values == b.values && oa.stateDict() == ob.stateDict())
    }
}
