import AdamPKit

/// The optimizers timed, with the settings compare_pytorch.py gives PyTorch's,
/// and the least bytes each must move per parameter (adamp.h): the Adams
/// read p, g, m, v and write p, m, v (28 in float32); the SGDs read p, g, buf
/// and write p, buf (20). The floor streams the same bytes.
public struct Benchmarked: Sendable {
    /// State buffers per parameter: the Adams' m and v, the SGDs' momentum.
    public let states: Int
    /// Whether it projects (takes the rules of `--projection rules`).
    public let projects: Bool
    let maker: any Maker

    public static let names = ["adamp", "sgdp", "adam", "adamw", "sgd"]
    public static let all: [String: Benchmarked] = [
        "adamp": Benchmarked(states: 2, projects: true, maker: AdamPMaker()),
        "sgdp": Benchmarked(states: 1, projects: true, maker: SGDPMaker()),
        "adam": Benchmarked(states: 2, projects: false, maker: AdamMaker()),
        "adamw": Benchmarked(states: 2, projects: false, maker: AdamWMaker()),
        "sgd": Benchmarked(states: 1, projects: false, maker: SGDMaker()),
    ]

    /// The float32 bytes per parameter (28 or 20).
    public var bytes: Double { bytes(parameterSize: 4, master: .off) }

    /// The least bytes a step moves per parameter of `parameterSize` bytes
    /// (its gradient alike), as the library stores it (`MasterWeights`): the
    /// parameter read and written (off; split, with its trail), or a float32
    /// master read and written and the parameter only written (float32);
    /// each state buffer (the parameter's size, or float32 with a master)
    /// read and written.
    public func bytes(parameterSize p: Int, master: MasterWeights) -> Double {
        let narrow = p < 4
        let (param, state): (Int, Int) = switch (narrow ? master : .off) {
        case .off: (2 * p, p)
        case .float32: (8 + p, 4)
        case .split: (4 * p, 4)
        }
        return Double(param + p + 2 * states * state)
    }

    /// The optimizer over `parameters`: one group deciding by the paper's
    /// test, or (`marked`, for AdamP and SGDP, `--projection rules`) the
    /// marked ones always channel-projected and the others never.
    public func make<S: AdamPScalar>(_ parameters: [Parameter<S>], marked: [Bool]? = nil,
                                     master: MasterWeights = .off) throws -> any Optimizer<S> {
        try maker.make(Settings(parameters: parameters, marked: marked, master: master))
    }

    /// The bytes per parameter the paper's test adds where it needs a tensor's
    /// statistics before its update (adamp.h, "Bytes moved"): p and g read a
    /// second time (p as the kernels read it: a float32 master, or a split
    /// parameter with its trail), for each tensor of more than one dimension
    /// and more than `wholeStepElements` elements, so 36 for AdamP in
    /// float32 and 28 for SGDP.
    public func rereadBytes(parameterSize p: Int, master: MasterWeights) -> Double {
        guard projects else { return 0 }
        return Double((p < 4 && master != .off ? 4 : p) + p)
    }

    /// A tensor of at most this many elements is stepped whole by one thread
    /// (CKernels/src/step.c, PATH_WHOLE): its second read of p and g is from
    /// cache, not memory.
    public static let wholeStepElements = 16_384

    /// `make` for float32 parameters.
    public var make: @Sendable ([Parameter<Float>]) throws -> any Optimizer<Float> {
        { try self.make($0, marked: nil, master: .off) }   // the method, not this property
    }
}

/// What a maker is given: the parameters, the rule marks and the master weights.
struct Settings<S: AdamPScalar> {
    let parameters: [Parameter<S>]
    let marked: [Bool]?
    let master: MasterWeights

    /// One group of all parameters (the test), or the marked ones in a
    /// `.channel` group and the others in a `.never` one, model order.
    func groups<H>(_ group: ([Parameter<S>], ProjectionRule?) -> ParameterGroup<S, H>) -> [ParameterGroup<S, H>] {
        guard let marked else { return [group(parameters, nil)] }
        return [group(parameters.indices.filter { marked[$0] }.map { parameters[$0] }, .channel),
                group(parameters.indices.filter { !marked[$0] }.map { parameters[$0] }, .never)]
    }
}

/// Each optimizer's settings, written once for every parameter type.
protocol Maker: Sendable {
    func make<S: AdamPScalar>(_ s: Settings<S>) throws -> any Optimizer<S>
}

struct AdamPMaker: Maker {
    func make<S: AdamPScalar>(_ s: Settings<S>) throws -> any Optimizer<S> {
        try AdamP(groups: s.groups { AdamP.Group(parameters: $0, projection: $1) }, learningRate: 1e-3,
                  weightDecay: 1e-4, masterWeights: s.master)
    }
}

struct SGDPMaker: Maker {
    func make<S: AdamPScalar>(_ s: Settings<S>) throws -> any Optimizer<S> {
        try SGDP(groups: s.groups { SGDP.Group(parameters: $0, projection: $1) }, learningRate: 0.1, momentum: 0.9,
                 weightDecay: 1e-4, nesterov: true, masterWeights: s.master)
    }
}

struct AdamMaker: Maker {
    func make<S: AdamPScalar>(_ s: Settings<S>) throws -> any Optimizer<S> {
        try Adam(parameters: s.parameters, learningRate: 1e-3, weightDecay: 1e-4, masterWeights: s.master)
    }
}

struct AdamWMaker: Maker {
    func make<S: AdamPScalar>(_ s: Settings<S>) throws -> any Optimizer<S> {
        try AdamW(parameters: s.parameters, learningRate: 1e-3, weightDecay: 1e-2, masterWeights: s.master)
    }
}

struct SGDMaker: Maker {
    func make<S: AdamPScalar>(_ s: Settings<S>) throws -> any Optimizer<S> {
        try SGD(parameters: s.parameters, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true,
                masterWeights: s.master)
    }
}
