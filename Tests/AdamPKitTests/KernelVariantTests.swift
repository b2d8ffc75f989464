import Testing
import AdamPKit

/// Every ISA this machine has, other than the scalar reference.
let fastISAs = KernelISA.allCases.filter { $0 != .auto && $0 != .scalar && $0.isSupported }

/// One run: parameters built from `seed`, stepped `steps` times under `options`.
struct VariantRun<T: AdamPScalar> {
    var values: [[T]] = []
    var states: [[String: [T]]] = []
    var codes: [[Int]] = []

    init(shapes: [[Int]], algo: Algo, nesterov: Bool, options: KernelOptions, seed: UInt64, steps: Int = 3) throws {
        var rng = SplitMix(state: seed)
        let initial = shapes.map { s in (0..<s.reduce(1, *)).map { _ in rng.normal() * 0.5 } }
        let params = try zip(shapes, initial).map { try Parameter<T>(shape: $0, values: $1.map { T($0) }) }
        let opt: any Optimizer<T> = algo == .adamp
            ? try AdamP(parameters: params, learningRate: 1e-2, weightDecay: 1e-2, nesterov: nesterov)
            : try SGDP(parameters: params, learningRate: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-2, nesterov: nesterov)
        try opt.setKernelOptions(options)
        codes = shapes.map { _ in [] }
        for k in 0..<steps {
            for (i, p) in params.enumerated() {
                let kind = GradientKind.allCases[i % 3]
                p.grad = makeGradient(kind, p: p.values.map(Double.init), shape: p.shape, rng: &rng).map { T($0) }
                if i % 7 == 6 && k == 1 { p.grad = nil }
            }
            try opt.step()
            for (i, p) in params.enumerated() { codes[i].append(opt.projectionCode(for: p)) }
        }
        values = params.map(\.values)
        states = params.map { opt.state(for: $0) }
    }
}

/// Widths 1 through 33 cover, for every variant (4 to 16 lanes), lengths
/// below a tile, a tile, and tiles plus a tail; then a few wider rows.
let variantShapes: [[Int]] = {
    let widths = Array(1...33) + [40, 64, 100, 257, 1031]
    return widths.flatMap { w in [[w], [1, w], [2, w], [3, w], [2, 3, w]] }
}()

@Suite struct KernelVariantTests {
    @Test(arguments: fastISAs, Algo.allCases)
    func floatVariantMatchesScalar(isa: KernelISA, algo: Algo) throws {
        try compare(Float.self, isa: isa, algo: algo, tolerance: 1e-5)
    }

    @Test(arguments: fastISAs, Algo.allCases)
    func doubleVariantMatchesScalar(isa: KernelISA, algo: Algo) throws {
        try compare(Double.self, isa: isa, algo: algo, tolerance: 1e-12)
    }

    /// Element-wise work is bitwise the scalar reference's; only the sums
    /// (the projection coefficient) may round differently.
    func compare<T: AdamPScalar>(_: T.Type, isa: KernelISA, algo: Algo, tolerance: Double) throws {
        for nesterov in [false, true] {
            let ref = try VariantRun<T>(shapes: variantShapes, algo: algo, nesterov: nesterov,
                                        options: KernelOptions(isa: .scalar), seed: 5)
            let fast = try VariantRun<T>(shapes: variantShapes, algo: algo, nesterov: nesterov,
                                         options: KernelOptions(isa: isa), seed: 5)
            var projected = 0
            for i in variantShapes.indices {
                let where_ = "\(isa) \(algo) nesterov=\(nesterov) shape \(variantShapes[i])"
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
            #expect(projected > 20, "too few projected tensors (\(projected)) to test the projection paths")
        }
    }

    /// Large enough to be split across threads and blocks; every thread count
    /// and block size gives the same bits.
    @Test(arguments: Algo.allCases)
    func resultsDoNotDependOnThreadsOrBlocks(algo: Algo) throws {
        let shapes = [[256, 1152], [64, 4096], [512, 512], [300_000], [3, 40_000], [1, 70_000], [1000]]
        let ref = try VariantRun<Float>(shapes: shapes, algo: algo, nesterov: false,
                                        options: KernelOptions(threads: 1), seed: 9)
        #expect(Set(ref.codes.flatMap { $0 }).isSuperset(of: [0, 1, 2]), "codes \(ref.codes)")
        for threads in [2, 3, 8] {
            for block in [0, 50_000, 1 << 30] {
                let run = try VariantRun<Float>(shapes: shapes, algo: algo, nesterov: false,
                                                options: KernelOptions(threads: threads, blockSize: block), seed: 9)
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
