internal import CAdamP

/// One hyperparameter: the C library's field (which also gives PyTorch's
/// name for it, `adamp_field_name`) and where a Swift hyperparameter struct
/// keeps it. Each struct lists its fields once, in `fields`; the C value,
/// the checkpoint's `param_groups` JSON and error messages all come from
/// that list.
struct HyperparameterField<H> {
    let field: adamp_field
    let key: PartialKeyPath<H>
    let isFlag: Bool
    let get: (H) -> Double
    let set: (inout H, Double) -> Void
    /// Whether a value read from outside (a checkpoint) is one the field can hold.
    let accepts: (Double) -> Bool
    /// Fields of this package's own (not PyTorch's: the C library's
    /// `adamp_field_info.own`) are written to a checkpoint only when they
    /// differ from 0, their default, so that the groups of a default run
    /// have exactly PyTorch's keys.
    var ownField: Bool { adamp_field_describe(field).pointee.own != 0 }

    static func real(_ field: adamp_field, _ key: WritableKeyPath<H, Double>) -> Self {
        Self(field: field, key: key, isFlag: false, get: { $0[keyPath: key] }, set: { $0[keyPath: key] = $1 },
             accepts: { _ in true })
    }

    static func flag(_ field: adamp_field, _ key: WritableKeyPath<H, Bool>) -> Self {
        Self(field: field, key: key, isFlag: true, get: { $0[keyPath: key] ? 1 : 0 }, set: { $0[keyPath: key] = $1 != 0 },
             accepts: { $0 == 0 || $0 == 1 })
    }

    /// A field whose values are an enumeration's raw values (in C, an int32),
    /// of this package's own.
    static func choice<E: RawRepresentable>(_ field: adamp_field, _ key: WritableKeyPath<H, E>) -> Self
        where E.RawValue == Int32 {
        Self(field: field, key: key, isFlag: false, get: { Double($0[keyPath: key].rawValue) },
             set: { h, x in if let e = E(rawValue: Int32(exactly: x) ?? -1) { h[keyPath: key] = e } },
             accepts: { E(rawValue: Int32(exactly: $0) ?? -1) != nil })
    }

    /// PyTorch's key for the field and, for `betas`, the position in its pair.
    var torchKey: (key: String, index: Int?) { HyperparameterFields.torchKey(field) }
}

enum HyperparameterFields {
    /// PyTorch's key ("lr", "betas", ...) and the index in a pair
    /// ("betas[1]" is ("betas", 1)), from the C library's spelling.
    static func torchKey(_ field: adamp_field) -> (key: String, index: Int?) {
        let name = String(cString: adamp_field_name(field))
        guard let open = name.firstIndex(of: "["), let i = Int(name[name.index(after: open)...].dropLast()) else {
            return (name, nil)
        }
        return (String(name[..<open]), i)
    }

    /// The Swift label of a field, as errors name it.
    static func swiftName(_ field: adamp_field) -> String {
        switch field {
        case ADAMP_FIELD_LR: return "learningRate"
        case ADAMP_FIELD_BETA1: return "betas.0"
        case ADAMP_FIELD_BETA2: return "betas.1"
        case ADAMP_FIELD_WEIGHT_DECAY: return "weightDecay"
        case ADAMP_FIELD_WD_RATIO: return "wdRatio"
        default: return String(cString: adamp_field_name(field))
        }
    }
}

extension adamp_hparams {
    /// A field by its C name (flags and choices as whole numbers), through
    /// the C library's description of the struct.
    subscript(field: adamp_field) -> Double {
        get { withUnsafePointer(to: self) { adamp_hparams_get($0, field) } }
        set {
            let status = adamp_hparams_set(&self, field, newValue)
            precondition(status == ADAMP_OK, "adamp_hparams_set: \(String(cString: adamp_status_string(status)))")
        }
    }
}

/// Which projection a group's parameters of more than one dimension get in
/// AdamP and SGDP (`AdamP.Group(parameters:…, projection: .never)`). The raw
/// values are the C library's `adamp_projection_rule`.
public enum ProjectionRule: Sendable, CaseIterable, RawRepresentable {
    /// The paper's scale-invariance test decides, step by step (the default).
    case auto
    /// Never projected: e.g. embeddings, or weights not followed by normalisation.
    case never
    /// Always projected per output channel.
    case channel
    /// Always projected as a whole layer.
    case layer

    var cValue: adamp_projection_rule {
        switch self {
        case .auto: ADAMP_PROJECT_AUTO
        case .never: ADAMP_PROJECT_NEVER
        case .channel: ADAMP_PROJECT_CHANNEL
        case .layer: ADAMP_PROJECT_LAYER
        }
    }

    public var rawValue: Int32 { Int32(bitPattern: cValue.rawValue) }
    public init?(rawValue: Int32) {
        guard let rule = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = rule
    }
}
