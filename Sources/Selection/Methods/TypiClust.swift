/// TypiClust: cluster the pool, then take the most typical sample of each cluster, largest first.
///
/// Hacohen, Dekel & Weinshall, "Active Learning on a Budget: Opposite Strategies Suit High and Low
/// Budgets", ICML 2022 (avihu111/TypiClust, `typiclust.py`). min(K, `max_clusters`) clusters by
/// selectjob's k-means (k-means++ and Lloyd, where the reference uses scikit-learn's KMeans or
/// MiniBatchKMeans); clusters of at most `min_cluster_size` samples are dropped; the rest, largest
/// first, take turns. In its turn a cluster gives its most typical unpicked sample: typicality
/// 1 / (1e-5 + mean squared Euclidean distance to its k nearest unpicked cluster-mates, as the
/// reference's faiss `IndexFlatL2` measures it), k = min(`neighbors`,
/// ⌊size/2⌋), on L2-normalised features. The pick's score is its typicality; ties go to the lower
/// row. Cost: the k-means, then per pick O(m²·d) for its cluster of m unpicked samples; O(m²) memory.
public enum TypiClust: SelectionMethod {
    public struct Parameters: MethodParameters {
        public var neighbors = 20
        public var maxClusters = 500
        public var minClusterSize = 5

        public init() {}

        public static var parameters: [Parameter<Self>] {
            [.integer("neighbors", \.neighbors, in: 1...10_000, help: "Nearest cluster-mates whose mean distance defines typicality."),
             .integer("max_clusters", \.maxClusters, in: 1...1_000_000,
                      help: "At most this many clusters (the reference's MAX_NUM_CLUSTERS)."),
             .integer("min_cluster_size", \.minClusterSize, in: 0...1_000_000,
                      help: "Clusters of at most this many samples are never picked from.")]
        }
    }

    public static let name = "typiclust"
    public static let summary = "The most typical sample (densest k-NN neighbourhood) of each k-means cluster, largest first."
    public static let reference = "Hacohen, Dekel & Weinshall, \"Active Learning on a Budget: Opposite Strategies Suit High and Low Budgets\", ICML 2022"

    public static func validate(_ shape: ProblemShape, _ parameters: Parameters) throws(SelectionError) {
        try shape.checkPoolAndBudget()
    }

    public static let labelledUse = LabelledUse.used(
        "Clusters the whole pool into |labelled| + K clusters and picks first from the clusters with the fewest labelled samples, as the reference does.")

    public static func select(_ problem: SelectionProblem, _ parameters: Parameters, _ context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult {
        let unit = problem.pool.normalizedRows()
        // As the reference: |labelled| + K clusters of the whole pool.
        let clusters = min(problem.budget + problem.labelled.count, parameters.maxClusters)
        let kmeans = KMeansClustering(unit: unit, spherical: false, threads: context.threads)
        let seeds = kmeans.seed(k: clusters, generator: &context.generator)
        let clustering = try kmeans.lloyd(initialRows: seeds, maxIterations: 300, tolerance: 1e-4,
                                          shouldStop: context.shouldStop)
        // Each cluster's size counts every sample; its members are the samples not yet labelled.
        let isLabelled = problem.isLabelled
        var members = [[Int]](repeating: [], count: clusters)
        var sizes = [Int](repeating: 0, count: clusters)
        var labelledIn = [Int](repeating: 0, count: clusters)
        for (row, c) in clustering.assignment.enumerated() {
            sizes[Int(c)] += 1
            if isLabelled[row] { labelledIn[Int(c)] += 1 } else { members[Int(c)].append(row) }
        }
        let eligible = (0..<clusters).filter { sizes[$0] > parameters.minClusterSize }
        guard !eligible.isEmpty else {
            throw .parameterOutOfRange(parameter: "min_cluster_size", value: String(parameters.minClusterSize),
                                       reason: "leaves no cluster to pick from (every one of the \(clusters) clusters is that small)")
        }
        var picks: [Pick] = []
        while picks.count < problem.budget {
            try context.checkStop()
            // The cluster with the fewest labelled samples (earlier picks included), then the largest,
            // then the lowest index: with nothing labelled, the clusters in size order, round after round.
            guard let cluster = eligible.filter({ !members[$0].isEmpty })
                .min(by: { (labelledIn[$0], -sizes[$0], $0) < (labelledIn[$1], -sizes[$1], $1) }) else { break }
            labelledIn[cluster] += 1
            let (position, typicality) = mostTypical(unit.selecting(rows: members[cluster]),
                                                     neighbors: min(parameters.neighbors, members[cluster].count / 2),
                                                     threads: context.threads)
            picks.append(Pick(row: members[cluster][position], score: typicality))
            members[cluster].remove(at: position)
            context.progress(SelectionProgress(step: picks.count, total: problem.budget, value: typicality))
        }
        guard picks.count == problem.budget else {
            throw .parameterOutOfRange(parameter: "min_cluster_size", value: String(parameters.minClusterSize),
                                       reason: "leaves only \(picks.count) samples in clusters large enough for a budget of \(problem.budget)")
        }
        return SelectionResult(picks: picks, curveName: "typicality", curve: picks.map(\.score), initialRows: seeds)
    }

    /// The position of the most typical row of `x` and its typicality. O(m²·d).
    static func mostTypical(_ x: FeatureMatrix, neighbors k: Int, threads: Int) -> (Int, Double) {
        guard k >= 1 else { return (0, 1 / 1e-5) }
        let typicality = BlockedSimilarity.rowwise(x, x, threads: threads) { i, similarity in
            // The k most similar others (largest x·y, smallest distance), by insertion into a short list.
            var top = [Float](repeating: -.infinity, count: k)
            for (j, s) in similarity.enumerated() where j != i && s > top[k - 1] {
                var slot = k - 1
                while slot > 0, top[slot - 1] < s { top[slot] = top[slot - 1]; slot -= 1 }
                top[slot] = s
            }
            let mean = top.reduce(0.0) { $0 + max(0, 2 - 2 * Double($1)) } / Double(k)
            return 1 / (mean + 1e-5)
        }
        var best = 0
        for i in 1..<typicality.count where typicality[i] > typicality[best] { best = i }
        return (best, typicality[best])
    }
}
