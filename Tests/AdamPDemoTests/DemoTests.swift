#if BLAS
import AdamPKit
import Foundation
import Testing
@testable import AdamPDemo
import SeededRandom

/// A short run of the demo: small enough for a debug build, long enough for
/// the norms to separate.
func shortConfig(seed: UInt64, epochs: Int = 3) -> DemoConfig {
    var c = DemoConfig()
    c.data = .generated(train: 2_048, test: 512, dimension: 32, classes: 10, noise: 0.05, seed: seed)
    (c.epochs, c.batchSize, c.hidden, c.seed) = (epochs, 64, 64, seed)
    return c
}

func growth(_ r: RunResult, _ weight: Int) -> Double {
    r.records.last!.weights[weight].norm / r.records.first!.weights[weight].norm - 1
}

@Suite struct DemoEffectTests {
    /// The paper's observation: momentum optimizers grow the norms of
    /// scale-invariant weights (their gradients are orthogonal to them, and
    /// momentum piles up the radial part); AdamP and SGDP remove the radial
    /// part, so the norms grow only by the step's second-order term.
    ///
    /// Measured (seeds 1-3, 3 epochs of 32 steps), the growth ‖w‖/‖w₀‖ − 1:
    ///
    /// |          | SGD         | SGDP          | Adam            | AdamP           |
    /// |----------|-------------|---------------|-----------------|-----------------|
    /// | fc1 (BN) | 0.420-0.430 | 0.0485-0.0490 | 0.0015-0.0021   | 0.00011-0.00012 |
    /// | fc2 (LN) | 0.138-0.143 | 0.0115-0.0120 | 0.0028-0.0045   | 0.00012-0.00013 |
    ///
    /// The smallest ratio is 8.7 (SGD/SGDP, fc1); the test asks for 4 and
    /// for growth clearly above rounding. The seeds change both the data and
    /// the initialisation, and the spread across them is a few percent: the
    /// effect comes from the mechanism, not from a lucky draw.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func normsGrowMoreUnderAdamAndSGDThanUnderAdamPAndSGDP(seed: UInt64) throws {
        var config = shortConfig(seed: seed)
        config.optimizers = [.sgd, .sgdp, .adam, .adamp]
        let runs = Dictionary(uniqueKeysWithValues: try Demo(config: config).run().map { ($0.optimizer, $0) })
        for (k, name) in ["fc1", "fc2"].enumerated() {
            let (sgd, sgdp) = (growth(runs[.sgd]!, k), growth(runs[.sgdp]!, k))
            let (adam, adamp) = (growth(runs[.adam]!, k), growth(runs[.adamp]!, k))
            print("seed \(seed) \(name): growth SGD \(sgd) SGDP \(sgdp) Adam \(adam) AdamP \(adamp)")
            #expect(sgd > 4 * sgdp && sgd > 0.05, "\(name): SGD \(sgd), SGDP \(sgdp)")
            #expect(adam > 4 * adamp && adam > 0.001, "\(name): Adam \(adam), AdamP \(adamp)")
        }
        // The decisions behind it: fc1 projected by channel, fc2 by layer, every step.
        for k in [DemoOptimizer.sgdp, .adamp] {
            for r in runs[k]!.records.dropFirst() {
                #expect(r.weights[0].channelSteps == 32 && r.weights[1].layerSteps == 32, "\(k) epoch \(r.epoch): \(r.weights)")
            }
        }
        // And all of them learn: well above chance (10%) on held-out data.
        for r in runs.values { #expect(r.records.last!.testAccuracy > 0.4, "\(r.optimizer): \(r.records.last!.testAccuracy)") }
    }
}

extension DemoEffectTests {
    /// In bfloat16 (the parameters and gradients bf16, the products of bf16
    /// operands, split masters) the norms move as in float32 and the
    /// held-out accuracy is within a point, every optimizer.
    ///
    /// The model sees its split master truncated, which makes the weights'
    /// norms about 0.27% smaller than the master's from the first step on,
    /// more than Adam's growth in 3 epochs (0.15-0.4%); so growth is measured
    /// from epoch 1, the truncation at both ends. Measured (seeds 1-2):
    /// bf16's growth within 2% of float32's for SGD and SGDP, 18% for Adam
    /// (6.6e-5 of 3.6e-4), 1e-4 for AdamP; accuracies within 0.4 points.
    @Test(arguments: [1, 2] as [UInt64])
    func bf16KeepsTheEffectAndTheAccuracy(seed: UInt64) throws {
        var config = shortConfig(seed: seed)
        config.optimizers = [.sgd, .sgdp, .adam, .adamp]
        config.precisions = [.f32, .bf16]
        let runs = Dictionary(uniqueKeysWithValues: try Demo(config: config).run().map { ("\($0.optimizer) \($0.precision)", $0) })
        for (k, name) in ["fc1", "fc2"].enumerated() {
            let g = { (o: DemoOptimizer, p: Precision) in
                let r = runs["\(o) \(p)"]!.records
                return r.last!.weights[k].norm / r[1].weights[k].norm - 1
            }
            for o in config.optimizers {
                #expect(abs(g(o, .bf16) - g(o, .f32)) <= 0.05 * abs(g(o, .f32)) + 2e-4,
                        "\(name) \(o): bf16 \(g(o, .bf16)), float32 \(g(o, .f32))")
            }
            #expect(g(.sgd, .bf16) > 4 * abs(g(.sgdp, .bf16)), "\(name)")
        }
        for k in [DemoOptimizer.sgdp, .adamp] {
            for r in runs["\(k) bf16"]!.records.dropFirst() {
                #expect(r.weights[0].channelSteps == 32 && r.weights[1].layerSteps == 32, "\(k) bf16 epoch \(r.epoch)")
            }
        }
        for k in config.optimizers {
            let a = runs["\(k) f32"]!.records.last!.testAccuracy, b = runs["\(k) bf16"]!.records.last!.testAccuracy
            #expect(abs(a - b) <= 0.01, "\(k): float32 \(a), bf16 \(b)")
        }
    }
}

@Suite struct DemoCheckpointTests {
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("adamp-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Stopping after epoch 1 and resuming gives, bitwise, every number of an
    /// uninterrupted run, for every optimizer.
    @Test func resumeGivesTheNumbersOfAnUninterruptedRun() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let whole = try Demo(config: shortConfig(seed: 4)).run()
        var config = shortConfig(seed: 4)
        config.checkpoint = dir
        config.stopAfter = 1
        let first = try Demo(config: config).run()
        #expect(first.allSatisfy { $0.records.count == 2 })
        config.stopAfter = nil
        let resumed = try Demo(config: config).run()
        for (a, b) in zip(whole, resumed) {
            #expect(b.resumedAfter == 1)
            #expect(a.records.map(\.values).map { $0.map(\.bitPattern) } == b.records.map(\.values).map { $0.map(\.bitPattern) },
                    "\(a.optimizer)")
        }
        // A finished run resumes to its end and trains nothing more.
        let again = try Demo(config: config).run()
        #expect(again.allSatisfy { $0.resumedAfter == 3 && $0.timing.epochs == 0 })
        #expect(again.map(\.records) == resumed.map(\.records))
    }

    /// The same in bfloat16: the parameters come back from the float32 values
    /// saved, the masters from their trails. A saved weight that is not a
    /// bfloat16 value (a file edited by hand) is rounded to one, and the
    /// network computes with what the parameter holds: less than half an ulp
    /// off, it resumes to the same numbers.
    @Test func bf16ResumeGivesTheNumbersOfAnUninterruptedRun() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = shortConfig(seed: 4, epochs: 2)
        (config.optimizers, config.precisions) = ([.sgd, .adamp], [.bf16])
        let whole = try Demo(config: config).run()
        config.checkpoint = dir
        config.stopAfter = 1
        _ = try Demo(config: config).run()
        let file = dir.appendingPathComponent("adamp-bf16.safetensors")
        var sd = try StateDict(contentsOf: file)
        var w = sd.tensors["model.fc1.weight"]!.values(as: Float.self)!
        w[0] = Float(bitPattern: w[0].bitPattern | 0x1000) // below half a bfloat16 ulp
        sd.tensors["model.fc1.weight"] = .init(shape: sd.tensors["model.fc1.weight"]!.shape, values: w)
        try sd.write(to: file)
        config.stopAfter = nil
        let resumed = try Demo(config: config).run()
        for (a, b) in zip(whole, resumed) {
            #expect(b.resumedAfter == 1 && b.precision == .bf16)
            #expect(a.records.map(\.values).map { $0.map(\.bitPattern) } == b.records.map(\.values).map { $0.map(\.bitPattern) },
                    "\(a.optimizer)")
        }
    }

    /// A checkpoint of other settings, or a damaged one, is refused with the
    /// file named, and left as it was.
    @Test func otherSettingsOrDamageAreRefused() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = shortConfig(seed: 5, epochs: 2)
        config.optimizers = [.adamp]
        config.checkpoint = dir
        config.stopAfter = 1
        _ = try Demo(config: config).run()
        let file = dir.appendingPathComponent("adamp.safetensors")
        let saved = try Data(contentsOf: file)

        var other = config
        other.hidden = 32
        other.stopAfter = nil
        #expect { try Demo(config: other).run() } throws: { e in
            "\(e)".contains(file.path) && "\(e)".contains("other settings") && "\(e)".contains("hidden: 64")
        }
        #expect(try Data(contentsOf: file) == saved)

        try saved.prefix(saved.count - 10).write(to: file)
        config.stopAfter = nil
        #expect { try Demo(config: config).run() } throws: { e in
            guard case let .badCheckpoint(f, _)? = e as? DemoError else { return false }
            return f == file.path
        }

        // D1: a history whose epoch is NaN or 1e300 (converting it trapped).
        for epoch in [Double.nan, 1e300, -1, 0.5] {
            var sd = try StateDict(safetensors: saved)
            var h = sd.tensors["demo.history"]!.values(as: Double.self)!
            h[h.count / 2] = epoch   // the epoch of the second row
            sd.tensors["demo.history"] = .init(shape: sd.tensors["demo.history"]!.shape, values: h)
            try sd.write(to: file)
            #expect { try Demo(config: config).run() } throws: { e in
                guard case let .badCheckpoint(f, problem)? = e as? DemoError else { return false }
                return f == file.path && problem.contains("demo.history's epochs are not 0, 1, ...")
            }
        }
    }
}

@Suite struct NetworkTests {
    /// Backward agrees with the loss's central differences, element by
    /// element, for every parameter; and the premise of the demo holds:
    /// fc1's rows' gradients are orthogonal to the rows (BatchNorm), fc2's
    /// gradient to the whole fc2 (LayerNorm).
    @Test func backwardIsTheLossGradientAndScaleInvariantGradientsAreOrthogonal() throws {
        let data = Teacher.task(train: 16, test: 4, dimension: 5, classes: 3, noise: 0, seed: 9).train
        let net = try Network(inputs: 5, hidden: 6, classes: 3, maxBatch: 16, seed: 3)
        let rows = Array(0..<16)[...]
        _ = net.trainStep(data, rows: rows)
        let grads = [net.dw1, net.dg1, net.db1, net.dw2, net.dg2, net.db2, net.dw3, net.db3].map { Array($0.buffer) }
        for (k, p) in net.parameters.enumerated() {
            let original = p.values, h: Float = 1e-3
            var agree = 0
            for i in 0..<p.count {
                var v = original
                v[i] = original[i] + h
                try p.setValues(v)
                let up = net.trainStep(data, rows: rows)
                v[i] = original[i] - h
                try p.setValues(v)
                let numeric = (up - net.trainStep(data, rows: rows)) / Double(2 * h)
                if abs(numeric - Double(grads[k][i])) <= 1e-2 * abs(numeric) + 2e-4 { agree += 1 }
            }
            try p.setValues(original)
            // A perturbation can move a ReLU input across 0, where the loss
            // has a kink; a wrong formula would miss on most elements.
            #expect(agree * 10 >= p.count * 9, "\(p.name!): \(agree) of \(p.count) elements agree")
        }
        func cosine(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
            let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let na = a.reduce(0.0) { $0 + Double($1) * Double($1) }, nb = b.reduce(0.0) { $0 + Double($1) * Double($1) }
            return dot / (na * nb).squareRoot()
        }
        _ = net.trainStep(data, rows: rows)
        let (w1, g1, w2, g2) = (Array(net.w1.buffer), Array(net.dw1.buffer), Array(net.w2.buffer), Array(net.dw2.buffer))
        for r in 0..<6 { #expect(abs(cosine(w1[r * 5..<(r + 1) * 5], g1[r * 5..<(r + 1) * 5])) < 1e-3, "fc1 row \(r)") }
        #expect(abs(cosine(w2[...], g2[...])) < 1e-3)
    }

    /// LAPACKE's QR gives orthonormal rows (a wide matrix) or columns (a tall one).
    @Test(arguments: [(6, 4), (4, 6), (5, 5)])
    func orthogonalInitialisation(rows: Int, cols: Int) throws {
        let m = Matrix(rows, cols)
        var rng = SplitMix(seed: 1)
        try orthogonalInit(m, rng: &rng)
        let n = min(rows, cols)
        for i in 0..<n {
            for j in 0..<n {
                let dot = rows >= cols ? (0..<rows).reduce(Float(0)) { $0 + m[$1][i] * m[$1][j] }
                                       : (0..<cols).reduce(Float(0)) { $0 + m[i][$1] * m[j][$1] }
                #expect(abs(dot - (i == j ? 1 : 0)) < 1e-5, "(\(i), \(j)): \(dot)")
            }
        }
    }
}
#endif
