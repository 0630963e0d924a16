import Foundation
import BLAS

/// Finds each sample's most similar centroid, iteration after iteration, recomputing as little as
/// it can while staying exact.
///
/// A full pass is a blocked sgemm of the samples against all K centroids. With pruning on, it also
/// keeps per sample its L most similar centroids (the candidates), an upper bound on the similarity
/// of every other centroid (the (L+1)-th similarity), and an upper bound on every centroid but the
/// nearest (the second similarity). Features are unit vectors, so a centroid that moves by δ changes
/// every similarity by at most δ: each iteration both bounds grow by the largest centroid movement.
/// Then, per sample (the bound tests of Hamerly's and Elkan's k-means, with Yinyang-like candidates):
/// 1. one dot product with the previous nearest centroid settles it if it beats the second bound;
/// 2. otherwise L dot products with the candidates settle it if the best beats the other bound and
///    the runner-up (which then tightens the second bound);
/// 3. otherwise the sample is recomputed in the next full pass.
///
/// The result is exactly that of the full pass, which follows
/// ``NearestTargetSearch/nearestByDot(scores:count:query:targets:columns:)``: among the centroids
/// within `margin` of the largest sgemm similarity, the largest ``dot(_:_:count:)`` (ties to the
/// lower centroid), and the similarity as `dot` computes it. `margin` absorbs the rounding
/// difference between sgemm and the dot products, so rounding never decides a test.
/// Cost per iteration: O(N·d) for the first test, O(N'·L·d) for the N' samples that need the second,
/// O(F·K·d) for the F recomputed. Memory: O(N·L).
///
/// With many centroids (K ≥ ``groupedFrom``) the candidates stop pruning — as the centroids move, the
/// few candidates of most samples no longer hold their nearest — and each iteration would be a
/// dense N·K·d pass. There the search is instead ``NearestTargetSearch`` over the centroids, redone
/// each iteration (the centroids grouped in ≈ 2√K groups, whole groups ruled out by angular bounds):
/// a sample whose best beats every other centroid it computed by the margin has exactly the full
/// pass's answer; the near-ties left go through the full pass. Memory O(N + K·d), no candidates.
struct NearestCentroidSearch {
    /// From this many centroids on, pruning uses ``NearestTargetSearch`` instead of candidates.
    static let groupedFrom = 2048
    /// Candidates kept per sample; 0 disables candidate pruning.
    let candidateCount: Int
    /// Whether each call uses ``NearestTargetSearch`` (pruning with K ≥ ``groupedFrom``).
    let grouped: Bool
    let threads: Int
    static let blockRows = 1024
    static let margin: Float = 1e-4

    private var candidates: [Int32] = []
    /// Upper bound on the similarity of every non-candidate centroid.
    private var bound: [Float] = []
    /// Upper bound on the similarity of every centroid but `lastNearest`.
    private var runnerUpBound: [Float] = []
    private var lastNearest: [Int32] = []
    /// The centroids of the previous call, to measure how far they moved.
    private var previousCentroids: [Float] = []
    /// Samples recomputed against all centroids so far, for benchmarks and tests.
    private(set) var fullComparisons = 0
    /// Sample–centroid similarities the grouped search computed so far (N·K per call for a dense pass).
    private(set) var prunedComparisons = 0
    /// The grouped search's group count, tuned on its first call.
    private var groupCount: Int?

    /// - Parameters:
    ///   - samples: N, the number of feature rows.
    ///   - centroids: K.
    ///   - pruning: keep candidates and bounds (off gives the plain full pass every time, the
    ///     reference the pruned search is tested against).
    init(samples: Int, centroids: Int, pruning: Bool, threads: Int) {
        grouped = pruning && centroids >= Self.groupedFrom
        let count = pruning && !grouped ? min(16, centroids - 1) : 0
        candidateCount = count >= 2 ? count : 0
        self.threads = threads
        if candidateCount > 0 {
            candidates = [Int32](repeating: 0, count: samples * candidateCount)
            bound = [Float](repeating: .infinity, count: samples)
            runnerUpBound = [Float](repeating: .infinity, count: samples)
            lastNearest = [Int32](repeating: 0, count: samples)
        }
    }

    /// The nearest centroid and its similarity for each of `rows` (indices into `features`; `nil`:
    /// all of them).
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
        if grouped {
            assignGrouped(rows: rows, features: features, centroids: centroids, k: k, nearest: &nearest,
                          similarity: &similarity)
            return (nearest, similarity)
        }
        guard candidateCount > 0 else {
            fullPass(positions: Array(0..<count), rows: rows, features: features, centroids: centroids, k: k,
                     nearest: &nearest, similarity: &similarity)
            return (nearest, similarity)
        }
        if !previousCentroids.isEmpty {
            let movement = largestMovement(from: previousCentroids, to: centroids, k: k, d: d)
            for i in bound.indices {
                bound[i] += movement
                runnerUpBound[i] += movement
            }
        }
        previousCentroids = centroids
        var failing = [Bool](repeating: false, count: count)
        checkBounds(rows: rows, count: count, features: features, centroids: centroids, nearest: &nearest,
                    similarity: &similarity, failing: &failing)
        let failed = failing.indices.filter { failing[$0] }
        if !failed.isEmpty {
            fullPass(positions: failed, rows: rows, features: features, centroids: centroids, k: k,
                     nearest: &nearest, similarity: &similarity)
        }
        return (nearest, similarity)
    }

    /// One ``NearestTargetSearch`` over the centroids: the same answers as the full pass (both follow
    /// ``NearestTargetSearch/nearestByDot(scores:count:query:targets:columns:)``).
    private mutating func assignGrouped(rows: [Int]?, features: FeatureMatrix, centroids: [Float], k: Int,
                                        nearest: inout [Int32], similarity: inout [Float]) {
        let targets = FeatureMatrix(rows: k, columns: features.columns, values: centroids)
        // The group count is measured once, on the first centroids, and kept (it changes only the time).
        let search: NearestTargetSearch
        if let groupCount {
            search = NearestTargetSearch(targets: targets, groups: groupCount, threads: threads)
        } else {
            (search, groupCount) = NearestTargetSearch.tuned(targets: targets, queries: features, rows: rows, threads: threads)
        }
        let answer = search.nearest(features, rows: rows, threads: threads)
        nearest = answer.index
        similarity = answer.similarity
        prunedComparisons += answer.comparisons
    }

    /// The largest distance any centroid moved. O(K·d).
    private func largestMovement(from old: [Float], to new: [Float], k: Int, d: Int) -> Float {
        var largest = 0.0
        for c in 0..<k {
            var sum = 0.0
            for j in 0..<d {
                let delta = Double(new[c * d + j]) - Double(old[c * d + j])
                sum += delta * delta
            }
            largest = max(largest, sum)
        }
        return Float(largest.squareRoot()) * (1 + 1e-6)
    }

    /// Settles each sample by the one-dot or the L-dot test when it can; marks the others failing.
    private mutating func checkBounds(rows: [Int]?, count: Int, features: FeatureMatrix, centroids: [Float],
                                      nearest: inout [Int32], similarity: inout [Float], failing: inout [Bool]) {
        let d = features.columns, l = candidateCount, margin = Self.margin
        let chunkSize = 2048
        let chunks = (count + chunkSize - 1) / chunkSize
        withSharedPointers(&nearest, &similarity, &failing) { out0, out1, out2 in
            let out = (out0, out1, out2)
            withSharedPointers(&runnerUpBound, &lastNearest) { state0, state1 in
                let state = (state0, state1)
                features.values.withUnsafeBufferPointer { x in
                    centroids.withUnsafeBufferPointer { c in
                        candidates.withUnsafeBufferPointer { cand in
                            bound.withUnsafeBufferPointer { bounds in
                                let input = CheckInputs(x: x.baseAddress!, c: c.baseAddress!, cand: cand.baseAddress!,
                                                        bounds: bounds.baseAddress!)
                                ParallelChunks.run(chunks: chunks, threads: threads) { chunk in
                                    for position in (chunk * chunkSize)..<min(count, (chunk + 1) * chunkSize) {
                                        let row = rows?[position] ?? position
                                        let f = input.x + row * d
                                        let previous = state.1.base[row]
                                        let own = dot(f, input.c + Int(previous) * d, count: d)
                                        if own > state.0.base[row] + margin {
                                            out.0.base[position] = previous
                                            out.1.base[position] = own
                                            continue
                                        }
                                        var best: Int32 = -1
                                        var bestSimilarity = -Float.infinity, runnerUp = -Float.infinity
                                        for slot in 0..<l {
                                            let centroid = input.cand[row * l + slot]
                                            let s = centroid == previous ? own : dot(f, input.c + Int(centroid) * d, count: d)
                                            if s > bestSimilarity {
                                                runnerUp = bestSimilarity
                                                bestSimilarity = s
                                                best = centroid
                                            } else if s > runnerUp {
                                                runnerUp = s
                                            }
                                        }
                                        let others = input.bounds[row]
                                        if bestSimilarity > others + margin, bestSimilarity > runnerUp + margin {
                                            out.0.base[position] = best
                                            out.1.base[position] = bestSimilarity
                                            state.0.base[row] = max(runnerUp, others)
                                            state.1.base[row] = best
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
    }

    /// Compares the samples at `positions` with every centroid (blocked sgemm, blocks in parallel);
    /// with pruning, also retakes their candidates and bounds.
    private mutating func fullPass(positions: [Int], rows: [Int]?, features: FeatureMatrix, centroids: [Float],
                                   k: Int, nearest: inout [Int32], similarity: inout [Float]) {
        let d = features.columns, l = candidateCount
        let blockRows = Self.blockRows
        fullComparisons += positions.count
        let blocks = (positions.count + blockRows - 1) / blockRows
        withSharedPointers(&nearest, &similarity) { output0, output1 in
            let output = (output0, output1)
            withSharedPointers(&candidates, &bound, &runnerUpBound, &lastNearest) { state0, state1, state2, state3 in
                let state = (state0, state1, state2, state3)
                features.values.withUnsafeBufferPointer { x in
                    centroids.withUnsafeBufferPointer { c in
                        let input = FullPassInputs(x: x.baseAddress!, c: c.baseAddress!)
                        // Blocks of rows in parallel, each one single-threaded sgemm and its rows' argmax.
                        ParallelChunks.run(chunks: blocks, threads: threads) { blockIndex in
                            let start = blockIndex * blockRows
                            let n = min(blockRows, positions.count - start)
                            var scores = [Float](repeating: 0, count: n * k)
                            let contiguous = rows == nil && positions[start + n - 1] - positions[start] == n - 1
                            if contiguous {
                                BLAS.multiplyTransposed(m: n, n: k, k: d, a: input.x + positions[start] * d, lda: d,
                                                        b: input.c, ldb: d, c: &scores, ldc: k)
                            } else {
                                var block = [Float](repeating: 0, count: n * d)
                                for r in 0..<n {
                                    let row = rows?[positions[start + r]] ?? positions[start + r]
                                    for j in 0..<d { block[r * d + j] = input.x[row * d + j] }
                                }
                                BLAS.multiplyTransposed(m: n, n: k, k: d, a: block, lda: d, b: input.c, ldb: d,
                                                        c: &scores, ldc: k)
                            }
                            var top = [(Float, Int32)](repeating: (0, 0), count: l + 1)
                            for r in 0..<n {
                                let position = positions[start + r]
                                let row = rows?[position] ?? position
                                let best = scores.withUnsafeBufferPointer { s in
                                    NearestTargetSearch.nearestByDot(scores: s.baseAddress! + r * k, count: k,
                                                                     query: input.x + row * d, targets: input.c, columns: d)
                                }
                                if l > 0 {
                                    // The L+1 most similar, by insertion into a short sorted list; equal
                                    // scores keep centroid order.
                                    var filled = 0
                                    for c in 0..<k {
                                        let s = scores[r * k + c]
                                        if filled == l + 1, s <= top[l].0 { continue }
                                        var i = min(filled, l)
                                        while i > 0, top[i - 1].0 < s {
                                            top[i] = top[i - 1]
                                            i -= 1
                                        }
                                        top[i] = (s, Int32(c))
                                        filled = min(filled + 1, l + 1)
                                    }
                                    state.3.base[row] = Int32(best)
                                    for slot in 0..<l { state.0.base[row * l + slot] = top[slot].1 }
                                    state.1.base[row] = top[l].0
                                    // Every centroid but `best`: the largest of the others' scores.
                                    state.2.base[row] = Int(top[0].1) == best ? top[1].0 : top[0].0
                                }
                                output.0.base[position] = Int32(best)
                                // The candidate check's dot product, so both paths report identical values.
                                output.1.base[position] = dot(input.x + row * d, input.c + best * d, count: d)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Read-only inputs of a full pass, shared by its parallel blocks.
private struct FullPassInputs: @unchecked Sendable {
    let x: UnsafePointer<Float>
    let c: UnsafePointer<Float>
}

/// Read-only inputs of the bound checks, shared by their parallel chunks.
private struct CheckInputs: @unchecked Sendable {
    let x: UnsafePointer<Float>
    let c: UnsafePointer<Float>
    let cand: UnsafePointer<Int32>
    let bounds: UnsafePointer<Float>
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
        sum += va * vb  // not addProduct: without FMA in the target, that becomes a libm call per lane
        j += 16
    }
    var total = sum.sum()
    while j < count {
        total += a[j] * b[j]
        j += 1
    }
    return total
}
