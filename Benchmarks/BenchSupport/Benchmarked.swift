import AdamPKit

/// The optimizers timed, with the settings compare_pytorch.py gives PyTorch's,
/// and the least bytes each must move per f32 parameter (adamp.h): the Adams
/// read p, g, m, v and write p, m, v (28); the SGDs read p, g, buf and write
/// p, buf (20). The floor streams the same bytes.
public struct Benchmarked: Sendable {
    public let bytes: Double
    public let make: @Sendable ([Parameter<Float>]) throws -> any Optimizer<Float>
    /// AdamP and SGDP with the rules a user who knows the model gives
    /// (`--projection rules`): the parameters marked as followed by
    /// normalisation always channel-projected, the others never; nil for the
    /// optimizers that do not project.
    public var ruled: (@Sendable ([Parameter<Float>], [Bool]) throws -> any Optimizer<Float>)? = nil

    public static let names = ["adamp", "sgdp", "adam", "adamw", "sgd"]
    public static let all: [String: Benchmarked] = [
        "adamp": .init(bytes: 28, make: { try AdamP(parameters: $0, learningRate: 1e-3, weightDecay: 1e-4) },
                       ruled: { p, marked in
                           let g = split(p, marked)
                           return try AdamP(groups: [.init(parameters: g.0, projection: .channel),
                                                     .init(parameters: g.1, projection: .never)],
                                            learningRate: 1e-3, weightDecay: 1e-4)
                       }),
        "sgdp": .init(bytes: 20, make: { try SGDP(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true) },
                      ruled: { p, marked in
                          let g = split(p, marked)
                          return try SGDP(groups: [.init(parameters: g.0, projection: .channel),
                                                   .init(parameters: g.1, projection: .never)],
                                          learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true)
                      }),
        "adam": .init(bytes: 28) { try Adam(parameters: $0, learningRate: 1e-3, weightDecay: 1e-4) },
        "adamw": .init(bytes: 28) { try AdamW(parameters: $0, learningRate: 1e-3, weightDecay: 1e-2) },
        "sgd": .init(bytes: 20) { try SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true) },
    ]
}

/// The marked parameters and the others, each in model order.
private func split(_ p: [Parameter<Float>], _ marked: [Bool]) -> ([Parameter<Float>], [Parameter<Float>]) {
    (p.indices.filter { marked[$0] }.map { p[$0] }, p.indices.filter { !marked[$0] }.map { p[$0] })
}
