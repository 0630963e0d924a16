import Foundation
import BLAS

/// Finds each sample's most similar centroid, iteration after iteration, recomputing as little as
/// it can while staying exact.
///
/// A full pass is a blocked sgemm of the samples against all K centroids. With pruning on, the
/// search keeps the bounds of Yinyang k-means (Ding et al., "Yinyang K-Means: A Drop-In Replacement
/// of the Classic K-Means with Consistent Speedup", ICML 2015), turned to similarities of unit
/// vectors: the centroids are split once into G groups (spherical k-means on the first centroids,
/// G = K/10, at most ``largestGroupCount``), and each sample keeps its last nearest centroid and, per
/// group, a lower bound on the angle to every other centroid of the group. A centroid that turns by
/// Δ brings every unit sample at most Δ closer (``UnitAngle``): each call, a group's bounds shrink by
/// the largest turn in the group, and the similarity bound cos(angle) grows by far less than the
/// distance moved when similarities are high. The bounds are stored relative to each group's
/// total turn so far, so a call touches only the samples it asks about and never rewrites the
/// bounds of the others — which is what keeps random batches cheap. Then, per sample:
/// 1. one dot product with its last nearest centroid settles it when that beats every group bound
///    by the margin;
/// 2. otherwise the groups whose bound it does not beat are compared with it member by member —
///    per block of rows, one sgemm per group against the rows that need it — which settles the
///    sample when the best similarity beats every other similarity and bound by the margin, and
///    tightens those groups' bounds;
/// 3. otherwise (a near-tie, a sample seen for the first time, or uncertain groups holding more than
///    ``groupCompareShare`` of the centroids) the sample is recomputed in the full pass, which also
///    retakes its bounds.
///
/// The result is exactly that of the full pass, which follows
/// ``NearestTargetSearch/nearestByDot(scores:count:query:targets:columns:)``: among the centroids
/// within `margin` of the largest sgemm similarity, the largest ``dot(_:_:count:)`` (ties to the
/// lower centroid), and the similarity as `dot` computes it. A test settles a sample only when its
/// best beats everything else by `margin`, which absorbs the rounding of sgemm, of the dot products
/// and of the stored bounds and angles, so rounding never decides a test. A sample's answer depends only on its
/// own history, never on the thread count.
///
/// Cost per call: O(K·d) to measure the movements, O(N·(d + G)) for the first test, O(N'·m·d) for
/// the N' samples that compare m group members, O(F·K·d) for the F recomputed. Memory: O(N·G) bounds
/// (G ≤ 64), plus O(threads·1024·K) for a full pass's block.
///
/// With many centroids (K ≥ ``groupedFrom``) groups of hundreds of centroids stop pruning while the
/// centroids move fast, and the first call would be a dense N·K·d pass; there the samples are
/// instead searched with a ``NearestTargetSearch`` over the centroids (whole groups ruled out by
/// angular bounds; the group count tuned once for the widest slack below, the groups of each call
/// started from the previous call's), which also hands back each sample's ``candidateCount`` most similar
/// centroids and a bound on all the others. In later calls that bound follows the largest angle
/// any centroid turned by since (the Hamerly bound, G. Hamerly, "Making k-means even faster", SDM 2010,
/// kept as an angle for the centroids outside a short candidate list), and a sample whose best candidate, by
/// ``dot(_:_:count:)``, beats the other candidates and the bound by the margin is settled with M dot
/// products; only the others are searched again. In a call over every row the ``fastestCount``
/// centroids that moved furthest are left out of that growth and compared with every sample instead
/// (one small sgemm per block of rows); when one of them slows down, its similarity goes into the
/// bound the call it leaves them. While the centroids move slowly (after the first
/// few dozen ActiveFT iterations), the search widens its comparisons by a slack of a few times the
/// last movement so that the bounds last several calls. The same answers as the full pass; memory
/// O(N·M + K·d).
struct NearestCentroidSearch {
    /// The most groups, whatever K: the bounds take 4·G bytes per sample.
    static let largestGroupCount = 64
    /// Rows per block of a full pass (one sgemm each) and of the bound checks.
    static let blockRows = 1024
    /// How far a sample's best must beat every other similarity or bound to be settled; rounding
    /// is ~1e-6 on unit rows.
    static let margin: Float = 1e-4
    /// A sample whose uncertain groups hold more than this share of the centroids goes to the full
    /// pass (a blocked sgemm does those comparisons faster than dot products one by one).
    static let groupCompareShare = 0.4

    /// From this many centroids on, pruning uses ``NearestTargetSearch`` instead of group bounds.
    static let groupedFrom = 2048
    /// Candidates each sample keeps between calls of the target search.
    static let candidateCount = 4
    /// The target search's slack is this many times the centroids' last largest movement…
    static let slackPerMovement: Float = 4
    /// …unless that exceeds this: while the centroids move this fast no bound lasts, so none is sought.
    static let largestSlack: Float = 0.03
    /// In a call over every row, the centroids that moved furthest since the previous call are compared
    /// with every sample (one sgemm per block of rows) and the bound grows by the largest movement of
    /// the others: a few centroids move several times as far as most.
    static let fastestCount = 32

    let pruning: Bool
    /// Whether each call is a ``NearestTargetSearch`` over the centroids (pruning with K ≥ ``groupedFrom``).
    let searchesTargets: Bool
    let threads: Int
    /// G (0 without group bounds).
    let groupCount: Int
    /// The last target search's group centres (their number tuned on the first call).
    private var targetCentres: FeatureMatrix?
    /// With the target search, per sample (N×``candidateCount``, −1 padded): its most similar
    /// centroids when it was last searched, and a lower bound on the angle to every other centroid
    /// then, plus `othersTurn` at that call (−∞: never searched).
    private var candidates: [Int32] = []
    private var othersAngle: [Float] = []
    /// The sum over calls of the largest angle a centroid outside ``fastest`` turned by (rounded
    /// up), and the last call's largest distance moved.
    private var othersTurn: Float = 0
    private var lastMovement: Float = .infinity
    /// The centroids this call compares with every sample rather than count in the bound's growth:
    /// the ``fastestCount`` that moved furthest since the previous call (calls over every row only).
    /// The stored bounds cover every centroid but these.
    private var fastest: [Int32] = []
    /// The previous call's fastest centroids that are not among this call's: compared with every
    /// sample too, and taken into its bound, which then covers them again.
    private var leaving: [Int32] = []
    private let samples: Int

    // Pruning state, made on the first call.
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
    /// The centroids of the previous call.
    private var previousCentroids: [Float] = []
    /// Samples recomputed against all centroids so far, for benchmarks and tests.
    private(set) var fullComparisons = 0
    /// Similarities the group comparisons (test 2) or the target search computed so far, for
    /// benchmarks and tests (a full pass computes K per sample).
    private(set) var prunedComparisons = 0
    /// Samples the one-dot test (test 1) settled so far, for benchmarks and tests.
    private(set) var settledByBounds = 0
    /// Samples the target search's candidate check settled so far, for benchmarks and tests.
    private(set) var settledByCandidates = 0

    /// - Parameters:
    ///   - samples: N, the number of feature rows.
    ///   - centroids: K.
    ///   - pruning: keep bounds between calls (off gives the plain full pass every time, the
    ///     reference the pruned search is tested against).
    init(samples: Int, centroids: Int, pruning: Bool, threads: Int) {
        self.pruning = pruning
        self.threads = threads
        self.samples = samples
        searchesTargets = pruning && centroids >= Self.groupedFrom
        groupCount = pruning && !searchesTargets ? max(1, min(Self.largestGroupCount, centroids / 10)) : 0
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
        if searchesTargets {
            if previousCentroids.isEmpty {
                candidates = [Int32](repeating: -1, count: samples * Self.candidateCount)
                othersAngle = [Float](repeating: -.infinity, count: samples)
                fastest = []
                leaving = []
            } else {
                // Over every row, the fastest centroids are compared with every sample and the bounds
                // grow by the largest movement of the rest. A batch would leave the other rows' bounds
                // without the last fastest centroids: there every centroid counts, and after calls
                // over every row all bounds are dropped once.
                let previous = fastest
                (fastest, lastMovement) = Self.fastestCentroids(
                    rows == nil ? Self.fastestCount : 0, of: k, from: previousCentroids, to: centroids, d: d, threads: threads)
                leaving = rows == nil ? previous.filter { !fastest.contains($0) } : []
                if rows != nil && !previous.isEmpty {
                    othersAngle = [Float](repeating: -.infinity, count: samples)
                }
                othersTurn = (othersTurn + UnitAngle.turn(distance: lastMovement)).nextUp
            }
            previousCentroids = centroids
            var failing = [Bool](repeating: false, count: count)
            checkCandidates(rows: rows, count: count, features: features, centroids: centroids,
                            nearest: &nearest, similarity: &similarity, failing: &failing)
            let failed = failing.indices.filter { failing[$0] }
            settledByCandidates += count - failed.count
            if !failed.isEmpty {
                searchTargets(positions: failed, rows: rows, features: features, centroids: centroids, k: k,
                              nearest: &nearest, similarity: &similarity)
            }
            return (nearest, similarity)
        }
        guard pruning else {
            fullPass(positions: Array(0..<count), rows: rows, features: features, centroids: centroids, k: k,
                     nearest: &nearest, similarity: &similarity)
            return (nearest, similarity)
        }
        if previousCentroids.isEmpty {
            makeGroups(centroids: centroids, k: k, d: d)
        } else {
            measureMovement(from: previousCentroids, to: centroids, k: k, d: d)
        }
        previousCentroids = centroids
        var failing = [Bool](repeating: false, count: count)
        checkBounds(rows: rows, count: count, features: features, centroids: centroids, k: k,
                    nearest: &nearest, similarity: &similarity, failing: &failing)
        let failed = failing.indices.filter { failing[$0] }
        if !failed.isEmpty {
            fullPass(positions: failed, rows: rows, features: features, centroids: centroids, k: k,
                     nearest: &nearest, similarity: &similarity)
        }
        return (nearest, similarity)
    }

    /// Follows the feature rows to a new order: what it keeps of row `order[i]` becomes row i's, as
    /// ``FeatureMatrix/permuteRows(_:)`` moves the rows themselves. Each sample's answers depend only
    /// on its own history, so the search then gives every sample the answers it would have given it
    /// in the old order. O(N·(G + ``candidateCount``)) time and memory.
    ///
    /// Precondition: `order` is a permutation of the N rows, and calls name rows in the new order.
    mutating func permuteRows(_ order: [Int]) {
        precondition(order.count == samples, "an order of \(order.count) rows for \(samples) samples")
        func permuted<Element>(_ state: [Element], width: Int) -> [Element] {
            guard !state.isEmpty else { return state }
            var out = [Element]()
            out.reserveCapacity(state.count)
            for row in order { out += state[(row * width)..<((row + 1) * width)] }
            return out
        }
        bounds = permuted(bounds, width: groupCount)
        lastNearest = permuted(lastNearest, width: 1)
        candidates = permuted(candidates, width: Self.candidateCount)
        othersAngle = permuted(othersAngle, width: 1)
    }

    /// One ``NearestTargetSearch`` over the centroids: the same answers as the full pass (both follow
    /// ``NearestTargetSearch/nearestByDot(scores:count:query:targets:columns:)``). With many
    /// centroids, G ≤ 64 groups hold hundreds of centroids each, and in the early iterations, when
    /// every centroid moves, most samples would compare whole groups or go to the full pass: a search
    /// over the centroids regrouped each call measured faster (see BENCHMARKS.md).
    private mutating func searchTargets(positions: [Int], rows: [Int]?, features: FeatureMatrix, centroids: [Float],
                                        k: Int, nearest: inout [Int32], similarity: inout [Float]) {
        let targets = FeatureMatrix(rows: k, columns: features.columns, values: centroids)
        let searched = positions.map { rows?[$0] ?? $0 }
        // The group count is measured once, on the first centroids, for the widest search the calls
        // will make (it changes only the time); later groupings start from the last one's centres
        // (the centroids move little per call).
        let search: NearestTargetSearch
        if let earlier = targetCentres {
            search = NearestTargetSearch(targets: targets, startingFrom: earlier, threads: threads)
        } else {
            search = NearestTargetSearch.tuned(targets: targets, queries: features, rows: searched,
                                               slack: Self.largestSlack, threads: threads).search
        }
        // A bound that the next movements would break at once is not worth the wider search.
        let wanted = Self.slackPerMovement * lastMovement
        let slack = wanted <= Self.largestSlack ? wanted : 0
        let m = Self.candidateCount
        // Every row in order needs no gathering.
        let everyRow = rows == nil && positions.count == features.rows
        let answer = search.nearest(features, rows: everyRow ? nil : searched, keeping: m, slack: slack, threads: threads)
        targetCentres = search.groupCentres
        for (i, position) in positions.enumerated() {
            nearest[position] = answer.index[i]
            similarity[position] = answer.similarity[i]
            let row = searched[i]
            candidates.replaceSubrange((row * m)..<((row + 1) * m), with: answer.candidates[(i * m)..<((i + 1) * m)])
            othersAngle[row] = UnitAngle.stored(similarity: answer.othersBound[i], turned: othersTurn)
        }
        prunedComparisons += answer.comparisons
    }

    /// The distance each centroid moved from `old` to `new` (K×d, row-major), rounded up: a bound on
    /// how much its similarity to any unit sample changed. Each is one sum in double in the order of
    /// the columns; chunks of centroids run in parallel. O(K·d).
    static func movements(from old: [Float], to new: [Float], d: Int, threads: Int) -> [Float] {
        let k = new.count / d, chunkRows = 64
        var moved = [Float](repeating: 0, count: k)
        withSharedPointers(&moved) { moved in
            old.withUnsafeBufferPointer { old in
                new.withUnsafeBufferPointer { new in
                    let (from, to) = (ReadOnlyPointer(base: old.baseAddress!), ReadOnlyPointer(base: new.baseAddress!))
                    ParallelChunks.run(chunks: (k + chunkRows - 1) / chunkRows, threads: threads) { chunk in
                        for c in (chunk * chunkRows)..<min(k, (chunk + 1) * chunkRows) {
                            var sum = 0.0
                            for j in (c * d)..<((c + 1) * d) {
                                let delta = Double(to.base[j]) - Double(from.base[j])
                                sum += delta * delta
                            }
                            // Enlarged a little: features are unit only up to float rounding.
                            moved.base[c] = Float(sum.squareRoot() * (1 + 1e-6)).nextUp
                        }
                    }
                }
            }
        }
        return moved
    }

    /// The `count` centroids (of `k`) that moved furthest from `old` to `new`, fastest first (ties to
    /// the lower index), and the largest movement of all the others. O(K·d + K·log count), with a
    /// bounded heap (``BoundedBest``).
    static func fastestCentroids(_ count: Int, of k: Int, from old: [Float], to new: [Float], d: Int,
                                 threads: Int = 1) -> (fastest: [Int32], restMovement: Float) {
        let count = min(count, k - 1)
        let moved = movements(from: old, to: new, d: d, threads: threads)
        var best = BoundedBest(capacity: count + 1)
        for c in 0..<k { best.offer(row: c, similarity: moved[c]) }
        let ranked = best.sortedBestFirst()
        return (ranked.prefix(count).map { Int32($0.row) }, ranked.last?.similarity ?? 0)
    }

    /// Settles each sample whose candidates, compared again, hold a centroid that beats every other
    /// candidate, the ``fastest`` and ``leaving`` centroids and the bound on the rest by the margin;
    /// marks the others failing. A centroid that turns by Δ comes at most Δ closer to a unit sample
    /// (``UnitAngle``), so the rest's angle bound has shrunk by the largest turn outside ``fastest``
    /// this call (it never covered the fastest; those leaving them are compared now and taken into a
    /// settled sample's bound, which covers them from now on). O(N·(M + F)·d) for F compared centroids (one
    /// sgemm per block of rows), blocks of rows in parallel.
    private mutating func checkCandidates(rows: [Int]?, count: Int, features: FeatureMatrix, centroids: [Float],
                                          nearest: inout [Int32], similarity: inout [Float], failing: inout [Bool]) {
        let d = features.columns, m = Self.candidateCount, margin = Self.margin, turned = othersTurn
        // The compared centroids: the fastest, then those leaving them (taken into the bounds).
        let compared = fastest + leaving, f = compared.count, leavingFrom = fastest.count
        // Each compared centroid's column in the block's scores (−1: not compared), so a row skips
        // its candidates with M look-ups.
        var columnOf = [Int32](repeating: -1, count: f > 0 ? centroids.count / d : 0)
        for (i, c) in compared.enumerated() { columnOf[Int(c)] = Int32(i) }
        let column = columnOf
        let blockRows = Self.blockRows
        precondition(f == 0 || rows == nil, "the fastest centroids are compared over every row only")
        let blocks = (count + blockRows - 1) / blockRows
        var fastRows = [Float]()
        fastRows.reserveCapacity(f * d)
        for c in compared { fastRows += centroids[(Int(c) * d)..<((Int(c) + 1) * d)] }
        withSharedPointers(&nearest, &similarity, &failing) { nearest, similarity, failing in
            withSharedPointers(&othersAngle) { bound in
                features.values.withUnsafeBufferPointer { x in
                    centroids.withUnsafeBufferPointer { c in
                        candidates.withUnsafeBufferPointer { kept in
                            fastRows.withUnsafeBufferPointer { fast in
                                let input = CandidateInputs(x: x.baseAddress!, c: c.baseAddress!, kept: kept.baseAddress!,
                                                            fast: fast.baseAddress)
                                ParallelChunks.run(chunks: blocks, threads: threads, makeScratch: {
                                    OwnedBuffer<Float>(capacity: blockRows * f)
                                }) { block, fastScores in
                                    let first = block * blockRows, n = min(count, first + blockRows) - first
                                    if f > 0 {
                                        BLAS.multiplyTransposed(m: n, n: f, k: d, a: input.x + first * d, lda: d,
                                                                b: input.fast!, ldb: d, c: fastScores.base, ldc: f)
                                    }
                                    for position in first..<(first + n) {
                                        let row = rows?[position] ?? position
                                        // The angle bound on the rest, now.
                                        let rest = bound.base[row] - turned
                                        guard rest > -.infinity else {
                                            failing.base[position] = true
                                            continue
                                        }
                                        var best: Int32 = -1, bestValue = -Float.infinity, rival = -Float.infinity
                                        for i in 0..<m {
                                            let candidate = input.kept[row * m + i]
                                            guard candidate >= 0 else { break }
                                            let value = dot(input.x + row * d, input.c + Int(candidate) * d, count: d)
                                            if value > bestValue {
                                                rival = max(rival, bestValue)
                                                best = candidate
                                                bestValue = value
                                            } else {
                                                rival = max(rival, value)
                                            }
                                        }
                                        // The compared centroids that are not candidates (the candidates'
                                        // columns blanked first; each row's scores are read once).
                                        let scores = fastScores.base + (position - first) * f
                                        if f > 0 {
                                            for i in 0..<m {
                                                let candidate = input.kept[row * m + i]
                                                guard candidate >= 0 else { break }
                                                let j = column[Int(candidate)]
                                                if j >= 0 { scores[Int(j)] = -.infinity }
                                            }
                                        }
                                        for i in 0..<leavingFrom { rival = max(rival, scores[i]) }
                                        var leavingValue = -Float.infinity
                                        for i in leavingFrom..<f { leavingValue = max(leavingValue, scores[i]) }
                                        rival = max(rival, leavingValue)
                                        // The rest are below best − margin when their angle bound exceeds
                                        // acos(best − margin).
                                        if best >= 0 && bestValue > rival + margin
                                            && rest > UnitAngle.above(similarity: bestValue - margin) {
                                            nearest.base[position] = best
                                            similarity.base[position] = bestValue
                                            if leavingValue > -.infinity {
                                                bound.base[row] = min(bound.base[row],
                                                                      UnitAngle.stored(similarity: leavingValue, turned: turned))
                                            }
                                        } else {
                                            failing.base[position] = true
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
        let moved = Self.movements(from: old, to: new, d: d, threads: threads)
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
        let d = features.columns, g = groupCount, blockRows = Self.blockRows
        let blocks = (count + blockRows - 1) / blockRows
        let compared = ChunkResults<(similarities: Int, settled: Int)>(count: blocks)
        let groups = GroupLayout(groupOf: groupOf, members: members, start: groupStart, totalTurn: totalTurn)
        let largestCompared = Int(Self.groupCompareShare * Double(k))
        let largestGroup = (0..<g).map { groupStart[$0 + 1] - groupStart[$0] }.max() ?? 1
        // The centroids in group order: each group's members contiguous, one sgemm operand.
        var ordered = [Float]()
        ordered.reserveCapacity(k * d)
        for c in members { ordered += centroids[(Int(c) * d)..<((Int(c) + 1) * d)] }
        withSharedPointers(&nearest, &similarity, &failing) { nearest, similarity, failing in
            withSharedPointers(&bounds, &lastNearest) { bounds, lastNearest in
                features.values.withUnsafeBufferPointer { x in
                    centroids.withUnsafeBufferPointer { c in
                        ordered.withUnsafeBufferPointer { o in
                            let check = BoundCheck(features: x.baseAddress!, centroids: c.baseAddress!,
                                                   ordered: o.baseAddress!, rows: rows, columns: d, groups: groups,
                                                   largestCompared: largestCompared, bounds: bounds.base,
                                                   lastNearest: lastNearest.base, nearest: nearest.base,
                                                   similarity: similarity.base, failing: failing.base)
                            ParallelChunks.run(chunks: blocks, threads: threads, makeScratch: {
                                CompareScratch(rows: blockRows, groups: g, columns: d, largestGroup: largestGroup)
                            }) { block, scratch in
                                let positions = (block * blockRows)..<min(count, (block + 1) * blockRows)
                                let computed = check.run(positions: positions, scratch: scratch)
                                compared.set(block, computed)
                            }
                        }
                    }
                }
            }
        }
        prunedComparisons += compared.values.reduce(0) { $0 + $1.similarities }
        settledByBounds += compared.values.reduce(0) { $0 + $1.settled }
    }

    /// Compares the samples at `positions` with every centroid (blocked sgemm, blocks in parallel);
    /// with pruning, also retakes their bounds.
    private mutating func fullPass(positions: [Int], rows: [Int]?, features: FeatureMatrix, centroids: [Float],
                                   k: Int, nearest: inout [Int32], similarity: inout [Float]) {
        let d = features.columns, g = groupCount
        let blockRows = Self.blockRows
        fullComparisons += positions.count
        let blocks = (positions.count + blockRows - 1) / blockRows
        let groups = GroupLayout(groupOf: groupOf, members: members, start: groupStart, totalTurn: totalTurn)
        withSharedPointers(&nearest, &similarity) { output0, output1 in
            let output = (nearest: output0, similarity: output1)
            withSharedPointers(&bounds, &lastNearest) { state0, state1 in
                let state = (bounds: state0, lastNearest: state1)
                features.values.withUnsafeBufferPointer { x in
                    centroids.withUnsafeBufferPointer { c in
                        let input = CheckInputs(x: x.baseAddress!, c: c.baseAddress!)
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
                                    if g > 0 {
                                        groups.storeBounds(scores: rowScores, excluding: best,
                                                           into: state.bounds.base + row * g)
                                        state.lastNearest.base[row] = Int32(best)
                                    }
                                    output.nearest.base[position] = Int32(best)
                                    // The bound test's dot product, so both paths report identical values.
                                    output.similarity.base[position] = dot(input.x + row * d, input.c + best * d, count: d)
                                }
                            }
                        }
                    }
                }
            }
        }
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
        let margin = NearestCentroidSearch.margin
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
        guard bestValue > rival + NearestCentroidSearch.margin else { return nil }
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

/// Read-only inputs of the candidate checks, shared by their parallel chunks.
private struct CandidateInputs: @unchecked Sendable {
    let x: UnsafePointer<Float>
    let c: UnsafePointer<Float>
    let kept: UnsafePointer<Int32>
    /// The fastest centroids' rows (nil when there are none).
    let fast: UnsafePointer<Float>?
}

/// Read-only inputs of the searches, shared by their parallel chunks.
private struct CheckInputs: @unchecked Sendable {
    let x: UnsafePointer<Float>
    let c: UnsafePointer<Float>
}
