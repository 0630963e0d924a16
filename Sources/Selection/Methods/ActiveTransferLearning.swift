/// What the three Active Transfer Learning methods share: the parameters of their logistic head, its
/// fit, and taking the best-scored rows.
///
/// Munro, "Human-in-the-Loop Machine Learning", Manning 2021, ch. 5, and its code
/// (rmunro/pytorch_active_learning, `advanced_active_learning.py`). Munro trains a small neural head
/// with shuffled SGD and balances the classes by sampling equal numbers of correct and incorrect
/// items (`select_per_epoch`); selectjob fits an L2-regularised logistic regression
/// (``LogisticRegression``, deterministic L-BFGS) with balanced class weights instead, so agreement
/// with the reference is semantic, not bitwise.
public enum ActiveTransferLearning {
    /// The parameters of the logistic head, shared by all three methods.
    public struct Head: Sendable, Equatable {
        /// C, scikit-learn's inverse regularisation strength.
        public var regularization = 1.0
        /// L2-normalise the features (pool and validation) before fitting.
        public var normalize = true

        public init() {}

        static var parameters: [Parameter<Head>] {
            [.number("regularization", \.regularization, above: 0,
                     help: "C, the logistic head's inverse L2 regularisation strength (scikit-learn's C)."),
             .boolean("normalize", \.normalize, help: "L2-normalise the features before fitting the head.")]
        }
    }

    /// The validation input of ``ATLUncertainty`` and ``ATLAS``.
    static let validation = MethodInput(
        "validation", .validation, required: true,
        help: "Labelled samples with the model's predictions: their features (the pool's width), true labels and predicted labels or probabilities.")

    /// The parameters of the methods that select in batches, retraining the head after each.
    public struct BatchParameters: MethodParameters {
        public var head = Head()
        /// Samples selected per retraining of the head.
        public var perIteration = 100
        public init() {}
        public static var parameters: [Parameter<Self>] {
            Head.parameters.map { $0.nested(at: \.head) }
                + [.integer("per_iteration", \.perIteration, in: 1...1_000_000, help: "Samples selected per retraining of the head.")]
        }
    }

    /// The head's gradient tolerance (on the objective divided by C·Σs). Measured at 50,000 × 384,
    /// K = 500 (single runs, 2026-11-22): ATLAS took 60 s with 1e-9 and 0.6 s with 1e-6.
    static let headTolerance = 1e-6

    /// Fits the binary head predicting label 1 from `features`, classes weighted to balance.
    static func fit(_ features: FeatureMatrix, positives: [Bool], head: Head, threads: Int) -> LogisticRegression {
        let labels = positives.map { $0 ? 1 : 0 }
        return LogisticRegression.fit(features: features, labels: labels, classes: 2,
                                      inverseRegularization: head.regularization,
                                      sampleWeights: LogisticRegression.balancedWeights(labels: labels, classes: 2),
                                      tolerance: headTolerance, maxIterations: 1000, threads: threads)
    }

    /// P(label 1) for each of `rows` of `pool`. O(rows·d).
    static func positiveProbabilities(_ model: LogisticRegression, pool: FeatureMatrix, rows: [Int]) -> [Double] {
        let p = model.probabilities(pool, rows: rows)
        return rows.indices.map { p[$0 * 2 + 1] }
    }

    /// Selects `budget` rows of `pool` in batches of `perIteration`: before each batch a head is fitted
    /// by `fit` (given the picks so far and every row's picked-or-labelled flag) and the unflagged rows
    /// with the highest P(label 1) are taken, exact ties in a seeded order. Rows flagged in `flagged`
    /// are never taken. O(⌈budget / perIteration⌉ · (fit + N·d)).
    static func selectInBatches(pool: FeatureMatrix, budget: Int, perIteration: Int, flagged: [Bool],
                                context: inout SelectionContext,
                                fit: (_ picks: [Pick], _ flagged: [Bool]) -> LogisticRegression) throws(SelectionError) -> [Pick] {
        var flagged = flagged
        var picks: [Pick] = []
        while picks.count < budget {
            try context.checkStop()
            let model = fit(picks, flagged)
            let rows = (0..<pool.rows).filter { !flagged[$0] }
            let batch = SeededTopK.best(min(perIteration, budget - picks.count), of: rows,
                                        scores: positiveProbabilities(model, pool: pool, rows: rows),
                                        generator: &context.generator)
            for pick in batch { flagged[pick.row] = true }
            picks += batch
            context.progress(SelectionProgress(step: picks.count, total: budget, value: batch.last?.score ?? 0))
        }
        return picks
    }

    /// ATL uncertainty in batches (``ATLAS``; one batch of the whole budget is ``ATLUncertainty``):
    /// each head learns P(incorrect) from the validation set plus the picks so far, counted as correct.
    static func selectLikelyWrong(_ problem: SelectionProblem, head: Head, perIteration: Int,
                                  context: inout SelectionContext) throws(SelectionError) -> SelectionResult {
        let (given, verdicts) = try validationData(problem)
        let validation = head.normalize ? given.normalizedRows() : given
        let pool = head.normalize ? problem.pool.normalizedRows() : problem.pool
        let threads = context.threads
        let picks = try selectInBatches(pool: pool, budget: problem.budget, perIteration: perIteration,
                                        flagged: [Bool](repeating: false, count: pool.rows), context: &context) { picks, _ in
            let picked = picks.map(\.row)
            let features = FeatureMatrix(rows: validation.rows + picked.count, columns: validation.columns,
                                         values: validation.values + pool.selecting(rows: picked).values)
            let incorrect = verdicts.map { !$0 } + [Bool](repeating: false, count: picked.count)
            return fit(features, positives: incorrect, head: head, threads: threads)
        }
        return SelectionResult(picks: picks, curveName: "incorrect", curve: picks.map(\.score), initialRows: [])
    }

    /// Checks the validation input: present, the pool's width, both correct and incorrect predictions.
    static func checkValidation(_ shape: ProblemShape) throws(SelectionError) {
        guard let validation = shape.inputs["validation"] else { throw .missingInput("validation") }
        guard validation.columns == shape.width else {
            throw .parameterOutOfRange(parameter: "validation", value: "\(validation.columns) columns",
                                       reason: "must have the pool's \(shape.width) features per row")
        }
    }

    /// The validation features and the model's verdicts, with both verdicts present.
    static func validationData(_ problem: SelectionProblem) throws(SelectionError) -> (FeatureMatrix, [Bool]) {
        guard let features = problem.inputs["validation"], let correct = problem.outcomes["validation"],
              correct.count == features.rows else { throw .missingInput("validation") }
        guard correct.contains(true), correct.contains(false) else {
            throw .parameterOutOfRange(parameter: "validation", value: correct.contains(true) ? "all correct" : "all incorrect",
                                       reason: "needs samples the model got right and samples it got wrong to learn which is which")
        }
        return (features, correct)
    }
}
