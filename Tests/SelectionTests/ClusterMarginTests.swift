import Foundation
@testable import Selection
import Testing

/// `cluster_margin`: the picks against a direct recomputation of the paper's rule, and properties.
@Suite struct ClusterMarginTests {
    static func run(_ problem: SelectionProblem, _ members: [String: ParameterValue] = [:], threads: Int = 2) throws -> SelectionResult {
        var context = SelectionContext(seed: 4, threads: threads)
        return try ClusterMargin.configure(members).select(problem, &context)
    }

    /// With one cluster the rule is plain margin sampling: the K smallest margins, in order.
    @Test func oneClusterIsMarginSamplingUnderTheProbe() throws {
        let problem = DropQueryTests.problem(budget: 15)
        let result = try Self.run(problem, ["clusters": .integer(1)])
        let unit = problem.pool.normalizedRows()
        let model = try LogisticRegression.probe(unit, rows: problem.labelled, classes: problem.labelledClasses!, c: 10, threads: 1)
        let labelled = Set(problem.labelled)
        let rows = (0..<unit.rows).filter { !labelled.contains($0) }
        let p = model.probabilities(unit, rows: rows), c = model.classes
        let margin = rows.indices.map { i -> Double in
            let sorted = p[(i * c)..<((i + 1) * c)].sorted(by: >)
            return sorted[0] - sorted[1]
        }
        let expected = rows.indices.sorted { (margin[$0], rows[$0]) < (margin[$1], rows[$1]) }.prefix(15).map { rows[$0] }
        #expect(result.picks.map(\.row) == Array(expected))
        for (pick, i) in zip(result.picks, rows.indices.sorted { (margin[$0], rows[$0]) < (margin[$1], rows[$1]) }) {
            #expect(abs(pick.score - (1 - margin[i])) < 1e-12)
        }
    }

    /// Round-robin: with as many clusters as picks and enough candidates, the first picks come from
    /// distinct clusters; the picks never repeat, never touch the labelled rows, and do not depend on threads.
    @Test func picksSpreadOverClustersTheSameForEveryThreadCount() throws {
        let problem = DropQueryTests.problem(budget: 12)
        let one = try Self.run(problem, threads: 1), three = try Self.run(problem, threads: 3)
        #expect(one.picks == three.picks)
        #expect(one.picks.count == 12 && Set(one.picks.map(\.row)).count == 12)
        #expect(Set(one.picks.map(\.row)).isDisjoint(with: problem.labelled))
        #expect(one.picks.allSatisfy { $0.score >= 0 && $0.score <= 1 })
    }

    @Test func needsLabelledClassesAndAFeasibleClusterCount() throws {
        let pool = MethodRegistryTests.pool(rows: 100, columns: 12)
        #expect(throws: SelectionError.needsLabelledSamples(method: "cluster_margin", withClasses: true)) {
            try ClusterMargin.withDefaults.validate(SelectionProblem(pool: pool, budget: 5, labelled: [1, 2]).shape)
        }
        #expect(throws: SelectionError.self) {
            try ClusterMargin.configure(["clusters": .integer(101)])
                .validate(SelectionProblem(pool: pool, budget: 5, labelled: [1, 2], labelledClasses: [0, 1]).shape)
        }
    }
}
