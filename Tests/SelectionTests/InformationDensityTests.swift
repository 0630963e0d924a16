import Foundation
import Numerics
@testable import Selection
import Testing

/// `information_density` against the `activeft` package's recorded run, a direct recomputation, and
/// properties.
@Suite struct InformationDensityTests {
    struct Recorded: Decodable {
        struct Run: Decodable {
            let beta: Double
            let selected_rows: [Int]
            let values: [Double]
        }
        let pool_rows: [Int]
        let target_rows: [Int]
        let k: Int
        let probabilities: [[Double]]
        let runs: [Run]
    }

    static let recorded = try! Fixtures.json("methods/information_density_package.json", as: Recorded.self)

    static func run(_ problem: SelectionProblem, beta: Double = 1, seed: UInt64 = 0) throws -> SelectionResult {
        var context = SelectionContext(seed: seed, threads: 2)
        return try InformationDensity.configure(["beta": .number(beta)]).select(problem, &context)
    }

    /// A pool of `rows` random rows, 6 targets, and class probabilities from a seeded softmax.
    static func smallProblem(rows: Int = 200, classes: Int = 5, budget: Int = 20, seed: UInt64) -> SelectionProblem {
        var generator = SeededGenerator(seed: seed)
        let pool = RandomProblem.features(rows: rows, columns: 8, generator: &generator)
        let targets = RandomProblem.features(rows: 6, columns: 8, generator: &generator)
        var probabilities: [Float] = []
        for _ in 0..<rows {
            let logits = (0..<classes).map { _ in 1.5 * RandomProblem.gaussian(&generator) }
            let total = logits.reduce(0) { $0 + exp($1) }
            probabilities += logits.map { Float(exp($0) / total) }
        }
        return SelectionProblem(pool: pool, budget: budget,
                                inputs: ["targets": targets, "predictions": FeatureMatrix(rows: rows, columns: classes, values: probabilities)])
    }

    @Test(arguments: [0, 1])
    func matchesThePackage(runIndex: Int) throws {
        let r = Self.recorded, reference = r.runs[runIndex]
        let pool = try Fixtures.features("activeft/mix2k.h5", rows: r.pool_rows[0]..<r.pool_rows[1])
        let targets = try Fixtures.features("activeft/mix2k.h5", rows: r.target_rows[0]..<r.target_rows[1])
        let predictions = FeatureMatrix(rows: r.probabilities.count, columns: r.probabilities[0].count,
                                        values: r.probabilities.flatMap { $0.map(Float.init) })
        let problem = SelectionProblem(pool: pool, budget: r.k, inputs: ["targets": targets, "predictions": predictions])
        let result = try Self.run(problem, beta: reference.beta)
        #expect(result.picks.map(\.row) == reference.selected_rows, "β = \(reference.beta)")
        for (pick, value) in zip(result.picks, reference.values) {
            #expect(pick.score.isApproximatelyEqual(to: value, relativeTolerance: 1e-4), "β = \(reference.beta): \(pick.score) vs \(value)")
        }
    }

    /// Each pick's score is H(p)·max(0, s)^β recomputed directly (entropy in nats; s the mean of the
    /// cosine similarities to each target), and no unpicked row has a larger value.
    @Test(arguments: [0.5, 1, 2.5])
    func scoresAreTheEntropyTimesTheRelevanceAndTheBestAreTaken(beta: Double) throws {
        let problem = Self.smallProblem(seed: 3)
        let pool = problem.pool, targets = problem.inputs["targets"]!, p = problem.inputs["predictions"]!
        func cosine(_ a: [Float], _ b: [Float]) -> Double {
            let ab = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let aa = a.reduce(0.0) { $0 + Double($1) * Double($1) }, bb = b.reduce(0.0) { $0 + Double($1) * Double($1) }
            return ab / (aa.squareRoot() * bb.squareRoot())
        }
        let direct = (0..<pool.rows).map { row -> Double in
            let s = (0..<targets.rows).map { cosine(pool.row(row), targets.row($0)) }.reduce(0, +) / Double(targets.rows)
            let h = p.row(row).reduce(0.0) { $1 > 0 ? $0 - Double($1) * .log(Double($1)) : $0 }
            return h * (s > 0 ? Double.pow(s, beta) : 0)
        }
        let result = try Self.run(problem, beta: beta)
        for pick in result.picks {
            #expect(pick.score.isApproximatelyEqual(to: direct[pick.row], absoluteTolerance: 1e-6), "row \(pick.row)")
        }
        let picked = Set(result.picks.map(\.row))
        let lowest = result.picks.map(\.score).min()!
        #expect((0..<pool.rows).filter { !picked.contains($0) }.allSatisfy { direct[$0] <= lowest + 1e-6 })
        #expect(zip(result.picks, result.picks.dropFirst()).allSatisfy { $0.score >= $1.score })
        #expect(result.curve == result.picks.map(\.score))
    }

    /// With every prediction equally uncertain the ranking is the cosine method's; a sample less
    /// similar to the targets than orthogonal is never taken before one with positive relevance.
    @Test func uniformPredictionsRankByRelevanceAndNegativeSimilarityComesLast() throws {
        let base = Self.smallProblem(rows: 120, budget: 15, seed: 8)
        let uniform = FeatureMatrix(rows: 120, columns: 4, values: [Float](repeating: 0.25, count: 480))
        let problem = SelectionProblem(pool: base.pool, budget: 15, inputs: ["targets": base.inputs["targets"]!, "predictions": uniform])
        var context = SelectionContext(seed: 0, threads: 1)
        let cosine = try CosineSimilarity.withDefaults.select(SelectionProblem(pool: base.pool, budget: 15, inputs: ["targets": base.inputs["targets"]!]), &context)
        #expect(try Self.run(problem, beta: 2).picks.map(\.row) == cosine.picks.map(\.row))
        let similarity = CosineSimilarity.meanSimilarities(pool: base.pool, targets: base.inputs["targets"]!, threads: 1)
        let positive = similarity.filter { $0 > 0 }.count
        let all = try Self.run(SelectionProblem(pool: base.pool, budget: 120, inputs: problem.inputs), beta: 1)
        #expect(all.picks.prefix(positive).allSatisfy { similarity[$0.row] > 0 })
        #expect(all.picks.dropFirst(positive).allSatisfy { $0.score == 0 })
    }

    @Test func needsPredictionsAndTargetsOfThePoolsShape() throws {
        let problem = Self.smallProblem(seed: 1)
        let shape = problem.shape
        var missing = shape.inputs
        missing["targets"] = nil
        #expect(throws: SelectionError.missingInput("targets")) {
            try InformationDensity.withDefaults.validate(ProblemShape(poolSize: 200, width: 8, budget: 5, inputs: missing))
        }
        missing = shape.inputs
        missing["predictions"] = nil
        #expect(throws: SelectionError.missingInput("predictions")) {
            try InformationDensity.withDefaults.validate(ProblemShape(poolSize: 200, width: 8, budget: 5, inputs: missing))
        }
        var wide = shape.inputs
        wide["targets"] = (rows: 6, columns: 9)
        #expect(throws: SelectionError.targetWidthMismatch(poolWidth: 8, targetWidth: 9)) {
            try InformationDensity.withDefaults.validate(ProblemShape(poolSize: 200, width: 8, budget: 5, inputs: wide))
        }
        #expect(throws: ParameterError.self) { try InformationDensity.configure(["beta": .number(0)]) }
    }
}
