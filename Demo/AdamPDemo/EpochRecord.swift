/// What one epoch of one optimizer measured. Epoch 0 is the network before
/// training (its training loss evaluated as the held-out one is).
#if BLAS
public struct EpochRecord: Equatable, Sendable {
    public var epoch = 0
    /// The learning rate of the epoch's last step (group 0).
    public var learningRate = 0.0
    /// The mean of the epoch's batch losses.
    public var trainLoss = 0.0
    public var testLoss = 0.0
    /// Held-out accuracy, in [0, 1].
    public var testAccuracy = 0.0
    /// One per scale-invariant weight (fc1, fc2).
    public var weights: [WeightRecord] = []

    /// The columns of the CSV and of a checkpoint's history, in order: one
    /// list, read and written by `values` and `init(values:weights:)`.
    static var fields: [(name: String, path: WritableKeyPath<EpochRecord, Double>)] { [
        ("lr", \.learningRate), ("train_loss", \.trainLoss), ("test_loss", \.testLoss), ("test_accuracy", \.testAccuracy),
    ] }

    /// The column names, for weights named `weights`.
    static func columns(weights: [String]) -> [String] {
        ["epoch"] + fields.map(\.name) + weights.flatMap { w in WeightRecord.fields.map { "\(w)_\($0.name)" } }
    }

    /// Which of `columns` hold counts (the epoch, steps), written as integers.
    static func integerColumns(weights: [String]) -> [Bool] {
        [true] + fields.map { _ in false } + weights.flatMap { _ in WeightRecord.fields.map(\.isCount) }
    }

    /// The values in `columns`' order.
    var values: [Double] {
        [Double(epoch)] + EpochRecord.fields.map { self[keyPath: $0.path] }
            + weights.flatMap { w in WeightRecord.fields.map { w[keyPath: $0.path] } }
    }

    init() {}

    /// The inverse of `values`; nil if the epoch is not a whole number in
    /// [0, 2^31) (a damaged or hand-made checkpoint: converting it trapped).
    init?(values: ArraySlice<Double>, weights names: [String]) {
        var v = values.makeIterator()
        guard let e = v.next().flatMap({ Int32(exactly: $0) }), e >= 0 else { return nil }
        epoch = Int(e)
        for f in EpochRecord.fields { self[keyPath: f.path] = v.next()! }
        weights = names.map { name in
            var w = WeightRecord(name: name)
            for f in WeightRecord.fields { w[keyPath: f.path] = v.next()! }
            return w
        }
    }
}

/// What happened to one scale-invariant weight over an epoch.
public struct WeightRecord: Equatable, Sendable {
    public var name: String
    /// ‖w‖ (Frobenius) at the end of the epoch.
    public var norm = 0.0
    /// The effective step: the mean angle, in degrees, by which a step
    /// turned the weight (w/‖w‖ is all a scale-invariant weight's function
    /// depends on).
    public var turnDegrees = 0.0
    /// The paper's effective step size for SGD, lr / ‖w‖², at the epoch's end.
    public var lrOverNormSquared = 0.0
    /// How many of the epoch's steps projected by channel, by layer, or not
    /// at all (an optimizer without projections: all unprojected).
    public var channelSteps = 0.0, layerSteps = 0.0, unprojectedSteps = 0.0

    static var fields: [(name: String, path: WritableKeyPath<WeightRecord, Double>, isCount: Bool)] { [
        ("norm", \.norm, false), ("turn_deg", \.turnDegrees, false), ("lr_over_norm2", \.lrOverNormSquared, false),
        ("channel_steps", \.channelSteps, true), ("layer_steps", \.layerSteps, true),
        ("unprojected_steps", \.unprojectedSteps, true),
    ] }
}
#endif
