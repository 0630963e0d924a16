import Foundation
import Numerics
@testable import Selection
import Testing

/// The grouped nearest-target search against a direct recomputation (every pair, in double), and
/// by its properties: ties, thread counts, group counts, and how much it prunes.
@Suite struct NearestTargetSearchTests {
    /// Unit rows around `clusters` random centres (`spread` 0: the centres themselves).
    func clustered(seed: UInt64, rows: Int, columns: Int, clusters: Int, spread: Double) -> FeatureMatrix {
        var generator = SeededGenerator(seed: seed)
        let centres = RandomProblem.features(rows: clusters, columns: columns, generator: &generator)
        var values: [Float] = []
        for _ in 0..<rows {
            let c = Int.random(in: 0..<clusters, using: &generator)
            for j in 0..<columns {
                values.append(centres.values[c * columns + j] + Float(RandomProblem.gaussian(&generator) * spread))
            }
        }
        return FeatureMatrix(rows: rows, columns: columns, values: values).normalizedRows()
    }

    /// Every query's largest similarity over all targets, in double, and the first target reaching
    /// it: the slow direct answer.
    func direct(_ queries: FeatureMatrix, _ targets: FeatureMatrix) -> [(index: Int, similarity: Double)] {
        let d = queries.columns
        return (0..<queries.rows).map { q in
            var best = -Double.infinity, index = -1
            for t in 0..<targets.rows {
                var s = 0.0
                for j in 0..<d { s += Double(queries.values[q * d + j]) * Double(targets.values[t * d + j]) }
                if s > best { best = s; index = t }
            }
            return (index, best)
        }
    }

    /// The search's answers against the direct ones: the same target unless another one is within
    /// float rounding (tight clusters have such near-ties), and the similarity within rounding of
    /// the largest.
    func expectMatchesDirect(_ queries: FeatureMatrix, _ targets: FeatureMatrix, groups: Int? = nil,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        let search = NearestTargetSearch(targets: targets, groups: groups, threads: 2)
        let found = search.nearest(queries, threads: 2)
        let expected = direct(queries, targets)
        let d = queries.columns
        for q in 0..<queries.rows {
            let (index, similarity) = expected[q]
            #expect(found.similarity[q].isApproximatelyEqual(to: Float(similarity), absoluteTolerance: 1e-5),
                    "query \(q): \(found.similarity[q]) vs \(similarity)", sourceLocation: sourceLocation)
            if Int(found.index[q]) != index {
                // Only a target equally similar within rounding may stand in for the direct one.
                var s = 0.0
                let t = Int(found.index[q])
                for j in 0..<d { s += Double(queries.values[q * d + j]) * Double(targets.values[t * d + j]) }
                #expect(abs(s - similarity) < 1e-5, "query \(q): target \(t) (\(s)) instead of \(index) (\(similarity))",
                        sourceLocation: sourceLocation)
            }
        }
        #expect(found.comparisons <= queries.rows * targets.rows, sourceLocation: sourceLocation)
    }

    @Test(arguments: [(UInt64(1), 200, 0.1), (2, 1000, 0.3), (3, 50, 1.0)])
    func clusteredTargetsMatchTheDirectAnswer(seed: UInt64, targetCount: Int, spread: Double) {
        let pool = clustered(seed: seed, rows: 3000, columns: 32, clusters: 12, spread: spread)
        var generator = SeededGenerator(seed: seed + 100)
        let targets = pool.selecting(rows: generator.distinctIndices(count: targetCount, from: pool.rows))
        expectMatchesDirect(pool, targets)
    }

    /// Uniformly spread targets: the bounds rule out little, the answer must still be exact.
    @Test func unclusteredTargetsMatchTheDirectAnswer() {
        var generator = SeededGenerator(seed: 7)
        let queries = RandomProblem.features(rows: 1500, columns: 16, generator: &generator).normalizedRows()
        let targets = RandomProblem.features(rows: 300, columns: 16, generator: &generator).normalizedRows()
        expectMatchesDirect(queries, targets)
    }

    @Test(arguments: [1, 2, 7, 300])
    func everyGroupCountGivesTheSameAnswer(groups: Int) {
        let pool = clustered(seed: 4, rows: 1200, columns: 24, clusters: 8, spread: 0.2)
        var generator = SeededGenerator(seed: 5)
        let targets = pool.selecting(rows: generator.distinctIndices(count: 300, from: pool.rows))
        expectMatchesDirect(pool, targets, groups: groups)
        let reference = NearestTargetSearch(targets: targets, threads: 1).nearest(pool, threads: 1)
        let other = NearestTargetSearch(targets: targets, groups: groups, threads: 1).nearest(pool, threads: 1)
        #expect(other.index == reference.index)
    }

    /// A single target, and a target set where the queries are the targets (similarity 1 to itself).
    @Test func edgeCases() {
        let pool = clustered(seed: 8, rows: 500, columns: 8, clusters: 3, spread: 0.5)
        let one = NearestTargetSearch(targets: pool.selecting(rows: [17]), threads: 1).nearest(pool, threads: 1)
        #expect(one.index.allSatisfy { $0 == 0 })
        #expect(one.comparisons == pool.rows)
        let selfSearch = NearestTargetSearch(targets: pool, threads: 2).nearest(pool, threads: 2)
        for q in 0..<pool.rows {
            #expect(selfSearch.similarity[q].isApproximatelyEqual(to: 1, absoluteTolerance: 1e-5))
        }
    }

    /// Duplicated targets: the lower index wins, as in the dense argmax.
    @Test func tiesGoToTheLowerTarget() {
        let pool = clustered(seed: 9, rows: 800, columns: 12, clusters: 4, spread: 0.3)
        var generator = SeededGenerator(seed: 10)
        let picked = generator.distinctIndices(count: 40, from: pool.rows)
        // Targets 0..<40 and 40..<80 are the same rows; 80..<120 the same again.
        let targets = pool.selecting(rows: picked + picked + picked)
        let found = NearestTargetSearch(targets: targets, threads: 2).nearest(pool, threads: 2)
        #expect(found.index.allSatisfy { $0 < 40 })
        let unique = NearestTargetSearch(targets: pool.selecting(rows: picked), threads: 2).nearest(pool, threads: 2)
        #expect(found.index == unique.index)
        for (a, b) in zip(found.similarity, unique.similarity) { #expect(a.isApproximatelyEqual(to: b, absoluteTolerance: 1e-6)) }
    }

    @Test func identicalForEveryThreadCount() {
        let pool = clustered(seed: 11, rows: 9000, columns: 20, clusters: 10, spread: 0.25)
        var generator = SeededGenerator(seed: 12)
        let targets = pool.selecting(rows: generator.distinctIndices(count: 400, from: pool.rows))
        let search = NearestTargetSearch(targets: targets, threads: 1)
        let one = search.nearest(pool, threads: 1)
        for threads in [2, 3, 5] {
            let many = NearestTargetSearch(targets: targets, threads: threads).nearest(pool, threads: threads)
            #expect(many.index == one.index)
            #expect(many.similarity == one.similarity)
            #expect(many.comparisons == one.comparisons)
        }
    }

    /// On well-separated clusters the groups' bounds rule out most targets (the point of the search).
    @Test func separatedClustersArePruned() {
        let pool = clustered(seed: 13, rows: 6000, columns: 64, clusters: 20, spread: 0.05)
        var generator = SeededGenerator(seed: 14)
        let targets = pool.selecting(rows: generator.distinctIndices(count: 1000, from: pool.rows))
        let found = NearestTargetSearch(targets: targets, threads: 2).nearest(pool, threads: 2)
        let ratio = Double(found.comparisons) / Double(pool.rows * targets.rows)
        #expect(ratio < 0.2, "computed \(ratio) of all pairs")
        expectMatchesDirect(pool, targets)
    }

    /// The dense rule, applied to every query's sgemm similarities to all targets.
    func dense(_ queries: FeatureMatrix, _ targets: FeatureMatrix) -> [Int32] {
        let d = queries.columns
        return BlockedSimilarity.rowwise(queries, targets, threads: 1) { row, scores in
            queries.values.withUnsafeBufferPointer { q in
                targets.values.withUnsafeBufferPointer { t in
                    Int32(NearestTargetSearch.nearestByDot(scores: scores.baseAddress!, count: scores.count,
                                                           query: q.baseAddress! + row * d, targets: t.baseAddress!,
                                                           columns: d))
                }
            }
        }
    }

    /// Bit for bit the dense rule, on tight clusters full of near-ties, with few and many groups;
    /// a subset of rows gets the answers of those rows of the whole.
    @Test(arguments: [0.01, 0.15])
    func equalsTheDenseRuleAndRowSubsets(spread: Double) {
        let pool = clustered(seed: 15, rows: 2500, columns: 16, clusters: 10, spread: spread)
        var generator = SeededGenerator(seed: 16)
        let targets = pool.selecting(rows: generator.distinctIndices(count: 300, from: pool.rows))
        let expected = dense(pool, targets)
        let d = pool.columns
        for groups in [nil, 3, 300] {
            let all = NearestTargetSearch(targets: targets, groups: groups, threads: 2).nearest(pool, threads: 2)
            #expect(all.index == expected)
            for q in [0, 1234, 2499] {
                let value = pool.values.withUnsafeBufferPointer { p in
                    targets.values.withUnsafeBufferPointer { t in
                        dot(p.baseAddress! + q * d, t.baseAddress! + Int(expected[q]) * d, count: d)
                    }
                }
                #expect(all.similarity[q] == value)
            }
        }
        let search = NearestTargetSearch(targets: targets, threads: 2)
        let rows = generator.distinctIndices(count: 700, from: pool.rows)
        let subset = search.nearest(pool, rows: rows, threads: 3)
        #expect(subset.index == rows.map { expected[$0] })
    }

    /// The vectorised row scans against direct loops: every length from 1 to 40 (whole 16-lane steps
    /// and tails), values with repeats (ties), and bounds that must be the closed form.
    @Test func rowScansMatchDirectLoops() {
        var generator = SeededGenerator(seed: 11)
        for count in 1...40 {
            // Values on a coarse grid so that ties are common.
            let values = (0..<count).map { _ in Float(Int.random(in: -4...4, using: &generator)) / 4 }
            let largest = values.max()!
            let threshold = Float(Int.random(in: -4...4, using: &generator)) / 4
            values.withUnsafeBufferPointer { row in
                #expect(NearestTargetSearch.firstLargest(row.baseAddress!, count: count)
                        == values.firstIndex(of: largest)!, "count \(count)")
                var passing: [Int] = []
                NearestTargetSearch.forEachAtLeast(threshold, row.baseAddress!, count: count) { passing.append($0) }
                #expect(passing == values.indices.filter { values[$0] >= threshold }, "count \(count)")
            }
            let radius = (0..<count).map { _ in Double.random(in: 0...Double.pi, using: &generator) }
            let cosines = radius.map { Float(cos($0)) }, sines = radius.map { Float(sin($0)) }
            let similarities = (0..<count).map { _ in Float.random(in: -1.01...1.01, using: &generator) }
            var bounds = similarities
            bounds.withUnsafeMutableBufferPointer { row in
                NearestTargetSearch.angularBounds(row.baseAddress!, count: count, radiusCosine: cosines,
                                                  radiusSine: sines)
            }
            for g in 0..<count {
                // cos(max(0, θ − ρ)) for θ = acos of the clamped similarity.
                let theta = acos(Double(min(1, max(-1, similarities[g]))))
                let expected = cos(max(0, theta - radius[g]))
                #expect(Double(bounds[g]).isApproximatelyEqual(to: expected, absoluteTolerance: 1e-5),
                        "group \(g) of \(count): \(bounds[g]) vs \(expected)")
            }
        }
    }

    /// The reverse search against a direct recomputation: every row at or above a target's threshold
    /// (in double, with room for float rounding) is listed, none far below it, rows ascending, and
    /// the lists are the same for every thread count.
    @Test(arguments: [(UInt64(21), 0.1), (22, 0.4)])
    func rowsReachingListsEveryRowAtTheThreshold(seed: UInt64, spread: Double) {
        let queries = clustered(seed: seed, rows: 2500, columns: 12, clusters: 12, spread: spread)
        let targets = clustered(seed: seed + 1, rows: 90, columns: 12, clusters: 12, spread: spread)
        var generator = SeededGenerator(seed: seed + 2)
        // Thresholds between a target's 5th and 200th best similarity; one target never listed.
        let d = queries.columns
        func similarity(_ q: Int, _ t: Int) -> Double {
            (0..<d).reduce(0.0) { $0 + Double(queries.values[q * d + $1]) * Double(targets.values[t * d + $1]) }
        }
        var thresholds = (0..<targets.rows).map { t -> Float in
            let sorted = (0..<queries.rows).map { similarity($0, t) }.sorted(by: >)
            return Float(sorted[Int.random(in: 4...199, using: &generator)])
        }
        thresholds[7] = .infinity
        let search = NearestTargetSearch(targets: targets, threads: 2)
        let lists = search.rowsReaching(thresholds, queries: queries, threads: 2)
        #expect(search.rowsReaching(thresholds, queries: queries, threads: 1) == lists)
        #expect(lists[7].isEmpty)
        for t in 0..<targets.rows {
            let listed = Set(lists[t].map(Int.init))
            #expect(lists[t] == lists[t].sorted(), "target \(t)")
            for q in 0..<queries.rows {
                let s = similarity(q, t)
                if s >= Double(thresholds[t]) + 1e-5 { #expect(listed.contains(q), "target \(t), row \(q)") }
                if listed.contains(q) { #expect(s >= Double(thresholds[t]) - 2e-4, "target \(t), row \(q)") }
            }
        }
    }

    /// Keeping candidates (with or without slack) never changes the answers; the candidates are
    /// distinct targets, and no other target's similarity exceeds the bound (direct recomputation
    /// in double, up to rounding); a slack leaves the bound further below the best.
    @Test(arguments: [(Float(0), 1), (0.05, 4)])
    func keptCandidatesBoundEveryOtherTarget(slack: Float, keeping: Int) {
        let targets = clustered(seed: 31, rows: 400, columns: 12, clusters: 8, spread: 0.2)
        let queries = clustered(seed: 32, rows: 1500, columns: 12, clusters: 8, spread: 0.25)
        let search = NearestTargetSearch(targets: targets, groups: 30, threads: 2)
        let plain = search.nearest(queries, threads: 2)
        let kept = search.nearest(queries, keeping: keeping, slack: slack, threads: 2)
        #expect(kept.index == plain.index && kept.similarity == plain.similarity)
        #expect(kept.candidates.count == 1500 * keeping && kept.othersBound.count == 1500)
        let d = targets.columns
        var gapSum = 0.0
        for q in 0..<queries.rows {
            let list = kept.candidates[(q * keeping)..<((q + 1) * keeping)].filter { $0 >= 0 }
            #expect(Set(list).count == list.count && list.allSatisfy { $0 < 400 })
            #expect(list.first == kept.index[q] || keeping == 1 || list.contains(kept.index[q]),
                    "query \(q): answer \(kept.index[q]) not among \(list)")
            var largestOther = -Double.infinity
            for t in 0..<targets.rows where !list.contains(Int32(t)) {
                var s = 0.0
                for j in 0..<d { s += Double(queries.values[q * d + j]) * Double(targets.values[t * d + j]) }
                largestOther = max(largestOther, s)
            }
            #expect(largestOther <= Double(kept.othersBound[q]) + 1e-5,
                    "query \(q): a target at \(largestOther) above the bound \(kept.othersBound[q])")
            gapSum += Double(kept.similarity[q]) - Double(kept.othersBound[q])
        }
        if slack > 0 {
            #expect(gapSum / Double(queries.rows) > Double(slack) / 2, "mean gap \(gapSum / Double(queries.rows))")
        }
    }

    /// Groups started from an earlier search's centres: after the targets moved, the answers are the
    /// dense rule's bit for bit and the kept candidates' bound still covers every other target; on
    /// unmoved targets a converged grouping is its own start (the same centres back).
    @Test func groupsStartedFromEarlierCentresGiveTheDenseAnswers() {
        let pool = clustered(seed: 41, rows: 2000, columns: 16, clusters: 10, spread: 0.15)
        var generator = SeededGenerator(seed: 42)
        let targets = pool.selecting(rows: generator.distinctIndices(count: 300, from: pool.rows))
        let first = NearestTargetSearch(targets: targets, groups: 40, threads: 2)
        let again = NearestTargetSearch(targets: targets, startingFrom: first.groupCentres, threads: 1)
        #expect(again.groupCentres.values == first.groupCentres.values)
        let moved = FeatureMatrix(rows: targets.rows, columns: targets.columns, values: targets.values.map {
            $0 + Float(RandomProblem.gaussian(&generator) * 0.02)
        }).normalizedRows()
        let warm = NearestTargetSearch(targets: moved, startingFrom: first.groupCentres, threads: 2)
        #expect(warm.groupCount > 0 && warm.groupCount <= first.groupCount)
        let answer = warm.nearest(pool, keeping: 4, slack: 0.03, threads: 2)
        #expect(answer.index == dense(pool, moved))
        let d = pool.columns
        for q in stride(from: 0, to: pool.rows, by: 7) {
            let list = answer.candidates[(q * 4)..<((q + 1) * 4)]
            for t in 0..<moved.rows where !list.contains(Int32(t)) {
                var s = 0.0
                for j in 0..<d { s += Double(pool.values[q * d + j]) * Double(moved.values[t * d + j]) }
                #expect(s <= Double(answer.othersBound[q]) + 1e-5, "query \(q), target \(t)")
            }
        }
    }

    /// The tuner picks, among ⌈c·√K⌉ groups (c = 1, 2, 4, 8), the fewest centre similarities plus
    /// comparisons on its 2,048 sample rows searched with the slack it is given (ties: fewer groups).
    @Test(arguments: [Float(0), 0.03])
    func tunerMinimisesTheCostAtItsSlack(slack: Float) {
        let pool = clustered(seed: 51, rows: 3000, columns: 16, clusters: 40, spread: 0.1)
        var generator = SeededGenerator(seed: 52)
        let targets = pool.selecting(rows: generator.distinctIndices(count: 400, from: pool.rows))
        let (search, groups) = NearestTargetSearch.tuned(targets: targets, queries: pool, slack: slack, threads: 2)
        let sample = (0..<2048).map { $0 * pool.rows / 2048 }
        let costs = [20, 40, 80, 160].map { g in
            let candidate = NearestTargetSearch(targets: targets, groups: g, threads: 1)
            return (groups: g, cost: candidate.nearest(pool, rows: sample, slack: slack, threads: 1).comparisons
                + sample.count * candidate.groupCount)
        }
        #expect(groups == costs.min { $0.cost < $1.cost }!.groups, "\(costs)")
        #expect(search.groupCount <= groups)
    }
}
