internal import CAdamP

/// The usual split of a model's parameters into two groups, as timm's
/// `param_groups_weight_decay` and optax's masks do: weights, and the
/// parameters that get no weight decay and no projection (biases and
/// normalisation gains: every parameter of at most one dimension, and those
/// whose name matches a pattern).
public enum ParameterSplit {
    /// Names that are biases whatever their shape: `bias`, `fc.bias`, ...
    public static let defaultNoDecayPatterns = ["(^|\\.)bias$"]

    /// `[weights, rest]`; the rest's group sets weight decay 0 and, in AdamP
    /// and SGDP, `projection: .never`.
    static func groups<S: AdamPScalar, H: KernelHyperparameters>(
        _ parameters: [Parameter<S>], noDecayPatterns: [String]) throws -> [ParameterGroup<S, H>] {
        let patterns = try noDecayPatterns.map { p in
            do { return try Regex(p) } catch {
                throw OptimizerError.invalidArgument(name: "noDecayPatterns", value: p, rule: "must be a regular expression")
            }
        }
        func exempt(_ p: Parameter<S>) -> Bool {
            p.shape.count <= 1 || patterns.contains { r in p.name.map { (try? r.firstMatch(in: $0)) != nil } ?? false }
        }
        var rest = ParameterGroup<S, H>(parameters.filter(exempt))
        for f in H.fields where f.field == ADAMP_FIELD_WEIGHT_DECAY || f.field == ADAMP_FIELD_PROJECTION {
            rest.set(f, f.field == ADAMP_FIELD_PROJECTION ? Double(ProjectionRule.never.rawValue) : 0, over: H.defaults)
        }
        return [ParameterGroup(parameters.filter { !exempt($0) }), rest]
    }
}

extension CoreBacked {
    /// See `ParameterSplit`: the groups to pass to `init(groups:…)`.
    static func splitGroups(_ parameters: [Parameter<Scalar>], noDecayPatterns: [String]) throws
        -> [ParameterGroup<Scalar, Hyperparameters>] {
        try ParameterSplit.groups(parameters, noDecayPatterns: noDecayPatterns)
    }
}

extension AdamP {
    /// Two groups: weights, and 1-D parameters or names matching a pattern,
    /// which get no weight decay and no projection (see `ParameterSplit`).
    /// - Throws: `OptimizerError.invalidArgument` for a pattern that is not a regular expression.
    public static func groups(splitting parameters: [Parameter<Scalar>],
                              noDecayPatterns: [String] = ParameterSplit.defaultNoDecayPatterns) throws -> [Group] {
        try splitGroups(parameters, noDecayPatterns: noDecayPatterns)
    }
}

extension SGDP {
    /// As `AdamP.groups(splitting:noDecayPatterns:)`.
    public static func groups(splitting parameters: [Parameter<Scalar>],
                              noDecayPatterns: [String] = ParameterSplit.defaultNoDecayPatterns) throws -> [Group] {
        try splitGroups(parameters, noDecayPatterns: noDecayPatterns)
    }
}

extension AdamOptimizer {
    /// As `AdamP.groups(splitting:noDecayPatterns:)`, with no weight decay on the rest.
    public static func groups(splitting parameters: [Parameter<Scalar>],
                              noDecayPatterns: [String] = ParameterSplit.defaultNoDecayPatterns) throws -> [Group] {
        try splitGroups(parameters, noDecayPatterns: noDecayPatterns)
    }
}

extension SGD {
    /// As `AdamP.groups(splitting:noDecayPatterns:)`, with no weight decay on the rest.
    public static func groups(splitting parameters: [Parameter<Scalar>],
                              noDecayPatterns: [String] = ParameterSplit.defaultNoDecayPatterns) throws -> [Group] {
        try splitGroups(parameters, noDecayPatterns: noDecayPatterns)
    }
}
