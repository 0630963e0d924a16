/// ATLAS: Active Transfer Learning for uncertainty, adaptively. Selects in batches of `per_iteration`:
/// each batch is the pool samples the head rates most likely "incorrect"; the batch is then added to
/// the validation set as "correct" (the head's guess that they will be learnt) and the head retrained,
/// so the next batch looks elsewhere, until the budget is reached.
///
/// Munro, "Human-in-the-Loop Machine Learning", Manning 2021, ch. 5.4 (ATLAS; rmunro/pytorch_active_learning,
/// `advanced_active_learning.py`). A pick's score is P(incorrect) when its batch was chosen; the curve is
/// the same per pick. Cost: ⌈K / per_iteration⌉ fits of the head on m + picks rows, each
/// O(iterations·(m + K)·d), plus O(N·d) per batch to score the pool.
public enum ATLAS: SelectionMethod {
    public typealias Parameters = ActiveTransferLearning.BatchParameters

    public static let name = "atlas"
    public static let summary = "ATL uncertainty in batches: retrain after each batch, counting its picks as correct."
    public static let reference = "Munro, \"Human-in-the-Loop Machine Learning\", Manning 2021, ch. 5 (ATLAS: adaptive Active Transfer Learning)"
    public static let inputs = [ActiveTransferLearning.validation]

    public static func validate(_ shape: ProblemShape, _ parameters: Parameters) throws(SelectionError) {
        try shape.checkPoolAndBudget()
        try ActiveTransferLearning.checkValidation(shape)
    }

    public static func select(_ problem: SelectionProblem, _ parameters: Parameters, _ context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult {
        let (given, verdicts) = try ActiveTransferLearning.validationData(problem)
        let normalize = parameters.head.normalize
        let validation = normalize ? given.normalizedRows() : given
        let pool = normalize ? problem.pool.normalizedRows() : problem.pool
        var isPicked = [Bool](repeating: false, count: pool.rows)
        var picks: [Pick] = []
        while picks.count < problem.budget {
            try context.checkStop()
            // The validation set plus every pick so far, counted as correct.
            let picked = picks.map(\.row)
            let features = FeatureMatrix(rows: validation.rows + picked.count, columns: validation.columns,
                                         values: validation.values + pool.selecting(rows: picked).values)
            let incorrect = verdicts.map { !$0 } + [Bool](repeating: false, count: picked.count)
            let model = ActiveTransferLearning.fit(features, positives: incorrect, head: parameters.head, threads: context.threads)
            let rows = (0..<pool.rows).filter { !isPicked[$0] }
            let scores = ActiveTransferLearning.positiveProbabilities(model, pool: pool, rows: rows)
            let batch = SeededTopK.best(min(parameters.perIteration, problem.budget - picks.count), of: rows,
                                                    scores: scores, generator: &context.generator)
            for pick in batch { isPicked[pick.row] = true }
            picks += batch
            context.progress(SelectionProgress(step: picks.count, total: problem.budget, value: batch.last?.score ?? 0))
        }
        return SelectionResult(picks: picks, curveName: "incorrect", curve: picks.map(\.score), initialRows: [])
    }
}
