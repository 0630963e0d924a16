import Foundation

/// Cluster-Margin: the lowest-margin samples under a probe, taken round-robin over clusters of the
/// pool, smallest cluster first — uncertainty kept diverse at large batch sizes.
///
/// Citovsky, DeSalvo, Gentile et al., "Batch Active Learning at Scale", NeurIPS 2021 (Algorithm 1).
/// The pool is clustered once — here by k-means (k-means++ seeding, Lloyd) into `clusters` groups
/// (default K), where the paper uses average-linkage agglomerative clustering. A probe — selectjob's
/// logistic regression (C = `probe_c`) on the labelled samples and their class labels — gives each
/// unlabelled sample its margin p₁ − p₂; the `candidate_factor`·K samples of smallest margin are
/// grouped by cluster, and the clusters, smallest first, each give their lowest-margin remaining
/// sample in turn until K are picked. A pick's score is 1 − margin (higher: less certain); the curve
/// is the same per pick.
///
/// Cost: the probe's fit, k-means on the pool, O(N·d·C) for the margins.
public enum ClusterMargin: SelectionMethod {
    public struct Parameters: MethodParameters {
        public var candidateFactor = 10
        public var clusters: Int?
        public var probeC = 10.0

        public init() {}

        public static var parameters: [Parameter<Self>] {
            [.integer("candidate_factor", \.candidateFactor, in: 1...1000,
                      help: "The candidates are this many times K samples of smallest margin (the paper's k_m / k_t)."),
             .integer("clusters", \.clusters, in: 1...1_000_000,
                      help: "Clusters of the pool the candidates are spread over; default K."),
             .probeC(\.probeC)]
        }
    }

    public static let name = "cluster_margin"
    public static let summary = "The smallest-margin samples under a probe, round-robin over clusters of the pool, smallest cluster first."
    public static let reference = "Citovsky et al., \"Batch Active Learning at Scale\", NeurIPS 2021 (Cluster-Margin)"
    public static let labelledUse = LabelledUse.required(
        "Fits the probe to them and their class labels; the margins of the rest decide the candidates.")

    public static func validate(_ shape: ProblemShape, _ parameters: Parameters) throws(SelectionError) {
        try shape.checkPoolAndBudget()
        try shape.checkLabelledClasses(method: name)
        if let clusters = parameters.clusters, clusters > shape.poolSize {
            throw .parameterOutOfRange(parameter: "clusters", value: "\(clusters)", reason: "the pool has \(shape.poolSize) samples")
        }
    }

    public static func select(_ problem: SelectionProblem, _ parameters: Parameters, _ context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult {
        let probed = try ProbedPool(problem, c: parameters.probeC, method: name, threads: context.threads)
        let unit = probed.unit, model = probed.model, unlabelled = probed.unlabelled
        let k = problem.budget
        try context.checkStop()
        // The pool's clusters, once.
        let clusterCount = min(parameters.clusters ?? k, unit.rows)
        let kmeans = KMeansClustering(unit: unit, spherical: false, threads: context.threads,
                                      partition: RowPartition(totalRows: unit.rows), group: SingleProcess())
        let seeds = kmeans.seed(k: clusterCount, generator: &context.generator)
        let clustering = try kmeans.lloyd(initialRows: seeds, maxIterations: 100, tolerance: 1e-4, shouldStop: context.shouldStop)
        // Margins of the unlabelled rows; the candidate_factor·K smallest (ties to the lower row).
        let p = probed.unlabelledProbabilities, c = model.classes
        let margins = unlabelled.indices.map { i -> Double in
            var first = -Double.infinity, second = -Double.infinity
            for value in p[(i * c)..<((i + 1) * c)] {
                if value > first { second = first; first = value } else if value > second { second = value }
            }
            return first - second
        }
        let order = unlabelled.indices.sorted { (margins[$0], unlabelled[$0]) < (margins[$1], unlabelled[$1]) }
        let candidates = order.prefix(min(order.count, parameters.candidateFactor * k))
        // Candidates by cluster, each cluster's in increasing margin; clusters smallest first (ties to the lower index).
        var byCluster: [Int: [Int]] = [:]
        for i in candidates { byCluster[Int(clustering.assignment[unlabelled[i]]), default: []].append(i) }
        let clusterOrder = byCluster.keys.sorted { (byCluster[$0]!.count, $0) < (byCluster[$1]!.count, $1) }
        var picks: [Pick] = []
        var next = [Int: Int]()
        while picks.count < min(k, candidates.count) {
            for cluster in clusterOrder where picks.count < k {
                let position = next[cluster, default: 0]
                guard position < byCluster[cluster]!.count else { continue }
                let i = byCluster[cluster]![position]
                next[cluster] = position + 1
                picks.append(Pick(row: unlabelled[i], score: 1 - margins[i]))
            }
        }
        return SelectionResult(picks: picks, curveName: "uncertainty", curve: picks.map(\.score), initialRows: seeds)
    }
}
