import Foundation

/// Standard normal numbers from a seeded xorshift generator (Box–Muller), so that a simulation of landmark
/// jitter gives the same numbers every run: `optgate-bench parallax` and the geometry cue's tests.
public struct SeededGaussian: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    public mutating func uniform() -> Double {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return (Double(state >> 11) + 0.5) / Double(1 << 53)
    }

    public mutating func next() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform()) }
}
