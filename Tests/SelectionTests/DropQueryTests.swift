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
