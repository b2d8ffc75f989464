internal import CAdamP

/// The element types the kernels implement: `Float` and `Double`.
public protocol AdamPScalar: BinaryFloatingPoint, SafetensorsElement {
    /// Which kernel family serves this type.
    static var scalarKind: ScalarKind { get }
}

/// The element type of a parameter as the C kernels see it.
public enum ScalarKind: Sendable {
    case float32, float64
}

extension Float: AdamPScalar {
    public static var scalarKind: ScalarKind { .float32 }
}

extension Double: AdamPScalar {
    public static var scalarKind: ScalarKind { .float64 }
}

extension ScalarKind {
    var cType: adamp_dtype { self == .float32 ? ADAMP_F32 : ADAMP_F64 }
}
