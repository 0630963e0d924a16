/// Active Transfer Learning for uncertainty: a head learns, on a labelled validation set, where the
/// model is wrong; the pool samples it rates most likely "incorrect" are selected.
///
/// Munro, "Human-in-the-Loop Machine Learning", Manning 2021, ch. 5.2 (rmunro/pytorch_active_learning,
/// `advanced_active_learning.py`, `get_atl_uncertainty_samples`), with the deterministic logistic head
/// of ``ActiveTransferLearning``. A pick's score is P(incorrect). Cost: one fit, O(iterations·m·d),
/// plus O(N·d) to score the pool.
public enum ATLUncertainty: SelectionMethod {
    public struct Parameters: MethodParameters {
        public var head = ActiveTransferLearning.Head()
        public init() {}
        public static var parameters: [Parameter<Self>] { ActiveTransferLearning.Head.parameters.map { $0.nested(at: \.head) } }
    }

    public static let name = "atl_uncertainty"
    public static let summary = "Learn where the model is wrong on a validation set; select the pool samples most likely wrong."
    public static let reference = "Munro, \"Human-in-the-Loop Machine Learning\", Manning 2021, ch. 5 (Active Transfer Learning for uncertainty sampling)"
    public static let inputs = [ActiveTransferLearning.validation]

    public static func validate(_ shape: ProblemShape, _ parameters: Parameters) throws(SelectionError) {
        try shape.checkPoolAndBudget()
        try ActiveTransferLearning.checkValidation(shape)
    }

    public static func select(_ problem: SelectionProblem, _ parameters: Parameters, _ context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult {
        // One batch of the whole budget: ATLAS without retraining.
        try ActiveTransferLearning.selectLikelyWrong(problem, head: parameters.head, perIteration: problem.budget,
                                                     context: &context)
    }
}
