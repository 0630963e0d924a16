import Foundation
@testable import Selection
import Testing

/// Active Transfer Learning (Munro 2021, ch. 5) on a clustered pool where the model is wrong on one cluster.
@Suite struct ActiveTransferLearningTests {
    /// 480 rows in 12 clusters (row i is in cluster i mod 12): the first 240 are the validation set,
    /// the last 240 the pool.
    let all = MethodRegistryTests.pool(rows: 480, columns: 12, seed: 21)
    var validation: FeatureMatrix { all.selecting(rows: Array(0..<240)) }
    var pool: FeatureMatrix { all.selecting(rows: Array(240..<480)) }
    /// The model is wrong exactly on cluster 5 of the validation set.
    var correct: [Bool] { (0..<240).map { $0 % 12 != 5 } }

    func select(_ configured: ConfiguredMethod, budget: Int, labelled: [Int] = []) throws -> SelectionResult {
        var context = SelectionContext(seed: 4, threads: 2)
        return try configured.select(SelectionProblem(pool: pool, budget: budget, inputs: ["validation": validation],
                                                      labelled: labelled, outcomes: ["validation": correct]), &context)
    }

    /// The samples of the cluster the model gets wrong come first: all 20 of that cluster's pool rows.
    @Test func atlUncertaintySelectsWhereTheModelIsWrongFirst() throws {
        let result = try select(ATLUncertainty.withDefaults, budget: 20)
        #expect(result.picks.allSatisfy { $0.row % 12 == 5 }, "\(result.picks.map { $0.row % 12 })")
        #expect(zip(result.picks, result.picks.dropFirst()).allSatisfy { $0.score >= $1.score })
        #expect(result.picks.allSatisfy { $0.score > 0.5 })
    }

    /// Direct recomputation: the scores are the fitted head's P(incorrect) for each picked row.
    @Test func atlScoresAreTheHeadsProbabilities() throws {
        let result = try select(ATLUncertainty.withDefaults, budget: 10)
        let labels = correct.map { $0 ? 0 : 1 }
        let head = LogisticRegression.fit(features: validation.normalizedRows(), labels: labels, classes: 2,
                                          sampleWeights: LogisticRegression.balancedWeights(labels: labels, classes: 2),
                                          tolerance: ActiveTransferLearning.headTolerance, maxIterations: 1000)
        let p = head.probabilities(pool.normalizedRows())
        for pick in result.picks { #expect(pick.score == p[pick.row * 2 + 1]) }
        let best = (0..<pool.rows).map { p[$0 * 2 + 1] }.sorted(by: >)[9]
        #expect(result.picks.last!.score == best)
    }

    /// ATLAS with one batch is ATL uncertainty; with small batches it retrains and, once the wrong
    /// cluster is counted as correct, moves on to other clusters.
    @Test func atlasRetrainsBetweenBatches() throws {
        var oneBatch = ATLAS.Parameters()
        oneBatch.perIteration = 30
        #expect(try select(ATLAS.configured(oneBatch), budget: 30).picks == select(ATLUncertainty.withDefaults, budget: 30).picks)
        var small = ATLAS.Parameters()
        small.perIteration = 10
        let adaptive = try select(ATLAS.configured(small), budget: 40)
        #expect(adaptive.picks.prefix(10).allSatisfy { $0.row % 12 == 5 })
        #expect(Set(adaptive.picks.map(\.row)).count == 40)
        #expect(adaptive.picks.contains { $0.row % 12 != 5 })
    }

    /// Adaptive representative sampling picks where nothing is labelled: with every labelled sample in
    /// clusters 0–5, the first batch comes from clusters 6–11; and it needs labelled samples.
    @Test func adaptiveRepresentativeLooksWhereNothingIsLabelled() throws {
        let labelled = (0..<pool.rows).filter { $0 % 12 < 6 && $0 % 2 == 0 }
        var parameters = AdaptiveRepresentative.Parameters()
        parameters.perIteration = 10
        let result = try select(AdaptiveRepresentative.configured(parameters), budget: 30, labelled: labelled)
        #expect(result.picks.prefix(10).allSatisfy { $0.row % 12 >= 6 }, "\(result.picks.map { $0.row % 12 })")
        #expect(Set(result.picks.map(\.row)).isDisjoint(with: labelled))
        #expect(throws: SelectionError.self) { try select(AdaptiveRepresentative.withDefaults, budget: 5) }
    }

    /// A validation set the model is right on everywhere teaches the head nothing: refused.
    @Test func oneSidedValidationIsRefused() throws {
        var context = SelectionContext(seed: 4, threads: 1)
        let problem = SelectionProblem(pool: pool, budget: 5, inputs: ["validation": validation],
                                       outcomes: ["validation": [Bool](repeating: true, count: 240)])
        #expect(throws: SelectionError.self) { try ATLUncertainty.withDefaults.select(problem, &context) }
    }
}
