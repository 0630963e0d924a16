import HeapModule

/// The K highest-scored rows, highest first, with exact ties in a seeded random order.
///
/// A bounded min-heap of K candidates (swift-collections' `Heap`): O(N log K) time, O(K) memory.
/// Each row draws one tie-break number from the generator, in row order, so the order of ties
/// depends on the seed only.
enum SeededTopK {
    struct Candidate: Comparable {
        let score: Double
        let tieBreak: UInt64
        let row: Int
        /// Lower score first; among equal scores, the larger tie-break number is "less".
        static func < (a: Candidate, b: Candidate) -> Bool { (a.score, b.tieBreak) < (b.score, a.tieBreak) }
    }

    /// The `count` highest of `scores` (the score of `rows[i]` is `scores[i]`), highest first.
    static func best(_ count: Int, of rows: [Int], scores: [Double], generator: inout SeededGenerator) -> [Pick] {
        var heap = Heap<Candidate>()
        for (row, score) in zip(rows, scores) {
            let candidate = Candidate(score: score, tieBreak: generator.next(), row: row)
            if heap.count < count {
                heap.insert(candidate)
            } else if let worst = heap.min, worst < candidate {
                heap.replaceMin(with: candidate)
            }
        }
        var ranked: [Pick] = []
        ranked.reserveCapacity(heap.count)
        while let top = heap.popMax() { ranked.append(Pick(row: top.row, score: top.score)) }
        return ranked
    }
}
