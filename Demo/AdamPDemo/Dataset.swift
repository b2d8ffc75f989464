#if BLAS
import AdamPKit
import Foundation
import SeededRandom

/// Examples for classification: `count` rows of `dimension` features
/// (row-major) and a label in 0..<classes for each.
public struct Dataset: Sendable {
    public let features: [Float]
    public let labels: [Int32]
    public let dimension: Int
    public let classes: Int
    public var count: Int { labels.count }

    public init(features: [Float], labels: [Int32], dimension: Int, classes: Int) {
        precondition(features.count == labels.count * dimension && labels.allSatisfy { $0 >= 0 && Int($0) < classes })
        (self.features, self.labels, self.dimension, self.classes) = (features, labels, dimension, classes)
    }
}

/// Where the examples come from.
public enum DataSource: Equatable, Sendable {
    /// A task generated from a seed (no download): Gaussian inputs labelled by
    /// a random two-layer teacher network, `noise` of the training labels
    /// replaced by random ones.
    case generated(train: Int, test: Int, dimension: Int, classes: Int, noise: Double, seed: UInt64)
    /// MNIST-format IDX files in a folder (see `IDX`).
    case idx(folder: URL)

    public static let defaultGenerated = DataSource.generated(train: 16_384, test: 4_096, dimension: 32, classes: 10,
                                                              noise: 0.05, seed: 1)

    /// The training and the held-out set.
    public func load() throws -> (train: Dataset, test: Dataset) {
        switch self {
        case let .generated(train, test, dimension, classes, noise, seed):
            return Teacher.task(train: train, test: test, dimension: dimension, classes: classes, noise: noise, seed: seed)
        case let .idx(folder):
            return try IDX.load(folder: folder)
        }
    }

    /// A text that identifies the data, to check a checkpoint against.
    var fingerprint: String {
        switch self {
        case let .generated(train, test, dimension, classes, noise, seed):
            return "generated(train: \(train), test: \(test), dimension: \(dimension), classes: \(classes), noise: \(noise), seed: \(seed))"
        case let .idx(folder):
            return "idx(\(folder.standardizedFileURL.path))"
        }
    }
}

/// The generated task: x ~ N(0, I), label = argmax(B · tanh(A · x)) for a
/// random teacher (A: [2·classes, dimension] of N(0, 1/(4·dimension)),
/// B: [classes, 2·classes] of N(0, 1)). The classes are separated by curved
/// boundaries that the network learns over many epochs (about 90% held out
/// by the default settings), and a few
/// percent of noisy training labels keep the training loss from reaching
/// zero, so the optimizers' differences stay visible.
enum Teacher {
    static func task(train: Int, test: Int, dimension d: Int, classes c: Int, noise: Double, seed: UInt64)
        -> (train: Dataset, test: Dataset) {
        var rng = SplitMix(seed: seed)
        let width = 2 * c
        let a = (0..<width * d).map { _ in rng.gaussian() * 0.5 / Double(d).squareRoot() }
        let b = (0..<c * width).map { _ in rng.gaussian() }
        func make(_ n: Int, noise: Double) -> Dataset {
            var features = [Float](), labels = [Int32]()
            features.reserveCapacity(n * d)
            for _ in 0..<n {
                let x = (0..<d).map { _ in rng.gaussian() }
                let hidden = (0..<width).map { i in tanh((0..<d).reduce(0.0) { $0 + a[i * d + $1] * x[$1] }) }
                let out = (0..<c).map { k in (0..<width).reduce(0.0) { $0 + b[k * width + $1] * hidden[$1] } }
                var label = out.indices.max { out[$0] < out[$1] }!
                if rng.uniform() < noise { label = rng.below(c) }
                features += x.map(Float.init)
                labels.append(Int32(label))
            }
            return Dataset(features: features, labels: labels, dimension: d, classes: c)
        }
        let trainSet = make(train, noise: noise)
        return (trainSet, make(test, noise: 0))
    }
}
#endif
