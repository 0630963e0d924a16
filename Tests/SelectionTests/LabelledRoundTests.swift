import Foundation
import Numerics
@testable import Selection
import Testing

/// Rounds: what each method does with the samples earlier rounds labelled.
@Suite struct LabelledRoundTests {
    let pool = MethodRegistryTests.pool(rows: 240, columns: 10)

    func run(_ configured: ConfiguredMethod, budget: Int, labelled: [Int] = [], inputs: [String: FeatureMatrix] = [:],
             seed: UInt64 = 3) throws -> SelectionResult {
        var context = SelectionContext(seed: seed, threads: 2)
        return try configured.select(SelectionProblem(pool: pool, budget: budget, inputs: inputs, labelled: labelled), &context)
    }

    /// For the sequential greedy methods, round 1 (K1) then round 2 (K2, labelled = round 1) picks
    /// exactly what one run of K1 + K2 picks, in the same order and with the same scores.
    @Test(arguments: [
        ("vtl", false), ("vtl", true), ("itl", false), ("itl", true), ("kcenter", false), ("probcover", false),
    ])
    func secondRoundContinuesTheFirst(name: String, withTargets: Bool) throws {
        let method = MethodRegistry.method(named: name)!
        var parameters: [String: ParameterValue] = [:]
        if name == "kcenter" { parameters["first_row"] = .integer(5) }
        if name == "probcover" { parameters["delta"] = .number(0.5) }
        let configured = try method.configure(parameters)
        let inputs = withTargets ? ["targets": pool.selecting(rows: Array(0..<40))] : [:]
        let whole = try run(configured, budget: 30, inputs: inputs)
        let first = try run(configured, budget: 12, inputs: inputs)
        let second = try run(configured, budget: 18, labelled: first.picks.map(\.row), inputs: inputs)
        #expect(first.picks + second.picks == whole.picks, "\(name)")
    }

    /// k-center with labelled samples starts from them: its first pick is the sample farthest from every
    /// labelled one (checked against distances computed directly).
    @Test func kCenterStartsFromTheLabelledSamples() throws {
        let labelled = [3, 77, 150]
        let result = try run(KCenterGreedy.configured(.init(metric: .euclidean)), budget: 1, labelled: labelled)
        func distance(_ a: Int, _ b: Int) -> Double {
            zip(pool.row(a), pool.row(b)).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
        }
        let nearest = (0..<pool.rows).map { i in labelled.map { distance(i, $0) }.min()! }
        let farthest = nearest.indices.max { nearest[$0] < nearest[$1] }!
        #expect(result.picks.first?.row == farthest)
        #expect(result.picks[0].score.isApproximatelyEqual(to: nearest[farthest], relativeTolerance: 1e-5))
    }

    /// Herding counts labelled samples as open facilities: its curve starts above zero coverage, and
    /// its first pick is the one with the largest gain given them (direct recomputation).
    @Test func herdingCountsLabelledSamplesAsCovering() throws {
        let labelled = [10, 20, 30, 40]
        let parameters = Herding.Parameters(kernel: .cosine, bandwidth: 0.5)
        let result = try run(Herding.configured(parameters), budget: 1, labelled: labelled)
        let unit = pool.normalizedRows()
        func similarity(_ a: Int, _ b: Int) -> Double { zip(unit.row(a), unit.row(b)).reduce(0.0) { $0 + Double($1.0 * $1.1) } }
        let covered = (0..<pool.rows).map { x in labelled.map { max(0, similarity(x, $0)) }.max()! }
        let gains = (0..<pool.rows).map { c in
            labelled.contains(c) ? -1 : (0..<pool.rows).reduce(0.0) { $0 + max(0, max(0, similarity($1, c)) - covered[$1]) }
        }
        let best = gains.indices.max { gains[$0] < gains[$1] }!
        #expect(result.picks[0].row == best)
        #expect(result.picks[0].score.isApproximatelyEqual(to: gains[best], relativeTolerance: 1e-4))
    }

    /// A method that does not build on labelled samples — `random`, or an uncertainty method given
    /// predictions — picks as if run on the unlabelled rows alone: the same picks as running it on those
    /// rows directly, mapped back to pool rows.
    @Test(arguments: ["random", "margin", "entropy"])
    func excludingMethodsRunOnTheUnlabelledRows(name: String) throws {
        let method = MethodRegistry.method(named: name)!
        if name == "random" { #expect(method.labelledUse == .excluded) }
        let labelled = Array(stride(from: 0, to: pool.rows, by: 3))
        let rest = (0..<pool.rows).filter { $0 % 3 != 0 }
        let inputs = MethodRegistryTests.requiredInputs(method, pool: pool)
        let result = try run(method.withDefaults, budget: 12, labelled: labelled, inputs: inputs)
        var context = SelectionContext(seed: 3, threads: 2)
        let direct = try method.withDefaults.select(
            SelectionProblem(pool: pool.selecting(rows: rest), budget: 12,
                             inputs: inputs.mapValues { $0.rows == pool.rows ? $0.selecting(rows: rest) : $0 }), &context)
        #expect(result.picks.map(\.row) == direct.picks.map { rest[$0.row] })
        #expect(result.picks.map(\.score) == direct.picks.map(\.score))
    }

    /// k-means keeps labelled samples as fixed centres, and TypiClust picks first from clusters without
    /// labelled samples: with one labelled sample in each of clusters 0–5 of a 12-cluster pool, K = 6
    /// picks one sample from each of clusters 6–11.
    @Test(arguments: ["kmeans", "typiclust", "activeft"])
    func clusteringMethodsFillTheClustersNothingLabelledCovers(name: String) throws {
        let method = MethodRegistry.method(named: name)!
        // k-means can stop in a local optimum that splits one cluster and leaves another to a fixed
        // centre; restarts keep the clustering with the lowest inertia, as scikit-learn's n_init does.
        // ActiveFT starts from farthest-point seeds continuing from the labelled samples.
        let parameters: [String: ParameterValue] = switch name {
        case "kmeans": ["restarts": .integer(10)]
        case "activeft": ["init": .string("fps"), "iterations": .integer(100)]
        default: [:]
        }
        let configured = try method.configure(parameters)
        let result = try run(configured, budget: 6, labelled: Array(0..<6))
        #expect(Set(result.picks.map { $0.row % 12 }) == Set(6..<12), "\(result.picks.map { $0.row % 12 })")
        #expect(result.picks.allSatisfy { $0.row >= 6 })
        if name == "kmeans" { #expect(result.initialRows.count == 6 && Set(result.initialRows).isDisjoint(with: 0..<6)) }
    }

    /// Explicit initial rows name rows of the whole pool, which the unlabelled sub-pool renumbers: refused.
    @Test func activeFTInitialRowsCannotBeCombinedWithLabelledSamples() throws {
        var parameters = ActiveFTParameters()
        parameters.initialization = .rows(Array(0..<5))
        let shape = ProblemShape(poolSize: 100, width: 4, budget: 5, labelledCount: 2)
        #expect(throws: SelectionError.self) { try ActiveFT.configured(parameters).validate(shape) }
    }
}

/// Uncertainty sampling from predictions, against the formulas computed directly.
@Suite struct UncertaintySamplingTests {
    /// Munro's worked example (Human-in-the-Loop Machine Learning, ch. 3): p = (0.0321, 0.6439, 0.0871, 0.2369).
    @Test func scoresFollowTheFormulas() {
        let p: [Float] = [0.0321, 0.6439, 0.0871, 0.2369]
        let (p1, p2) = (0.6439, 0.2369)
        #expect(UncertaintySampling.Measure.leastConfidence.score(p).isApproximatelyEqual(to: (1 - p1) * 4 / 3, relativeTolerance: 1e-6))
        #expect(UncertaintySampling.Measure.margin.score(p).isApproximatelyEqual(to: 1 - (p1 - p2), relativeTolerance: 1e-6))
        #expect(UncertaintySampling.Measure.ratio.score(p).isApproximatelyEqual(to: p2 / p1, relativeTolerance: 1e-6))
        let entropy = -p.map(Double.init).reduce(0) { $0 + $1 * log2($1) } / 2
        #expect(UncertaintySampling.Measure.entropy.score(p).isApproximatelyEqual(to: entropy, relativeTolerance: 1e-6))
        // Munro's printed values for this distribution.
        #expect(UncertaintySampling.Measure.leastConfidence.score(p).isApproximatelyEqual(to: 0.4748, absoluteTolerance: 1e-4))
        #expect(UncertaintySampling.Measure.margin.score(p).isApproximatelyEqual(to: 0.5930, absoluteTolerance: 1e-4))
        #expect(UncertaintySampling.Measure.ratio.score(p).isApproximatelyEqual(to: 0.3679, absoluteTolerance: 1e-4))
        // A uniform distribution is the most uncertain by every measure; a one-hot the least.
        for measure in [UncertaintySampling.Measure.leastConfidence, .margin, .ratio, .entropy] {
            #expect(measure.score([Float](repeating: 0.25, count: 4)).isApproximatelyEqual(to: 1, absoluteTolerance: 1e-6))
            #expect(measure.score([0, 1, 0, 0] as [Float]).isApproximatelyEqual(to: 0, absoluteTolerance: 1e-12))
        }
    }

    /// The picks are the K highest scores, in decreasing order, and the scores recorded are the measure's.
    @Test(arguments: ["least_confidence", "margin", "ratio", "entropy"])
    func picksTheMostUncertainInOrder(name: String) throws {
        let method = MethodRegistry.method(named: name)!
        let predictions = MethodRegistryTests.predictions(rows: 200)
        let pool = MethodRegistryTests.pool(rows: 200)
        var context = SelectionContext(seed: 1, threads: 1)
        let result = try method.withDefaults.select(
            SelectionProblem(pool: pool, budget: 25, inputs: ["predictions": predictions]), &context)
        let measure = (method as! any UncertaintyMethod.Type).measure
        let scores = (0..<200).map { measure.score(predictions.row($0)) }
        #expect(result.picks.map(\.score) == result.picks.map { scores[$0.row] })
        #expect(zip(result.picks, result.picks.dropFirst()).allSatisfy { $0.score >= $1.score })
        let threshold = result.picks.last!.score
        #expect(scores.filter { $0 > threshold }.count < 25)
        #expect(result.picks.allSatisfy { $0.score >= threshold })
    }

    /// Exact ties are ordered by the seed: the same seed gives the same order, another seed another.
    @Test func tiesAreBrokenByTheSeed() throws {
        let predictions = FeatureMatrix(rows: 50, columns: 2, values: [Float](repeating: 0.5, count: 100))
        let pool = MethodRegistryTests.pool(rows: 50)
        func picks(_ seed: UInt64) throws -> [Int] {
            var context = SelectionContext(seed: seed, threads: 1)
            return try EntropySampling.withDefaults.select(
                SelectionProblem(pool: pool, budget: 10, inputs: ["predictions": predictions]), &context).picks.map(\.row)
        }
        #expect(try picks(1) == picks(1))
        #expect(try picks(1) != picks(2))
    }
}
