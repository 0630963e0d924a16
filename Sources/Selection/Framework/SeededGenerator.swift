/// The one source of randomness in selectjob: xoshiro256** seeded from a 64-bit job seed by SplitMix64.
///
/// Deterministic on every platform and thread count, unlike `SystemRandomNumberGenerator`.
/// Follows Blackman & Vigna, "Scrambled Linear Pseudorandom Number Generators" (2021). O(1) per draw.
///
/// Selection methods draw from `init(seed:)` (the job's seed). Every other consumer names its own
/// ``Stream``, so no two consumers share draws by accident: an evaluation seeded 0 never holds out the
/// rows a selection seeded 0 picked.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// A named consumer of randomness other than the selection itself; its draws are independent of
    /// the selection's and of every other stream's for any pair of seeds.
    public struct Stream: Sendable, Equatable {
        /// The domain-separation tag: the FNV-1a hash of the stream's name.
        let tag: UInt64
        public let name: String

        public init(_ name: String) {
            self.name = name
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            tag = hash
        }

        /// The rows an evaluation holds out as its test set.
        public static let evaluationHoldout = Stream("evaluation.holdout")
        /// The pool rows an evaluation's MMD is measured on.
        public static let evaluationMMD = Stream("evaluation.mmd")
        /// The random subsets an evaluation reads the selection against.
        public static let evaluationBaseline = Stream("evaluation.baseline")
    }

    /// Creates a generator whose whole sequence is determined by `seed` and `stream`: the seed and the
    /// stream's tag are mixed through SplitMix64's finaliser (a bijection of the pair's sum per stream),
    /// so equal seeds of different streams start from unrelated states. O(1).
    public init(seed: UInt64, stream: Stream) {
        self.init(seed: Self.finalise(Self.finalise(stream.tag) &+ seed))
    }

    /// SplitMix64's output function (Steele, Lea & Flood, OOPSLA 2014): a bijective 64-bit mixer.
    private static func finalise(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Creates a generator whose whole sequence is determined by `seed`: the selection's stream.
    public init(seed: UInt64) {
        var mixer = seed
        func splitMix() -> UInt64 {
            mixer &+= 0x9E37_79B9_7F4A_7C15
            return Self.finalise(mixer)
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
