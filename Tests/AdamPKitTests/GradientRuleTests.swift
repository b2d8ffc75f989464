import Foundation
import Testing
@testable import AdamPKit
import SeededRandom

/// Loss unscaling, clipping by global norm and the non-finite guard, through
/// the optimizer (folded into the step) and on their own (`clipGradNorm`).
@Suite struct GradientRuleTests {
    static let shapes: [[Int]] = [[6, 4, 3, 3], [6], [40, 500], [3, 7]]

    /// Parameters and gradients from `seed`, the same for every call.
    static func make<T: AdamPScalar>(_: T.Type, seed: UInt64 = 5, gradScale: Double = 1) throws -> [Parameter<T>] {
        var rng = SplitMix(state: seed)
        return try shapes.map { s in
            let n = s.reduce(1, *)
            let p = try Parameter<T>(shape: s, values: (0..<n).map { _ in T(rng.normal() * 0.5) })
            p.grad = (0..<n).map { _ in T(rng.normal() * 0.3 * gradScale) }
            return p
        }
    }

    /// The norm as written: sqrt of the sum of squares, in Double.
    static func norm<T: AdamPScalar>(_ ps: [Parameter<T>]) -> Double {
        ps.flatMap { $0.grad ?? [] }.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    }

    @Test func clipGradNormIsPyTorchs() throws {
        let ps = try Self.make(Float.self)
        let before = ps.map { $0.grad! }
        let expected = Self.norm(ps)
        let total = try clipGradNorm(ps, maxNorm: 1)
        #expect(abs(total - expected) <= 1e-12 * expected)
        let coef = Float(1 / (total + 1e-6))
        for (p, g) in zip(ps, before) { #expect(p.grad! == g.map { $0 * coef }) }
        #expect(abs(Self.norm(ps) - 1) < 1e-5)
        // Below the limit: nothing changes; the infinity norm is the largest |g|.
        let again = ps.map { $0.grad! }
        #expect(try clipGradNorm(ps, maxNorm: 10) <= 1.00001)
        #expect(ps.map { $0.grad! } == again)
        let largest = again.flatMap { $0 }.map { Double(abs($0)) }.max()!
        #expect(try clipGradNorm(ps, maxNorm: 1e9, normType: .infinity) == largest)
    }

    /// Through the optimizer the clipped step is bitwise the step after
    /// clipGradNorm (one rounding of g times the coefficient either way), for
    /// every optimizer.
    @Test(arguments: Spec.all)
    func clippedStepEqualsClipThenStep(spec: Spec) throws {
        for maxNorm in [0.5, 1e6] {
            let a = try Self.make(Float.self), b = try Self.make(Float.self)
            let oa = try spec.make(a), ob = try spec.make(b)
            for _ in 0..<2 {
                let na = try clipGradNorm(a, maxNorm: maxNorm)
                try oa.step()
                let r = try ob.step(maxGradNorm: maxNorm)
                #expect(!r.skipped && r.nonfinite.isEmpty)
                #expect(abs(r.gradNorm! - na) <= 1e-12 * na, "\(spec): norm \(r.gradNorm!) vs \(na)")
                for (p, q) in zip(a, b) {
                    #expect(rawBytes(p.values) == rawBytes(q.values), "\(spec) max \(maxNorm): values")
                    #expect(oa.state(for: p).mapValues(rawBytes) == ob.state(for: q).mapValues(rawBytes), "\(spec): state")
                }
                // The next step's gradients: as made (clipGradNorm scaled a's in place).
                for (p, q) in zip(a, b) { p.grad = q.grad }
            }
        }
    }

    /// A power-of-two loss scale divides exactly: the step on scaled
    /// gradients with gradScale is bitwise the step on the unscaled ones.
    @Test(arguments: Spec.all)
    func gradScaleUnscalesExactly(spec: Spec) throws {
        let a = try Self.make(Double.self), b = try Self.make(Double.self, gradScale: 1024)
        let oa = try spec.make(a), ob = try spec.make(b)
        try oa.step()
        let r = try ob.step(gradScale: 1024, maxGradNorm: 1e9, skipIfNonfinite: true)
        #expect(!r.skipped && abs(r.gradNorm! - Self.norm(a)) <= 1e-12 * Self.norm(a))
        for (p, q) in zip(a, b) { #expect(rawBytes(p.values) == rawBytes(q.values), "\(spec)") }
    }

    /// A NaN or an infinity in any gradient: with the guard, the step is
    /// skipped and nothing changes (values, state, step counts); without it,
    /// the step runs and reports them.
    @Test func nonfiniteGradientsSkipTheStep() throws {
        for bad in [Float.nan, .infinity, -.infinity] {
            let ps = try Self.make(Float.self)
            let opt = try AdamP(parameters: ps, learningRate: 0.01)
            try opt.step()
            var g = ps[2].grad!
            g[777] = bad
            ps[2].grad = g
            let before = checkpointSnapshot(opt)
            let r = try opt.step(gradScale: 512, skipIfNonfinite: true)
            #expect(r.skipped && r.nonfinite.count == 1 && r.nonfinite[0] === ps[2])
            #expect(r.gradNorm.map { !$0.isFinite } == true)
            let after = checkpointSnapshot(opt)
            #expect(after.0 == before.0 && after.1 == before.1, "\(bad): a skipped step changed something")
            #expect(opt.stepCount(for: ps[0]) == 1)
            let unguarded = try opt.step(gradScale: 512)
            #expect(!unguarded.skipped && unguarded.nonfinite.isEmpty, "no norm pass without clipping or the guard")
            let reported = try opt.step(maxGradNorm: 1)
            #expect(!reported.skipped && reported.nonfinite.map(ObjectIdentifier.init) == [ObjectIdentifier(ps[2])])
            #expect(opt.stepCount(for: ps[0]) == 3)
        }
    }

    /// Bad values throw, naming the argument, and change nothing.
    @Test func badArgumentsChangeNothing() throws {
        let ps = try Self.make(Float.self)
        let opt = try SGD(parameters: ps, momentum: 0.9)
        let before = checkpointSnapshot(opt), grads = ps.map { $0.grad! }
        let cases: [(String, () throws -> Void)] = [
            ("gradScale", { _ = try opt.step(gradScale: 0) }), ("gradScale", { _ = try opt.step(gradScale: -2) }),
            ("gradScale", { _ = try opt.step(gradScale: .nan) }), ("gradScale", { _ = try opt.step(gradScale: .infinity) }),
            ("maxGradNorm", { _ = try opt.step(maxGradNorm: -1) }), ("maxGradNorm", { _ = try opt.step(maxGradNorm: .nan) }),
            ("normType", { _ = try opt.step(maxGradNorm: 1, normType: 1) }),
            ("maxNorm", { _ = try clipGradNorm(ps, maxNorm: -0.5) }), ("maxNorm", { _ = try clipGradNorm(ps, maxNorm: .infinity) }),
            ("normType", { _ = try clipGradNorm(ps, maxNorm: 1, normType: 3) }),
        ]
        for (name, call) in cases {
            #expect {
                try call()
            } throws: { e in
                guard case let OptimizerError.invalidArgument(got, _, _) = e else { return false }
                return got == name
            }
        }
        let after = checkpointSnapshot(opt)
        #expect(after.0 == before.0 && after.1 == before.1 && ps.map { $0.grad! } == grads)
        // A borrowed gradient cannot be clipped in place.
        var g: [Float] = [1, 2, 3]
        let p = Parameter<Float>(shape: [3])
        try g.withUnsafeBufferPointer { b in
            try p.setGradient(borrowing: b)
            #expect(throws: OptimizerError.self) { try clipGradNorm([p], maxNorm: 1) }
        }
        g[0] = 0
    }
}
