import Foundation
import OpenBLAS

/// Every pair of unit rows whose similarity is at least a threshold, exactly, without comparing every
/// row with every row when the bounds allow.
///
/// The rows are grouped as a ``NearestTargetSearch`` groups its targets (spherical k-means, each group
/// with its unit centre u and angular radius ρ). A row x at angle θ from a group's centre has no
/// member closer than θ − ρ (the triangle inequality on the sphere), so its similarity with every
/// member is at most cos(max(0, θ − ρ)) — x·u·cos ρ + √(1 − (x·u)²)·sin ρ when θ > ρ, else 1. Group by
/// group A, one sgemm gives its rows' similarities to every centre; for each group B from A on, the
/// rows of A whose bound for B reaches the threshold minus ``SearchExactness/margin`` are compared
/// with B's members in one sgemm, the others provably have no pair there. A pair whose sgemm
/// similarity is within the margin of the threshold or above is decided by ``dot(_:_:count:)``
/// (fixed order), so the answer never depends on the grouping, sgemm's shapes or the thread count.
///
/// Cost: O(rounds·N·G·d) to group and O(N·G·d) for the bounds, then O(Σ |rows of A kept for B|·|B|·d)
/// — the dense O(N²·d) when the bounds keep every row (spread-out features and a low threshold).
/// Memory: O(pairs) plus per thread one group's bounds (|A|·G) and one block of similarities.
enum SimilarPairs {
    /// Pairs (i, j), i < j (rows of `unit`), with dot(xᵢ, xⱼ) ≥ `threshold`, each with that
    /// similarity, sorted by (i, j). `groups`: G (default ⌈4√N⌉).
    static func find(_ unit: FeatureMatrix, atLeast threshold: Float, groups: Int? = nil, threads: Int)
        -> [(i: Int32, j: Int32, similarity: Float)] {
        search(unit, atLeast: threshold, groups: groups, threads: threads).pairs
    }

    /// ``find(_:atLeast:groups:threads:)`` and the row–row similarities it computed (N(N−1)/2 for
    /// the dense scan), which the benchmarks report.
    static func search(_ unit: FeatureMatrix, atLeast threshold: Float, groups: Int? = nil, threads: Int)
        -> (pairs: [(i: Int32, j: Int32, similarity: Float)], comparisons: Int) {
        guard unit.rows > 1 else { return ([], 0) }
        let search = NearestTargetSearch(targets: unit, groups: groups ?? Int((4 * Double(unit.rows).squareRoot()).rounded(.up)),
                                         threads: threads)
        let g = search.groupCount, d = unit.columns
        let floor = threshold - SearchExactness.margin
        let start = search.groupStart, original = search.originalIndex
        let size = (0..<g).map { start[$0 + 1] - start[$0] }
        let found = ChunkResults<([(i: Int32, j: Int32, similarity: Float)], Int)>(count: g)
        withReadOnlyPointers(search.grouped.values, search.centres.values, search.radiusCosine, search.radiusSine) {
            rows, centres, radiusCosine, radiusSine in
            ParallelChunks.run(costs: (0..<g).map { Double(size[$0]) * Double(unit.rows - start[$0]) }, threads: threads) { a in
                let base = rows.base
                var pairs: [(i: Int32, j: Int32, similarity: Float)] = []
                var comparisons = 0
                let aRows = size[a]
                // This group's rows against every centre: the bounds.
                var toCentre = [Float](repeating: 0, count: aRows * g)
                BLAS.multiplyTransposed(m: aRows, n: g, k: d, a: base + start[a] * d, lda: d, b: centres.base, ldb: d,
                                        c: &toCentre, ldc: g)
                var kept: [Int] = [], gathered: [Float] = [], block: [Float] = []
                for b in a..<g {
                    let cosRho = radiusCosine.base[b], sinRho = radiusSine.base[b]
                    kept.removeAll(keepingCapacity: true)
                    for r in 0..<aRows {
                        let s = toCentre[r * g + b]
                        let bound = s >= cosRho ? 1 : s * cosRho + (max(0, 1 - s * s)).squareRoot() * sinRho
                        if bound >= floor { kept.append(r) }
                    }
                    guard !kept.isEmpty else { continue }
                    let bRows = size[b]
                    comparisons += kept.count * bRows
                    gathered.removeAll(keepingCapacity: true)
                    for r in kept { gathered.append(contentsOf: UnsafeBufferPointer(start: base + (start[a] + r) * d, count: d)) }
                    block = [Float](repeating: 0, count: kept.count * bRows)
                    BLAS.multiplyTransposed(m: kept.count, n: bRows, k: d, a: gathered, lda: d, b: base + start[b] * d, ldb: d,
                                            c: &block, ldc: bRows)
                    for (position, r) in kept.enumerated() {
                        for t in (a == b ? r + 1 : 0)..<bRows where block[position * bRows + t] >= floor {
                            let x = start[a] + r, y = start[b] + t
                            let similarity = dot(base + x * d, base + y * d, count: d)
                            guard similarity >= threshold else { continue }
                            let (i, j) = (original[x], original[y])
                            pairs.append(i < j ? (i, j, similarity) : (j, i, similarity))
                        }
                    }
                }
                found.set(a, (pairs, comparisons))
            }
        }
        let results = found.values
        return (results.flatMap(\.0).sorted { ($0.i, $0.j) < ($1.i, $1.j) }, results.reduce(0) { $0 + $1.1 })
    }
}
