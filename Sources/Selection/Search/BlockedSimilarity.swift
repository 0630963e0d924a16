import OpenBLAS

/// Row-by-row reductions of a similarity matrix X·Yᵀ that is never stored whole.
///
/// X is cut into blocks of rows; each block's similarities to all of Y come from one sgemm, and
/// `reduce` turns each row of them into one value. Blocks run in parallel, each writing only its
/// own rows, so the result is identical for every thread count. Cost: O(rows(X)·rows(Y)·d) flops,
/// O(threads·block·rows(Y)) memory.
enum BlockedSimilarity {
    static let blockRows = 256

    /// For each row i of `x`, `reduce(i, similarities of x_i to every row of y)`.
    static func rowwise<T: Sendable>(
        _ x: FeatureMatrix, _ y: FeatureMatrix, threads: Int, reduce: @Sendable (Int, UnsafeBufferPointer<Float>) -> T
    ) -> [T] {
        precondition(x.columns == y.columns, "widths differ")
        let n = x.rows, m = y.rows, d = x.columns
        let blocks = (n + blockRows - 1) / blockRows
        let results = ChunkResults<[T]>(count: blocks)
        x.values.withUnsafeBufferPointer { xs in
            y.values.withUnsafeBufferPointer { ys in
                let input = (ReadOnlyPointer(base: xs.baseAddress!), ReadOnlyPointer(base: ys.baseAddress!))
                ParallelChunks.run(chunks: blocks, threads: threads) { block in
                    let start = block * blockRows, rows = min(blockRows, n - start)
                    var scores = [Float](repeating: 0, count: rows * m)
                    BLAS.multiplyTransposed(m: rows, n: m, k: d, a: input.0.base + start * d, lda: d,
                                            b: input.1.base, ldb: d, c: &scores, ldc: m)
                    var out: [T] = []
                    out.reserveCapacity(rows)
                    scores.withUnsafeBufferPointer { s in
                        for r in 0..<rows {
                            out.append(reduce(start + r, UnsafeBufferPointer(rebasing: s[(r * m)..<((r + 1) * m)])))
                        }
                    }
                    results.set(block, out)
                }
            }
        }
        return results.values.flatMap { $0 }
    }

    /// x·y for every row of `x` against one vector `y` (a parallel gemv in row blocks). O(rows·d).
    static func similarities(_ x: FeatureMatrix, to y: [Float], threads: Int) -> [Float] {
        let n = x.rows, d = x.columns
        var out = [Float](repeating: 0, count: n)
        let blockRows = RowPartition.blockRows  // blocks start where a distributed pool's ranges may
        let blocks = (n + blockRows - 1) / blockRows
        x.values.withUnsafeBufferPointer { xs in
            y.withUnsafeBufferPointer { ys in
                out.withUnsafeMutableBufferPointer { o in
                    let input = (ReadOnlyPointer(base: xs.baseAddress!), ReadOnlyPointer(base: ys.baseAddress!))
                    let output = SharedPointer(base: o.baseAddress!)
                    ParallelChunks.run(chunks: blocks, threads: threads) { block in
                        let start = block * blockRows, rows = min(blockRows, n - start)
                        BLAS.multiplyVector(m: rows, n: d, a: input.0.base + start * d, lda: d, x: input.1.base,
                                            y: output.base + start)
                    }
                }
            }
        }
        return out
    }
}

/// One slot per chunk of a parallel loop, each written by its own chunk only; owns its memory.
final class ChunkResults<T>: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<T?>
    let count: Int

    init(count: Int) {
        self.count = count
        slots = .allocate(capacity: max(count, 1))
        slots.initialize(repeating: nil, count: count)
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    /// Fills slot `index`; each slot is written by one chunk only.
    func set(_ index: Int, _ value: T) { slots[index] = value }

    /// The slots in chunk order. Precondition: every chunk wrote its slot.
    var values: [T] { (0..<count).map { slots[$0]! } }
}

extension FeatureMatrix {
    /// Squared Euclidean norms of the rows, accumulated in double. O(rows·columns).
    func squaredNorms() -> [Double] {
        (0..<rows).map { i in
            var sum = 0.0
            for j in 0..<columns { let v = Double(values[i * columns + j]); sum += v * v }
            return sum
        }
    }
}
