import OpenBLAS

/// How a ``NearestTargetSearch`` groups its targets: a few rounds of spherical k-means, and the
/// choice of the group count by the work it measures. The answers never depend on the grouping.
extension NearestTargetSearch {
    /// Groups the unit rows of `targets` into `count` groups (at most K) by a few rounds of spherical
    /// k-means started from `start` (G×d) or else from evenly spaced targets (no randomness; ties to
    /// the lower centre), stopping early when a round changes no group. Returns each target's group
    /// and the G×d unit centres; a group may end up empty. O(rounds·K·G·d).
    static func sphericalGroups(of targets: FeatureMatrix, count: Int, rounds: Int = 8, start: [Float]? = nil,
                                threads: Int) -> (assignment: [Int], centres: [Float]) {
        let k = targets.rows, d = targets.columns, g = max(1, min(k, count))
        var centre = start ?? (0..<g).flatMap { targets.row($0 * k / g) }
        var assignment = [Int](repeating: 0, count: k)
        for round in 0..<rounds {
            let nearest = BlockedSimilarity.rowwise(targets, FeatureMatrix(rows: g, columns: d, values: centre),
                                                    threads: threads) { _, s in
                var best = 0
                for c in 1..<s.count where s[c] > s[best] { best = c }
                return best
            }
            if round > 0, nearest == assignment { break }
            assignment = nearest
            var sums = [Double](repeating: 0, count: g * d)
            for t in 0..<k {
                for j in 0..<d { sums[assignment[t] * d + j] += Double(targets.values[t * d + j]) }
            }
            for c in 0..<g {
                let norm = (0..<d).reduce(0.0) { $0 + sums[c * d + $1] * sums[c * d + $1] }.squareRoot()
                guard norm > 0 else { continue }  // an empty group keeps its centre
                for j in 0..<d { centre[c * d + j] = Float(sums[c * d + j] / norm) }
            }
        }
        return (assignment, centre)
    }

    /// The search, among those with ⌈c·√K⌉ groups, c = 1, 2, 4, 8, that costs the fewest similarities
    /// — centres plus targets compared — on up to 2,048 evenly spaced rows of the queries searched
    /// with `slack` (ties to the fewer groups), and the group count it was asked for. The answer
    /// never depends on G, only the time: on a 1,000-cluster mixture the best G was 4√K (11.8 s per
    /// ActiveFT iteration against 19 s at 2√K), on a 100-class one 1–2√K; a search with slack
    /// compares every group within the slack, which favours smaller groups (tighter bounds).
    /// O(Σ_G (K·G·d + s·(G + visited)·d)) for s sample rows.
    public static func tuned(targets: FeatureMatrix, queries: FeatureMatrix, rows: [Int]? = nil, slack: Float = 0,
                             threads: Int) -> (search: NearestTargetSearch, groups: Int) {
        let k = targets.rows, n = rows?.count ?? queries.rows
        let sampleSize = min(n, 2048)
        let sample = (0..<sampleSize).map { i in
            let position = i * n / sampleSize
            return rows?[position] ?? position
        }
        var best: (search: NearestTargetSearch, groups: Int)?
        var bestCost = Int.max
        for factor in [1.0, 2, 4, 8] {
            let g = max(1, min(k, Int((factor * Double(k).squareRoot()).rounded(.up))))
            guard g > (best?.groups ?? 0) else { continue }
            let search = NearestTargetSearch(targets: targets, groups: g, threads: threads)
            let cost = search.nearest(queries, rows: sample, slack: slack, threads: threads).comparisons
                + sampleSize * search.groupCount
            if cost < bestCost {
                best = (search, g)
                bestCost = cost
            }
        }
        return best!
    }
}
