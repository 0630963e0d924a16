/// ProbCover: greedy maximum coverage of δ-balls around the picks.
///
/// Yehuda, Dekel, Hacohen & Weinshall, "Active Learning Through a Covering Lens", NeurIPS 2022
/// (avihu111/TypiClust, `prob_cover.py`). The graph has an edge x → y when ‖x − y‖ < δ on
/// L2-normalised features (every sample covers itself). Each pick is the sample whose ball holds the
/// most samples not yet covered (ties to the lower row); its score is that count, the curve the
/// covered fraction after each pick. Once everything is covered, the remaining picks are drawn at
/// random with the seed (the reference would repeat row 0). Cost: O(N²·d) in blocked sgemm to build
/// the graph, then O(edges) for all picks together; memory O(edges), never N×N floats.
///
/// With `choose_delta`, δ is chosen as the paper does (Sec. 4.1): the largest δ whose balls are pure for
/// at least `purity` of the samples, purity measured against k-means pseudo-labels
/// (`purity_clusters` clusters, k-means++ and Lloyd from the job's seed) — a ball is pure when it holds
/// no sample of another cluster. With each sample's distance to the nearest sample of another
/// cluster, that δ is an order statistic of those distances (``purityDelta(_:clusters:purity:threads:generator:)``),
/// found exactly with no grid; another O(N²·d). The δ used is in the run's notes (`delta`).
public enum ProbCover: SelectionMethod {
    public struct Parameters: MethodParameters {
        public var delta = 0.6
        public var chooseDelta = false
        public var purity = 0.95
        public var purityClusters = 10
        public var maxEdges = 200_000_000

        public init() {}

        public static var parameters: [Parameter<Self>] {
            [.number("delta", \.delta, above: 0, atMost: 2,
                     help: "δ, the ball radius (Euclidean distance between normalised features, 0 < δ ≤ 2)."),
             .boolean("choose_delta", \.chooseDelta,
                      help: "true: δ is chosen by purity as the paper does (purity, purity_clusters) instead of delta."),
             .number("purity", \.purity, above: 0, atMost: 1,
                     help: "With choose_delta: the share of samples whose δ-ball must be pure (the paper's α)."),
             .integer("purity_clusters", \.purityClusters, in: 2...1_000_000,
                      help: "With choose_delta: k-means clusters whose labels purity is measured against (the paper: the number of classes)."),
             .integer("max_edges", \.maxEdges, in: 1...Int64(Int32.max),
                      help: "Refuse a δ whose graph has more edges than this (4 bytes each).")]
        }
    }

    public static let name = "probcover"
    public static let summary = "Greedy max coverage: each pick's δ-ball covers the most samples not yet covered."
    public static let reference = "Yehuda et al., \"Active Learning Through a Covering Lens\", NeurIPS 2022"

    public static func validate(_ shape: ProblemShape, _ parameters: Parameters) throws(SelectionError) {
        try shape.checkPoolAndBudget()
    }

    public static let labelledUse = LabelledUse.used(
        "Counts their δ-balls as covered before the first pick, as the reference removes the labelled set's edges.")

    public static func select(_ problem: SelectionProblem, _ parameters: Parameters, _ context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult {
        let unit = problem.pool.normalizedRows()
        let n = unit.rows
        var delta = parameters.delta
        if parameters.chooseDelta {
            delta = try purityDelta(unit, clusters: min(parameters.purityClusters, n), purity: parameters.purity,
                                    threads: context.threads, generator: &context.generator, shouldStop: context.shouldStop)
            try context.checkStop()
        }
        let balls = try ballGraph(unit, delta: delta, maxEdges: parameters.maxEdges, threads: context.threads)
        var degree = balls.map(\.count)
        var isCovered = [Bool](repeating: false, count: n)
        var isPicked = [Bool](repeating: false, count: n)
        var covered = 0
        var picks: [Pick] = []
        var curve: [Double] = []
        func cover(_ centre: Int) {
            isPicked[centre] = true
            for y in balls[centre] where !isCovered[Int(y)] {
                isCovered[Int(y)] = true
                covered += 1
                // The graph is symmetric: the balls holding y are those around y's neighbours.
                for x in balls[Int(y)] { degree[Int(x)] -= 1 }
            }
        }
        for row in problem.labelled { cover(row) }
        while picks.count < problem.budget {
            try context.checkStop()
            var best = -1
            for i in 0..<n where !isPicked[i] && (best < 0 || degree[i] > degree[best]) { best = i }
            if degree[best] == 0 { break }
            picks.append(Pick(row: best, score: Double(degree[best])))
            cover(best)
            curve.append(Double(covered) / Double(n))
            context.progress(SelectionProgress(step: picks.count, total: problem.budget, value: curve.last!))
        }
        if picks.count < problem.budget {
            let rest = (0..<n).filter { !isPicked[$0] }
            for index in context.generator.distinctIndices(count: problem.budget - picks.count, from: rest.count) {
                picks.append(Pick(row: rest[index], score: 0))
                curve.append(1)
            }
        }
        return SelectionResult(picks: picks, curveName: "coverage", curve: curve, initialRows: [],
                               notes: parameters.chooseDelta ? ["delta": delta] : [:])
    }

    /// The largest δ for which at least `purity` of the rows have a pure δ-ball — no row of another
    /// k-means cluster (`clusters`, seeded from `generator`) at distance < δ. With dₓ the distance from
    /// x to the nearest row of another cluster, x's ball is pure iff dₓ ≥ δ, so δ is the ⌈purity·N⌉-th
    /// largest dₓ. O(k-means + N²·d).
    static func purityDelta(_ unit: FeatureMatrix, clusters: Int, purity: Double, threads: Int,
                            generator: inout SeededGenerator, shouldStop: @escaping () -> Bool) throws(SelectionError) -> Double {
        let kmeans = KMeansClustering(unit: unit, spherical: false, threads: threads,
                                      partition: RowPartition(totalRows: unit.rows), group: SingleProcess())
        let seeds = kmeans.seed(k: clusters, generator: &generator)
        let assignment = try kmeans.lloyd(initialRows: seeds, maxIterations: 100, tolerance: 1e-4, shouldStop: shouldStop).assignment
        let nearestOther = BlockedSimilarity.rowwise(unit, unit, threads: threads) { i, similarity -> Float in
            var best: Float = -1
            for j in 0..<similarity.count where assignment[j] != assignment[i] && similarity[j] > best { best = similarity[j] }
            return best
        }
        let distances = nearestOther.map { (max(0, 2 - 2 * Double($0))).squareRoot() }.sorted()
        let pure = Int((purity * Double(distances.count)).rounded(.up))
        return max(distances[distances.count - pure], 1e-6)
    }

    /// For each row, the rows within δ (itself included), ascending. O(N²·d) time, O(edges) memory.
    static func ballGraph(_ unit: FeatureMatrix, delta: Double, maxEdges: Int, threads: Int) throws(SelectionError)
        -> [[Int32]] {
        // ‖x − y‖ < δ ⇔ x·y > 1 − δ²/2 for unit rows.
        let threshold = Float(1 - delta * delta / 2)
        // Each pair is decided once, by the similarity the lower row's block computed, so the graph is
        // exactly symmetric whatever sgemm's rounding.
        let above = BlockedSimilarity.rowwise(unit, unit, threads: threads) { i, similarity -> [Int32] in
            var ball: [Int32] = []
            for j in (i + 1)..<similarity.count where similarity[j] > threshold { ball.append(Int32(j)) }
            return ball
        }
        var balls = [[Int32]](repeating: [], count: unit.rows)
        for i in 0..<unit.rows {
            balls[i].append(Int32(i))
            balls[i].append(contentsOf: above[i])
            for j in above[i] { balls[Int(j)].append(Int32(i)) }
        }
        let edges = balls.reduce(0) { $0 + $1.count }
        guard edges <= maxEdges else {
            throw .parameterOutOfRange(parameter: "delta", value: String(delta),
                                       reason: "gives \(edges) edges, more than max_edges \(maxEdges); use a smaller delta")
        }
        return balls
    }
}
