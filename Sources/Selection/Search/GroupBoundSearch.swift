import OpenBLAS

/// The group-bound search of ``NearestCentroidSearch`` (K < ``SearchTuning/groupedFrom``):
/// the bounds of Yinyang k-means (Ding et al., "Yinyang K-Means: A Drop-In Replacement of the Classic
/// K-Means with Consistent Speedup", ICML 2015), turned to similarities of unit vectors.
///
/// The centroids are split once into G groups (spherical k-means on the first centroids, G = K/10, at
/// most ``SearchTuning/largestGroupCount``), and each sample keeps its last nearest
/// centroid and, per group, a lower bound on the angle to every other centroid of the group. A
/// centroid that turns by Δ brings every unit sample at most Δ closer (``UnitAngle``): each call, a
/// group's bounds shrink by the largest turn in the group. The bounds are stored relative to each
/// group's total turn so far, so a call touches only the samples it asks about and never rewrites the
/// bounds of the others — which is what keeps random batches cheap. Then, per sample:
/// 1. one dot product with its last nearest centroid settles it when that beats every group bound
///    by the margin;
/// 2. otherwise the groups whose bound it does not beat are compared with it member by member —
///    per block of rows, one sgemm per group against the rows that need it — which settles the
///    sample when the best similarity beats every other similarity and bound by the margin, and
///    tightens those groups' bounds;
/// 3. otherwise (a near-tie, a sample seen for the first time, or uncertain groups holding more than
///    ``SearchTuning/groupCompareShare`` of the centroids) the caller recomputes it in
///    the dense pass (``retake(positions:rows:features:centroids:nearest:similarity:)``), which also
///    retakes its bounds.
///
/// Cost per call: O(K·d) to measure the movements, O(N·(d + G)) for the first test, O(N'·m·d) for
/// the N' samples that compare m group members. Memory: O(N·G) bounds.
///
/// Invariant: for every sample with `lastNearest[row] ≥ 0`, `bounds[row·G + g] − totalTurn[g]` is a
/// lower bound on the angle to every centroid of group g but `lastNearest[row]`.
struct GroupBoundSearch {
    /// G.
    let groupCount: Int
    let threads: Int
    private let samples: Int
    /// Group of each centroid; the members of group g are `members[groupStart[g]..<groupStart[g + 1]]`.
    private var groupOf: [Int32] = []
    private var members: [Int32] = []
    private var groupStart: [Int] = []
    /// Per sample and group (N×G): a lower bound on the angle to every centroid of the group but the
    /// sample's `lastNearest`, plus the group's `totalTurn` when it was stored (+∞: no such centroid).
    private var bounds: [Float] = []
    /// Each sample's nearest centroid at its last call; −1 before its first.
    private var lastNearest: [Int32] = []
    /// Per group: the sum over all calls so far of the largest angle one of its centroids turned by
    /// (rounded up).
    private var totalTurn: [Float] = []
    /// The centroids of the previous call (empty before the first).
    private var previousCentroids: [Float] = []
    /// Similarities the group comparisons (test 2) computed, and samples the one-dot test (test 1)
    /// settled, so far.
    private(set) var prunedComparisons = 0
    private(set) var settledByBounds = 0

    init(samples: Int, centroids k: Int, threads: Int) {
        self.samples = samples
        self.threads = threads
        groupCount = max(1, min(SearchTuning.largestGroupCount, k / 10))
    }

    /// Settles what it can of the `count` samples at `rows` (nil: every row), setting their nearest
    /// centroid and similarity, and returns the positions it could not settle.
    mutating func settle(rows: [Int]?, count: Int, features: FeatureMatrix, centroids: [Float],
                         nearest: inout [Int32], similarity: inout [Float]) -> [Int] {
        let d = features.columns, k = centroids.count / d
        precondition(previousCentroids.isEmpty || previousCentroids.count == centroids.count, "K changed between calls")
        if previousCentroids.isEmpty {
            makeGroups(centroids: centroids, k: k, d: d)
        } else {
            measureMovement(from: previousCentroids, to: centroids, k: k, d: d)
        }
        previousCentroids = centroids
        var failing = [Bool](repeating: false, count: count)
        checkBounds(rows: rows, count: count, features: features, centroids: centroids, k: k,
                    nearest: &nearest, similarity: &similarity, failing: &failing)
        return failing.indices.filter { failing[$0] }
    }

    /// The dense pass for the samples at `positions` that ``settle(rows:count:features:centroids:nearest:similarity:)``
    /// left, retaking their bounds from the same similarities.
    mutating func retake(positions: [Int], rows: [Int]?, features: FeatureMatrix, centroids: [Float],
                         nearest: inout [Int32], similarity: inout [Float]) {
        let g = groupCount
        let groups = GroupLayout(groupOf: groupOf, members: members, start: groupStart, totalTurn: totalTurn)
        withSharedPointers(&bounds, &lastNearest) { bounds, lastNearest in
            DenseNearestCentroids.assign(positions: positions, rows: rows, features: features, centroids: centroids,
                                         threads: threads, nearest: &nearest, similarity: &similarity) { row, scores, best in
                groups.storeBounds(scores: scores, excluding: best, into: bounds.base + row * g)
                lastNearest.base[row] = Int32(best)
            }
        }
    }

    /// Follows the feature rows to a new order (``NearestCentroidSearch/permuteRows(_:)``).
    mutating func permuteRows(_ order: [Int]) {
        bounds = NearestCentroidSearch.permuted(bounds, width: groupCount, order: order)
        lastNearest = NearestCentroidSearch.permuted(lastNearest, width: 1, order: order)
    }

    /// Splits the centroids into ``groupCount`` groups and sets every sample's state to "not seen".
    private mutating func makeGroups(centroids: [Float], k: Int, d: Int) {
        let g = groupCount
        let (assignment, _) = NearestTargetSearch.sphericalGroups(
            of: FeatureMatrix(rows: k, columns: d, values: centroids), count: g, threads: threads)
        groupOf = assignment.map { Int32($0) }
        members = []
        groupStart = [0]
        for group in 0..<g {
            members += (0..<k).filter { assignment[$0] == group }.map { Int32($0) }
            groupStart.append(members.count)
        }
        bounds = [Float](repeating: 0, count: samples * g)
        lastNearest = [Int32](repeating: -1, count: samples)
        totalTurn = [Float](repeating: 0, count: g)
    }

    /// Adds to each group's total turn the largest angle one of its centroids turned by since the
    /// previous call, rounded up. O(K·d).
    private mutating func measureMovement(from old: [Float], to new: [Float], k: Int, d: Int) {
        let moved = NearestCentroidSearch.movements(from: old, to: new, d: d, threads: threads)
        for group in 0..<groupCount {
            let largest = members[groupStart[group]..<groupStart[group + 1]].reduce(Float(0)) { max($0, moved[Int($1)]) }
            let turn = UnitAngle.turn(distance: largest)
            totalTurn[group] = (totalTurn[group] + turn).nextUp
        }
    }

    /// Settles each sample by the one-dot test or the group comparisons when it can; marks the others
    /// failing. Blocks of rows in parallel; within a block, each uncertain group is one sgemm of the
    /// block's rows that must compare it against its members.
    private mutating func checkBounds(rows: [Int]?, count: Int, features: FeatureMatrix, centroids: [Float], k: Int,
                                      nearest: inout [Int32], similarity: inout [Float], failing: inout [Bool]) {
        let d = features.columns, g = groupCount, blockRows = RowPartition.blockRows
        let blocks = (count + blockRows - 1) / blockRows
        let compared = ChunkResults<(similarities: Int, settled: Int)>(count: blocks)
        let groups = GroupLayout(groupOf: groupOf, members: members, start: groupStart, totalTurn: totalTurn)
        let largestCompared = Int(SearchTuning.groupCompareShare * Double(k))
        let largestGroup = (0..<g).map { groupStart[$0 + 1] - groupStart[$0] }.max() ?? 1
        // The centroids in group order: each group's members contiguous, one sgemm operand.
        var ordered = [Float]()
        ordered.reserveCapacity(k * d)
        for c in members { ordered += centroids[(Int(c) * d)..<((Int(c) + 1) * d)] }
        withSharedPointers(&nearest, &similarity, &failing) { nearest, similarity, failing in
            withSharedPointers(&bounds, &lastNearest) { bounds, lastNearest in
                withReadOnlyPointers(features.values, centroids, ordered) { x, c, o in
                    let check = BoundCheck(features: x.base, centroids: c.base, ordered: o.base, rows: rows, columns: d,
                                           groups: groups, largestCompared: largestCompared, bounds: bounds.base,
                                           lastNearest: lastNearest.base, nearest: nearest.base,
                                           similarity: similarity.base, failing: failing.base)
                    ParallelChunks.run(chunks: blocks, threads: threads, makeScratch: {
                        CompareScratch(rows: blockRows, groups: g, columns: d, largestGroup: largestGroup)
                    }) { block, scratch in
                        let positions = (block * blockRows)..<min(count, (block + 1) * blockRows)
                        compared.set(block, check.run(positions: positions, scratch: scratch))
                    }
                }
            }
        }
        prunedComparisons += compared.values.reduce(0) { $0 + $1.similarities }
        settledByBounds += compared.values.reduce(0) { $0 + $1.settled }
    }
}

/// What one call of the bound checks reads and writes, shared by its parallel chunks; each chunk
/// writes only its own positions and their rows.
private struct BoundCheck: @unchecked Sendable {
    let features: UnsafePointer<Float>
    let centroids: UnsafePointer<Float>
    /// The centroids in group order.
    let ordered: UnsafePointer<Float>
    let rows: [Int]?
    let columns: Int
    let groups: GroupLayout
    /// A row whose uncertain groups hold more centroids than this goes to the full pass.
    let largestCompared: Int
    let bounds: UnsafeMutablePointer<Float>
    let lastNearest: UnsafeMutablePointer<Int32>
    let nearest: UnsafeMutablePointer<Int32>
    let similarity: UnsafeMutablePointer<Float>
    let failing: UnsafeMutablePointer<Bool>

    /// Tests 1 and 2 for the rows at `positions` (one block); returns the similarities test 2 computed
    /// and the rows test 1 settled.
    func run(positions: Range<Int>, scratch: CompareScratch) -> (similarities: Int, settled: Int) {
        let d = columns, g = groups.count
        let margin = SearchExactness.margin
        scratch.position.count = 0
        var settled = 0
        // Test 1 for each row; the rows it leaves, with their uncertain groups.
        for position in positions {
            let row = rows?[position] ?? position
            let previous = lastNearest[row]
            guard previous >= 0 else {
                failing[position] = true
                continue
            }
            let own = dot(features + row * d, centroids + Int(previous) * d, count: d)
            let stored = bounds + row * g
            // Test 1 holds when no group's similarity bound reaches own − margin, that is when every
            // group's angle bound exceeds acos(own − margin) (a plain comparison: bounds are never
            // NaN); a group whose bound does not is uncertain.
            let threshold = UnitAngle.above(similarity: own - margin)
            var reached = false
            groups.totalTurn.withUnsafeBufferPointer { turned in
                for group in 0..<g where stored[group] - turned[group] <= threshold { reached = true }
            }
            if !reached {
                nearest[position] = previous
                similarity[position] = own
                settled += 1
                continue
            }
            var uncertain = 0
            for group in 0..<g where groups.isUncertain(group, stored: stored, threshold: threshold) {
                uncertain += groups.start[group + 1] - groups.start[group]
            }
            if uncertain > largestCompared {
                failing[position] = true
            } else {
                scratch.open(position: position, row: row, previous: previous, own: own, threshold: threshold,
                             stored: stored, groups: groups)
            }
        }
        // Test 2: each uncertain group against the rows that must compare it, then each row's verdict.
        var computed = 0
        for group in 0..<g {
            computed += scratch.compare(group: group, features: features, ordered: ordered, columns: d, groups: groups)
        }
        for slot in 0..<scratch.position.count {
            let position = Int(scratch.position[slot]), row = Int(scratch.row[slot])
            guard let (best, fromDot) = scratch.settle(slot: slot, groups: groups, into: bounds + row * g) else {
                failing[position] = true
                continue
            }
            nearest[position] = best
            similarity[position] = fromDot ?? dot(features + row * d, centroids + Int(best) * d, count: d)
            lastNearest[row] = best
        }
        return (computed, settled)
    }
}

/// The centroid groups and their movements, read by the parallel chunks of one call.
private struct GroupLayout: @unchecked Sendable {
    let groupOf: [Int32]
    let members: [Int32]
    let start: [Int]
    let totalTurn: [Float]

    var count: Int { totalTurn.count }

    /// Whether `group`'s angle bound (stored relative to its total turn) is at most `threshold`, the
    /// angle of a row's similarity to its previous nearest centroid minus the margin: then the group
    /// must be compared.
    @inline(__always)
    func isUncertain(_ group: Int, stored: UnsafePointer<Float>, threshold: Float) -> Bool {
        stored[group] - totalTurn[group] <= threshold
    }

    /// Stores, relative to each group's total turn, the angle bound of the largest of `scores` (one
    /// sample's sgemm similarities to every centroid) over each group's members but `excluding`. O(K).
    func storeBounds(scores: UnsafePointer<Float>, excluding: Int, into stored: UnsafeMutablePointer<Float>) {
        for group in 0..<count {
            var largest = -Float.infinity
            for m in start[group]..<start[group + 1] {
                let c = Int(members[m])
                if c != excluding { largest = max(largest, scores[c]) }
            }
            stored[group] = UnitAngle.stored(similarity: largest, turned: totalTurn[group])
        }
    }
}

/// What one block of the bound checks keeps of the rows test 1 left, reused group after group
/// (each thread makes one and uses it for every block it runs).
private final class CompareScratch {
    let groupCount: Int
    /// The rows left (a list: `position.count` of them), as positions in the call, feature rows, last
    /// nearest centroids and their similarities.
    let position: OwnedBuffer<Int32>
    let row: OwnedBuffer<Int32>
    let previous: OwnedBuffer<Int32>
    let own: OwnedBuffer<Float>
    /// Per row left and group (row-major, rows × G): whether the row compares the group, and the
    /// group's largest similarity without the previous nearest, with its centroid and the runner-up
    /// (−∞ and index −1 until compared; the previous nearest joins its group's in ``settle``).
    let uncertain: OwnedBuffer<Bool>
    let top: OwnedBuffer<Float>
    let topIndex: OwnedBuffer<Int32>
    let second: OwnedBuffer<Float>
    /// The rows comparing the current group (slots), their features gathered, and the sgemm scores.
    let members: OwnedBuffer<Int32>
    let gathered: OwnedBuffer<Float>
    let scores: OwnedBuffer<Float>

    init(rows: Int, groups: Int, columns: Int, largestGroup: Int) {
        groupCount = groups
        position = OwnedBuffer(capacity: rows)
        row = OwnedBuffer(capacity: rows)
        previous = OwnedBuffer(capacity: rows)
        own = OwnedBuffer(capacity: rows)
        uncertain = OwnedBuffer(capacity: rows * groups)
        top = OwnedBuffer(capacity: rows * groups)
        topIndex = OwnedBuffer(capacity: rows * groups)
        second = OwnedBuffer(capacity: rows * groups)
        members = OwnedBuffer(capacity: rows)
        gathered = OwnedBuffer(capacity: rows * columns)
        scores = OwnedBuffer(capacity: rows * largestGroup)
    }

    /// Adds a row test 1 left: its uncertain groups (angle bound at most `threshold`) will be
    /// compared; the others keep their bound, and hold no similarity above own − margin. O(G).
    func open(position p: Int, row r: Int, previous c: Int32, own value: Float, threshold: Float,
              stored: UnsafePointer<Float>, groups: GroupLayout) {
        let slot = position.count
        position.append(Int32(p))
        row[slot] = Int32(r)
        previous[slot] = c
        own[slot] = value
        for group in 0..<groupCount {
            let i = slot * groupCount + group
            let compare = groups.isUncertain(group, stored: stored, threshold: threshold)
            uncertain[i] = compare
            top[i] = -.infinity
            second[i] = -.infinity
            topIndex[i] = -1
        }
    }

    /// One sgemm of the rows that compare `group` against its members, keeping per row the group's
    /// largest similarity (without the previous nearest) and the runner-up. Returns the similarities
    /// computed. O(m·size·d).
    func compare(group: Int, features x: UnsafePointer<Float>, ordered: UnsafePointer<Float>, columns d: Int,
                 groups: GroupLayout) -> Int {
        let first = groups.start[group], size = groups.start[group + 1] - first
        guard size > 0 else { return 0 }
        members.count = 0
        for slot in 0..<position.count where uncertain[slot * groupCount + group] { members.append(Int32(slot)) }
        let m = members.count
        guard m > 0 else { return 0 }
        for i in 0..<m {
            (gathered.base + i * d).update(from: x + Int(row[Int(members[i])]) * d, count: d)
        }
        BLAS.multiplyTransposed(m: m, n: size, k: d, a: gathered.base, lda: d, b: ordered + first * d, ldb: d,
                                c: scores.base, ldc: size)
        for i in 0..<m {
            let slot = Int(members[i]), at = slot * groupCount + group
            let skipped = previous[slot]
            var best = top[at], bestIndex = topIndex[at], runnerUp = second[at]
            for t in 0..<size {
                let c = groups.members[first + t]
                guard c != skipped else { continue }
                let value = scores[i * size + t]
                if value > best {
                    runnerUp = best
                    best = value
                    bestIndex = c
                } else if value > runnerUp {
                    runnerUp = value
                }
            }
            top[at] = best
            topIndex[at] = bestIndex
            second[at] = runnerUp
        }
        return m * size
    }

    /// After the comparisons: the row's best centroid when it beats every other similarity by the
    /// margin (the groups not compared are below own − margin, so below the best by the margin too),
    /// with its similarity when that is the previous nearest's dot (else nil: the caller computes it),
    /// and the row's new bounds stored relative to the total turn; nil when it does not (the bounds
    /// are left for the full pass). O(G).
    func settle(slot: Int, groups: GroupLayout, into stored: UnsafeMutablePointer<Float>) -> (Int32, Float?)? {
        let g = groupCount, base = slot * g
        let previousNearest = previous[slot], value = own[slot]
        // The previous nearest joins its group's values.
        let home = base + Int(groups.groupOf[Int(previousNearest)])
        if value > top[home] {
            second[home] = top[home]
            top[home] = value
            topIndex[home] = previousNearest
        } else if value > second[home] {
            second[home] = value
        }
        var best = previousNearest, bestValue = value
        for i in base..<(base + g) where topIndex[i] >= 0 && top[i] > bestValue {
            best = topIndex[i]
            bestValue = top[i]
        }
        var rival = -Float.infinity
        for i in base..<(base + g) { rival = max(rival, topIndex[i] == best ? second[i] : top[i]) }
        guard bestValue > rival + SearchExactness.margin else { return nil }
        // Compared groups take their largest similarity but the best; the others keep their bound,
        // except that the previous nearest joins its group's when it is no longer the nearest.
        for group in 0..<g {
            let i = base + group
            if uncertain[i] {
                stored[group] = UnitAngle.stored(similarity: topIndex[i] == best ? second[i] : top[i],
                                                 turned: groups.totalTurn[group])
            } else if i == home && best != previousNearest {
                stored[group] = min(stored[group], UnitAngle.stored(similarity: value, turned: groups.totalTurn[group]))
            }
        }
        return (best, best == previousNearest ? value : nil)
    }
}
