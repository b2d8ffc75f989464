import Testing
@testable import AdamPKit

/// Regressions of the defects found by fuzzing and hostile use of the Swift
/// layer: each failed before its fix.
@Suite struct ReliabilityTests {
    /// Switching SGD's momentum off keeps the buffer (as torch keeps it in
    /// state) but neither reads nor writes it; switching it back on resumes
    /// from it, as torch.optim.SGD does.
    @Test func sgdMomentumSwitchedOffLeavesTheBufferAlone() throws {
        let w = try Parameter<Float>(shape: [3], values: [1, 1, 1])
        let opt = try SGD(parameters: [w], learningRate: 0.1, momentum: 0.9, dampening: 0.5)
        w.grad = [1, 1, 1]
        try opt.step() // buf = g
        let lr: Float = 0.1
        var p = Float(1).addingProduct(1, -lr)
        #expect(w.values == [p, p, p])
        var h = try opt.hyperparameters()
        h.momentum = 0
        try opt.setHyperparameters(h, group: 0)
        try opt.step() // torch: p -= lr * g
        p = p.addingProduct(1, -lr)
        #expect(w.values == [p, p, p])
        #expect(opt.state(for: w).isEmpty)
        h.momentum = 0.9
        try opt.setHyperparameters(h, group: 0)
        try opt.step() // buf = 0.9 * buf + 0.5 * g, from the buffer of the first step
        let buf = (Float(1) * 0.9).addingProduct(1, 0.5)
        p = p.addingProduct(buf, -lr)
        #expect(w.values == [p, p, p])
        #expect(opt.state(for: w)["momentum_buffer"] == [buf, buf, buf])
    }

    /// A step that throws changes nothing, not even the step counts of empty
    /// parameters, which the Swift layer counts itself.
    @Test func throwingStepChangesNoStepCount() throws {
        let empty = Parameter<Float>(shape: [0], name: "empty")
        let w = try Parameter<Float>(shape: [2, 2], values: [1, 2, 3, 4])
        let opt = try AdamP(parameters: [empty, w])
        empty.grad = []
        w.grad = [0.1, 0.2, 0.3, 0.4]
        opt.core.config.threads = -1 // the C call now fails its last check
        #expect(throws: OptimizerError.self) { try opt.step() }
        #expect(opt.stepCount(for: empty) == 0 && opt.stepCount(for: w) == 0)
        #expect(opt.lastProjection(for: empty) == nil && w.values == [1, 2, 3, 4])
        opt.core.config.threads = 0
        try opt.step()
        #expect(opt.stepCount(for: empty) == 1 && opt.lastProjection(for: empty) == .unprojected)
        #expect(opt.stepCount(for: w) == 1)
    }

    /// Shapes whose bytes do not fit in Int are invalid shapes, not a trap.
    @Test func shapesTooLargeForMemoryAreInvalid() throws {
        #expect(throws: OptimizerError.invalidShape([1 << 61])) { _ = try Parameter<Float>(shape: [1 << 61], values: []) }
        #expect(throws: OptimizerError.invalidShape([1 << 30, 1 << 30])) {
            _ = try Parameter<Double>(shape: [1 << 30, 1 << 30], values: [])
        }
        #expect(throws: OptimizerError.invalidShape([1 << 62])) {
            _ = try Parameter<Float>(shape: [1 << 62], borrowing: UnsafeMutableBufferPointer(start: nil, count: 0))
        }
        #expect(OptimizerError.invalidShape([1 << 61]).description.contains("element size"))
    }

    /// Thread counts are bounded (ADAMP_MAX_THREADS): beyond, a named error.
    @Test func threadCountsAreBounded() throws {
        let w = try Parameter<Float>(shape: [2], values: [1, 2])
        let opt = try SGD(parameters: [w], learningRate: 0.5)
        for bad in [Int(Int32.max), 100_000, KernelOptions.maxThreads + 1, -3] {
            #expect(throws: OptimizerError.invalidHyperparameter(name: "threads", value: Double(bad),
                                                                rule: "must be in [0, \(KernelOptions.maxThreads)]", group: nil)) {
                try opt.setKernelOptions(KernelOptions(threads: bad))
            }
        }
        #expect(opt.kernelOptions == KernelOptions())
        try opt.setKernelOptions(KernelOptions(threads: KernelOptions.maxThreads))
        w.grad = [1, 1]
        try opt.step()
        #expect(w.values == [0.5, 1.5])
        #expect(KernelOptions.defaultThreads >= 1 && KernelOptions.defaultThreads <= KernelOptions.maxThreads)
    }
}
