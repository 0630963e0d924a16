/// The one source of randomness in selectjob: xoshiro256** seeded from a 64-bit job seed by SplitMix64.
///
/// Deterministic on every platform and thread count, unlike `SystemRandomNumberGenerator`.
/// Follows Blackman & Vigna, "Scrambled Linear Pseudorandom Number Generators" (2021). O(1) per draw.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// Creates a generator whose whole sequence is determined by `seed`.
    public init(seed: UInt64) {
        var mixer = seed
        func splitMix() -> UInt64 {
            mixer &+= 0x9E37_79B9_7F4A_7C15
            var z = mixer
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// `count` distinct integers from `0..<population`, in draw order (a partial Fisher–Yates shuffle).
    ///
    /// O(count) time and memory, whatever the population. Precondition: `count <= population`.
    public mutating func distinctIndices(count: Int, from population: Int) -> [Int] {
        precondition(count >= 0 && count <= population, "cannot draw \(count) distinct of \(population)")
        var displaced: [Int: Int] = [:]
        var drawn: [Int] = []
        drawn.reserveCapacity(count)
        for i in 0..<count {
            let j = Int.random(in: i..<population, using: &self)
            let atJ = displaced[j] ?? j
            displaced[j] = displaced[i] ?? i
            drawn.append(atJ)
        }
        return drawn
    }
}
