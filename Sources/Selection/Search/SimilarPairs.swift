import Foundation
import OpenBLAS

/// Every pair of unit rows whose similarity is at least a threshold, exactly, without comparing every
/// row with every row when the rows are spread out.
///
/// The rows are grouped as a ``NearestTargetSearch`` groups its targets (spherical k-means, each group
/// with its unit centre u and angular radius ρ). Two groups at angle θ between their centres hold no
/// pair closer than θ − ρ_A − ρ_B (the triangle inequality on the sphere), so their members' largest
/// similarity is at most cos(max(0, θ − ρ_A − ρ_B)); a pair of groups whose bound is below the
/// threshold minus ``SearchExactness/margin`` is skipped, every other pair of groups is compared in
/// one sgemm. A pair whose sgemm similarity is within the margin of the threshold or above is decided
/// by ``dot(_:_:count:)`` (fixed order), so the answer never depends on the grouping, sgemm's shapes
/// or the thread count. At high thresholds (near-duplicates) most group pairs are skipped.
///
/// Cost: O(rounds·N·G·d) to group, O(G²) bounds, O(Σ |A|·|B|·d) over the group pairs not skipped —
/// the dense O(N²·d) when nothing can be skipped. Memory: O(pairs) plus one block of similarities per
/// thread, never N×N.
enum SimilarPairs {
    /// Pairs (i, j), i < j (rows of `unit`), with dot(xᵢ, xⱼ) ≥ `threshold`, each with that
    /// similarity, sorted by (i, j). `groups`: G (default ⌈2√N⌉).
    static func find(_ unit: FeatureMatrix, atLeast threshold: Float, groups: Int? = nil, threads: Int)
        -> [(i: Int32, j: Int32, similarity: Float)] {
        guard unit.rows > 1 else { return [] }
        let search = NearestTargetSearch(targets: unit, groups: groups, threads: threads)
        let g = search.groupCount, d = unit.columns
        // Centre–centre angles and each group's radius angle, in double.
        var centreSimilarity = [Float](repeating: 0, count: g * g)
        search.centres.values.withUnsafeBufferPointer { c in
            BLAS.multiplyTransposed(m: g, n: g, k: d, a: c.baseAddress!, lda: d, b: c.baseAddress!, ldb: d,
                                    c: &centreSimilarity, ldc: g)
        }
        let radius = (0..<g).map { atan2(Double(search.radiusSine[$0]), Double(search.radiusCosine[$0])) }
        let floor = threshold - SearchExactness.margin
        func mayHoldPair(_ a: Int, _ b: Int) -> Bool {
            let angle = acos(max(-1, min(1, Double(centreSimilarity[a * g + b]))))
            return cos(max(0, angle - radius[a] - radius[b])) >= Double(floor)
        }
        let partners = (0..<g).map { a in (a..<g).filter { mayHoldPair(a, $0) } }
        let size = (0..<g).map { search.groupStart[$0 + 1] - search.groupStart[$0] }
        let costs = (0..<g).map { a -> Double in
            let compared = partners[a].reduce(0) { $0 + size[$1] }
            return Double(size[a]) * Double(compared)
        }
        let found = ChunkResults<[(i: Int32, j: Int32, similarity: Float)]>(count: g)
        let grouped = search.grouped.values, original = search.originalIndex, start = search.groupStart
        grouped.withUnsafeBufferPointer { buffer in
            let rows = ReadOnlyPointer(buffer)
            ParallelChunks.run(costs: costs, threads: threads) { a in
                let base = rows.base
                var pairs: [(i: Int32, j: Int32, similarity: Float)] = []
                let aRows = start[a + 1] - start[a]
                for b in partners[a] {
                    let bRows = start[b + 1] - start[b]
                    var block = [Float](repeating: 0, count: aRows * bRows)
                    BLAS.multiplyTransposed(m: aRows, n: bRows, k: d, a: base + start[a] * d, lda: d,
                                            b: base + start[b] * d, ldb: d, c: &block, ldc: bRows)
                    for r in 0..<aRows {
                        for s in (a == b ? r + 1 : 0)..<bRows where block[r * bRows + s] >= floor {
                            let x = start[a] + r, y = start[b] + s
                            let similarity = dot(base + x * d, base + y * d, count: d)
                            guard similarity >= threshold else { continue }
                            let (i, j) = (original[x], original[y])
                            pairs.append(i < j ? (i, j, similarity) : (j, i, similarity))
                        }
                    }
                }
                found.set(a, pairs)
            }
        }
        return found.values.flatMap { $0 }.sorted { ($0.i, $0.j) < ($1.i, $1.j) }
    }
}
