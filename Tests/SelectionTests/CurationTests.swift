import Foundation
@testable import Selection
import Testing

/// Balance quotas, the near-duplicate pairs and leader rule, and curation around any method.
@Suite struct CurationTests {
    // MARK: Quotas

    /// α = 1 is proportional to size and α = 0 equal shares, exactly when the shares are whole.
    @Test func quotasAreProportionalAtAlphaOneAndEqualAtZero() {
        #expect(GroupQuotas.quotas(sizes: [500, 300, 200], budget: 50, alpha: 1) == [25, 15, 10])
        #expect(GroupQuotas.quotas(sizes: [500, 300, 200], budget: 60, alpha: 0) == [20, 20, 20])
        // √ sizes: 4, 2, 1 of 7 → 28 of 49 × 4/7 …
        #expect(GroupQuotas.quotas(sizes: [64, 16, 4], budget: 14, alpha: 0.5) == [8, 4, 2])
    }

    /// A group smaller than its share gives it all and the rest is shared again; every group gets at
    /// least one when K ≥ G; the quotas always total K and never exceed a group's size.
    @Test func quotasAreCappedAtLeastOneAndTotalTheBudget() {
        #expect(GroupQuotas.quotas(sizes: [3, 100, 100], budget: 30, alpha: 0) == [3, 14, 13])
        #expect(GroupQuotas.quotas(sizes: [1000, 2, 1], budget: 10, alpha: 1) == [8, 1, 1])
        #expect(GroupQuotas.quotas(sizes: [1000, 2, 1], budget: 2, alpha: 1) == [2, 0, 0])
        var generator = SeededGenerator(seed: 9)
        for _ in 0..<300 {
            let g = Int.random(in: 1...12, using: &generator)
            let sizes = (0..<g).map { _ in Int.random(in: 1...50, using: &generator) }
            let budget = Int.random(in: 0...sizes.reduce(0, +), using: &generator)
            let alpha = [0, 0.5, 1, 2][Int.random(in: 0..<4, using: &generator)]
            let quotas = GroupQuotas.quotas(sizes: sizes, budget: budget, alpha: alpha)
            #expect(quotas.reduce(0, +) == budget)
            #expect(zip(quotas, sizes).allSatisfy { $0 >= 0 && $0 <= $1 })
            if budget >= g { #expect(quotas.allSatisfy { $0 >= 1 }, "\(sizes) \(budget) \(alpha) → \(quotas)") }
        }
    }

    // MARK: Near-duplicates

    /// A pool with planted near-copies: rows 0..<40 copied (plus noise) to 40..<80, in clusters.
    static func poolWithCopies() -> FeatureMatrix {
        let base = MethodRegistryTests.pool(rows: 400, columns: 24, seed: 5)
        var values = base.values
        var generator = SeededGenerator(seed: 2)
        for row in 40..<80 {
            for j in 0..<24 {
                values[row * 24 + j] = values[(row - 40) * 24 + j] + Float(Double(generator.next() >> 11) * 0x1p-53 - 0.5) * 0.01
            }
        }
        return FeatureMatrix(rows: 400, columns: 24, values: values)
    }

    /// The pruned pairs equal every pair a direct double-precision scan finds at several thresholds and
    /// group counts, and do not depend on the thread count.
    @Test(arguments: [0.999, 0.95, 0.8])
    func similarPairsEqualTheDirectScan(threshold: Double) {
        let unit = Self.poolWithCopies().normalizedRows()
        var expected: [[Int]] = []
        for i in 0..<unit.rows {
            for j in (i + 1)..<unit.rows {
                let s = (0..<24).reduce(0.0) { $0 + Double(unit.values[i * 24 + $1]) * Double(unit.values[j * 24 + $1]) }
                // Pairs within float rounding of the threshold are left out of the comparison.
                if abs(s - threshold) < 1e-5 { expected.append([-1]) }
                if s >= threshold { expected.append([i, j]) }
            }
        }
        let ambiguous = expected.contains([-1])
        expected.removeAll { $0 == [-1] }
        for groups in [1, 7, 40] {
            for threads in [1, 3] {
                let found = SimilarPairs.find(unit, atLeast: Float(threshold), groups: groups, threads: threads).map { [Int($0.i), Int($0.j)] }
                if !ambiguous { #expect(found == expected, "G = \(groups), \(threads) threads") }
                #expect(found == SimilarPairs.find(unit, atLeast: Float(threshold), threads: 2).map { [Int($0.i), Int($0.j)] })
            }
        }
        if threshold == 0.999 { #expect(expected.count >= 40) }
    }

    /// The leader rule against a direct recomputation: in order, a row is dropped when a kept earlier
    /// row is a near-duplicate; labelled rows come first and are never dropped.
    @Test func nearDuplicatesFollowTheLeaderRule() {
        let pool = Self.poolWithCopies()
        let unit = pool.normalizedRows()
        let labelled = [45, 300]
        let found = NearDuplicates.find(in: pool, rows: Array(0..<400), labelled: labelled, threshold: 0.99, threads: 2)
        func similarity(_ i: Int, _ j: Int) -> Float {
            unit.values.withUnsafeBufferPointer { dot($0.baseAddress! + i * 24, $0.baseAddress! + j * 24, count: 24) }
        }
        var kept: [Int] = labelled
        var expected: [NearDuplicates.Dropped] = []
        for row in 0..<400 where !labelled.contains(row) {
            if let first = kept.first(where: { similarity($0, row) >= 0.99 }) {
                expected.append(.init(row: row, representative: first, similarity: similarity(first, row)))
            } else {
                kept.append(row)
            }
        }
        #expect(found.dropped == expected.sorted { $0.row < $1.row })
        #expect(found.dropped.contains { $0.row == 5 && $0.representative == 45 }, "row 5's copy 45 is labelled: 5 is dropped")
        #expect(!found.dropped.contains { labelled.contains($0.row) })
        #expect(found.dropped.count >= 39)
    }

    // MARK: Curation around a method

    static func run(_ curation: Curation, _ problem: SelectionProblem, method: ConfiguredMethod = KMeansSelection.withDefaults)
        throws -> CuratedSelection {
        var context = SelectionContext(seed: 3, threads: 2)
        return try curation.select(problem, method: method, context: &context)
    }

    /// Filter and dedup: every pick is a candidate and none a dropped duplicate; a budget above the
    /// candidates left is refused, naming the stages.
    @Test func filterAndDedupRestrictThePicks() throws {
        let pool = Self.poolWithCopies()
        let candidates = (0..<400).map { $0 % 2 == 0 }
        let curated = try Self.run(Curation(candidates: candidates, dedupThreshold: 0.99), SelectionProblem(pool: pool, budget: 30))
        let dropped = Set(curated.duplicates!.dropped.map(\.row))
        #expect(curated.result.picks.count == 30)
        #expect(curated.result.picks.allSatisfy { candidates[$0.row] && !dropped.contains($0.row) })
        #expect(curated.candidateCount == 200 - dropped.count && !dropped.isEmpty)
        #expect(throws: SelectionError.fewerCandidatesThanBudget(budget: 201, candidates: 200, after: "the filter")) {
            try Self.run(Curation(candidates: candidates), SelectionProblem(pool: pool, budget: 201))
        }
    }

    /// A parameter naming pool rows would point at other rows in a restricted problem: refused.
    @Test func parametersNamingPoolRowsAreRefused() throws {
        let problem = SelectionProblem(pool: Self.poolWithCopies(), budget: 5)
        #expect(throws: SelectionError.self) {
            try Self.run(Curation(dedupThreshold: 0.99), problem, method: KCenterGreedy.configure(["first_row": .integer(3)]))
        }
        #expect(try Self.run(Curation(dedupThreshold: 0.99), problem, method: KCenterGreedy.withDefaults).result.picks.count == 5)
    }

    /// Balance: each group's picks equal its quota exactly, ranks go round-robin over the groups, and
    /// the labelled rows stay in each group's problem (never picked).
    @Test func balanceMeetsTheQuotasExactly() throws {
        let pool = MethodRegistryTests.pool(rows: 300, columns: 12, seed: 4)
        let index = (0..<300).map { $0 < 200 ? 0 : ($0 < 280 ? 1 : 2) }
        let balance = Curation.Balance(groups: .given(index: index, names: ["a", "b", "c"]), alpha: 1)
        let problem = SelectionProblem(pool: pool, budget: 30, labelled: [0, 250], labelledClasses: [1, 2])
        let curated = try Self.run(Curation(balance: balance), problem, method: ClusterMargin.withDefaults)
        let expected = GroupQuotas.quotas(sizes: [199, 79, 20], budget: 30, alpha: 1)
        #expect(curated.quotas.map(\.quota) == expected)
        for group in 0..<3 {
            #expect(curated.result.picks.count { index[$0.row] == group } == expected[group])
        }
        #expect(curated.result.picks.prefix(3).map { index[$0.row] } == [0, 1, 2])
        #expect(Set(curated.result.picks.map(\.row)).count == 30 && !curated.result.picks.contains { [0, 250].contains($0.row) })
    }

    /// Balance by the probe's predicted class needs labelled classes, and covers each predicted class.
    @Test func balanceByPredictedClass() throws {
        let problem = DropQueryTests.problem(budget: 16)
        let curated = try Self.run(Curation(balance: .init(groups: .predicted(probeC: 10), alpha: 0)), problem)
        #expect(curated.quotas.map(\.name) == ["0", "1", "2", "3"] && curated.quotas.allSatisfy { $0.quota == 4 })
        let unlabelledProblem = SelectionProblem(pool: problem.pool, budget: 16)
        #expect(throws: SelectionError.needsLabelledSamples(method: "balance by predicted class", withClasses: true)) {
            try Self.run(Curation(balance: .init(groups: .predicted(probeC: 10), alpha: 0)), unlabelledProblem)
        }
    }
}
