/// The samples most similar to the targets on average: the `activeft` package's `CosineSimilarity`.
///
/// Settles & Craven, "An Analysis of Active Learning Strategies for Sequence Labeling Tasks", EMNLP
/// 2008; jonhue/activeft, `acquisition_functions/cosine_similarity.py`. Each sample's score is its mean
/// cosine similarity to the targets, (1/m) Σ_a x̂·â = x̂ · mean(â), and the K highest are picked, best
/// first, ties to the lower row (a bounded heap). Relevance only: nothing keeps the picks diverse.
/// Cost: O(N·d + m·d + N log K); O(K) memory beyond the data.
public enum CosineSimilarity: SelectionMethod {
    public typealias Parameters = NoParameters

    public static let name = "cosine"
    public static let summary = "The K samples with the highest mean cosine similarity to the targets."
    public static let reference = "Settles & Craven, EMNLP 2008 (the activeft package's CosineSimilarity)"
    public static let inputs = [
        MethodInput("targets", .features, required: true, help: "Features of the samples to be similar to."),
    ]

    public static func validate(_ shape: ProblemShape, _ parameters: Parameters) throws(SelectionError) {
        try shape.checkPoolAndBudget()
        try shape.checkTargetWidth()
    }

    public static func select(_ problem: SelectionProblem, _ parameters: Parameters, _ context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult {
        guard let targets = problem.inputs["targets"] else { throw .missingInput("targets") }
        let scores = meanSimilarities(pool: problem.pool, targets: targets, threads: context.threads)
        var best = Heap<RankedRow>()
        for (row, score) in scores.enumerated() {
            best.insert(RankedRow(row: row, score: score))
            if best.count > problem.budget { _ = best.removeMin() }
        }
        var picks: [Pick] = []
        while let next = best.popMax() { picks.append(Pick(row: next.row, score: next.score)) }
        return SelectionResult(picks: picks, curveName: "", curve: [], initialRows: [])
    }
}

extension CosineSimilarity {
    /// Each pool row's mean cosine similarity to the targets, (1/m) Σ_a x̂·â = x̂ · mean(â), in double
    /// (pool and targets L2-normalised first). O(N·d + m·d).
    static func meanSimilarities(pool: FeatureMatrix, targets: FeatureMatrix, threads: Int) -> [Double] {
        let unitTargets = targets.normalizedRows()
        let d = unitTargets.columns
        var mean = [Double](repeating: 0, count: d)
        for a in 0..<unitTargets.rows { for j in 0..<d { mean[j] += Double(unitTargets.values[a * d + j]) } }
        for j in 0..<d { mean[j] /= Double(unitTargets.rows) }
        return pool.normalizedRows().products(with: mean, threads: threads)
    }
}

/// A row and its score, ordered by score, then by lower row first (the lower row ranks higher).
struct RankedRow: Comparable {
    let row: Int
    let score: Double
    static func < (a: RankedRow, b: RankedRow) -> Bool { (a.score, -a.row) < (b.score, -b.row) }
}

import HeapModule
