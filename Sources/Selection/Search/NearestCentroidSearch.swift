import OpenBLAS

/// Finds each sample's most similar centroid, iteration after iteration, recomputing as little as
/// it can while staying exact.
///
/// Three algorithms, one per file, with the same answers:
/// - ``DenseNearestCentroids``: a blocked sgemm of the samples against all K centroids — the
///   reference, used alone without pruning;
/// - ``GroupBoundSearch``: Yinyang group bounds, for K below ``SearchTuning/groupedFrom``; the samples
///   they cannot settle go to the dense pass, which retakes their bounds;
/// - ``CandidateSearch``: kept candidates and one angle bound per sample, and a
///   ``NearestTargetSearch`` over the centroids for the rest, from ``SearchTuning/groupedFrom`` on (there
///   groups of hundreds of centroids stop pruning while the centroids move fast, and the first call
///   would be a dense N·K·d pass).
///
/// The answer is exactly the dense pass's, which follows
/// ``NearestTargetSearch/nearestByDot(scores:count:query:targets:columns:)``: among the centroids
/// within the margin of the largest sgemm similarity, the largest ``dot(_:_:count:)`` (ties to the
/// lower centroid), and the similarity as `dot` computes it. A pruned test settles a sample only when
/// its best beats everything else by ``SearchExactness/margin``, which absorbs the rounding of sgemm, of the
/// dot products and of the stored bounds and angles, so rounding never decides a test. A sample's
/// answer depends only on its own history, never on the thread count.
struct NearestCentroidSearch {
    let pruning: Bool
    let threads: Int
    private let samples: Int
    /// The pruned search, by the number of centroids; both nil without pruning.
    private var groupBounds: GroupBoundSearch?
    private var candidateSearch: CandidateSearch?
    /// Samples recomputed by the dense pass so far, for benchmarks and tests.
    private(set) var fullComparisons = 0

    /// - Parameters:
    ///   - samples: N, the number of feature rows.
    ///   - centroids: K.
    ///   - pruning: keep bounds between calls (off gives the dense pass every time, the reference the
    ///     pruned search is tested against).
    init(samples: Int, centroids: Int, pruning: Bool, threads: Int) {
        self.pruning = pruning
        self.threads = threads
        self.samples = samples
        if pruning && centroids >= SearchTuning.groupedFrom {
            candidateSearch = CandidateSearch(samples: samples, threads: threads)
        } else if pruning {
            groupBounds = GroupBoundSearch(samples: samples, centroids: centroids, threads: threads)
        }
    }

    /// Whether each call is a ``CandidateSearch`` (pruning with K ≥ ``SearchTuning/groupedFrom``).
    var searchesTargets: Bool { candidateSearch != nil }
    /// G (0 without group bounds).
    var groupCount: Int { groupBounds?.groupCount ?? 0 }
    /// Similarities the group comparisons or the target search computed so far (a dense pass computes
    /// K per sample), for benchmarks and tests.
    var prunedComparisons: Int { (groupBounds?.prunedComparisons ?? 0) + (candidateSearch?.prunedComparisons ?? 0) }
    /// Samples the one-dot test settled so far, for benchmarks and tests.
    var settledByBounds: Int { groupBounds?.settledByBounds ?? 0 }
    /// Samples the candidate check settled so far, for benchmarks and tests.
    var settledByCandidates: Int { candidateSearch?.settledByCandidates ?? 0 }

    /// The nearest centroid and its similarity for each of `rows` (indices into `features`; `nil`:
    /// all of them).
    ///
    /// - Parameters:
    ///   - features: unit-norm N×d features, row-major.
    ///   - centroids: unit-norm K×d centroids, row-major; K fixed across calls.
    mutating func assign(rows: [Int]?, features: FeatureMatrix, centroids: [Float])
        -> (nearest: [Int32], similarity: [Float]) {
        precondition(features.rows == samples, "\(features.rows) feature rows for a search over \(samples) samples")
        let count = rows?.count ?? features.rows
        var nearest = [Int32](repeating: 0, count: count)
        var similarity = [Float](repeating: 0, count: count)
        if candidateSearch != nil {
            candidateSearch!.assign(rows: rows, count: count, features: features, centroids: centroids,
                                    nearest: &nearest, similarity: &similarity)
        } else if groupBounds != nil {
            let failed = groupBounds!.settle(rows: rows, count: count, features: features, centroids: centroids,
                                             nearest: &nearest, similarity: &similarity)
            if !failed.isEmpty {
                fullComparisons += failed.count
                groupBounds!.retake(positions: failed, rows: rows, features: features, centroids: centroids,
                                    nearest: &nearest, similarity: &similarity)
            }
        } else {
            fullComparisons += count
            DenseNearestCentroids.assign(positions: Array(0..<count), rows: rows, features: features, centroids: centroids,
                                         threads: threads, nearest: &nearest, similarity: &similarity)
        }
        return (nearest, similarity)
    }

    /// Follows the feature rows to a new order: what it keeps of row `order[i]` becomes row i's, as
    /// ``FeatureMatrix/permuteRows(_:)`` moves the rows themselves. Each sample's answers depend only
    /// on its own history, so the search then gives every sample the answers it would have given it
    /// in the old order. O(N·(G + ``SearchTuning/candidateCount``)) time and memory.
    ///
    /// Precondition: `order` is a permutation of the N rows, and calls name rows in the new order.
    mutating func permuteRows(_ order: [Int]) {
        precondition(order.count == samples, "an order of \(order.count) rows for \(samples) samples")
        groupBounds?.permuteRows(order)
        candidateSearch?.permuteRows(order)
    }

    /// Per-sample state of `width` values a row, rows taken in `order`. O(state).
    static func permuted<Element>(_ state: [Element], width: Int, order: [Int]) -> [Element] {
        guard !state.isEmpty else { return state }
        var out = [Element]()
        out.reserveCapacity(state.count)
        for row in order { out += state[(row * width)..<((row + 1) * width)] }
        return out
    }

    /// The distance each centroid moved from `old` to `new` (K×d, row-major), rounded up: a bound on
    /// how much its similarity to any unit sample changed. Each is one sum in double in the order of
    /// the columns; chunks of centroids run in parallel. O(K·d).
    static func movements(from old: [Float], to new: [Float], d: Int, threads: Int) -> [Float] {
        let k = new.count / d, chunkRows = 64
        var moved = [Float](repeating: 0, count: k)
        withSharedPointers(&moved) { moved in
            withReadOnlyPointers(old, new) { from, to in
                ParallelChunks.run(chunks: (k + chunkRows - 1) / chunkRows, threads: threads) { chunk in
                    for c in (chunk * chunkRows)..<min(k, (chunk + 1) * chunkRows) {
                        var sum = 0.0
                        for j in (c * d)..<((c + 1) * d) {
                            let delta = Double(to.base[j]) - Double(from.base[j])
                            sum += delta * delta
                        }
                        moved.base[c] = Float(sum.squareRoot() * (1 + SearchExactness.movementEnlargement)).nextUp
                    }
                }
            }
        }
        return moved
    }
}
