import Testing
import AdamPKit
import FixtureSupport

/// Every ISA this machine has, other than the scalar reference.
let fastISAs = testedISAs.filter { $0 != .scalar }

/// Widths 1 through 33 cover, for every variant (4 to 16 lanes), lengths
/// below a tile, a tile, and tiles plus a tail; then a few wider rows; and
/// tensors of 19 rows, whose statistics are summed several rows at once.
let variantShapes: [[Int]] = {
    let widths = Array(1...33) + [40, 64, 100, 257, 1031]
    return widths.flatMap { w in [[w], [1, w], [2, w], [3, w], [2, 3, w]] } + [3, 4, 8, 9, 16, 17].map { [19, $0] }
}()

@Suite struct KernelVariantTests {
    @Test(arguments: fastISAs, Spec.all)
    func floatVariantMatchesScalar(isa: KernelISA, spec: Spec) throws {
        try compare(Float.self, isa: isa, spec: spec, tolerance: 1e-5)
    }

    @Test(arguments: fastISAs, Spec.all)
    func doubleVariantMatchesScalar(isa: KernelISA, spec: Spec) throws {
        try compare(Double.self, isa: isa, spec: spec, tolerance: 1e-12)
    }

    /// Element-wise work is bitwise the scalar reference's; only the sums
    /// (the projection coefficient) may round differently, so a tensor that
    /// was never projected (and every baseline's) must match bit for bit.
    func compare<T: AdamPScalar>(_: T.Type, isa: KernelISA, spec: Spec, tolerance: Double) throws {
        // The baselines are element-wise: the shape's rows do not matter to them.
        let shapes = spec.projects ? variantShapes : variantShapes.filter { $0.count <= 2 }
        let ref = try SpecRun<T>(spec, shapes: shapes, options: KernelOptions(isa: .scalar), seed: 5)
        let fast = try SpecRun<T>(spec, shapes: shapes, options: KernelOptions(isa: isa), seed: 5)
        var projected = 0
        for i in shapes.indices {
            let where_ = "\(isa) \(spec) shape \(shapes[i])"
            #expect(fast.codes[i] == ref.codes[i], "\(where_): projection")
            if ref.codes[i].contains(where: { $0 > 0 }) {
                projected += 1
                #expect(relativeError(fast.values[i], ref.values[i]) <= tolerance, "\(where_): values")
                for (key, r) in ref.states[i] {
                    #expect(relativeError(fast.states[i][key]!, r) <= tolerance, "\(where_): \(key)")
                }
            } else {
                #expect(fast.values[i] == ref.values[i], "\(where_): values not bitwise equal")
                #expect(fast.states[i] == ref.states[i], "\(where_): state not bitwise equal")
            }
        }
        if spec.projects { #expect(projected > 20, "too few projected tensors (\(projected)) to test the projection paths") }
    }

    /// Large enough to be split across threads and blocks; every thread count
    /// and block size gives the same bits.
    @Test(arguments: Spec.all.filter { !$0.nesterov })
    func resultsDoNotDependOnThreadsOrBlocks(spec: Spec) throws {
        let shapes = [[256, 1152], [64, 4096], [512, 512], [300_000], [3, 40_000], [1, 70_000], [1000]]
        let ref = try SpecRun<Float>(spec, shapes: shapes, options: KernelOptions(threads: 1), seed: 9)
        if spec.projects { #expect(Set(ref.codes.flatMap { $0 }).isSuperset(of: [0, 1, 2]), "codes \(ref.codes)") }
        for threads in [2, 3, 8] {
            // Without statistics a step runs as one block (api.c): block sizes matter to AdamP and SGDP only.
            for block in spec.projects ? [0, 50_000, 1 << 30] : [0] {
                let run = try SpecRun<Float>(spec, shapes: shapes, options: KernelOptions(threads: threads, blockSize: block),
                                             seed: 9)
                #expect(run.values == ref.values, "threads \(threads) block \(block): values")
                #expect(run.states == ref.states, "threads \(threads) block \(block): state")
                #expect(run.codes == ref.codes)
            }
        }
    }

    @Test func unsupportedOrInvalidOptionsAreRejected() throws {
        let opt = try AdamP(parameters: [Parameter<Float>(shape: [4])])
        for isa in KernelISA.allCases where !isa.isSupported {
            #expect(throws: OptimizerError.unsupportedISA(isa.rawValue)) { try opt.setKernelOptions(KernelOptions(isa: isa)) }
        }
        #expect(throws: OptimizerError.self) { try opt.setKernelOptions(KernelOptions(threads: -1)) }
        #expect(opt.kernelOptions == KernelOptions())
        #expect(KernelISA.selected.isSupported && KernelISA.selected != .auto)
        #expect(KernelOptions.defaultThreads >= 1)
    }
}
