import OpenBLAS

/// The large-K search of ``NearestCentroidSearch`` (K ≥ ``SearchTuning/groupedFrom``):
/// kept candidates and one angle bound per sample, and a ``NearestTargetSearch`` over the centroids
/// for the samples those cannot settle.
///
/// Each sample keeps its ``SearchTuning/candidateCount`` most similar centroids from
/// its last search and a lower bound on the angle to every other centroid. In later calls that bound
/// follows the largest angle any centroid turned by since (the Hamerly bound, G. Hamerly, "Making
/// k-means even faster", SDM 2010, kept as an angle for the centroids outside a short candidate
/// list), and a sample whose best candidate, by ``dot(_:_:count:)``, beats the other candidates and
/// the bound by the margin is settled with M dot products; only the others are searched again. In a
/// call over every row the ``SearchTuning/fastestCount`` centroids that moved
/// furthest are left out of that growth and compared with every sample instead (one small sgemm per
/// block of rows); when one of them slows down, its similarity goes into the bound the call it leaves
/// them. While the centroids move slowly, the search widens its comparisons by a slack of a few times
/// the last movement so that the bounds last several calls. Memory O(N·M + K·d).
///
/// Invariant: for every searched sample, `othersAngle[row] − othersTurn` is a lower bound on the
/// angle to every centroid outside its candidates and the current ``fastest`` ones.
struct CandidateSearch {
    let threads: Int
    private let samples: Int
    /// The last target search's group centres (their number tuned on the first call).
    private var targetCentres: FeatureMatrix?
    /// Per sample (N×``SearchTuning/candidateCount``, −1 padded): its most similar
    /// centroids when it was last searched, and a lower bound on the angle to every other centroid
    /// then, plus `othersTurn` at that call (−∞: never searched).
    private var candidates: [Int32]
    private var othersAngle: [Float]
    /// The sum over calls of the largest angle a centroid outside ``fastest`` turned by (rounded
    /// up), and the last call's largest distance moved.
    private var othersTurn: Float = 0
    private var lastMovement: Float = .infinity
    /// The centroids this call compares with every sample rather than count in the bound's growth:
    /// the ``SearchTuning/fastestCount`` that moved furthest since the previous call
    /// (calls over every row only). The stored bounds cover every centroid but these.
    private var fastest: [Int32] = []
    /// The previous call's fastest centroids that are not among this call's: compared with every
    /// sample too, and taken into its bound, which then covers them again.
    private var leaving: [Int32] = []
    /// The centroids of the previous call (empty before the first).
    private var previousCentroids: [Float] = []
    /// Similarities the target search computed, and samples the candidate check settled, so far.
    private(set) var prunedComparisons = 0
    private(set) var settledByCandidates = 0

    init(samples: Int, threads: Int) {
        self.samples = samples
        self.threads = threads
        candidates = [Int32](repeating: -1, count: samples * SearchTuning.candidateCount)
        othersAngle = [Float](repeating: -.infinity, count: samples)
    }

    /// Sets the nearest centroid and similarity of each of the `count` samples at `rows` (nil: every row).
    mutating func assign(rows: [Int]?, count: Int, features: FeatureMatrix, centroids: [Float],
                         nearest: inout [Int32], similarity: inout [Float]) {
        let d = features.columns, k = centroids.count / d
        precondition(previousCentroids.isEmpty || previousCentroids.count == centroids.count, "K changed between calls")
        if !previousCentroids.isEmpty {
            // Over every row, the fastest centroids are compared with every sample and the bounds
            // grow by the largest movement of the rest. A batch would leave the other rows' bounds
            // without the last fastest centroids: there every centroid counts, and after calls
            // over every row all bounds are dropped once.
            let previous = fastest
            (fastest, lastMovement) = Self.fastestCentroids(
                rows == nil ? SearchTuning.fastestCount : 0, of: k, from: previousCentroids, to: centroids,
                d: d, threads: threads)
            leaving = rows == nil ? previous.filter { !fastest.contains($0) } : []
            if rows != nil && !previous.isEmpty {
                othersAngle = [Float](repeating: -.infinity, count: samples)
            }
            othersTurn = (othersTurn + UnitAngle.turn(distance: lastMovement)).nextUp
        }
        previousCentroids = centroids
        var failing = [Bool](repeating: false, count: count)
        checkCandidates(rows: rows, count: count, features: features, centroids: centroids,
                        nearest: &nearest, similarity: &similarity, failing: &failing)
        let failed = failing.indices.filter { failing[$0] }
        settledByCandidates += count - failed.count
        if !failed.isEmpty {
            searchTargets(positions: failed, rows: rows, features: features, centroids: centroids, k: k,
                          nearest: &nearest, similarity: &similarity)
        }
    }

    /// Follows the feature rows to a new order (``NearestCentroidSearch/permuteRows(_:)``).
    mutating func permuteRows(_ order: [Int]) {
        candidates = NearestCentroidSearch.permuted(candidates, width: SearchTuning.candidateCount, order: order)
        othersAngle = NearestCentroidSearch.permuted(othersAngle, width: 1, order: order)
    }

    /// One ``NearestTargetSearch`` over the centroids: the same answers as the full pass (both follow
    /// ``NearestTargetSearch/nearestByDot(scores:count:query:targets:columns:)``). With many
    /// centroids, G ≤ 64 groups hold hundreds of centroids each, and in the early iterations, when
    /// every centroid moves, most samples would compare whole groups or go to the full pass: a search
    /// over the centroids regrouped each call measured faster (see BENCHMARKS.md).
    private mutating func searchTargets(positions: [Int], rows: [Int]?, features: FeatureMatrix, centroids: [Float],
                                        k: Int, nearest: inout [Int32], similarity: inout [Float]) {
        let targets = FeatureMatrix(rows: k, columns: features.columns, values: centroids)
        let searched = positions.map { rows?[$0] ?? $0 }
        // The group count is measured once, on the first centroids, for the widest search the calls
        // will make (it changes only the time); later groupings start from the last one's centres
        // (the centroids move little per call).
        let search: NearestTargetSearch
        if let earlier = targetCentres {
            search = NearestTargetSearch(targets: targets, startingFrom: earlier, threads: threads)
        } else {
            search = NearestTargetSearch.tuned(targets: targets, queries: features, rows: searched,
                                               slack: SearchTuning.largestSlack, threads: threads).search
        }
        // A bound that the next movements would break at once is not worth the wider search.
        let wanted = SearchTuning.slackPerMovement * lastMovement
        let slack = wanted <= SearchTuning.largestSlack ? wanted : 0
        let m = SearchTuning.candidateCount
        // Every row in order needs no gathering.
        let everyRow = rows == nil && positions.count == features.rows
        let answer = search.nearest(features, rows: everyRow ? nil : searched, keeping: m, slack: slack, threads: threads)
        targetCentres = search.groupCentres
        for (i, position) in positions.enumerated() {
            nearest[position] = answer.index[i]
            similarity[position] = answer.similarity[i]
            let row = searched[i]
            candidates.replaceSubrange((row * m)..<((row + 1) * m), with: answer.candidates[(i * m)..<((i + 1) * m)])
            othersAngle[row] = UnitAngle.stored(similarity: answer.othersBound[i], turned: othersTurn)
        }
        prunedComparisons += answer.comparisons
    }

    /// The `count` centroids (of `k`) that moved furthest from `old` to `new`, fastest first (ties to
    /// the lower index), and the largest movement of all the others. O(K·d + K·log count), with a
    /// bounded heap (``BoundedBest``).
    static func fastestCentroids(_ count: Int, of k: Int, from old: [Float], to new: [Float], d: Int,
                                 threads: Int = 1) -> (fastest: [Int32], restMovement: Float) {
        let count = min(count, k - 1)
        let moved = NearestCentroidSearch.movements(from: old, to: new, d: d, threads: threads)
        var best = BoundedBest(capacity: count + 1)
        for c in 0..<k { best.offer(row: c, similarity: moved[c]) }
        let ranked = best.sortedBestFirst()
        return (ranked.prefix(count).map { Int32($0.row) }, ranked.last?.similarity ?? 0)
    }

    /// Settles each sample whose candidates, compared again, hold a centroid that beats every other
    /// candidate, the ``fastest`` and ``leaving`` centroids and the bound on the rest by the margin;
    /// marks the others failing. A centroid that turns by Δ comes at most Δ closer to a unit sample
    /// (``UnitAngle``), so the rest's angle bound has shrunk by the largest turn outside ``fastest``
    /// this call (it never covered the fastest; those leaving them are compared now and taken into a
    /// settled sample's bound, which covers them from now on). O(N·(M + F)·d) for F compared centroids (one
    /// sgemm per block of rows), blocks of rows in parallel.
    private mutating func checkCandidates(rows: [Int]?, count: Int, features: FeatureMatrix, centroids: [Float],
                                          nearest: inout [Int32], similarity: inout [Float], failing: inout [Bool]) {
        let d = features.columns, m = SearchTuning.candidateCount, margin = SearchExactness.margin, turned = othersTurn
        // The compared centroids: the fastest, then those leaving them (taken into the bounds).
        let compared = fastest + leaving, f = compared.count, leavingFrom = fastest.count
        // Each compared centroid's column in the block's scores (−1: not compared), so a row skips
        // its candidates with M look-ups.
        var columnOf = [Int32](repeating: -1, count: f > 0 ? centroids.count / d : 0)
        for (i, c) in compared.enumerated() { columnOf[Int(c)] = Int32(i) }
        let column = columnOf
        let blockRows = RowPartition.blockRows
        precondition(f == 0 || rows == nil, "the fastest centroids are compared over every row only")
        let blocks = (count + blockRows - 1) / blockRows
        var fastRows = [Float]()
        fastRows.reserveCapacity(f * d)
        for c in compared { fastRows += centroids[(Int(c) * d)..<((Int(c) + 1) * d)] }
        withSharedPointers(&nearest, &similarity, &failing, &othersAngle) { nearest, similarity, failing, bound in
            withReadOnlyPointers(features.values, centroids, candidates, fastRows) { x, c, kept, fast in
                let input = CandidateInputs(x: x.base, c: c.base, kept: kept.base, fast: f > 0 ? fast.base : nil)
                ParallelChunks.run(chunks: blocks, threads: threads, makeScratch: {
                    OwnedBuffer<Float>(capacity: blockRows * f)
                }) { block, fastScores in
                    let first = block * blockRows, n = min(count, first + blockRows) - first
                    if f > 0 {
                        BLAS.multiplyTransposed(m: n, n: f, k: d, a: input.x + first * d, lda: d,
                                                b: input.fast!, ldb: d, c: fastScores.base, ldc: f)
                    }
                    for position in first..<(first + n) {
                        let row = rows?[position] ?? position
                        // The angle bound on the rest, now.
                        let rest = bound.base[row] - turned
                        guard rest > -.infinity else {
                            failing.base[position] = true
                            continue
                        }
                        var best: Int32 = -1, bestValue = -Float.infinity, rival = -Float.infinity
                        for i in 0..<m {
                            let candidate = input.kept[row * m + i]
                            guard candidate >= 0 else { break }
                            let value = dot(input.x + row * d, input.c + Int(candidate) * d, count: d)
                            if value > bestValue {
                                rival = max(rival, bestValue)
                                best = candidate
                                bestValue = value
                            } else {
                                rival = max(rival, value)
                            }
                        }
                        // The compared centroids that are not candidates (the candidates'
                        // columns blanked first; each row's scores are read once).
                        let scores = fastScores.base + (position - first) * f
                        if f > 0 {
                            for i in 0..<m {
                                let candidate = input.kept[row * m + i]
                                guard candidate >= 0 else { break }
                                let j = column[Int(candidate)]
                                if j >= 0 { scores[Int(j)] = -.infinity }
                            }
                        }
                        for i in 0..<leavingFrom { rival = max(rival, scores[i]) }
                        var leavingValue = -Float.infinity
                        for i in leavingFrom..<f { leavingValue = max(leavingValue, scores[i]) }
                        rival = max(rival, leavingValue)
                        // The rest are below best − margin when their angle bound exceeds
                        // acos(best − margin).
                        if best >= 0 && bestValue > rival + margin
                            && rest > UnitAngle.above(similarity: bestValue - margin) {
                            nearest.base[position] = best
                            similarity.base[position] = bestValue
                            if leavingValue > -.infinity {
                                bound.base[row] = min(bound.base[row],
                                                      UnitAngle.stored(similarity: leavingValue, turned: turned))
                            }
                        } else {
                            failing.base[position] = true
                        }
                    }
                }
            }
        }
    }
}

/// Read-only inputs of the candidate checks, shared by their parallel chunks.
private struct CandidateInputs: @unchecked Sendable {
    let x: UnsafePointer<Float>
    let c: UnsafePointer<Float>
    let kept: UnsafePointer<Int32>
    /// The fastest centroids' rows (nil when there are none).
    let fast: UnsafePointer<Float>?
}
