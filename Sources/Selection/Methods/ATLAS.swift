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
        try ActiveTransferLearning.selectLikelyWrong(problem, head: parameters.head, perIteration: parameters.perIteration,
                                                     context: &context)
    }
}
