/// Near-duplicate samples of a pool: which to drop so that no two kept samples are as similar as a
/// threshold, and which kept sample each dropped one duplicates.
///
/// Samples are taken in a fixed order — the labelled ones first (in their order; never dropped), then
/// the rest by ascending row — and a sample is dropped when a sample kept before it has cosine
/// similarity ≥ the threshold with it; its representative is the first such kept sample. The leader
/// rule of sequential clustering: deterministic, and unlike connected components it never drops a
/// sample for a chain of near-duplicates that ends far from it. Pairs come from ``SimilarPairs`` (exact,
/// pruned by groups). Cost: that search, then O(N + pairs).
public struct NearDuplicates: Sendable, Equatable {
    public static func == (a: NearDuplicates, b: NearDuplicates) -> Bool { a.dropped == b.dropped }

    /// One dropped sample.
    public struct Dropped: Sendable, Equatable {
        public let row: Int
        public let representative: Int
        public let similarity: Float
    }

    /// The dropped samples, by ascending row.
    public let dropped: [Dropped]
    /// Row–row similarities the pair search computed (the dense scan: n(n−1)/2 for n rows).
    public var comparisons = 0

    /// Finds the near-duplicates among `rows` of `pool` (any norms; compared as unit rows), where the
    /// `labelled` rows (a subset of `rows`) come first and are never dropped. O(search + N + pairs).
    public static func find(in pool: FeatureMatrix, rows: [Int], labelled: [Int], threshold: Double, threads: Int)
        -> NearDuplicates {
        let unit = pool.selecting(rows: rows).normalizedRows()
        let (pairs, comparisons) = SimilarPairs.search(unit, atLeast: Float(threshold), threads: threads)
        var neighbours = [[(other: Int32, similarity: Float)]](repeating: [], count: rows.count)
        for pair in pairs {
            neighbours[Int(pair.i)].append((pair.j, pair.similarity))
            neighbours[Int(pair.j)].append((pair.i, pair.similarity))
        }
        let local = Dictionary(uniqueKeysWithValues: rows.enumerated().map { ($1, $0) })
        let labelledLocal = labelled.map { local[$0]! }
        let isLabelled = Set(labelledLocal)
        let order = labelledLocal + (0..<rows.count).filter { !isLabelled.contains($0) }
        var position = [Int](repeating: 0, count: rows.count)
        for (p, i) in order.enumerated() { position[i] = p }
        var kept = [Bool](repeating: false, count: rows.count)
        var dropped: [Dropped] = []
        // Invariant: when sample i is reached, every sample before it in `order` is settled.
        for i in order {
            let earlierKept = neighbours[i].filter { kept[Int($0.other)] && position[Int($0.other)] < position[i] }
            if isLabelled.contains(i) || earlierKept.isEmpty {
                kept[i] = true
            } else {
                let first = earlierKept.min { position[Int($0.other)] < position[Int($1.other)] }!
                dropped.append(Dropped(row: rows[i], representative: rows[Int(first.other)], similarity: first.similarity))
            }
        }
        return NearDuplicates(dropped: dropped.sorted { $0.row < $1.row }, comparisons: comparisons)
    }
}
