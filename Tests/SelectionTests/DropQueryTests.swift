import Foundation
@testable import Selection
import Testing

/// `dropquery`: flip counts against a direct recomputation, the candidate rule, and properties.
@Suite struct DropQueryTests {
    /// 400 rows in 4 classes of 3 clusters each; the first 40 labelled with their class.
    static func problem(budget: Int = 20, labelledCount: Int = 40) -> SelectionProblem {
        let pool = MethodRegistryTests.pool(rows: 400, columns: 12, seed: 8)
        let labelled = Array(stride(from: 0, to: labelledCount * 3, by: 3))
        return SelectionProblem(pool: pool, budget: budget, labelled: labelled,
                                labelledClasses: labelled.map { Int64($0 % 12 / 3) })
    }

    static func run(_ problem: SelectionProblem, _ members: [String: ParameterValue] = [:], seed: UInt64 = 1,
                    threads: Int = 2) throws -> SelectionResult {
        var context = SelectionContext(seed: seed, threads: threads)
        return try DropQuery.configure(members).select(problem, &context)
    }

    /// The flip counts equal a slow recomputation: each pass's masked copy of the rows, built from the
    /// same draws, through the model's own probabilities.
    @Test func flipCountsAreTheDirectRecomputation() throws {
        let problem = Self.problem()
        let unit = problem.pool.normalizedRows()
        let model = try LogisticRegression.probe(unit, rows: problem.labelled, classes: problem.labelledClasses!, c: 10, threads: 1)
        let rows = Array(200..<260), d = unit.columns
        var generator = SeededGenerator(seed: 5)
        let flips = DropQuery.flipCounts(unit, rows: rows, model: model, passes: 3, dropout: 0.5, generator: &generator)
        func predicted(_ x: FeatureMatrix) -> [Int] {
            let p = model.probabilities(x)
            return (0..<x.rows).map { r in (0..<model.classes).max { p[r * model.classes + $0] < p[r * model.classes + $1] }! }
        }
        let plain = predicted(unit.selecting(rows: rows))
        var direct = [Int](repeating: 0, count: rows.count)
        var again = SeededGenerator(seed: 5)
        for _ in 0..<3 {
            var values = [Float]()
            for row in rows {
                for j in 0..<d {
                    let kept = Double(again.next() >> 11) * 0x1p-53 < 0.5
                    values.append(kept ? Float(Double(unit.values[row * d + j]) * 2) : 0)
                }
            }
            for (i, label) in predicted(FeatureMatrix(rows: rows.count, columns: d, values: values)).enumerated() where label != plain[i] {
                direct[i] += 1
            }
        }
        #expect(flips == direct)
        #expect(flips.contains { $0 > 0 }, "dropout at 0.5 changes some predictions")
    }

    /// The authors' code (`record_dropquery_authors.py`): their classifier's dropout forward, run 4,000
    /// times, changes each row's prediction as often as selectjob's flip counts do with the same model
    /// (their BatchNorm folded into the linear layer). Binomial noise on a rate over 4,000 passes is at
    /// most 0.011 per side; 0.05 is 4.5 of its standard deviations. A mask that kept entries with the
    /// dropout probability, or no 1/(1 − p) rescale, moved 37 and 34 of the 40 rows beyond it when tried.
    @Test func flipRatesAgreeWithTheAuthorsCode() throws {
        struct Recorded: Decodable {
            struct Dropout: Decodable {
                let features: [[Double]]
                let dropout: Double
                let passes: Int
                let weights: [[Double]]
                let intercepts: [Double]
                let predicted: [Int]
                let flip_rates: [Double]
            }
            let dropout: Dropout
        }
        let recorded = try Fixtures.json("methods/dropquery_authors.json", as: Recorded.self).dropout
        let n = recorded.features.count, d = recorded.features[0].count, classes = recorded.intercepts.count
        let unit = FeatureMatrix(rows: n, columns: d, values: recorded.features.flatMap { $0.map(Float.init) })
        let model = LogisticRegression(classes: classes, dimensions: d, weights: recorded.weights.flatMap { $0 },
                                       intercepts: recorded.intercepts, iterations: 0, gradientNorm: 0, converged: true)
        let predicted = (0..<n).map { row in DropQuery.argmax(model, (0..<d).map { Double(unit.values[row * d + $0]) }) }
        #expect(predicted == recorded.predicted)
        var generator = SeededGenerator(seed: 3)
        let flips = DropQuery.flipCounts(unit, rows: Array(0..<n), model: model, passes: recorded.passes,
                                         dropout: recorded.dropout, generator: &generator)
        for (row, (count, rate)) in zip(flips, recorded.flip_rates).enumerated() {
            #expect(abs(Double(count) / Double(recorded.passes) - rate) <= 0.05, "row \(row)")
        }
        #expect(recorded.flip_rates.max()! - recorded.flip_rates.min()! > 0.3, "the fixture's rows differ")
    }

    /// The candidate rule is the authors' `_get_candidates`, fed fixed mismatch counts: the same rows for
    /// every recorded (passes, budget), among them cases where the threshold is lowered to 0.
    @Test func candidateRuleIsTheAuthors() throws {
        struct Case: Decodable {
            let passes: Int
            let budget: Int
            let mismatches: [Int]
            let candidates: [Int]
        }
        struct Recorded: Decodable { let candidates: [Case] }
        let cases = try Fixtures.json("methods/dropquery_authors.json", as: Recorded.self).candidates
        #expect(cases.count == 7)
        let loweredToZero = cases.filter { c in c.candidates == c.mismatches.indices.filter { c.mismatches[$0] > 0 } }
        #expect(!loweredToZero.isEmpty && loweredToZero.count < cases.count, "cases on both sides of the lowest threshold")
        for recorded in cases {
            #expect(DropQuery.candidates(flips: recorded.mismatches, passes: recorded.passes, budget: recorded.budget)
                    == recorded.candidates, "passes \(recorded.passes), budget \(recorded.budget)")
        }
    }

    @Test func picksTheBudgetAmongTheUnlabelledTheSameForEveryThreadCount() throws {
        let problem = Self.problem()
        let one = try Self.run(problem, threads: 1), three = try Self.run(problem, threads: 3)
        #expect(one.picks == three.picks && one.curve == three.curve)
        #expect(one.picks.count == 20 && Set(one.picks.map(\.row)).count == 20)
        #expect(Set(one.picks.map(\.row)).isDisjoint(with: problem.labelled))
        #expect(one.curve.count == 20 && one.curve.allSatisfy { $0 >= 0 && $0 <= 3 })
        #expect(try Self.run(problem, seed: 2).picks != one.picks, "the seed drives the dropout masks and the clustering")
    }

    /// With a dropout too small to change any prediction there is no candidate: the budget is filled
    /// with seeded random samples (score 0, no flips).
    @Test func withoutCandidatesTheBudgetIsFilledAtRandom() throws {
        let result = try Self.run(Self.problem(), ["dropout": .number(1e-9)])
        #expect(result.picks.count == 20 && result.picks.allSatisfy { $0.score == 0 })
        #expect(result.curve.allSatisfy { $0 == 0 })
    }

    @Test func needsLabelsOfTwoClasses() throws {
        let pool = MethodRegistryTests.pool(rows: 100, columns: 12)
        #expect(throws: SelectionError.needsLabelledSamples(method: "dropquery", withClasses: true)) {
            try DropQuery.withDefaults.validate(SelectionProblem(pool: pool, budget: 5, labelled: [1, 2]).shape)
        }
        let one = SelectionProblem(pool: pool, budget: 5, labelled: [1, 2], labelledClasses: [4, 4])
        var context = SelectionContext(seed: 0)
        #expect(throws: SelectionError.self) { try DropQuery.withDefaults.select(one, &context) }
    }
}
