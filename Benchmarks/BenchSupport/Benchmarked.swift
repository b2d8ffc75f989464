import AdamPKit

/// The optimizers timed, with the settings compare_pytorch.py gives PyTorch's,
/// and the least bytes each must move per f32 parameter (adamp.h): the Adams
/// read p, g, m, v and write p, m, v (28); the SGDs read p, g, buf and write
/// p, buf (20). The floor streams the same bytes.
public struct Benchmarked: Sendable {
    public let bytes: Double
    public let make: @Sendable ([Parameter<Float>]) throws -> any Optimizer<Float>

    public static let names = ["adamp", "sgdp", "adam", "adamw", "sgd"]
    public static let all: [String: Benchmarked] = [
        "adamp": .init(bytes: 28) { try AdamP(parameters: $0, learningRate: 1e-3, weightDecay: 1e-4) },
        "sgdp": .init(bytes: 20) { try SGDP(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true) },
        "adam": .init(bytes: 28) { try Adam(parameters: $0, learningRate: 1e-3, weightDecay: 1e-4) },
        "adamw": .init(bytes: 28) { try AdamW(parameters: $0, learningRate: 1e-3, weightDecay: 1e-2) },
        "sgd": .init(bytes: 20) { try SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true) },
    ]
}
