import Foundation
@testable import Selection
import Testing

/// ActiveFT's initialisation, final assignment and end-to-end behaviour.
@Suite struct ActiveFTSelectionTests {
    func unitProblem(seed: UInt64, rows: Int, columns: Int) -> FeatureMatrix {
        var generator = SeededGenerator(seed: seed)
        return RandomProblem.features(rows: rows, columns: columns, generator: &generator).normalizedRows()
    }

    /// The notes say how far the optimisation went: with no iteration every pick is its initial row and
    /// nothing moved; after some, the counts and the mean movement equal a direct recomputation.
    @Test func notesCountUnmovedPicksAndMeasureTheMovement() throws {
        let features = unitProblem(seed: 4, rows: 800, columns: 10)
        var generator = SeededGenerator(seed: 2)
        let still = try ActiveFT.select(features: features, budget: 15, parameters: ActiveFTParameters(iterations: 0),
                                        generator: &generator)
        #expect(still.notes["picks_at_initial_rows"] == 15)
        #expect(try #require(still.notes["mean_centroid_movement"]) < 1e-6)  // float32 rounding of the unit rows
        generator = SeededGenerator(seed: 2)
        let moved = try ActiveFT.select(features: features, budget: 15,
                                        parameters: ActiveFTParameters(iterations: 50, learningRate: 0.01), generator: &generator)
        let starts = Set(moved.initialRows)
        #expect(moved.notes["picks_at_initial_rows"] == Double(moved.picks.filter { starts.contains($0.row) }.count))
        let movement = try #require(moved.notes["mean_centroid_movement"])
        #expect(movement > 0 && movement < 2)
    }

    /// The rows grouped by nearest centroid: a permutation, each centroid's rows together in row order.
    @Test func rowsByCentroidIsAStableGrouping() {
        let nearest: [Int32] = [2, 0, 2, 1, 0, 2, 3, 0]
        #expect(ActiveFT.rowsByCentroid(nearest, centroids: 5) == [1, 4, 7, 3, 0, 2, 5, 6])
    }

    /// ActiveFT reorders the rows it holds after its first iteration: a caller that keeps its matrix
    /// sees it unchanged (the reorder works on a copy then), with the same picks and curve as a run
    /// handed the only reference. (That the reorder changes no bit of the result against a search
    /// without it is `activeFTWithPruningEqualsTheUnprunedObjective`.)
    @Test func reorderingLeavesTheCallersFeaturesAlone() throws {
        let features = unitProblem(seed: 9, rows: 1_000, columns: 12)
        let before = features.values.map { $0 }
        let parameters = ActiveFTParameters(iterations: 6)
        var generator = SeededGenerator(seed: 1)
        let kept = try ActiveFT.select(features: features, budget: 20, parameters: parameters, generator: &generator)
        #expect(features.values == before)
        generator = SeededGenerator(seed: 1)
        // A fresh copy of the same unit rows, handed over as the only reference.
        let handedOver = try ActiveFT.select(features: features.selecting(rows: Array(0..<1_000)), budget: 20, parameters: parameters, generator: &generator)
        #expect(kept.picks == handedOver.picks && kept.curve == handedOver.curve)
    }

    /// `kept` 2 and 3 cut most centroids' lists, so the recomputation of exhausted centroids runs.
    /// Both ways of finding the candidates: the dense pass and the pruned search.
    @Test(arguments: [(seed: UInt64(1), kept: 32, excluding: [Int]()), (seed: UInt64(2), kept: 32, excluding: []),
                      (seed: UInt64(3), kept: 32, excluding: [5, 17]), (seed: UInt64(4), kept: 2, excluding: []),
                      (seed: UInt64(5), kept: 3, excluding: [0, 1, 2])],
          [false, true])
    func assignDistinctEqualsGreedyOverFullSort(_ problem: (seed: UInt64, kept: Int, excluding: [Int]), pruning: Bool) {
        let (seed, kept, excluding) = problem
        let unit = unitProblem(seed: seed, rows: 300, columns: 8)
        // Many centroids close together, so that they compete for the same rows.
        let centroids = FeatureMatrix(rows: 120, columns: 8, values: (0..<120).flatMap { i in
            unitProblem(seed: seed + 100 + UInt64(i % 6), rows: 1, columns: 8).values.map { $0 + Float(i) * 1e-3 }
        }).normalizedRows()
        let picks = ActiveFT.assignDistinct(features: unit, centroids: centroids.values, excluding: excluding,
                                            kept: kept, pruning: pruning, threads: 2)
        #expect(Set(picks.map(\.row)).count == 120)

        // Direct: every centroid sorts all rows and takes the first one not taken.
        var taken = Set<Int>(excluding)
        for (k, pick) in picks.enumerated() {
            let c = centroids.row(k).map(Double.init)
            let order = (0..<unit.rows).map { i in (i, zip(unit.row(i), c).reduce(0.0) { $0 + Double($1.0) * $1.1 }) }
                .sorted { $0.1 > $1.1 }
            let expected = order.first { !taken.contains($0.0) }!
            taken.insert(expected.0)
            #expect(pick.row == expected.0, "centroid \(k)")
            #expect(abs(pick.score - expected.1) < 1e-5)
        }
    }

    /// The pruned final step against the dense one on clustered rows, where most centroids have
    /// enough rows of their own for a floor and the bounds rule out most groups: the same picks and
    /// scores bit for bit, for every thread count.
    @Test(arguments: [(seed: UInt64(7), excluding: [Int]()), (seed: UInt64(8), excluding: [3, 40, 41])])
    func prunedAssignmentEqualsDense(_ problem: (seed: UInt64, excluding: [Int])) {
        let (seed, excluding) = problem
        var generator = SeededGenerator(seed: seed)
        let centres = RandomProblem.features(rows: 30, columns: 16, generator: &generator)
        let values = (0..<6000).flatMap { i in
            centres.row(i % 30).map { $0 + Float(RandomProblem.gaussian(&generator) * 0.15) }
        }
        let unit = FeatureMatrix(rows: 6000, columns: 16, values: values).normalizedRows()
        // Centroids near rows, so each has rows of its own.
        let centroids = FeatureMatrix(rows: 150, columns: 16, values: (0..<150).flatMap { c in
            unit.row(c * 40).map { $0 + Float(RandomProblem.gaussian(&generator) * 0.02) }
        }).normalizedRows()
        let dense = ActiveFT.assignDistinct(features: unit, centroids: centroids.values, excluding: excluding,
                                            pruning: false, threads: 2)
        for threads in [1, 3] {
            let pruned = ActiveFT.assignDistinct(features: unit, centroids: centroids.values, excluding: excluding,
                                                 pruning: true, threads: threads)
            #expect(pruned == dense, "threads \(threads)")
        }
        #expect(Set(dense.map(\.row)).count == 150 && Set(dense.map(\.row)).isDisjoint(with: excluding))
    }

    @Test func assignDistinctBreaksTiesTowardTheLowerRowAndNeverRepeats() {
        let unit = FeatureMatrix(rows: 4, columns: 2, values: [0, 1, 1, 0, 1, 0, 1, 0])
        let picks = ActiveFT.assignDistinct(features: unit, centroids: [1, 0, 1, 0, 1, 0, 1, 0])
        #expect(picks.map(\.row) == [1, 2, 3, 0])
        #expect(picks.map(\.score) == [1, 1, 1, 0])
    }

    @Test func farthestPointSamplingEqualsDirectRecomputation() {
        let unit = unitProblem(seed: 5, rows: 200, columns: 6)
        var generator = SeededGenerator(seed: 42)
        let rows = ActiveFT.farthestPointSample(unit, count: 15, generator: &generator)
        #expect(Set(rows).count == 15)
        for step in 1..<rows.count {
            // Each new row maximises the Euclidean distance to its nearest already-chosen row.
            func nearest(_ i: Int) -> Double {
                rows[..<step].map { j in
                    zip(unit.row(i), unit.row(j)).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
                }.min()!
            }
            let best = (0..<unit.rows).filter { !rows[..<step].contains($0) }.map(nearest).max()!
            #expect(abs(nearest(rows[step]) - best) < 1e-5)
        }
    }

    @Test func sameSeedGivesIdenticalResults() throws {
        let features = unitProblem(seed: 8, rows: 400, columns: 10)
        let parameters = ActiveFTParameters(iterations: 25, initialization: .random, batchSize: 128)
        func run(seed: UInt64) throws -> SelectionResult {
            var generator = SeededGenerator(seed: seed)
            return try ActiveFT.select(features: features, budget: 12, parameters: parameters, generator: &generator)
        }
        let first = try run(seed: 3), second = try run(seed: 3), other = try run(seed: 4)
        #expect(first.picks == second.picks)
        #expect(first.curve == second.curve)
        #expect(first.initialRows != other.initialRows)
    }

    @Test func fullBatchEqualsNoBatch() throws {
        let features = unitProblem(seed: 12, rows: 250, columns: 7)
        var generator = SeededGenerator(seed: 1)
        let full = try ActiveFT.select(features: features, budget: 10,
                                       parameters: ActiveFTParameters(iterations: 20, initialization: .rows(Array(0..<10))),
                                       generator: &generator)
        let batched = try ActiveFT.select(features: features, budget: 10,
                                          parameters: ActiveFTParameters(iterations: 20, initialization: .rows(Array(0..<10)),
                                                                         batchSize: 250),
                                          generator: &generator)
        #expect(full.picks.map(\.row) == batched.picks.map(\.row))
        #expect(maxRelativeError(full.curve, batched.curve) < 1e-9)
    }

    @Test func lossDecreasesAndProgressIsReportedEachIteration() throws {
        let features = unitProblem(seed: 13, rows: 500, columns: 12)
        var generator = SeededGenerator(seed: 0)
        var steps: [Int] = []
        let result = try ActiveFT.select(features: features, budget: 20, parameters: ActiveFTParameters(iterations: 50),
                                         generator: &generator, progress: { steps.append($0.step) })
        #expect(steps == Array(1...50))
        #expect(result.curve.count == 50)
        #expect(result.curve.last! < result.curve.first!)
        #expect(Set(result.picks.map(\.row)).count == 20)
    }

    @Test(arguments: [
        (10, 0, ActiveFTParameters(), SelectionError.budgetOutOfRange(budget: 0, poolSize: 10)),
        (10, 11, ActiveFTParameters(), .budgetOutOfRange(budget: 11, poolSize: 10)),
        (10, 2, ActiveFTParameters(initialization: .rows([1])), .initialRowsCount(given: 1, budget: 2)),
        (10, 2, ActiveFTParameters(initialization: .rows([1, 10])), .initialRowOutOfRange(row: 10, poolSize: 10)),
        (10, 2, ActiveFTParameters(initialization: .rows([4, 4])), .duplicateInitialRow(row: 4)),
        (10, 2, ActiveFTParameters(batchSize: 11), .batchSizeOutOfRange(batchSize: 11, poolSize: 10)),
        (0, 1, ActiveFTParameters(), .emptyPool),
    ])
    func validateRejects(poolSize: Int, budget: Int, parameters: ActiveFTParameters, expected: SelectionError) {
        #expect(throws: expected) { try ActiveFT.validate(poolSize: poolSize, budget: budget, parameters: parameters) }
    }
}

/// ActiveFT on a pool the runner normalised in place.
@Suite struct ActiveFTUnitPoolTests {
    /// The runner hands ActiveFT a pool it normalised in place (`usesUnitRows`); the selection must be
    /// the one ActiveFT makes from the raw features.
    @Test func aPoolNormalisedInPlaceGivesTheSameSelection() throws {
        var generator = SeededGenerator(seed: 21)
        let raw = RandomProblem.features(rows: 600, columns: 12, generator: &generator)
        var unit = raw
        unit.normalizeRows(threads: 3)
        #expect(unit.hasUnitRows && !raw.hasUnitRows)
        #expect(unit.normalizedRows().values == unit.values)
        #expect(ActiveFT.usesUnitRows(ActiveFTParameters()))
        let parameters = ActiveFTParameters(iterations: 20)
        var first = SeededGenerator(seed: 4), second = SeededGenerator(seed: 4)
        let fromRaw = try ActiveFT.select(features: raw, budget: 15, parameters: parameters, generator: &first)
        let fromUnit = try ActiveFT.select(features: unit, budget: 15, parameters: parameters, generator: &second)
        #expect(fromRaw.picks == fromUnit.picks)
        #expect(fromRaw.curve == fromUnit.curve)
    }
}
