#if BLAS
import AdamPKit
import Foundation
import SeededRandom

/// What the demo trains and how: everything that determines its numbers.
public struct DemoConfig: Sendable {
    public var data = DataSource.defaultGenerated
    public var optimizers = DemoOptimizer.allCases
    public var epochs = 20
    public var batchSize = 128
    public var hidden = 256
    /// The seed of the network's initialisation and of the batch order (the
    /// same for every optimizer).
    public var seed: UInt64 = 0
    /// A folder for checkpoints: after every epoch each optimizer's run is
    /// saved there, and a run finds it and resumes.
    public var checkpoint: URL?
    /// Stop after this epoch, as if interrupted (to try resuming).
    public var stopAfter: Int?
    /// OpenBLAS's and the optimizer's threads; nil or 0: `Demo.threads`'s rule.
    public var threads: Int?
    /// The precisions each optimizer trains in, one run each.
    public var precisions: [Precision] = [.f32]

    public init() {}

    /// The settings a checkpoint must have been made with to be resumed.
    var fingerprint: String {
        "data: \(data.fingerprint); epochs: \(epochs); batch: \(batchSize); hidden: \(hidden); seed: \(seed)"
    }
}

/// Where the time of the epochs run in this process went, in seconds.
public struct Timing: Sendable {
    public var epochs = 0
    /// Forward and backward passes, BLAS included.
    public var forwardBackward = 0.0
    /// Of which `cblas_sgemm`.
    public var blas = 0.0
    /// The optimizer's steps.
    public var optimizerStep = 0.0
    /// The held-out evaluation.
    public var evaluation = 0.0
}

/// One optimizer's run: its records from epoch 0, and the time it took here.
public struct RunResult: Sendable {
    public let optimizer: DemoOptimizer
    public var precision = Precision.f32
    /// The name in tables and charts: the optimizer's, and "bf16" for a bfloat16 run.
    public var label: String { Self.label(optimizer, precision) }
    public static func label(_ k: DemoOptimizer, _ p: Precision) -> String { k.label + (p == .f32 ? "" : " \(p.rawValue)") }
    public var records: [EpochRecord]
    public var timing = Timing()
    /// The epoch a checkpoint let this run start after (0: from scratch).
    public var resumedAfter = 0
    public let stepsPerEpoch: Int
    public let parameterCount: Int
}

/// Progress, for a terminal.
public enum DemoEvent {
    case started(DemoOptimizer, Precision, resumedAfter: Int)
    case step(DemoOptimizer, Precision, epoch: Int, step: Int, of: Int, loss: Double)
    case epoch(DemoOptimizer, Precision, EpochRecord)
}

/// Trains the same network from the same seed with each optimizer.
public struct Demo {
    public let config: DemoConfig
    let train: Dataset, test: Dataset

    /// - Throws: `DemoError.badData` (see `IDX.load`), `.badArgument` for
    ///   settings that cannot train (fewer examples than a batch, ...).
    public init(config: DemoConfig) throws {
        self.config = config
        (train, test) = try config.data.load()
        guard config.epochs >= 1 else { throw DemoError.badArgument("--epochs must be at least 1 (got \(config.epochs))") }
        guard config.hidden >= 2 else { throw DemoError.badArgument("--hidden must be at least 2 (got \(config.hidden))") }
        guard config.batchSize >= 2 else {
            throw DemoError.badArgument("--batch must be at least 2: BatchNorm needs two examples (got \(config.batchSize))")
        }
        guard train.count >= config.batchSize else {
            throw DemoError.badArgument("the training set has \(train.count) examples, fewer than one batch of \(config.batchSize)")
        }
        guard !test.labels.isEmpty else { throw DemoError.badArgument("the held-out set is empty") }
        // The network's buffers (Network.init), refused rather than crashed on.
        let rows = Double(max(config.batchSize, 512)), h = Double(config.hidden)
        let bytes = 4 * (rows * (Double(train.dimension) + 8 * h + Double(train.classes)) + 6 * h * h + 4 * h * Double(train.dimension + train.classes))
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        guard bytes < memory / 2 else {
            throw DemoError.badArgument(String(format: "--batch %d and --hidden %d need about %.1f GB for the network; this machine has %.1f GB",
                                               config.batchSize, config.hidden, bytes / 1e9, memory / 1e9))
        }
    }

    /// The threads OpenBLAS and the optimizers run on: as configured, else
    /// one while the network's largest product (batch x hidden x hidden) is
    /// under a gigaflop. Below that, OpenBLAS's second thread saves at most
    /// 8% of a product (128 x 1024 x 1024: 2.93 ms against 2.71 here; at
    /// 2048, 1.96x), and the optimizer's step over the default network's
    /// 77,322 parameters is too small to share; and every parallel region
    /// costs a scheduling tick whenever a busy process holds a core: beside
    /// `while :; do :; done` the default run took 4.4x its quiet time on two
    /// threads, 1.0x on one.
    public var threads: Int {
        if let t = config.threads, t > 0 { return t }
        let flops = 2.0 * Double(config.batchSize) * Double(config.hidden) * Double(config.hidden)
        return flops < 1e9 ? 1 : KernelOptions.defaultThreads
    }

    public var dataDescription: String {
        "\(train.count) training and \(test.count) held-out examples of \(train.dimension) features, \(train.classes) classes"
    }

    /// Runs every optimizer of the configuration in turn, in each of its
    /// precisions, on `threads`.
    public func run(progress: (DemoEvent) -> Void = { _ in }) throws -> [RunResult] {
        BLASInfo.setThreads(threads)
        return try config.optimizers.flatMap { kind in try config.precisions.map { try run(kind, $0, progress: progress) } }
    }

    /// One optimizer's run in `precision`, resumed from its checkpoint if
    /// there is one.
    public func run(_ kind: DemoOptimizer, _ precision: Precision = .f32,
                    progress: (DemoEvent) -> Void = { _ in }) throws -> RunResult {
        switch precision {
        case .f32: try run(kind, Float.self, progress: progress)
        case .bf16: try run(kind, BFloat16.self, progress: progress)
        }
    }

    func run<S: DemoScalar>(_ kind: DemoOptimizer, _: S.Type, progress: (DemoEvent) -> Void) throws -> RunResult {
        let batch = config.batchSize, stepsPerEpoch = train.count / batch, precision = S.precision
        let net = try Network(inputs: train.dimension, hidden: config.hidden, classes: train.classes,
                              maxBatch: max(batch, 512), seed: config.seed, precision: precision)
        let parameters = net.parameters(S.self)
        let optimizer = try kind.make(parameters)
        try optimizer.setKernelOptions(KernelOptions(threads: threads))
        // A float32 run's file keeps its name from before there were others.
        let file = config.checkpoint?.appendingPathComponent(kind.rawValue + (precision == .f32 ? "" : "-\(precision.rawValue)") + ".safetensors")
        let weights = net.scaleInvariant.map(\.name)
        var result = RunResult(optimizer: kind, precision: precision, records: [], stepsPerEpoch: stepsPerEpoch,
                               parameterCount: parameters.reduce(0) { $0 + $1.count })
        if let file, FileManager.default.fileExists(atPath: file.path) {
            result.records = try RunCheckpoint.load(file, into: net, optimizer, config: config, weights: weights)
            result.resumedAfter = result.records.last!.epoch
        } else {
            result.records = [initialRecord(net)]
        }
        let schedule = try kind.schedule(optimizer, stepsPerEpoch: stepsPerEpoch, epochs: config.epochs)
        for _ in 0..<result.resumedAfter * stepsPerEpoch { try schedule.step() }
        progress(.started(kind, precision, resumedAfter: result.resumedAfter))

        let tracked = net.scaleInvariant.map { (parameters[$0.index], $0.weight) }
        let before = tracked.map { Matrix($0.1.rows, $0.1.cols) }
        var epoch = result.resumedAfter
        while epoch < min(config.epochs, config.stopAfter ?? .max) {
            epoch += 1
            var record = EpochRecord()
            record.epoch = epoch
            record.weights = weights.map { WeightRecord(name: $0) }
            var order = SplitMix(seed: config.seed &+ 0x5EED &* UInt64(epoch))
            let permutation = order.permutation(train.count)
            var lossSum = 0.0
            net.blasSeconds = 0
            for s in 0..<stepsPerEpoch {
                let t0 = now()
                let loss = net.trainStep(train, rows: permutation[s * batch..<(s + 1) * batch])
                let t1 = now()
                for (k, (_, m)) in tracked.enumerated() { _ = before[k].buffer.update(fromContentsOf: m.buffer) }
                record.learningRate = try optimizer.learningRate(group: 0)
                let t2 = now()
                try optimizer.step()
                let t3 = now()
                net.widenWeights() // bf16: the next forward's weights, and those the angles are measured on
                result.timing.forwardBackward += t1 - t0
                result.timing.optimizerStep += t3 - t2
                for (k, (p, m)) in tracked.enumerated() {
                    record.weights[k].turnDegrees += angle(before[k], m)
                    switch optimizer.lastProjection(for: p) {
                    case .channel?: record.weights[k].channelSteps += 1
                    case .layer?: record.weights[k].layerSteps += 1
                    default: record.weights[k].unprojectedSteps += 1
                    }
                }
                try schedule.step()
                lossSum += loss
                if s % 8 == 0 { progress(.step(kind, precision, epoch: epoch, step: s, of: stepsPerEpoch, loss: loss)) }
            }
            result.timing.blas += net.blasSeconds
            let t0 = now()
            let (testLoss, correct) = net.evaluate(test)
            result.timing.evaluation += now() - t0
            result.timing.epochs += 1
            record.trainLoss = lossSum / Double(stepsPerEpoch)
            record.testLoss = testLoss
            record.testAccuracy = Double(correct) / Double(test.count)
            for (k, (_, m)) in tracked.enumerated() {
                record.weights[k].turnDegrees /= Double(stepsPerEpoch)
                record.weights[k].norm = norm(m)
                record.weights[k].lrOverNormSquared = record.learningRate / (record.weights[k].norm * record.weights[k].norm)
            }
            result.records.append(record)
            if let file { try RunCheckpoint.save(file, net, optimizer, config: config, records: result.records, weights: weights) }
            progress(.epoch(kind, precision, record))
        }
        return result
    }

    private func initialRecord(_ net: Network) -> EpochRecord {
        var r = EpochRecord()
        let (trainLoss, _) = net.evaluate(train)
        let (testLoss, correct) = net.evaluate(test)
        (r.trainLoss, r.testLoss, r.testAccuracy) = (trainLoss, testLoss, Double(correct) / Double(test.count))
        r.weights = net.scaleInvariant.map { name, m, _ in
            var w = WeightRecord(name: name)
            w.norm = norm(m)
            return w
        }
        return r
    }
}

/// ‖m‖, in double.
func norm(_ m: Matrix) -> Double { m.buffer.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }

/// The angle between a and b, in degrees: 2·asin(‖â − b̂‖ / 2), which stays
/// accurate for the small angles of one step (acos of the cosine does not).
func angle(_ a: Matrix, _ b: Matrix) -> Double {
    let na = norm(a), nb = norm(b)
    var d = 0.0
    for i in 0..<a.count {
        let e = Double(a.base[i]) / na - Double(b.base[i]) / nb
        d += e * e
    }
    return 2 * asin(min(1, d.squareRoot() / 2)) * 180 / Double.pi
}
#endif
