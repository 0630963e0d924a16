import OpenBLAS

/// The dense nearest-centroid pass, the reference every pruned search is tested against: each sample
/// compared with every centroid by a blocked sgemm, and its nearest chosen by
/// ``NearestTargetSearch/nearestByDot(scores:count:query:targets:columns:)``: among the centroids within
/// the margin of the largest sgemm similarity, the largest ``dot(_:_:count:)`` (ties to the lower
/// centroid), with the similarity as `dot` computes it.
///
/// Cost: O(N·K·d) in sgemm blocks of ``RowPartition/blockRows`` rows, blocks in parallel; memory
/// O(threads·blockRows·K) for the blocks' scores.
enum DenseNearestCentroids {
    /// Sets the nearest centroid and similarity of the samples at `positions` (indices into `rows`,
    /// or feature rows when `rows` is nil). `eachRow`, when given, sees every row's similarities to
    /// all K centroids and its nearest (called from the parallel blocks, each row once).
    static func assign(positions: [Int], rows: [Int]?, features: FeatureMatrix, centroids: [Float], threads: Int,
                       nearest: inout [Int32], similarity: inout [Float],
                       eachRow: (@Sendable (_ row: Int, _ scores: UnsafePointer<Float>, _ best: Int) -> Void)? = nil) {
        let d = features.columns, k = centroids.count / d
        let blockRows = RowPartition.blockRows
        let blocks = (positions.count + blockRows - 1) / blockRows
        withSharedPointers(&nearest, &similarity) { nearest, similarity in
            withReadOnlyPointers(features.values, centroids) { x, c in
                let input = CheckInputs(x: x.base, c: c.base)
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
                    scores.withUnsafeBufferPointer { s in
                        for r in 0..<n {
                            let position = positions[start + r]
                            let row = rows?[position] ?? position
                            let rowScores = s.baseAddress! + r * k
                            let best = NearestTargetSearch.nearestByDot(scores: rowScores, count: k,
                                                                        query: input.x + row * d,
                                                                        targets: input.c, columns: d)
                            eachRow?(row, rowScores, best)
                            nearest.base[position] = Int32(best)
                            // The pruned tests' dot product, so every path reports identical values.
                            similarity.base[position] = dot(input.x + row * d, input.c + best * d, count: d)
                        }
                    }
                }
            }
        }
    }
}

/// Read-only inputs of the searches, shared by their parallel chunks.
private struct CheckInputs: @unchecked Sendable {
    let x: UnsafePointer<Float>
    let c: UnsafePointer<Float>
}

extension NearestTargetSearch {
    /// The dense rule every nearest-target search in selectjob follows, from one query's sgemm
    /// similarities to all `count` targets: among the targets within ``SearchExactness/margin`` of the largest, the
    /// one with the largest ``dot(_:_:count:)`` with `query` (ties to the lower index). One target
    /// within the margin — the usual case — needs no `dot`. O(count), plus O(t·d) for t near-ties.
    static func nearestByDot(scores: UnsafePointer<Float>, count k: Int, query: UnsafePointer<Float>,
                             targets: UnsafePointer<Float>, columns d: Int) -> Int {
        var top = scores[0]
        for c in 1..<k where scores[c] > top { top = scores[c] }
        var first = -1, near = 0
        for c in 0..<k where scores[c] >= top - SearchExactness.margin {
            if first < 0 { first = c }
            near += 1
        }
        guard near > 1 else { return first }
        var best = -1, bestValue = -Float.infinity
        for c in first..<k where scores[c] >= top - SearchExactness.margin {
            let value = dot(query, targets + c * d, count: d)
            if value > bestValue {
                bestValue = value
                best = c
            }
        }
        return best
    }
}
