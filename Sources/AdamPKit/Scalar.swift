internal import CAdamP

/// The element types the kernels implement: `Float` and `Double`, and the
/// 16-bit storage types `BFloat16` and `Float16`, which the kernels widen to
/// `Float` to compute and round to nearest-even to store.
public protocol AdamPScalar: BinaryFloatingPoint, SafetensorsElement {
    /// Which kernel family serves this type.
    static var scalarKind: ScalarKind { get }
}

/// The element type of a parameter as the C kernels see it.
public enum ScalarKind: Sendable {
    case float32, float64, bfloat16, float16
}

extension Float: AdamPScalar {
    public static var scalarKind: ScalarKind { .float32 }
}

extension Double: AdamPScalar {
    public static var scalarKind: ScalarKind { .float64 }
}

extension BFloat16: AdamPScalar {
    public static var scalarKind: ScalarKind { .bfloat16 }
}

extension Float16: AdamPScalar {
    public static var scalarKind: ScalarKind { .float16 }
}

extension ScalarKind {
    var cType: adamp_dtype {
        switch self {
        case .float32: ADAMP_F32
        case .float64: ADAMP_F64
        case .bfloat16: ADAMP_BF16
        case .float16: ADAMP_F16
        }
    }
}

/// How an optimizer keeps the exact value of a `BFloat16` or `Float16`
/// parameter. Every step computes in `Float`; this says what is stored.
///
/// - `off`: the parameter and its state in the parameter's type, each step
///   the `Float` step of their widened values, each stored value rounded
///   once (torch's fused Adam and AdamW on bfloat16 and float16 compute
///   exactly this). 2 bytes per element of each buffer.
/// - `float32`: a `Float` copy of each parameter (`master_param`) and `Float`
///   state: the copy's trajectory is bitwise the `Float` optimizer's given
///   the same widened gradients, and the parameter is the copy rounded to
///   nearest-even, written in the same pass. 4 bytes more per parameter.
/// - `split` (`BFloat16` only): the `Float` master is the parameter (its
///   upper 16 bits) and a 16-bit trail kept as state (`master_trail`, its
///   lower 16 bits): the same trajectory as `float32` in 2 bytes more per
///   parameter, not 4. The model then sees the master truncated, not rounded.
///
/// `Float` and `Double` parameters are their own master: every case steps
/// them alike. A parameter takes its master from its values at its first step.
/// The corresponding C type is `adamp_master`.
public enum MasterWeights: Sendable, CaseIterable {
    case off, float32, split

    var cValue: adamp_master {
        switch self {
        case .off: ADAMP_MASTER_OFF
        case .float32: ADAMP_MASTER_FLOAT32
        case .split: ADAMP_MASTER_SPLIT
        }
    }

    /// The C library's name: "off", "float32", "split".
    public var name: String { String(cString: adamp_master_name(cValue)) }
}
