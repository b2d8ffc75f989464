import Testing
@testable import AdamPKit

/// A step reads each parameter's gradient from its optimizer's table
/// (`GradientTable`), which the parameter keeps current: every way of
/// setting, replacing or removing a gradient must reach every optimizer the
/// parameter is in, and an optimizer that is gone must leave no entry behind.
@Suite struct GradientTableTests {
    /// SGD with lr 1 and no momentum: each step subtracts the gradient it read.
    private func sgd(_ ps: [Parameter<Float>]) throws -> SGD<Float> {
        try SGD(parameters: ps, learningRate: 1, momentum: 0)
    }

    @Test func everyWayOfSettingAGradientReachesTheStep() throws {
        let w = try Parameter<Float>(shape: [2, 2], values: [10, 10, 10, 10])
        let other = try Parameter<Float>(shape: [3], values: [0, 0, 0])
        let opt = try sgd([other, w])
        try opt.step() // no gradients yet: nothing moves
        #expect(w.values == [10, 10, 10, 10])
        w.grad = [1, 2, 3, 4]
        try opt.step()
        #expect(w.values == [9, 8, 7, 6])
        let lent: [Float] = [1, 1, 1, 1]
        try lent.withUnsafeBufferPointer { b in
            try w.setGradient(borrowing: b)
            try opt.step()
        }
        #expect(w.values == [8, 7, 6, 5])
        w.zeroGrad() // none: skipped
        try opt.step()
        #expect(w.values == [8, 7, 6, 5])
        w.withUnsafeMutableGradient { g in g[3] = 5 } // a zero-filled gradient, written in place
        try opt.step()
        #expect(w.values == [8, 7, 6, 0])
        w.zeroGrad(setToNone: false)
        try opt.step()
        #expect(w.values == [8, 7, 6, 0])
        w.grad = [1, 2, 3] // the wrong count: the step throws and changes nothing
        other.grad = [1, 1, 1]
        #expect(throws: OptimizerError.self) { try opt.step() }
        #expect(w.values == [8, 7, 6, 0] && other.values == [0, 0, 0])
        w.grad = nil
        try opt.step()
        #expect(w.values == [8, 7, 6, 0] && other.values == [-1, -1, -1])
    }

    @Test func aParameterInTwoOptimizersIsSeenByBoth() throws {
        let w = try Parameter<Float>(shape: [2], values: [0, 0])
        let a = try sgd([w]), b = try sgd([w])
        #expect(w.gradientSlot.readers.count == 2)
        w.grad = [1, 1]
        try a.step()
        #expect(w.values == [-1, -1])
        w.grad = [2, 2]
        try b.step()
        #expect(w.values == [-3, -3])
        w.grad = nil
        try a.step()
        try b.step()
        #expect(w.values == [-3, -3])
    }

    @Test func anOptimizerThatIsGoneLeavesNoEntry() throws {
        let w = try Parameter<Float>(shape: [2], values: [0, 0])
        do {
            let a = try sgd([w])
            w.grad = [1, 1]
            try a.step()
            #expect(w.gradientSlot.readers.count == 1)
        }
        #expect(w.gradientSlot.readers.isEmpty)
        // Nothing writes to the released table; a new optimizer reads the current gradient.
        w.grad = [3, 3]
        let b = try sgd([w])
        try b.step()
        #expect(w.values == [-4, -4])
        // An optimizer whose init throws (a bad learning rate) leaves none either.
        #expect(throws: OptimizerError.self) { _ = try SGD(parameters: [w], learningRate: -1) }
        #expect(w.gradientSlot.readers.count == 1)
    }
}
