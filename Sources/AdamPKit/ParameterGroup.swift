/// Parameters that share hyperparameters, for every optimizer (`AdamP.Group`,
/// `SGD.Group`, ...). A field the group does not set takes the optimizer's
/// value; set one by its name, at creation (`AdamP.Group(parameters: [w],
/// learningRate: 0.1)`) or later (`group.learningRate = 0.1`), and read it
/// back the same way (nil: not set here).
@dynamicMemberLookup
public struct ParameterGroup<Scalar: AdamPScalar, Hyperparameters> {
    /// The group's parameters.
    public var parameters: [Parameter<Scalar>]
    /// The fields set, in the order they were set (so that `betas` and then
    /// `beta1` resolve as written).
    private var overrides: [(field: PartialKeyPath<Hyperparameters>, value: Any, apply: (inout Hyperparameters) -> Void)] = []

    /// A group with nothing set: the optimizers' labelled initialisers start here.
    init(_ parameters: [Parameter<Scalar>]) { self.parameters = parameters }

    /// The value the group sets for `field`, or nil if it takes the optimizer's.
    public subscript<T>(dynamicMember field: WritableKeyPath<Hyperparameters, T>) -> T? {
        get { overrides.last { $0.field == field }?.value as? T }
        set {
            overrides.removeAll { $0.field == field }
            if let value = newValue { overrides.append((field, value, { $0[keyPath: field] = value })) }
        }
    }

    /// Sets a field by the table of the optimizer's hyperparameters (the value
    /// as C holds it), as `group.<field> = value` would.
    mutating func set(_ f: HyperparameterField<Hyperparameters>, _ value: Double, over defaults: Hyperparameters) {
        var h = defaults
        f.set(&h, value)
        let typed = h[keyPath: f.key]
        overrides.removeAll { $0.field == f.key }
        overrides.append((f.key, typed, { f.set(&$0, value) }))
    }

    /// `defaults` with this group's fields set.
    public func resolved(over defaults: Hyperparameters) -> Hyperparameters {
        var h = defaults
        for o in overrides { o.apply(&h) }
        return h
    }
}
