/// Adaptive representative sampling: a head learns to tell the labelled samples from the unlabelled
/// pool; the samples it rates most "unlabelled-like" (least like anything labelled) are selected in
/// batches of `per_iteration`, each batch moved to the labelled side before the head is retrained.
///
/// Munro, "Human-in-the-Loop Machine Learning", Manning 2021, ch. 4.4 and 5 (adaptive representative
/// sampling; rmunro/pytorch_active_learning, `diversity_sampling.py`, `get_adaptive_representative_samples`),
/// with the deterministic logistic head of ``ActiveTransferLearning``. It needs labelled samples
/// (``SelectionProblem/labelled``): they are the first side of the labelled-vs-unlabelled head. A pick's score is P(unlabelled) when its
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
        let threads = context.threads
        let picks = try ActiveTransferLearning.selectInBatches(
            pool: pool, budget: problem.budget, perIteration: parameters.perIteration, flagged: problem.isLabelled,
            context: &context
        ) { _, labelled in
            ActiveTransferLearning.fit(pool, positives: labelled.map { !$0 }, head: parameters.head, threads: threads)
        }
        return SelectionResult(picks: picks, curveName: "unlabelled", curve: picks.map(\.score), initialRows: [])
    }
}
