import OpenBLAS
import Foundation
import HeapModule

/// ActiveFT's final step: each centroid, in order, takes the most similar row not taken by an
/// earlier centroid (k-means selection uses it too, on augmented rows).
extension ActiveFT {
    /// From this many centroids on, unit rows find each centroid's candidates with a
    /// ``NearestTargetSearch`` over the centroids instead of comparing every row with every centroid.
    static let prunedAssignmentFrom = 2048
    /// Rows the dense pass keeps per centroid beyond its capacity, so that the rows within the
    /// margin of its last kept one are usually among them.
    static let denseSlack = 8

    /// Each centroid, in order, takes the most similar row not taken by an earlier centroid.
    ///
    /// "Most similar" follows the rule of the nearest-centroid searches: rows are ranked by
    /// ``dot(_:_:count:)`` (ties to the lower row), and sgemm only decides which rows are worth a
    /// `dot` — every row within ``NearestTargetSearch/margin`` of a cut is one — so neither the
    /// shape of an sgemm call nor pruning ever changes the picks.
    ///
    /// Centroid k can lose at most k rows (plus the excluded ones) to earlier centroids, so only its
    /// best min(k + 1 + excluded, `kept`) rows are kept. They are found in one of two ways:
    /// - dense: every row against every centroid (blocked sgemm into bounded heaps, centroids split
    ///   across threads); O(N·K·d) flops and O(N·K) heap offers;
    /// - pruned (unit rows, K ≥ ``prunedAssignmentFrom``, or `pruning`): a ``NearestTargetSearch``
    ///   over the centroids gives each row its nearest centroid; a centroid with at least `kept`
    ///   rows of its own has its kept-th best among them as a floor, and
    ///   ``NearestTargetSearch/rowsReaching(_:queries:threads:)`` lists the rows that can reach
    ///   their centroid's floor, ruling out whole groups of centroids per row by angular bounds; a
    ///   centroid with too few rows of its own takes its floor from its 8 nearest centroids' rows,
    ///   failing that it is compared with every row. About two passes of the
    ///   search, instead of the dense O(N·K·d) (at 1.28 M × 384, K = 12,811: 80 s dense).
    /// A centroid whose kept rows are all taken — only possible when the cap cut its list — is
    /// recomputed against every row (one gemv). The reference sorts all N rows per centroid,
    /// O(N·K·log N). Memory: O(K·kept) plus the search's.
    ///
    /// Distributed (`partition` not whole): each process keeps the best rows among its own, the
    /// kept lists are gathered and merged — the union of every process's best holds the best
    /// overall — and a recomputed centroid's best row is a group ``ProcessGroup/argmax(value:row:)``.
    /// Rows are global; the picks are the same on every process and for every split.
    static func assignDistinct(features unit: FeatureMatrix, centroids: [Float], excluding: [Int] = [],
                               kept: Int = 32, unitRows: Bool = false, pruning: Bool? = nil,
                               threads: Int = ParallelChunks.processorCount,
                               partition: RowPartition? = nil, group: any ProcessGroup = SingleProcess()) -> [Pick] {
        let partition = partition ?? RowPartition(totalRows: unit.rows)
        let n = unit.rows, d = unit.columns, k = centroids.count / d, firstRow = partition.rows.lowerBound
        let capacity = (0..<k).map { min($0 + 1 + excluding.count, kept, partition.totalRows) }
        let prune = pruning ?? (unitRows && k >= prunedAssignmentFrom)
        // Each centroid's best rows of this process, by dot, best first (rows global).
        var candidates = [[BoundedBest.Entry]](repeating: [], count: k)
        if n > 0 {
            let localCapacity = capacity.map { min($0, n) }
            let rows = prune ? prunedCandidates(unit, centroids: centroids, capacity: localCapacity, threads: threads)
                : denseCandidates(unit, centroids: centroids, capacity: localCapacity, threads: threads)
            candidates = rankedByDot(unit, centroids: centroids, candidates: rows, capacity: localCapacity,
                                     firstRow: firstRow, threads: threads)
        }
        if !partition.isWhole { candidates = mergedAcross(group, candidates, capacity: capacity) }
        var taken = Set(excluding)
        var picks: [Pick] = []
        picks.reserveCapacity(k)
        for j in 0..<k {
            if let best = candidates[j].first(where: { !taken.contains($0.row) }) {
                taken.insert(best.row)
                picks.append(Pick(row: best.row, score: Double(best.similarity)))
                continue
            }
            // Every kept row is taken: the best of all rows not taken, by the same rule.
            let centroid = Array(centroids[(j * d)..<((j + 1) * d)])
            let similarity = BlockedSimilarity.similarities(unit, to: centroid, threads: threads)
            var top = -Float.infinity
            for row in 0..<n where !taken.contains(firstRow + row) { top = max(top, similarity[row]) }
            var bestRow = -1, bestValue = -Float.infinity
            unit.values.withUnsafeBufferPointer { x in
                centroid.withUnsafeBufferPointer { c in
                    for row in 0..<n where similarity[row] >= top - SearchExactness.margin
                        && !taken.contains(firstRow + row) {
                        let value = dot(x.baseAddress! + row * d, c.baseAddress!, count: d)
                        if value > bestValue { bestValue = value; bestRow = row }
                    }
                }
            }
            let best = group.argmax(value: bestRow < 0 ? -.infinity : Double(bestValue),
                                    row: bestRow < 0 ? -1 : firstRow + bestRow)
            taken.insert(best.row)
            picks.append(Pick(row: best.row, score: best.value))
        }
        return picks
    }

    /// Per centroid, the (local) rows that may be among its best `capacity[c]` by dot: its best
    /// `capacity[c]` + ``denseSlack`` by sgemm cut at the capacity-th one less the margin, or, if
    /// every kept row is within that margin, every row within it (one gemv). O(N·K·d).
    static func denseCandidates(_ unit: FeatureMatrix, centroids: [Float], capacity: [Int], threads: Int) -> [[Int]] {
        let n = unit.rows, margin = SearchExactness.margin
        let lists = bestBySgemm(unit, centroids: centroids, capacity: capacity.map { min($0 + denseSlack, n) },
                                threads: threads)
        return lists.enumerated().map { c, entries in
            guard entries.count > capacity[c] else { return entries.map(\.row) }
            let floor = entries[capacity[c] - 1].similarity - margin
            let within = entries.filter { $0.similarity >= floor }
            guard within.count == entries.count else { return within.map(\.row) }
            let d = unit.columns
            let similarity = BlockedSimilarity.similarities(unit, to: Array(centroids[(c * d)..<((c + 1) * d)]),
                                                            threads: threads)
            return (0..<n).filter { similarity[$0] >= floor }
        }
    }

    /// Per centroid, the (local) rows that may be among its best `capacity[c]` by dot, found with a
    /// ``NearestTargetSearch`` over the centroids (unit rows). A centroid with at least `capacity[c]`
    /// rows nearest to it takes the capacity-th best of their similarities as its floor (the best
    /// rows overall are at least as similar); the others are compared with every row
    /// (``denseCandidates(_:centroids:capacity:threads:)``).
    static func prunedCandidates(_ unit: FeatureMatrix, centroids: [Float], capacity: [Int], threads: Int) -> [[Int]] {
        let d = unit.columns, k = centroids.count / d
        let search = NearestTargetSearch.tuned(targets: FeatureMatrix(rows: k, columns: d, values: centroids),
                                               queries: unit, threads: threads).search
        let nearest = search.nearest(unit, threads: threads)
        var ownRows = [[Int]](repeating: [], count: k)
        for row in 0..<unit.rows { ownRows[Int(nearest.index[row])].append(row) }
        var floors = [Float](repeating: .infinity, count: k)
        var short: [Int] = []
        for c in 0..<k {
            guard ownRows[c].count >= capacity[c] else { short.append(c); continue }
            let similarities = ownRows[c].map { nearest.similarity[$0] }.sorted(by: >)
            floors[c] = similarities[capacity[c] - 1]
        }
        // A centroid with too few rows of its own takes its floor from the rows of its nearest
        // centroids too (a subset of the rows, so still a floor); failing that, every row.
        var open: [Int] = []
        let neighbours = nearestCentroids(of: short, centroids: centroids, columns: d, count: neighbourCount, threads: threads)
        unit.values.withUnsafeBufferPointer { x in
            centroids.withUnsafeBufferPointer { cs in
                for (position, c) in short.enumerated() {
                    let rows = neighbours[position].flatMap { ownRows[$0] }
                    guard rows.count >= capacity[c] else { open.append(c); continue }
                    let similarities = rows.map { dot(x.baseAddress! + $0 * d, cs.baseAddress! + c * d, count: d) }
                        .sorted(by: >)
                    floors[c] = similarities[capacity[c] - 1]
                }
            }
        }
        var rows = search.rowsReaching(floors, queries: unit, threads: threads).map { $0.map(Int.init) }
        if !open.isEmpty {
            let openCentroids = open.flatMap { centroids[($0 * d)..<(($0 + 1) * d)] }
            let openRows = denseCandidates(unit, centroids: openCentroids, capacity: open.map { capacity[$0] },
                                           threads: threads)
            for (position, c) in open.enumerated() { rows[c] = openRows[position] }
        }
        return rows
    }

    /// Centroids whose own rows give a floor to one with too few (itself included).
    static let neighbourCount = 8

    /// For each centroid in `subset`, the `count` most similar centroids, itself among them (a
    /// ``BoundedBest`` per centroid). Which rows a floor comes from changes only the time, never the
    /// picks. O(|subset|·K·d).
    static func nearestCentroids(of subset: [Int], centroids: [Float], columns d: Int, count: Int,
                                 threads: Int) -> [[Int]] {
        let k = centroids.count / d
        guard !subset.isEmpty else { return [] }
        let chosen = FeatureMatrix(rows: subset.count, columns: d, values: subset.flatMap { centroids[($0 * d)..<(($0 + 1) * d)] })
        return BlockedSimilarity.rowwise(chosen, FeatureMatrix(rows: k, columns: d, values: centroids), threads: threads) { _, s in
            var best = BoundedBest(capacity: count)
            for c in 0..<s.count { best.offer(row: c, similarity: s[c]) }
            return best.sortedBestFirst().map(\.row)
        }
    }

    /// Each centroid's best `capacity[c]` of its candidate rows by ``dot(_:_:count:)`` (ties to the
    /// lower row), best first, rows shifted by `firstRow`. O(Σ candidates · d), centroids across threads.
    static func rankedByDot(_ unit: FeatureMatrix, centroids: [Float], candidates: [[Int]], capacity: [Int],
                            firstRow: Int, threads: Int) -> [[BoundedBest.Entry]] {
        let d = unit.columns
        return perCentroidChunk(unit, centroids: centroids, threads: threads) { x, c, range in
            range.map { centroid in
                var entries = candidates[centroid].map { row -> BoundedBest.Entry in
                    BoundedBest.Entry(row: firstRow + row, similarity: dot(x + row * d, c + centroid * d, count: d))
                }
                entries.sort(by: BoundedBest.better)
                return Array(entries.prefix(capacity[centroid]))
            }
        }
    }

    /// Each centroid's best `capacity[c]` rows by sgemm similarity (ties to the lower row), best
    /// first: bounded heaps filled from blocked sgemm, centroids split across threads, each heap
    /// filled by one thread in row order. O(N·K·d) flops, O(N·K) heap offers of which few get in.
    static func bestBySgemm(_ unit: FeatureMatrix, centroids: [Float], capacity: [Int],
                            threads: Int) -> [[BoundedBest.Entry]] {
        let n = unit.rows, d = unit.columns, blockRows = RowPartition.blockRows
        return perCentroidChunk(unit, centroids: centroids, threads: threads) { x, c, range in
            var heaps = range.map { BoundedBest(capacity: capacity[$0]) }
            var block = [Float](repeating: 0, count: blockRows * range.count)
            for start in stride(from: 0, to: n, by: blockRows) {
                let rows = min(blockRows, n - start)
                BLAS.multiplyTransposed(m: rows, n: range.count, k: d, a: x + start * d, lda: d,
                                        b: c + range.lowerBound * d, ldb: d, c: &block, ldc: range.count)
                for r in 0..<rows {
                    for j in 0..<range.count { heaps[j].offer(row: start + r, similarity: block[r * range.count + j]) }
                }
            }
            return heaps.map { $0.sortedBestFirst() }
        }
    }

    /// The lists `body` makes for each chunk of 256 centroids (given the features, the centroids and
    /// the chunk's centroid range), chunks run in parallel and concatenated in centroid order.
    private static func perCentroidChunk(
        _ unit: FeatureMatrix, centroids: [Float], threads: Int,
        _ body: @escaping @Sendable (UnsafePointer<Float>, UnsafePointer<Float>, Range<Int>) -> [[BoundedBest.Entry]]
    ) -> [[BoundedBest.Entry]] {
        let k = centroids.count / unit.columns, perChunk = 256
        let chunks = (k + perChunk - 1) / perChunk
        let lists = ChunkResults<[[BoundedBest.Entry]]>(count: chunks)
        unit.values.withUnsafeBufferPointer { x in
            centroids.withUnsafeBufferPointer { c in
                let input = (ReadOnlyPointer(base: x.baseAddress!), ReadOnlyPointer(base: c.baseAddress!))
                ParallelChunks.run(chunks: chunks, threads: threads) { chunk in
                    lists.set(chunk, body(input.0.base, input.1.base, (chunk * perChunk)..<min(k, (chunk + 1) * perChunk)))
                }
            }
        }
        return lists.values.flatMap { $0 }
    }

    /// Every process's kept lists merged: per centroid, the best `capacity[c]` entries of all of
    /// them, best first (ties to the lower row). One gather of the lists. O(P·K·kept·log(P·kept)).
    private static func mergedAcross(_ group: any ProcessGroup, _ lists: [[BoundedBest.Entry]],
                                     capacity: [Int]) -> [[BoundedBest.Entry]] {
        // Per centroid: its entry count, then (row, similarity bits) pairs.
        var flat: [Int64] = []
        for list in lists {
            flat.append(Int64(list.count))
            for entry in list { flat.append(Int64(entry.row)); flat.append(Int64(entry.similarity.bitPattern)) }
        }
        let parts = group.gather(values: flat)
        var merged = [[BoundedBest.Entry]](repeating: [], count: lists.count)
        for part in parts {
            var position = 0
            for c in 0..<lists.count {
                let count = Int(part[position])
                position += 1
                for _ in 0..<count {
                    merged[c].append(BoundedBest.Entry(row: Int(part[position]),
                                                       similarity: Float(bitPattern: UInt32(part[position + 1]))))
                    position += 2
                }
            }
        }
        return merged.enumerated().map { c, entries in
            Array(entries.sorted(by: BoundedBest.better).prefix(capacity[c]))
        }
    }

}

/// The `capacity` best (row, similarity) pairs seen so far, on swift-collections' `Heap` (its
/// minimum is the worst kept pair). Rows are distinct, so "best" — higher similarity, then the lower
/// row — is a total order and the kept pairs never depend on the order of the offers.
struct BoundedBest {
    struct Entry: Comparable {
        let row: Int
        let similarity: Float
        /// Ranks below: lower similarity, or equal similarity and a higher row.
        static func < (a: Entry, b: Entry) -> Bool {
            a.similarity < b.similarity || (a.similarity == b.similarity && a.row > b.row)
        }
    }
    let capacity: Int
    private var heap = Heap<Entry>()

    init(capacity: Int) { self.capacity = capacity }

    /// Whether `a` ranks above `b`: higher similarity, or equal similarity and a lower row.
    static func better(_ a: Entry, _ b: Entry) -> Bool { b < a }

    /// Keeps the pair if it is among the best `capacity`. O(log capacity), O(1) when rejected.
    mutating func offer(row: Int, similarity: Float) {
        let entry = Entry(row: row, similarity: similarity)
        if heap.count < capacity {
            heap.insert(entry)
        } else if let worst = heap.min, worst < entry {
            heap.replaceMin(with: entry)
        }
    }

    /// The kept pairs, best first.
    func sortedBestFirst() -> [Entry] { heap.unordered.sorted(by: Self.better) }
}
