import Foundation

/// Uncertainty sampling from a model's class probabilities: the K pool samples whose predicted
/// distribution is most uncertain by one of the classic measures, each normalised to [0, 1] as Robert
/// Munro's "Human-in-the-Loop Machine Learning" (Manning, 2021), ch. 3 and its code
/// (rmunro/pytorch_active_learning, `uncertainty_sampling.py`) does.
///
/// The four methods (``LeastConfidence``, ``MarginSampling``, ``RatioSampling``, ``EntropySampling``)
/// differ only in ``Measure``. Exact ties are broken by a seeded random order. Cost: O(N·C) for the
/// scores plus O(N log K) for the best K (``SeededTopK``); O(N) memory beyond the input.
public enum UncertaintySampling {
    /// How uncertain one distribution p over C classes is (1 most uncertain, 0 certain).
    public enum Measure: Sendable {
        /// (1 − p₁) · C / (C − 1), p₁ the largest probability.
        case leastConfidence
        /// 1 − (p₁ − p₂), p₂ the second largest.
        case margin
        /// p₂ / p₁.
        case ratio
        /// −Σ pᵢ log₂ pᵢ / log₂ C.
        case entropy

        /// The measure of `p`, a row of probabilities (C ≥ 2). O(C).
        public func score<Row: Collection>(_ p: Row) -> Double where Row.Element == Float {
            let c = Double(p.count)
            var first = -Double.infinity, second = -Double.infinity
            var entropy = 0.0
            for value in p {
                let x = Double(value)
                if x > first { second = first; first = x } else if x > second { second = x }
                if x > 0 { entropy -= x * log2(x) }
            }
            switch self {
            case .leastConfidence: return (1 - first) * c / (c - 1)
            case .margin: return 1 - (first - second)
            case .ratio: return first > 0 ? second / first : 1
            case .entropy: return entropy / log2(c)
            }
        }
    }

    /// A model's predictions for the pool: what `information_density` reads.
    public static let input = MethodInput(
        "predictions", .predictions, required: true,
        help: "The model's class probabilities or logits for every pool sample (N × C, in the pool's row order).")

    /// The four methods' predictions: optional, since without them a probe fit to the labelled samples
    /// predicts instead.
    public static let predictionsOrProbe = MethodInput(
        "predictions", .predictions, required: false,
        help: "The model's class probabilities or logits for every pool sample (N × C, in the pool's row order); without them, a probe fit to the labelled samples and their labels predicts.")

    /// C of the probe that predicts when no predictions are given (as `evaluate`'s).
    static let probeC = SubsetEvaluation.defaultProbeC

    /// Checks that the predictions are there, one row per pool sample, with at least 2 classes — or,
    /// for a `method` that can fit a probe instead, that the labelled samples' classes are known.
    public static func validate(_ shape: ProblemShape, probeFor method: String? = nil) throws(SelectionError) {
        try shape.checkPoolAndBudget()
        if let method, shape.inputs["predictions"] == nil {
            guard shape.labelledClassesKnown else {
                throw .needsInput(parameter: method, input: "predictions, or samples labelled in earlier rounds with their class labels",
                                  reason: "without predictions a probe is fit to those labels")
            }
            return
        }
        guard let predictions = shape.inputs["predictions"] else { throw .missingInput("predictions") }
        guard predictions.rows == shape.poolSize else {
            throw .parameterOutOfRange(parameter: "predictions", value: "\(predictions.rows) rows",
                                       reason: "must have one row per pool sample (\(shape.poolSize))")
        }
        guard predictions.columns >= 2 else {
            throw .parameterOutOfRange(parameter: "predictions", value: "\(predictions.columns) columns",
                                       reason: "must have at least 2 classes")
        }
    }

    /// The `problem.budget` most uncertain unlabelled rows by `measure`, most uncertain first; exact ties
    /// in a seeded random order. The distributions are the `predictions` input, or else those of a
    /// probe (``LogisticRegression/probe(_:rows:classes:c:threads:)``, C = ``probeC``) fit to the
    /// labelled rows and their classes. The curve is each pick's score.
    public static func select(_ problem: SelectionProblem, measure: Measure, context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult {
        let probabilities: FeatureMatrix
        if let predictions = problem.inputs["predictions"] {
            probabilities = predictions
        } else {
            guard problem.labelledClasses != nil else { throw .missingInput("predictions") }
            let probed = try ProbedPool(problem, c: probeC, method: "uncertainty sampling", threads: context.threads)
            probabilities = FeatureMatrix(rows: probed.unit.rows, columns: probed.model.classes,
                                          values: probed.model.probabilities(probed.unit).map(Float.init))
        }
        let c = probabilities.columns
        let isLabelled = problem.isLabelled
        let candidates = (0..<probabilities.rows).filter { !isLabelled[$0] }
        var scores = [Double](repeating: 0, count: candidates.count)
        for (i, row) in candidates.enumerated() {
            if i % 65_536 == 0 { try context.checkStop() }
            scores[i] = measure.score(probabilities.values[(row * c)..<((row + 1) * c)])
        }
        let picks = SeededTopK.best(problem.budget, of: candidates, scores: scores, generator: &context.generator)
        return SelectionResult(picks: picks, curveName: "uncertainty", curve: picks.map(\.score), initialRows: [])
    }
}

/// A method that scores each pool sample's predicted distribution by one uncertainty ``UncertaintySampling/Measure``.
public protocol UncertaintyMethod: SelectionMethod where Parameters == NoParameters {
    static var measure: UncertaintySampling.Measure { get }
}

extension UncertaintyMethod {
    public static var inputs: [MethodInput] { [UncertaintySampling.predictionsOrProbe] }

    public static var labelledUse: LabelledUse {
        .used("Never selects them; without predictions, fits a probe (a logistic regression, C = 10) to them and their class labels and ranks the rest by its probabilities.")
    }

    public static func validate(_ shape: ProblemShape, _ parameters: NoParameters) throws(SelectionError) {
        try UncertaintySampling.validate(shape, probeFor: name)
    }

    public static func select(_ problem: SelectionProblem, _ parameters: NoParameters, _ context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult {
        try UncertaintySampling.select(problem, measure: measure, context: &context)
    }
}

/// The parameters of a method that has none.
public struct NoParameters: MethodParameters {
    public static var parameters: [Parameter<Self>] { [] }
    public init() {}
}
