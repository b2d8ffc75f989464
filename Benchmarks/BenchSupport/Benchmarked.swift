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
        "adamp": .projecting(bytes: 28, group: { AdamP.Group(parameters: $0, projection: $1) }) {
            try AdamP(groups: $0, learningRate: 1e-3, weightDecay: 1e-4)
        },
        "sgdp": .projecting(bytes: 20, group: { SGDP.Group(parameters: $0, projection: $1) }) {
            try SGDP(groups: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true)
        },
        "adam": .init(bytes: 28) { try Adam(parameters: $0, learningRate: 1e-3, weightDecay: 1e-4) },
        "adamw": .init(bytes: 28) { try AdamW(parameters: $0, learningRate: 1e-3, weightDecay: 1e-2) },
        "sgd": .init(bytes: 20) { try SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true) },
    ]
}

extension Benchmarked {
    /// A projecting optimizer's entry from its settings over groups (`make`,
    /// written once): all parameters in one group of the paper's test, or
    /// (`ruled`) the marked parameters in a `.channel` group and the others
    /// in a `.never` one, each in model order. `group` makes a group of the
    /// optimizer's kind with a rule (nil: the test).
    static func projecting<H>(bytes: Double,
                              group: @escaping @Sendable ([Parameter<Float>], ProjectionRule?) -> ParameterGroup<Float, H>,
                              _ make: @escaping @Sendable ([ParameterGroup<Float, H>]) throws -> any Optimizer<Float>)
        -> Benchmarked {
        Benchmarked(bytes: bytes, make: { try make([group($0, nil)]) }, ruled: { p, marked in
            try make([group(p.indices.filter { marked[$0] }.map { p[$0] }, .channel),
                      group(p.indices.filter { !marked[$0] }.map { p[$0] }, .never)])
        })
    }
}
