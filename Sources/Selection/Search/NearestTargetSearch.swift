import OpenBLAS
import Foundation

/// The most similar target row of every query row (unit rows), exactly, without comparing every
/// query with every target.
///
/// The targets are grouped once by a few rounds of spherical k-means (G groups, default 2√K or tuned
/// by ``tuned(targets:queries:rows:slack:threads:)``, started from evenly spaced targets: no
/// randomness). Each group keeps its unit centre u and its angular radius
/// ρ (the largest angle between u and a member). For a query x at angle θ from u, the triangle
/// inequality on the sphere bounds every member's similarity by cos(max(0, θ − ρ)), which is
/// x·u·cos ρ + √(1 − (x·u)²)·sin ρ when θ > ρ and 1 otherwise — one sgemm against the centres gives
/// every bound, no arccos needed. Per block of queries:
/// 1. each query is compared with every member of its highest-bound group, then of its next one if
///    that bound is not below its best so far minus a margin that absorbs sgemm rounding;
/// 2. then with every member of each other group whose bound is not below that; the remaining
///    groups provably hold no better target.
/// This is the group filter of Yinyang k-means (Ding et al., "Yinyang K-Means: A Drop-In
/// Replacement of the Classic K-Means with Consistent Speedup", ICML 2015) used once, with angular
/// bounds for unit vectors.
///
/// The answer is the dense rule ``nearestByDot(scores:count:query:targets:columns:)`` states: among
/// the targets whose sgemm similarity is within a margin (1e-4, far above sgemm's rounding) of the
/// largest, the one with the largest ``dot(_:_:count:)`` (ties to the lower index) — so no sgemm
/// rounding, which depends on the shape of each call, ever decides, and the pruned and dense
/// searches agree bit for bit. The similarity reported is that `dot`.
/// Blocks are fixed by rows, so the result is identical for every thread count. Cost: O(K·G·d) to
/// group, O(N·G·d) for the bounds, O(N·(K/G)·d) for the first group and O(N·c·(K/G)·d) for the c
/// groups a query cannot rule out — c is small when the targets are clustered and grows to G when the
/// bounds cannot separate them (then the cost approaches the dense O(N·K·d)). Memory: O(K·d) plus
/// O(threads·block·(d + K/G + G)).
public struct NearestTargetSearch: Sendable {
    /// Targets, reordered so that each group's members are contiguous (ascending original index).
    let grouped: FeatureMatrix
    /// Original index of each row of `grouped`.
    let originalIndex: [Int32]
    /// Group g holds rows `groupStart[g]..<groupStart[g + 1]` of `grouped`.
    let groupStart: [Int]
    /// Unit group centres (G×d), and cos ρ, sin ρ of each group's angular radius (slightly enlarged).
    let centres: FeatureMatrix
    let radiusCosine: [Float]
    let radiusSine: [Float]

    /// The number of target groups.
    public var groupCount: Int { centres.rows }

    /// The groups' unit centres (G×d), to start a later grouping of moved targets from.
    public var groupCentres: FeatureMatrix { centres }

    /// Groups `targets` (unit rows, at least one). `groups`: G (default ⌈2√K⌉, at most K); the best
    /// G depends on how clustered the data are — ``tuned(targets:queries:rows:slack:threads:)``
    /// measures it. `startingFrom`: the centres of an earlier search (G is then their number), from
    /// which the grouping starts instead of from evenly spaced targets — for targets that moved a
    /// little since, one or two rounds instead of eight. The answers never depend on the grouping.
    /// O(rounds·K·G·d).
    public init(targets: FeatureMatrix, groups requested: Int? = nil, startingFrom earlier: FeatureMatrix? = nil,
                threads: Int) {
        precondition(targets.rows > 0, "no targets")
        precondition(earlier.map { $0.rows > 0 && $0.columns == targets.columns } ?? true, "bad starting centres")
        let k = targets.rows, d = targets.columns
        let g = earlier.map { min(k, $0.rows) }
            ?? max(1, min(k, requested ?? Int((2 * Double(k).squareRoot()).rounded(.up))))
        let start = earlier.map { Array($0.values.prefix(g * d)) }
        let (assignment, centre) = Self.sphericalGroups(of: targets, count: g, start: start, threads: threads)
        // Members per group (empty groups dropped), the radius measured against the final centres.
        var order: [Int32] = [], starts = [0], kept: [Float] = [], cosines: [Float] = [], sines: [Float] = []
        for c in 0..<g {
            let members = (0..<k).filter { assignment[$0] == c }
            guard !members.isEmpty else { continue }
            var smallest = 1.0
            for t in members {
                var s = 0.0
                for j in 0..<d { s += Double(targets.values[t * d + j]) * Double(centre[c * d + j]) }
                smallest = min(smallest, s)
            }
            // The angle between two unit vectors, enlarged a little so that rounding in the
            // centre's float copy never makes the bound too small.
            let radius = min(Double.pi, acos(max(-1, min(1, smallest))) + SearchExactness.radiusEnlargement)
            order += members.map { Int32($0) }
            starts.append(order.count)
            kept += centre[(c * d)..<((c + 1) * d)]
            cosines.append(Float(cos(radius)))
            sines.append(Float(sin(radius)))
        }
        grouped = targets.selecting(rows: order.map { Int($0) })
        originalIndex = order
        groupStart = starts
        centres = FeatureMatrix(rows: cosines.count, columns: d, values: kept)
        radiusCosine = cosines
        radiusSine = sines
    }

    /// What ``nearest(_:rows:keeping:slack:threads:)`` finds for each query.
    public struct Answer: Sendable {
        /// The most similar target and its similarity as ``dot(_:_:count:)`` computes it.
        public var index: [Int32]
        public var similarity: [Float]
        /// Query–target similarities computed by sgemm (N·K for the dense product).
        public var comparisons: Int
        /// With `keeping` M > 0: per query (row-major, M each), the M targets of largest sgemm
        /// similarity among those it was compared with, largest first, −1 where it was compared with
        /// fewer; empty otherwise.
        public var candidates: [Int32] = []
        /// With `keeping` M > 0: per query, a bound on the similarity of every target not among its
        /// candidates — its (M+1)-th largest sgemm similarity, or the largest bound of a group it was
        /// not compared with — up to sgemm rounding (far below ``SearchExactness/margin``).
        public var othersBound: [Float] = []
    }

    /// For each of `rows` of `queries` (nil: every row; unit rows, the targets' width), its most
    /// similar target, as ``Answer`` describes.
    ///
    /// `keeping` M > 0 also returns each query's M best candidates and a bound on every other
    /// target; `slack` (≥ 0) then compares each query with every group whose bound is within `slack`
    /// of its best, not only within ``SearchExactness/margin``, so that the bound ends up at least about `slack`
    /// below the best — what lets ``NearestCentroidSearch`` settle the query in later calls with M
    /// dot products. Neither changes the answer, only the work: a larger slack compares more groups.
    public func nearest(_ queries: FeatureMatrix, rows: [Int]? = nil, keeping: Int = 0, slack: Float = 0,
                        threads: Int) -> Answer {
        precondition(queries.columns == grouped.columns, "widths differ")
        precondition(keeping >= 0 && slack >= 0, "negative keeping or slack")
        let n = rows?.count ?? queries.rows, d = queries.columns
        var index = [Int32](repeating: 0, count: n)
        var similarity = [Float](repeating: 0, count: n)
        var candidates = [Int32](repeating: -1, count: n * keeping)
        var othersBound = [Float](repeating: -.infinity, count: keeping > 0 ? n : 0)
        let chunks = (n + SearchTuning.chunkRows - 1) / SearchTuning.chunkRows
        let counts = ChunkResults<Int>(count: chunks)
        let largestGroup = (0..<groupCount).map { groupStart[$0 + 1] - groupStart[$0] }.max()!
        let spread = max(SearchExactness.margin, slack)
        withSharedPointers(&index, &similarity, &candidates, &othersBound) { outIndex, outSimilarity, outCandidates, outBound in
            queries.values.withUnsafeBufferPointer { q in
                let input = ReadOnlyPointer(base: q.baseAddress!)
                ParallelChunks.run(chunks: chunks, threads: threads) { chunk in
                    let start = chunk * SearchTuning.chunkRows, count = min(SearchTuning.chunkRows, n - start)
                    let scratch = SearchScratch(blockRows: RowPartition.blockRows, groups: groupCount, columns: d,
                                                largestGroup: largestGroup, keeping: keeping)
                    var computed = 0
                    for blockStart in stride(from: start, to: start + count, by: RowPartition.blockRows) {
                        let m = min(RowPartition.blockRows, start + count - blockStart)
                        let block: UnsafePointer<Float>
                        if let rows {
                            for r in 0..<m {
                                (scratch.block.base + r * d).update(from: input.base + rows[blockStart + r] * d, count: d)
                            }
                            block = UnsafePointer(scratch.block.base)
                        } else {
                            block = input.base + blockStart * d
                        }
                        computed += search(block: block, rows: m, spread: spread, scratch: scratch)
                        for r in 0..<m {
                            let (target, value) = resolve(query: block + r * d, row: r, scratch: scratch)
                            outIndex.base[blockStart + r] = target
                            outSimilarity.base[blockStart + r] = value
                        }
                        if keeping > 0 {
                            writeKept(rows: m, scratch: scratch, candidates: outCandidates.base + blockStart * keeping,
                                      bounds: outBound.base + blockStart)
                        }
                    }
                    counts.set(chunk, computed)
                }
            }
        }
        return Answer(index: index, similarity: similarity, comparisons: counts.values.reduce(0, +),
                      candidates: candidates, othersBound: othersBound)
    }

    /// Each row's M best candidates (original indices) and the bound on every other target, from
    /// the M + 1 best similarities the comparisons kept and the largest bound of a group left out.
    func writeKept(rows m: Int, scratch: SearchScratch, candidates: UnsafeMutablePointer<Int32>,
                           bounds: UnsafeMutablePointer<Float>) {
        let keeping = scratch.keeping
        for r in 0..<m {
            let best = scratch.kept[r].sortedBestFirst()
            for (i, entry) in best.prefix(keeping).enumerated() {
                candidates[r * keeping + i] = originalIndex[entry.row]
            }
            let runnerUp = best.count > keeping ? best[keeping].similarity : -Float.infinity
            bounds[r] = max(runnerUp, scratch.groupLeftOut[r])
        }
    }

    /// Searches `rows` consecutive query rows at `block`, leaving each row's best in `scratch`;
    /// returns the similarities computed.
    ///
    /// Every scan of the block × groups bounds runs along a row (contiguous), and the rows a group
    /// is compared with are bucketed in row order, so each bound is read a fixed number of times
    /// instead of once per group per round. O(rows·G) besides the sgemms.
    func search(block: UnsafePointer<Float>, rows m: Int, spread: Float, scratch: SearchScratch) -> Int {
        let g = groupCount
        let bounds = scratch.centreSimilarity, best = scratch.best
        let keeping = scratch.keeping > 0
        groupBounds(block: block, rows: m, into: bounds.base)
        for r in 0..<m {
            best[r] = -.infinity
            scratch.nearCount[r] = 0
            if keeping {
                scratch.kept[r] = BoundedBest(capacity: scratch.keeping + 1)
                scratch.groupLeftOut[r] = -.infinity
            }
        }
        var computed = 0
        // Two rounds of each row's highest-bound group it has not searched yet (ties to the lower
        // group; in the second round only if the bound cannot rule it out), which usually hold its
        // nearest target. A group searched or ruled out is marked −3 (below every threshold).
        for round in 0..<2 {
            scratch.clearBuckets(groups: g)
            for r in 0..<m {
                let row = bounds.base + r * g
                let top = Self.firstLargest(row, count: g)
                let ruledOut = round > 0 && row[top] < best[r] - spread
                if ruledOut && keeping { scratch.groupLeftOut[r] = max(scratch.groupLeftOut[r], row[top]) }
                row[top] = -3
                if !ruledOut { scratch.bucket(row: r, group: top) }
            }
            for group in 0..<g { computed += compare(block: block, group: group, scratch: scratch) }
        }
        // Then every other group the bound cannot rule out.
        scratch.clearBuckets(groups: g)
        for r in 0..<m {
            let threshold = best[r] - spread, row = bounds.base + r * g
            Self.forEachAtLeast(threshold, row, count: g) { group in
                scratch.bucket(row: r, group: group)
            }
            if keeping {
                // The largest bound of the groups left out (those searched are −3, below it).
                var leftOut = scratch.groupLeftOut[r]
                for j in 0..<g where row[j] < threshold { leftOut = max(leftOut, row[j]) }
                scratch.groupLeftOut[r] = leftOut
            }
        }
        for group in 0..<g { computed += compare(block: block, group: group, scratch: scratch) }
        return computed
    }

    /// Every group's bound for each of the `rows` query rows at `block`: one sgemm against the centres,
    /// then ``angularBounds(_:count:radiusCosine:radiusSine:)`` row by row, into `bounds` (rows × G).
    func groupBounds(block: UnsafePointer<Float>, rows m: Int, into bounds: UnsafeMutablePointer<Float>) {
        let d = grouped.columns, g = groupCount
        centres.values.withUnsafeBufferPointer { c in
            BLAS.multiplyTransposed(m: m, n: g, k: d, a: block, lda: d, b: c.baseAddress!, ldb: d, c: bounds, ldc: g)
        }
        radiusCosine.withUnsafeBufferPointer { cosines in
            radiusSine.withUnsafeBufferPointer { sines in
                for r in 0..<m {
                    Self.angularBounds(bounds + r * g, count: g, radiusCosine: cosines.baseAddress!,
                                       radiusSine: sines.baseAddress!)
                }
            }
        }
    }

    /// Replaces each of `count` centre similarities x·u at `row` by the bound cos(max(0, θ − ρ)) on
    /// the similarity of x to any member of that group (1 when x is within the group's radius).
    /// O(count); a branch-free loop over raw pointers, which the compiler vectorises (the
    /// `magnitude`, a no-op since |cos| ≤ 1, tells it the square root's argument is not negative, so
    /// no per-element `sqrtf` call for `errno` is needed).
    static func angularBounds(_ row: UnsafeMutablePointer<Float>, count: Int,
                              radiusCosine: UnsafePointer<Float>, radiusSine: UnsafePointer<Float>) {
        for g in 0..<count {
            let x = row[g]
            let cosine: Float = x > 1 ? 1 : (x < -1 ? -1 : x)
            let outside = cosine * radiusCosine[g] + (1 - cosine * cosine).magnitude.squareRoot() * radiusSine[g]
            row[g] = cosine >= radiusCosine[g] ? 1 : outside
        }
    }

    /// The index of the largest of `count` (≥ 1) values at `row`, the lowest index among equals.
    /// O(count): the largest 16 lanes at a time, then the first index holding it.
    static func firstLargest(_ row: UnsafePointer<Float>, count: Int) -> Int {
        let raw = UnsafeRawPointer(row)
        var lanes = SIMD16<Float>(repeating: -.infinity)
        var i = 0
        while i + 16 <= count {
            let values = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            lanes = lanes.replacing(with: values, where: values .> lanes)
            i += 16
        }
        var largest = lanes.max()
        for j in i..<count where row[j] > largest { largest = row[j] }
        var index = 0
        while index < count - 1, !(row[index] >= largest) { index += 1 }
        return index
    }

    /// Calls `body` with each index, ascending, of the `count` values at `row` that are at least
    /// `threshold`. O(count).
    @inline(__always)
    static func forEachAtLeast(_ threshold: Float, _ row: UnsafePointer<Float>, count: Int, _ body: (Int) -> Void) {
        for j in 0..<count where row[j] >= threshold { body(j) }
    }

    /// The answer for row `r` of the block: among the targets whose sgemm similarity is within the
    /// margin of the largest, the most similar by ``dot(_:_:count:)`` (ties to the lower index) —
    /// the same rule as the dense pass, so rounding in sgemm never decides. Too many near-ties: by
    /// `dot` against every target.
    func resolve(query: UnsafePointer<Float>, row r: Int, scratch: SearchScratch) -> (Int32, Float) {
        let d = grouped.columns, count = Int(scratch.nearCount[r])
        return grouped.values.withUnsafeBufferPointer { t in
            var bestIndex = Int32.max, best = -Float.infinity
            func consider(_ position: Int) {
                let value = dot(query, t.baseAddress! + position * d, count: d), index = originalIndex[position]
                if value > best || (value == best && index < bestIndex) {
                    best = value
                    bestIndex = index
                }
            }
            if count < 0 {
                for position in 0..<grouped.rows { consider(position) }
            } else {
                for i in 0..<count { consider(Int(scratch.near[r * SearchTuning.nearSlots + i])) }
            }
            return (bestIndex, best)
        }
    }

    /// Compares the block's rows in `group`'s bucket of `scratch` with every target of the group
    /// (one sgemm), keeping each row's best similarity and the targets within the margin of it.
    /// Returns the pairs computed.
    func compare(block: UnsafePointer<Float>, group: Int, scratch: SearchScratch) -> Int {
        let rows = Int(scratch.bucketCount[group])
        guard rows > 0 else { return 0 }
        let members = scratch.buckets.base + group * scratch.blockRows
        let first = groupStart[group], size = groupStart[group + 1] - first
        let scores = scoreBucket(block: block, group: group, scratch: scratch)
        let slots = SearchTuning.nearSlots, margin = SearchExactness.margin
        for slot in 0..<rows {
            let r = Int(members[slot])
            var best = scratch.best[r], count = Int(scratch.nearCount[r])
            let near = scratch.near.base + r * slots, nearValue = scratch.nearValue.base + r * slots
            for t in 0..<size {
                let s = scores[slot * size + t]
                guard s >= best - margin else { continue }
                if s > best {
                    best = s
                    // Keep only the targets still within the margin of the new best.
                    if count >= 0 {
                        var kept = 0
                        for i in 0..<count where nearValue[i] >= best - margin {
                            near[kept] = near[i]
                            nearValue[kept] = nearValue[i]
                            kept += 1
                        }
                        count = kept
                    }
                }
                if count >= 0 {
                    if count == slots {
                        count = -1  // too many near-ties: resolved against every target
                    } else {
                        near[count] = Int32(first + t)
                        nearValue[count] = s
                        count += 1
                    }
                }
            }
            scratch.best[r] = best
            scratch.nearCount[r] = Int32(count)
            if scratch.keeping > 0 {
                for t in 0..<size { scratch.kept[r].offer(row: first + t, similarity: scores[slot * size + t]) }
            }
        }
        return rows * size
    }

    /// The similarities of the block's rows in `group`'s bucket (gathered contiguously) to every
    /// target of the group, one sgemm into `scratch.scores` (bucket slot × member, row-major).
    func scoreBucket(block: UnsafePointer<Float>, group: Int, scratch: SearchScratch) -> UnsafeMutablePointer<Float> {
        let rows = Int(scratch.bucketCount[group]), members = scratch.buckets.base + group * scratch.blockRows
        let d = grouped.columns, first = groupStart[group], size = groupStart[group + 1] - first
        let gathered = scratch.gathered.base, scores = scratch.scores.base
        for slot in 0..<rows {
            (gathered + slot * d).update(from: block + Int(members[slot]) * d, count: d)
        }
        grouped.values.withUnsafeBufferPointer { t in
            BLAS.multiplyTransposed(m: rows, n: size, k: d, a: gathered, lda: d,
                                    b: t.baseAddress! + first * d, ldb: d, c: scores, ldc: size)
        }
        return scores
    }
}

/// Buffers one parallel chunk of ``NearestTargetSearch`` reuses block after block.
final class SearchScratch {
    /// Block rows × groups: centre similarities, then bounds (−3 once a group is searched or ruled
    /// out).
    let centreSimilarity: OwnedBuffer<Float>
    let best: OwnedBuffer<Float>
    /// Per row: the targets (positions in `grouped`) whose similarity is within the margin of its
    /// best so far, their similarities, and how many (−1: more than ``NearestTargetSearch/nearSlots``).
    let near: OwnedBuffer<Int32>
    let nearValue: OwnedBuffer<Float>
    let nearCount: OwnedBuffer<Int32>
    /// The block's query rows, gathered when the queries are a subset of rows.
    let block: OwnedBuffer<Float>
    /// Per group, the rows of the block to compare with it (ascending; `blockRows` slots per
    /// group), and how many.
    let buckets: OwnedBuffer<Int32>
    let bucketCount: OwnedBuffer<Int32>
    let blockRows: Int
    /// The rows of one bucket gathered contiguously, and their similarities to the group's targets.
    let gathered: OwnedBuffer<Float>
    let scores: OwnedBuffer<Float>
    /// When the search keeps M candidates (else 0): per row, its M + 1 largest similarities so far
    /// (rows are positions in `grouped`), and the largest bound of a group left out.
    let keeping: Int
    var kept: [BoundedBest]
    let groupLeftOut: OwnedBuffer<Float>

    /// Empties every group's bucket.
    func clearBuckets(groups: Int) {
        bucketCount.base.update(repeating: 0, count: groups)
    }

    /// Adds row `r` to `group`'s bucket (rows must come in ascending order).
    @inline(__always) func bucket(row r: Int, group: Int) {
        let count = Int(bucketCount[group])
        buckets[group * blockRows + count] = Int32(r)
        bucketCount[group] = Int32(count + 1)
    }

    init(blockRows: Int, groups: Int, columns: Int, largestGroup: Int, keeping: Int) {
        self.blockRows = blockRows
        self.keeping = keeping
        kept = [BoundedBest](repeating: BoundedBest(capacity: keeping + 1), count: keeping > 0 ? blockRows : 0)
        groupLeftOut = OwnedBuffer(capacity: blockRows)
        centreSimilarity = OwnedBuffer(capacity: blockRows * groups)
        best = OwnedBuffer(capacity: blockRows)
        near = OwnedBuffer(capacity: blockRows * SearchTuning.nearSlots)
        nearValue = OwnedBuffer(capacity: blockRows * SearchTuning.nearSlots)
        nearCount = OwnedBuffer(capacity: blockRows)
        block = OwnedBuffer(capacity: blockRows * columns)
        buckets = OwnedBuffer(capacity: groups * blockRows)
        bucketCount = OwnedBuffer(capacity: groups)
        gathered = OwnedBuffer(capacity: blockRows * columns)
        scores = OwnedBuffer(capacity: blockRows * largestGroup)
    }
}
