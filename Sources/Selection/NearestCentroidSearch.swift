import BLAS

/// Finds each sample's most similar centroid, iteration after iteration, recomputing as little as
/// it can while staying exact.
///
/// A full pass is one blocked sgemm of the samples against all K centroids. With pruning on, each
/// full pass also keeps, per sample, its L most similar centroids (the candidates) and the (L+1)-th
/// similarity σ. Features are unit vectors, so a centroid that moved by δ changes every similarity
/// by at most δ; a centroid that is not a candidate therefore has similarity at most σ + its drift.
/// At the next iterations only the L candidates are compared (L dot products instead of K), and the
/// best of them is the argmax whenever it beats σ plus the largest drift since the candidates were
/// taken — the bound test of Elkan's and Hamerly's k-means, with the candidate list of Yinyang's.
/// Samples that fail the test are recomputed in full. Drift is measured against one snapshot of the
/// centroids: a sample refreshed after it carries the snapshot drift of that time, and the triangle
/// inequality bounds its drift since by the sum. When more than a quarter of the samples fail, all
/// are refreshed and the snapshot is retaken.
///
/// The result is exactly that of the full pass: the argmax of the sgemm similarities (ties to the
/// lower centroid). `margin` absorbs the rounding difference between the sgemm and the candidate dot
/// products: a candidate wins only if it beats every bound and the runner-up by more than it.
/// Cost per iteration: O(N·L·d) plus O(F·K·d) for the F samples refreshed. Memory: O(N·L).
struct NearestCentroidSearch {
    /// Candidates kept per sample; 0 disables pruning (every iteration is a full pass).
    let candidateCount: Int
    let threads: Int
    static let blockRows = 1024
    static let margin: Float = 1e-4

    private var candidates: [Int32] = []
    private var bound: [Float] = []
    private var driftAtRefresh: [Float] = []
    private var snapshot: [Float] = []
    /// Samples recomputed against all centroids so far, for benchmarks and tests.
    private(set) var fullComparisons = 0

    /// - Parameters:
    ///   - samples: N, the number of feature rows.
    ///   - centroids: K.
    ///   - pruning: keep candidates and bounds (on by default for the selection; off gives the plain
    ///     full pass every time, the reference the pruned search is tested against).
    init(samples: Int, centroids: Int, pruning: Bool, threads: Int) {
        let count = pruning ? min(16, centroids - 1) : 0
        candidateCount = count >= 2 ? count : 0
        self.threads = threads
        if candidateCount > 0 {
            candidates = [Int32](repeating: 0, count: samples * candidateCount)
            bound = [Float](repeating: .infinity, count: samples)
            driftAtRefresh = [Float](repeating: 0, count: samples)
        }
    }

    /// The nearest centroid and its similarity for each of `rows` (indices into `features`).
    ///
    /// - Parameters:
    ///   - features: unit-norm N×d features, row-major.
    ///   - centroids: unit-norm K×d centroids, row-major.
    mutating func assign(rows: [Int]?, features: FeatureMatrix, centroids: [Float])
        -> (nearest: [Int32], similarity: [Float]) {
        let d = features.columns, k = centroids.count / d
        let count = rows?.count ?? features.rows
        var nearest = [Int32](repeating: 0, count: count)
        var similarity = [Float](repeating: 0, count: count)
        guard candidateCount > 0 else {
            fullPass(positions: Array(0..<count), rows: rows, features: features, centroids: centroids, k: k,
                     drift: 0, nearest: &nearest, similarity: &similarity)
            return (nearest, similarity)
        }

        let largestDrift = snapshot.isEmpty ? Float.infinity : largestDriftSinceSnapshot(centroids, k: k, d: d)
        var failing = [Bool](repeating: false, count: count)
        if largestDrift.isFinite {
            checkCandidates(rows: rows, count: count, features: features, centroids: centroids,
                            largestDrift: largestDrift, nearest: &nearest, similarity: &similarity, failing: &failing)
        } else {
            failing = [Bool](repeating: true, count: count)
        }
        let failed = failing.indices.filter { failing[$0] }
        if failed.count * 4 > count || !largestDrift.isFinite {
            // A new snapshot: every bound taken against the old one is void until its sample is refreshed.
            snapshot = centroids
            for i in bound.indices { bound[i] = .infinity }
            fullPass(positions: Array(0..<count), rows: rows, features: features, centroids: centroids, k: k,
                     drift: 0, nearest: &nearest, similarity: &similarity)
        } else if !failed.isEmpty {
            fullPass(positions: failed, rows: rows, features: features, centroids: centroids, k: k,
                     drift: largestDrift, nearest: &nearest, similarity: &similarity)
        }
        return (nearest, similarity)
    }

    /// The largest distance of a centroid from its snapshot position. O(K·d).
    private func largestDriftSinceSnapshot(_ centroids: [Float], k: Int, d: Int) -> Float {
        var largest: Float = 0
        for c in 0..<k {
            var sum = 0.0
            for j in 0..<d {
                let delta = Double(centroids[c * d + j]) - Double(snapshot[c * d + j])
                sum += delta * delta
            }
            largest = max(largest, Float(sum.squareRoot()))
        }
        return largest
    }

    /// Compares each sample with its candidates only; marks those whose bound test fails.
    private func checkCandidates(rows: [Int]?, count: Int, features: FeatureMatrix, centroids: [Float],
                                 largestDrift: Float, nearest: inout [Int32], similarity: inout [Float],
                                 failing: inout [Bool]) {
        let d = features.columns, l = candidateCount
        let chunkSize = 2048
        let chunks = (count + chunkSize - 1) / chunkSize
        features.values.withUnsafeBufferPointer { x in
            centroids.withUnsafeBufferPointer { c in
                candidates.withUnsafeBufferPointer { cand in
                    bound.withUnsafeBufferPointer { bounds in
                        driftAtRefresh.withUnsafeBufferPointer { refreshDrift in
                            let out = (SharedPointer(base: nearest.withUnsafeMutableBufferPointer { $0.baseAddress! }),
                                       SharedPointer(base: similarity.withUnsafeMutableBufferPointer { $0.baseAddress! }),
                                       SharedPointer(base: failing.withUnsafeMutableBufferPointer { $0.baseAddress! }))
                            let input = SharedInputs(x: x.baseAddress!, c: c.baseAddress!, cand: cand.baseAddress!,
                                                     bounds: bounds.baseAddress!, refreshDrift: refreshDrift.baseAddress!)
                            ParallelChunks.run(chunks: chunks, threads: threads) { chunk in
                                for position in (chunk * chunkSize)..<min(count, (chunk + 1) * chunkSize) {
                                    let row = rows?[position] ?? position
                                    let f = input.x + row * d
                                    var best: Int32 = -1
                                    var bestSimilarity = -Float.infinity, runnerUp = -Float.infinity
                                    for slot in 0..<l {
                                        let centroid = input.cand[row * l + slot]
                                        let s = dot(f, input.c + Int(centroid) * d, count: d)
                                        if s > bestSimilarity {
                                            runnerUp = bestSimilarity
                                            bestSimilarity = s
                                            best = centroid
                                        } else if s > runnerUp {
                                            runnerUp = s
                                        }
                                    }
                                    // A near-tie among candidates is left to the full pass, so that
                                    // rounding never decides differently from it.
                                    let limit = input.bounds[row] + largestDrift + input.refreshDrift[row] + Self.margin
                                    if bestSimilarity > limit, bestSimilarity - runnerUp > Self.margin {
                                        out.0.base[position] = best
                                        out.1.base[position] = bestSimilarity
                                    } else {
                                        out.2.base[position] = true
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Compares the samples at `positions` with every centroid (blocked sgemm); with pruning, also
    /// retakes their candidates and bounds, recording `drift` as the snapshot drift at this refresh.
    private mutating func fullPass(positions: [Int], rows: [Int]?, features: FeatureMatrix, centroids: [Float],
                                   k: Int, drift: Float, nearest: inout [Int32], similarity: inout [Float]) {
        let d = features.columns, l = candidateCount
        let blockRows = Self.blockRows
        var block = [Float](repeating: 0, count: blockRows * d)
        var scores = [Float](repeating: 0, count: blockRows * k)
        var top = [(Float, Int32)](repeating: (0, 0), count: l + 1)
        fullComparisons += positions.count
        for start in stride(from: 0, to: positions.count, by: blockRows) {
            let n = min(blockRows, positions.count - start)
            let contiguous = rows == nil && positions[start + n - 1] - positions[start] == n - 1
            features.values.withUnsafeBufferPointer { x in
                if contiguous {
                    BLAS.multiplyTransposed(m: n, n: k, k: d, a: x.baseAddress! + positions[start] * d, lda: d,
                                            b: centroids, ldb: d, c: &scores, ldc: k)
                } else {
                    for r in 0..<n {
                        let row = rows?[positions[start + r]] ?? positions[start + r]
                        for j in 0..<d { block[r * d + j] = x[row * d + j] }
                    }
                    BLAS.multiplyTransposed(m: n, n: k, k: d, a: block, lda: d, b: centroids, ldb: d,
                                            c: &scores, ldc: k)
                }
            }
            for r in 0..<n {
                let position = positions[start + r]
                var best = 0
                var bestSimilarity = scores[r * k]
                for c in 1..<k where scores[r * k + c] > bestSimilarity {
                    best = c
                    bestSimilarity = scores[r * k + c]
                }
                nearest[position] = Int32(best)
                // The same dot product as the candidate check, so both paths report identical values.
                let row = rows?[position] ?? position
                similarity[position] = features.values.withUnsafeBufferPointer { x in
                    centroids.withUnsafeBufferPointer { c in dot(x.baseAddress! + row * d, c.baseAddress! + best * d, count: d) }
                }
                guard l > 0 else { continue }
                // The L+1 most similar centroids, by insertion into a short sorted list.
                var filled = 0
                for c in 0..<k {
                    let s = scores[r * k + c]
                    if filled == l + 1, s <= top[l].0 { continue }
                    var i = min(filled, l)
                    while i > 0, top[i - 1].0 < s {
                        if i <= l { top[i] = top[i - 1] }
                        i -= 1
                    }
                    top[i] = (s, Int32(c))
                    filled = min(filled + 1, l + 1)
                }
                for slot in 0..<l { candidates[row * l + slot] = top[slot].1 }
                bound[row] = top[l].0
                driftAtRefresh[row] = drift
            }
        }
    }
}

/// Read-only inputs of the candidate check, shared by its parallel chunks.
private struct SharedInputs: @unchecked Sendable {
    let x: UnsafePointer<Float>
    let c: UnsafePointer<Float>
    let cand: UnsafePointer<Int32>
    let bounds: UnsafePointer<Float>
    let refreshDrift: UnsafePointer<Float>
}

/// a·b over `count` floats, 16 lanes at a time. O(count).
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var sum = SIMD16<Float>()
    var j = 0
    let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
    while j + 16 <= count {
        let va = rawA.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
        let vb = rawB.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
        sum.addProduct(va, vb)
        j += 16
    }
    var total = sum.sum()
    while j < count {
        total += a[j] * b[j]
        j += 1
    }
    return total
}
