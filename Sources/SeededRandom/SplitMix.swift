import Foundation

/// SplitMix64, a small seeded generator: the same numbers on every machine
/// and every rank, for this package's tests, demo and benchmarks: a target
/// of its own, in no product, so AdamPKit does not carry it.
package struct SplitMix: RandomNumberGenerator {
    package var state: UInt64

    package init(state: UInt64) { self.state = state }
    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    package mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }
    /// Uniform in 0..<n.
    package mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// Standard normal (Box-Muller over uniform()).
    package mutating func gaussian() -> Double {
        let u = max(uniform(), 0x1p-60), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
    /// Standard normal (Box-Muller over the standard library's Double.random).
    package mutating func normal() -> Double {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &self), v = Double.random(in: 0..<1, using: &self)
        return sqrt(-2 * log(u)) * cos(2 * .pi * v)
    }
    /// A permutation of 0..<n (Fisher-Yates).
    package mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, below(i + 1)) }
        return p
    }
}
