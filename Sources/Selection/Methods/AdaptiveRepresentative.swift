/// Adaptive representative sampling: a head learns to tell the labelled samples from the unlabelled
/// pool; the samples it rates most "unlabelled-like" (least like anything labelled) are selected in
/// batches of `per_iteration`, each batch moved to the labelled side before the head is retrained.
///
/// Munro, "Human-in-the-Loop Machine Learning", Manning 2021, ch. 4.4 and 5 (adaptive representative
/// sampling; rmunro/pytorch_active_learning, `diversity_sampling.py`, `get_adaptive_representative_samples`),
/// with the deterministic logistic head of ``ActiveTransferLearning``. It needs labelled samples (the
/// job's `"labelled"`): they are the first "labelled" side. A pick's score is P(unlabelled) when its
/// batch was chosen. Cost: ⌈K / per_iteration⌉ fits on all N rows, each O(iterations·N·d).
public enum AdaptiveRepresentative: SelectionMethod {
    public typealias Parameters = ActiveTransferLearning.BatchParameters

    public static let name = "adaptive_representative"
    public static let summary = "Select the samples least like the labelled ones, retraining a labelled-vs-unlabelled head after each batch."
    public static let reference = "Munro, \"Human-in-the-Loop Machine Learning\", Manning 2021, ch. 4–5 (adaptive representative sampling)"
    public static let labelledUse = LabelledUse.required(
        "They are the labelled side the head learns to tell the pool from; each batch of picks joins them.")

    public static func validate(_ shape: ProblemShape, _ parameters: Parameters) throws(SelectionError) {
        try shape.checkPoolAndBudget()
    }

    public static func select(_ problem: SelectionProblem, _ parameters: Parameters, _ context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult {
        let pool = parameters.head.normalize ? problem.pool.normalizedRows() : problem.pool
        var isLabelled = problem.isLabelled
        var picks: [Pick] = []
        while picks.count < problem.budget {
            try context.checkStop()
            let model = ActiveTransferLearning.fit(pool, positives: isLabelled.map { !$0 }, head: parameters.head,
                                                   threads: context.threads)
            let rows = (0..<pool.rows).filter { !isLabelled[$0] }
            let scores = ActiveTransferLearning.positiveProbabilities(model, pool: pool, rows: rows)
            let batch = SeededTopK.best(min(parameters.perIteration, problem.budget - picks.count), of: rows,
                                                    scores: scores, generator: &context.generator)
            for pick in batch { isLabelled[pick.row] = true }
            picks += batch
            context.progress(SelectionProgress(step: picks.count, total: problem.budget, value: batch.last?.score ?? 0))
        }
        return SelectionResult(picks: picks, curveName: "unlabelled", curve: picks.map(\.score), initialRows: [])
    }
}
