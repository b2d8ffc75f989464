/// A bfloat16 value: the upper 16 bits of a `Float` (1 sign bit, 8 exponent
/// bits, 7 significand bits), the storage type of parameters and gradients
/// in mixed-precision training.
///
/// Widening to `Float` is exact. Narrowing rounds to nearest, ties to even,
/// as PyTorch and the C library round; a NaN stays a NaN (quieted, its sign
/// and the high bits of its payload kept). Arithmetic is computed in `Float`
/// and rounded once, which for `+`, `-`, `*`, `/` and square roots is the
/// correctly rounded result (`Float` carries more than twice bfloat16's
/// precision). Use it as `Parameter<BFloat16>`: the optimizers compute in
/// `Float` and only store in bfloat16 (see `MasterWeights`).
@frozen
public struct BFloat16: Sendable, Hashable {
    /// The 16 bits: `Float(self).bitPattern >> 16`.
    public var bitPattern: UInt16

    /// The bfloat16 with these bits.
    public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

    /// `x` rounded to nearest, ties to even (a NaN stays a NaN).
    public init(_ x: Float) {
        let b = x.bitPattern
        if x.isNaN {
            bitPattern = UInt16(truncatingIfNeeded: b >> 16) | 0x40
        } else { // a carry into the exponent is the rounding up
            bitPattern = UInt16(truncatingIfNeeded: (b &+ 0x7fff &+ ((b >> 16) & 1)) >> 16)
        }
    }

    /// `x` rounded to nearest, ties to even, once: through `Float` rounded
    /// to odd, so that no value is rounded twice the wrong way.
    public init(_ x: Double) {
        var f = Float(x)
        if f.isFinite, Double(f) != x {
            if Swift.abs(Double(f)) > Swift.abs(x) { f = f.nextDown.magnitude < f.magnitude ? f.nextDown : f.nextUp }
            f = Float(bitPattern: f.bitPattern | 1)
        }
        self.init(f)
    }

    /// `x`'s value, rounded (a NaN stays a NaN).
    public init(_ x: Float16) { self.init(Float(x)) }

    /// A bfloat16 value rounded from `x`.
    public init<Source: BinaryInteger>(_ x: Source) { self.init(Double(x)) }

    /// `x` if bfloat16 holds it exactly, else nil.
    public init?<Source: BinaryInteger>(exactly x: Source) {
        self.init(Double(x))
        guard isFinite, Source(exactly: Float(self)) == x else { return nil }
    }
}

extension Float {
    /// The exact value of `x`.
    public init(_ x: BFloat16) { self = Float(bitPattern: UInt32(x.bitPattern) << 16) }
}

extension Double {
    /// The exact value of `x`.
    public init(_ x: BFloat16) { self = Double(Float(x)) }
}

extension BFloat16: BinaryFloatingPoint {
    public typealias Exponent = Int
    public typealias RawSignificand = UInt16
    public typealias Magnitude = BFloat16
    public typealias IntegerLiteralType = Int
    public typealias FloatLiteralType = Double
    public typealias Stride = BFloat16

    public static var exponentBitCount: Int { 8 }
    public static var significandBitCount: Int { 7 }

    public init(sign: FloatingPointSign, exponentBitPattern: UInt, significandBitPattern: UInt16) {
        let s: UInt16 = sign == .minus ? 0x8000 : 0
        self.init(bitPattern: s | UInt16(truncatingIfNeeded: (exponentBitPattern & 0xff) << 7) | (significandBitPattern & 0x7f))
    }

    public init(sign: FloatingPointSign, exponent: Int, significand: BFloat16) {
        self.init(Float(sign: sign, exponent: exponent, significand: Float(significand)))
    }

    public init(integerLiteral value: Int) { self.init(value) }
    public init(floatLiteral value: Double) { self.init(value) }
    #if arch(x86_64) || arch(i386)
    public init(_ x: Float80) { self.init(Double(x)) }
    #endif

    public var sign: FloatingPointSign { bitPattern & 0x8000 != 0 ? .minus : .plus }
    public var exponentBitPattern: UInt { UInt((bitPattern >> 7) & 0xff) }
    public var significandBitPattern: UInt16 { bitPattern & 0x7f }
    public var exponent: Int { Float(self).exponent }
    public var significand: BFloat16 { BFloat16(Float(self).significand) }
    public var binade: BFloat16 { BFloat16(Float(self).binade) }
    public var significandWidth: Int { Float(self).significandWidth }
    public var magnitude: BFloat16 { BFloat16(bitPattern: bitPattern & 0x7fff) }
    public var ulp: BFloat16 {
        guard isFinite else { return .nan }
        let m = magnitude == .greatestFiniteMagnitude ? BFloat16(bitPattern: 0x7f7e) : magnitude
        return BFloat16(bitPattern: m.bitPattern + 1) - m
    }
    public var nextUp: BFloat16 {
        if isNaN || self == .infinity { return self }
        if bitPattern == 0x8000 || bitPattern == 0 { return .leastNonzeroMagnitude }
        return BFloat16(bitPattern: sign == .plus ? bitPattern &+ 1 : bitPattern &- 1)
    }

    public static var nan: BFloat16 { BFloat16(bitPattern: 0x7fc0) }
    public static var signalingNaN: BFloat16 { BFloat16(bitPattern: 0x7fa0) }
    public static var infinity: BFloat16 { BFloat16(bitPattern: 0x7f80) }
    public static var greatestFiniteMagnitude: BFloat16 { BFloat16(bitPattern: 0x7f7f) }
    public static var pi: BFloat16 { BFloat16(bitPattern: 0x4049) } // rounded toward zero, as Float.pi is
    public static var leastNormalMagnitude: BFloat16 { BFloat16(bitPattern: 0x0080) }
    public static var leastNonzeroMagnitude: BFloat16 { BFloat16(bitPattern: 0x0001) }

    public var isNormal: Bool { Float(self).isNormal }
    public var isFinite: Bool { bitPattern & 0x7f80 != 0x7f80 }
    public var isZero: Bool { bitPattern & 0x7fff == 0 }
    public var isSubnormal: Bool { Float(self).isSubnormal }
    public var isInfinite: Bool { bitPattern & 0x7fff == 0x7f80 }
    public var isNaN: Bool { bitPattern & 0x7fff > 0x7f80 }
    public var isSignalingNaN: Bool { isNaN && bitPattern & 0x40 == 0 }
    public var isCanonical: Bool { true }

    public static func + (a: BFloat16, b: BFloat16) -> BFloat16 { BFloat16(Float(a) + Float(b)) }
    public static func - (a: BFloat16, b: BFloat16) -> BFloat16 { BFloat16(Float(a) - Float(b)) }
    public static func * (a: BFloat16, b: BFloat16) -> BFloat16 { BFloat16(Float(a) * Float(b)) }
    public static func / (a: BFloat16, b: BFloat16) -> BFloat16 { BFloat16(Float(a) / Float(b)) }
    public static func += (a: inout BFloat16, b: BFloat16) { a = a + b }
    public static func -= (a: inout BFloat16, b: BFloat16) { a = a - b }
    public static func *= (a: inout BFloat16, b: BFloat16) { a = a * b }
    public static func /= (a: inout BFloat16, b: BFloat16) { a = a / b }
    public static prefix func - (a: BFloat16) -> BFloat16 { BFloat16(bitPattern: a.bitPattern ^ 0x8000) }
    public mutating func negate() { bitPattern ^= 0x8000 }

    public mutating func formRemainder(dividingBy other: BFloat16) {
        self = BFloat16(Float(self).remainder(dividingBy: Float(other)))
    }
    public mutating func formTruncatingRemainder(dividingBy other: BFloat16) {
        self = BFloat16(Float(self).truncatingRemainder(dividingBy: Float(other)))
    }
    public mutating func formSquareRoot() { self = BFloat16(Float(self).squareRoot()) }
    /// `self + lhs * rhs`: the product is exact in `Double`, the sum rounded
    /// there and then to bfloat16.
    public mutating func addProduct(_ lhs: BFloat16, _ rhs: BFloat16) {
        self = BFloat16(Double(self) + Double(lhs) * Double(rhs))
    }
    public mutating func round(_ rule: FloatingPointRoundingRule) { self = BFloat16(Float(self).rounded(rule)) }

    public func isEqual(to other: BFloat16) -> Bool { Float(self) == Float(other) }
    public func isLess(than other: BFloat16) -> Bool { Float(self) < Float(other) }
    public func isLessThanOrEqualTo(_ other: BFloat16) -> Bool { Float(self) <= Float(other) }
    public func isTotallyOrdered(belowOrEqualTo other: BFloat16) -> Bool {
        Float(self).isTotallyOrdered(belowOrEqualTo: Float(other))
    }

    public func distance(to other: BFloat16) -> BFloat16 { other - self }
    public func advanced(by n: BFloat16) -> BFloat16 { self + n }

    public static func == (a: BFloat16, b: BFloat16) -> Bool { a.isEqual(to: b) }
    public static func < (a: BFloat16, b: BFloat16) -> Bool { a.isLess(than: b) }

    public func hash(into hasher: inout Hasher) { hasher.combine(isZero ? 0 : bitPattern) }
}

extension BFloat16: CustomStringConvertible, CustomDebugStringConvertible {
    /// The value as `Float` prints it (exactly the value, widened).
    public var description: String { Float(self).description }
    public var debugDescription: String { "BFloat16(\(description))" }
}
