/// The ActiveFT paper's K-Means baseline: cluster the pool into K clusters and take the sample
/// nearest to each centre.
///
/// Xie et al., CVPR 2023, Table 1 "K-Means"; clustering as scikit-learn's `KMeans` (greedy
/// k-means++, Lloyd to convergence, `restarts` keeping the lowest inertia) on L2-normalised
/// features, Euclidean by default or spherical (cosine). Then each centre, largest cluster first,
/// takes its nearest sample not taken by an earlier one; a pick's score is the size of its cluster.
/// The curve is the kept restart's inertia per iteration. Cost per iteration: the exact pruned
/// nearest-centroid search (at most one N×K×d sgemm) plus O(N·d); the final step O(N·K·d), O(K²) memory.
public enum KMeansSelection: SelectionMethod {
    public struct Parameters: MethodParameters {
        public var maxIterations = 300
        public var tolerance = 1e-4
        public var restarts = 1
        public var spherical = false

        public init() {}

        public static var parameters: [Parameter<Self>] {
            [.integer("max_iterations", \.maxIterations, in: 1...1_000_000, help: "Lloyd iterations at most per restart."),
             .number("tolerance", \.tolerance, above: 0,
                     help: "Stop when the total squared centre shift is at most this × the mean feature variance (scikit-learn's tol)."),
             .integer("restarts", \.restarts, in: 1...1000,
                      help: "k-means++ restarts; the clustering with the lowest inertia is kept (scikit-learn's n_init)."),
             .boolean("spherical", \.spherical, help: "Cosine assignment to unit-norm centres instead of Euclidean.")]
        }
    }

    public static let name = "kmeans"
    public static let summary = "k-means++ and Lloyd into K clusters; the sample nearest each centre, largest cluster first."
    public static let reference = "Xie et al., CVPR 2023 (the K-Means baseline); scikit-learn KMeans; Arthur & Vassilvitskii, \"k-means++\", SODA 2007"

    public static func validate(_ shape: ProblemShape, _ parameters: Parameters) throws(SelectionError) {
        try shape.checkPoolAndBudget()
    }

    public static func select(_ problem: SelectionProblem, _ parameters: Parameters, _ context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult {
        let k = problem.budget
        let fixed = problem.labelled
        let clustering = KMeansClustering(unit: problem.pool.normalizedRows(), spherical: parameters.spherical,
                                          threads: context.threads, partition: problem.partition, group: context.group)
        var best: KMeansClustering.Clustering?
        var bestSeeds: [Int] = []
        for restart in 0..<parameters.restarts {
            try context.checkStop()
            let seeds = clustering.seed(k: k, given: fixed, generator: &context.generator)
            let result = try clustering.lloyd(initialRows: fixed + seeds, fixed: fixed.count,
                                              maxIterations: parameters.maxIterations,
                                              tolerance: parameters.tolerance, shouldStop: context.shouldStop)
            context.progress(SelectionProgress(step: restart + 1, total: parameters.restarts, value: result.inertia))
            if best == nil || result.inertia < best!.inertia { best = result; bestSeeds = seeds }
        }
        let kept = best!
        return SelectionResult(picks: clustering.nearestDistinctRows(kept, k: fixed.count + k, fixed: fixed.count, excluding: fixed),
                               curveName: "inertia", curve: kept.curve, initialRows: bestSeeds)
    }

    /// Distributed: every sum over rows is exact over the group, k-means++ draws by an exact
    /// cumulative sum, and the final step merges each process's best rows.
    public static func distributionObstacle(_ parameters: Parameters) -> String? { nil }

    public static let labelledUse = LabelledUse.used(
        "Keeps them as fixed centres: k-means++ continues from them, Lloyd moves only the K new centres, and each new centre takes its nearest unlabelled sample.")
}
