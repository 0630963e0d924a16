/// Uniform random sampling without replacement: the baseline every method is measured against.
///
/// K distinct rows from the job's seeded generator (a partial Fisher–Yates shuffle), in draw order.
/// Every pick scores 1: random sampling ranks nothing. O(K) time and memory beyond the pool.
public enum RandomSampling: SelectionMethod {
    public typealias Parameters = NoParameters

    public static let name = "random"
    public static let summary = "K distinct samples drawn uniformly with the job's seed."
    public static let reference = "The baseline of every active-learning paper; selectjob's seeded xoshiro256** generator"

    public static func validate(_ shape: ProblemShape, _ parameters: Parameters) throws(SelectionError) {
        try shape.checkPoolAndBudget()
    }

    public static func select(_ problem: SelectionProblem, _ parameters: Parameters, _ context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult {
        let rows = context.generator.distinctIndices(count: problem.budget, from: problem.pool.rows)
        return SelectionResult(picks: rows.map { Pick(row: $0, score: 1) }, curveName: "", curve: [], initialRows: [])
    }
}
