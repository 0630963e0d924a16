import Foundation

/// BADGE: k-means++ seeding on the gradient embeddings a probe would get from each sample labelled
/// with its own prediction — uncertain samples have long embeddings, and D² sampling keeps them diverse.
///
/// Ash, Zhang, Krishnamurthy, Langford & Agarwal, "Deep Batch Active Learning by Diverse, Uncertain
/// Gradient Lower Bounds", ICLR 2020 (JordanAsh/badge, `badge_sampling.py`, `init_centers`). A probe
/// — selectjob's logistic regression (C = `probe_c`) on the L2-normalised features of the labelled
/// samples and their class labels — gives each unlabelled sample x its class probabilities p and
/// prediction ŷ; its gradient embedding is g = (p − onehot(ŷ)) ⊗ x, the gradient of the cross-entropy
/// with respect to the probe's weights (C·d entries; the reference uses the network's last layer, here
/// the probe is that layer). The first pick is the longest g (ties to the lower row), as the reference
/// does; each next pick is drawn with probability proportional to its squared distance to the nearest
/// pick so far (D² sampling, one uniform draw from the job's seed), never a row already picked. A
/// pick's score and curve value is that squared distance (the first: ‖g‖²).
///
/// The embeddings are never formed: for unit rows, ‖g_i − g_j‖² = ‖a_i‖² + ‖a_j‖² − 2 (a_i·a_j)(x_i·x_j)
/// with a = p − onehot(ŷ), so each pick costs one pass of x·x_j over the pool. Cost: the probe's fit,
/// O(N·d·C) for the probabilities, O(K·N·(d + C)) for the picks; memory O(N·C).
public enum Badge: SelectionMethod {
    public struct Parameters: MethodParameters {
        public var probeC = 10.0

        public init() {}

        public static var parameters: [Parameter<Self>] {
            [.probeC(\.probeC)]
        }
    }

    public static let name = "badge"
    public static let summary = "k-means++ seeding on the probe's gradient embeddings (p − onehot(ŷ)) ⊗ x: uncertain and diverse."
    public static let reference = "Ash et al., \"Deep Batch Active Learning by Diverse, Uncertain Gradient Lower Bounds\", ICLR 2020 (BADGE)"
    public static let labelledUse = LabelledUse.required(
        "Fits the probe to them and their class labels; the gradient embeddings of the rest are seeded by k-means++.")

    public static func validate(_ shape: ProblemShape, _ parameters: Parameters) throws(SelectionError) {
        try shape.checkPoolAndBudget()
        try shape.checkLabelledClasses(method: name)
    }

    public static func select(_ problem: SelectionProblem, _ parameters: Parameters, _ context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult {
        let probed = try ProbedPool(problem, c: parameters.probeC, method: name, threads: context.threads)
        try context.checkStop()
        let picks = try seeding(probed.unit, rows: probed.unlabelled, probabilities: probed.unlabelledProbabilities,
                                classes: probed.model.classes, count: problem.budget, threads: context.threads,
                                choose: { weights, picked in drawProportional(weights, skipping: picked, generator: &context.generator) },
                                progress: context.progress, shouldStop: context.shouldStop)
        return SelectionResult(picks: picks, curveName: "gradient_distance", curve: picks.map(\.score), initialRows: [])
    }

    /// k-means++ seeding on the gradient embeddings of `rows` of `unit` (the probe's `probabilities`,
    /// rows × `classes`): the first pick the longest embedding (ties to the lower row), each next one
    /// `choose(weights, picked)` — weights the squared distance of each row's embedding to the nearest
    /// pick so far, 0 for a pick. Returns `count` picks (pool rows), each scored with its weight when
    /// chosen. The seam the reference fixture drives with the reference's own choices. O(count·N·(d + C)).
    static func seeding(_ unit: FeatureMatrix, rows: [Int], probabilities: [Double], classes c: Int, count: Int, threads: Int,
                        choose: (_ weights: [Double], _ picked: [Bool]) -> Int,
                        progress: (SelectionProgress) -> Void = { _ in }, shouldStop: () -> Bool = { false })
        throws(SelectionError) -> [Pick] {
        let a = gradientFactors(probabilities, classes: c)
        let squaredNorm = rows.indices.map { i in a[(i * c)..<((i + 1) * c)].reduce(0) { $0 + $1 * $1 } }
        // Invariant: nearest[i] is the squared distance from rows[i]'s embedding to the nearest pick so
        // far, 0 for a pick (a picked row is never chosen again: its weight is 0, and it is skipped).
        var nearest = [Double](repeating: .infinity, count: rows.count)
        var isPicked = [Bool](repeating: false, count: rows.count)
        var picks: [Pick] = []
        var next = squaredNorm.indices.max { (squaredNorm[$0], -$0) < (squaredNorm[$1], -$1) }!
        var score = squaredNorm[next]
        while true {
            picks.append(Pick(row: rows[next], score: score))
            isPicked[next] = true
            nearest[next] = 0
            progress(SelectionProgress(step: picks.count, total: count, value: score))
            if picks.count == count { break }
            if shouldStop() { throw .cancelled }
            let similarity = BlockedSimilarity.similarities(unit, to: unit.row(rows[next]), threads: threads)
            for i in rows.indices where !isPicked[i] {
                var ab = 0.0
                for k in 0..<c { ab += a[i * c + k] * a[next * c + k] }
                let distance = max(0, squaredNorm[i] + squaredNorm[next] - 2 * ab * Double(similarity[rows[i]]))
                nearest[i] = min(nearest[i], distance)
            }
            next = choose(nearest, isPicked)
            score = nearest[next]
        }
        return picks
    }

    /// a = p − onehot(ŷ) for each row of `probabilities` (rows × `classes`), ŷ its most probable class
    /// (ties to the lower class). O(rows·C).
    static func gradientFactors(_ probabilities: [Double], classes c: Int) -> [Double] {
        var a = probabilities
        for i in 0..<(probabilities.count / c) {
            var best = 0
            for k in 1..<c where probabilities[i * c + k] > probabilities[i * c + best] { best = k }
            a[i * c + best] -= 1
        }
        return a
    }

    /// An index drawn with probability proportional to `weights` among those not `skipping` — one
    /// uniform draw u in [0, 1), the first index whose running total exceeds u·total (the last one of
    /// positive weight, should rounding leave u·total unreached). When every weight is 0 (every
    /// embedding equal to a pick's), uniformly among those not skipped, as the reference does. O(count).
    static func drawProportional(_ weights: [Double], skipping: [Bool], generator: inout SeededGenerator) -> Int {
        let total = weights.indices.reduce(0.0) { skipping[$1] ? $0 : $0 + weights[$1] }
        let u = Double(generator.next() >> 11) * 0x1p-53
        guard total > 0 else {
            let open = skipping.indices.filter { !skipping[$0] }
            return open[min(open.count - 1, Int(u * Double(open.count)))]
        }
        let target = u * total
        var running = 0.0, lastPositive: Int?
        for i in weights.indices where !skipping[i] && weights[i] > 0 {
            lastPositive = i
            running += weights[i]
            if running > target { return i }
        }
        return lastPositive!
    }
}
