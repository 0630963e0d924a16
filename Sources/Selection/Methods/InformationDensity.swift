import Foundation

/// Information density: uncertainty weighted by relevance — the `activeft` package's
/// `InformationDensity`.
///
/// Settles & Craven, "An Analysis of Active Learning Strategies for Sequence Labeling Tasks", EMNLP
/// 2008; jonhue/activeft, `acquisition_functions/information_density.py`. Each sample's value is the
/// entropy of its predicted distribution in nats, H(p) = −Σ pᵢ ln pᵢ (the package's `MaxEntropy`),
/// times its mean cosine similarity to the targets raised to β (``CosineSimilarity``):
/// H(p) · s^β. The K highest are picked, best first; exact ties in a seeded random order.
///
/// Where the package's value is not a real number — a sample less similar to the targets than
/// orthogonal (s < 0) — the relevance term is 0: such samples rank below every sample with s > 0
/// and some uncertainty. (The package gives NaN there for a fractional β, and H·s^β of either sign
/// for an integral one.) Classes with p = 0 add nothing to H, their limit (the package's 0·ln 0 is NaN).
///
/// Cost: O(N·(C + d) + m·d) for the values plus O(N log K) for the best K; O(N) memory beyond the inputs.
public enum InformationDensity: SelectionMethod {
    public struct Parameters: MethodParameters {
        /// β, the weight of relevance against uncertainty.
        public var beta = 1.0

        public init() {}

        public static var parameters: [Parameter<Self>] {
            [.number("beta", \.beta, above: 0,
                     help: "β, the exponent of the mean cosine similarity to the targets: larger favours relevance over uncertainty.")]
        }
    }

    public static let name = "information_density"
    public static let summary = "Uncertainty weighted by relevance: the prediction's entropy times the mean cosine similarity to the targets, raised to β."
    public static let reference = "Settles & Craven, EMNLP 2008 (the activeft package's InformationDensity)"
    public static let inputs = [
        UncertaintySampling.input,
        MethodInput("targets", .features, required: true, help: "Features of the samples to be similar to."),
    ]

    public static func validate(_ shape: ProblemShape, _ parameters: Parameters) throws(SelectionError) {
        try UncertaintySampling.validate(shape)
        try shape.checkTargetWidth()
    }

    public static func select(_ problem: SelectionProblem, _ parameters: Parameters, _ context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult {
        guard let predictions = problem.inputs["predictions"] else { throw .missingInput("predictions") }
        guard let targets = problem.inputs["targets"] else { throw .missingInput("targets") }
        try context.checkStop()
        let similarity = CosineSimilarity.meanSimilarities(pool: problem.pool, targets: targets, threads: context.threads)
        try context.checkStop()
        let c = predictions.columns
        let values = (0..<predictions.rows).map { row in
            let relevance = similarity[row] > 0 ? pow(similarity[row], parameters.beta) : 0
            return entropy(predictions.values[(row * c)..<((row + 1) * c)]) * relevance
        }
        let picks = SeededTopK.best(problem.budget, of: Array(values.indices), scores: values, generator: &context.generator)
        return SelectionResult(picks: picks, curveName: "information_density", curve: picks.map(\.score), initialRows: [])
    }

    /// −Σ pᵢ ln pᵢ over the classes with pᵢ > 0, in double. O(C).
    static func entropy(_ p: ArraySlice<Float>) -> Double {
        var sum = 0.0
        for value in p where value > 0 {
            let x = Double(value)
            sum -= x * log(x)
        }
        return sum
    }
}
