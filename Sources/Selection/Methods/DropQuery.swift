import Foundation

/// DropQuery: the samples whose predicted class a probe changes under feature dropout, spread out by
/// clustering them — a round method guided by the labels already gathered.
///
/// Gupte, Goel, Chen et al., "Revisiting Active Learning in the Era of Vision Foundation Models",
/// TMLR 2024; sanketx/AL-foundation-models, `query_strategies/dropout.py`. A probe — here selectjob's
/// multinomial logistic regression (L2, C = `probe_c`, deterministic L-BFGS) on the L2-normalised
/// features of the labelled samples and their class labels, where the authors train a linear layer
/// behind a BatchNorm without affine parameters with AdamW — predicts each unlabelled sample's class,
/// then `passes` more times with each feature entry dropped with probability `dropout` (the rest
/// scaled by 1/(1 − dropout), as `nn.Dropout` does). A sample is a candidate when its prediction
/// changes in more than ⌊passes/2⌋ passes; the threshold is lowered while fewer than
/// ``candidateFactor``·K samples qualify (the authors' rule). More than K candidates are clustered by
/// k-means (k-means++ seeding, Lloyd) into K clusters on the probe's input, the L2-normalised features
/// (the authors: their BatchNorm's output, L2-normalised), and the candidate nearest each centre is
/// picked, largest cluster first (its score: the cluster's size); with K or fewer, every candidate is
/// taken (most flips first) and seeded random samples of the rest fill the budget (score 0). The curve
/// is each pick's flip count. All draws come from the job's seed. The flip rates and the candidate
/// rule are checked against the authors' code on a recorded fixture (`dropquery_authors.json`).
///
/// Cost: the probe's fit, O(passes·N·d·C) for the predictions, and k-means on the candidates.
public enum DropQuery: SelectionMethod {
    public struct Parameters: MethodParameters {
        public var passes = 3
        public var dropout = 0.75
        public var probeC = 10.0

        public init() {}

        public static var parameters: [Parameter<Self>] {
            [.integer("passes", \.passes, in: 1...100, help: "Dropout passes M: a candidate's prediction changes in more than M/2 of them."),
             .number("dropout", \.dropout, above: 0, atMost: 0.99, help: "The probability each feature entry is dropped in a pass."),
             .probeC(\.probeC)]
        }
    }

    /// The threshold on flips is lowered until at least this many times K samples qualify (the
    /// authors' code: `25 * num_samples`). Part of the method's definition, not a tuning constant.
    static let candidateFactor = 25

    public static let name = "dropquery"
    public static let summary = "Samples whose probe prediction flips under feature dropout, clustered; the one nearest each centre."
    public static let reference = "Gupte et al., \"Revisiting Active Learning in the Era of Vision Foundation Models\", TMLR 2024 (sanketx/AL-foundation-models, DropQuery)"
    public static let labelledUse = LabelledUse.required(
        "Fits the probe to them and their class labels (the job's labelled samples with their labels), then looks among the rest where its predictions flip under dropout.")

    public static func validate(_ shape: ProblemShape, _ parameters: Parameters) throws(SelectionError) {
        try shape.checkPoolAndBudget()
        try shape.checkLabelledClasses(method: name)
    }

    public static func select(_ problem: SelectionProblem, _ parameters: Parameters, _ context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult {
        let probed = try ProbedPool(problem, c: parameters.probeC, method: name, threads: context.threads)
        let unit = probed.unit, model = probed.model, unlabelled = probed.unlabelled
        try context.checkStop()
        let flips = flipCounts(unit, rows: unlabelled, model: model, passes: parameters.passes, dropout: parameters.dropout,
                               generator: &context.generator)
        try context.checkStop()
        let k = problem.budget
        let candidates = candidates(flips: flips, passes: parameters.passes, budget: k)
        var picks: [Pick]
        if candidates.count <= k {
            // Every candidate, most flips first; seeded random samples of the rest fill the budget.
            let ranked = candidates.sorted { (flips[$0], -$0) > (flips[$1], -$1) }
            picks = ranked.map { Pick(row: unlabelled[$0], score: 0) }
            let taken = Set(ranked)
            let rest = unlabelled.indices.filter { !taken.contains($0) }
            picks += context.generator.distinctIndices(count: k - ranked.count, from: rest.count)
                .map { Pick(row: unlabelled[rest[$0]], score: 0) }
        } else {
            let rows = candidates.map { unlabelled[$0] }
            let clustering = KMeansClustering(unit: unit.selecting(rows: rows), spherical: false, threads: context.threads,
                                              partition: RowPartition(totalRows: rows.count), group: SingleProcess())
            let seeds = clustering.seed(k: k, generator: &context.generator)
            let result = try clustering.lloyd(initialRows: seeds, maxIterations: 100, tolerance: 1e-4, shouldStop: context.shouldStop)
            picks = clustering.nearestDistinctRows(result, k: k).map { Pick(row: rows[$0.row], score: $0.score) }
        }
        let flipsOf = Dictionary(uniqueKeysWithValues: zip(unlabelled, flips))
        return SelectionResult(picks: picks, curveName: "flips", curve: picks.map { Double(flipsOf[$0.row]!) }, initialRows: [])
    }

    /// The candidates among rows with these flip counts, in row order: those whose prediction changed
    /// in more than ⌊passes/2⌋ passes, the threshold lowered one pass at a time (not below 0) while
    /// fewer than ``candidateFactor``·`budget` qualify — the authors' `_get_candidates`, checked
    /// against it on a recorded fixture. O(passes·rows).
    static func candidates(flips: [Int], passes: Int, budget k: Int) -> [Int] {
        var threshold = passes / 2
        while threshold > 0, flips.count(where: { $0 > threshold }) < candidateFactor * k { threshold -= 1 }
        return flips.indices.filter { flips[$0] > threshold }
    }

    /// For each of `rows` of `unit`, in how many of `passes` dropout passes the probe's predicted class
    /// differs from its prediction without dropout. Masks are drawn pass by pass, row by row, feature by
    /// feature from `generator` (one draw each). O(passes·rows·d·C).
    static func flipCounts(_ unit: FeatureMatrix, rows: [Int], model: LogisticRegression, passes: Int, dropout: Double,
                           generator: inout SeededGenerator) -> [Int] {
        let d = unit.columns, keep = 1 - dropout
        let scale = 1 / keep
        var masked = [Double](repeating: 0, count: d)
        let predicted = rows.map { row in
            for j in 0..<d { masked[j] = Double(unit.values[row * d + j]) }
            return argmax(model, masked)
        }
        var flips = [Int](repeating: 0, count: rows.count)
        for _ in 0..<passes {
            for (i, row) in rows.enumerated() {
                for j in 0..<d {
                    // Kept with probability 1 − dropout: a uniform draw in [0, 1) below `keep`.
                    let kept = Double(generator.next() >> 11) * 0x1p-53 < keep
                    masked[j] = kept ? Double(unit.values[row * d + j]) * scale : 0
                }
                if argmax(model, masked) != predicted[i] { flips[i] += 1 }
            }
        }
        return flips
    }

    /// The probe's most probable class for one feature vector `x` (ties to the lower class). O(d·C).
    static func argmax(_ model: LogisticRegression, _ x: [Double]) -> Int {
        let d = model.dimensions
        if model.outputs == 1 {
            var z = model.intercepts[0]
            for j in 0..<d { z += model.weights[j] * x[j] }
            return z > 0 ? 1 : 0
        }
        var best = 0, bestValue = -Double.infinity
        for k in 0..<model.outputs {
            var z = model.intercepts[k]
            for j in 0..<d { z += model.weights[k * d + j] * x[j] }
            if z > bestValue { best = k; bestValue = z }
        }
        return best
    }
}
