/// Greedy k-center (farthest-first traversal): each pick is the sample farthest from every earlier pick.
///
/// Sener & Savarese, "Active Learning for Convolutional Neural Networks: A Core-Set Approach", ICLR
/// 2018 (k-Center-Greedy); Gonzalez 1985's 2-approximation of the minimax covering radius. The first
/// pick is `first_row`, else a seeded random row. `cosine`: distance 1 − x·y on L2-normalised
/// features; `euclidean`: ‖x − y‖ on the features as stored — with `first_row` 0 this is the
/// `activeft` package's `MaxDist` (Holzmüller et al., JMLR 2023), which starts at row 0. A pick's
/// score is its distance to the nearest earlier pick (the first: to the farthest sample); the curve is the covering radius after each pick, which never
/// increases. Ties go to the lower row. Cost: one parallel N×d pass per pick, O(K·N·d) in all; O(N) memory.
public enum KCenterGreedy: SelectionMethod {
    public struct Parameters: MethodParameters {
        public enum Metric: String, Sendable, CaseIterable { case cosine, euclidean }
        public var metric: Metric = .cosine
        /// The first pick; nil: a seeded random row.
        public var firstRow: Int?

        public init() {}
        public init(metric: Metric, firstRow: Int? = nil) {
            self.metric = metric
            self.firstRow = firstRow
        }

        public static var parameters: [Parameter<Self>] {
            [.choice("metric", \.metric,
                     help: "cosine: 1 − x·y on normalised features; euclidean: ‖x − y‖ on the features as stored."),
             .integer("first_row", \.firstRow, in: 0...Int64(Int32.max),
                      help: "The 0-based row picked first; default a seeded random row, whatever the metric (set 0 with euclidean for the activeft package's MaxDist).")]
        }
    }

    public static let name = "kcenter"
    public static let summary = "Greedy k-center / Core-Set: repeatedly take the sample farthest from all picks."
    public static let reference = "Sener & Savarese, \"Active Learning for Convolutional Neural Networks: A Core-Set Approach\", ICLR 2018"

    public static func validate(_ shape: ProblemShape, _ parameters: Parameters) throws(SelectionError) {
        try shape.checkPoolAndBudget()
        if let row = parameters.firstRow, row >= shape.poolSize {
            throw .parameterOutOfRange(parameter: "first_row", value: "\(row)", reason: "the pool's rows are 0..<\(shape.poolSize)")
        }
    }

    public static func poolRowParameter(_ parameters: Parameters) -> String? { parameters.firstRow.map { _ in "first_row" } }

    public static func select(_ problem: SelectionProblem, _ parameters: Parameters, _ context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult {
        let x = parameters.metric == .cosine ? problem.pool.normalizedRows() : problem.pool
        if !problem.labelled.isEmpty {
            return try traverse(x, metric: parameters.metric, centres: problem.labelled, first: nil,
                                count: problem.budget, context: context)
        }
        let first = parameters.firstRow ?? Int.random(in: 0..<x.rows, using: &context.generator)
        return try traverse(x, metric: parameters.metric, centres: [], first: first, count: problem.budget, context: context)
    }

    public static let labelledUse = LabelledUse.used(
        "Counts them as centres already chosen: the first pick is the sample farthest from every labelled one (first_row is not used).")

    /// Farthest-first traversal from `first`, or from the given `centres` (picked before, not returned).
    /// O((count + centres)·N·d).
    static func traverse(_ x: FeatureMatrix, metric: Parameters.Metric, centres: [Int], first: Int?, count: Int,
                         context: SelectionContext) throws(SelectionError) -> SelectionResult {
        let n = x.rows
        let norms = metric == .euclidean ? x.squaredNorms() : []
        func distances(to row: Int) -> [Double] {
            let similarity = BlockedSimilarity.similarities(x, to: x.row(row), threads: context.threads)
            switch metric {
            case .cosine: return similarity.map { 1 - Double($0) }
            case .euclidean: return (0..<n).map { max(0, norms[$0] + norms[row] - 2 * Double(similarity[$0])).squareRoot() }
            }
        }
        var nearest = [Double](repeating: .infinity, count: n)
        var isPicked = [Bool](repeating: false, count: n)
        for centre in centres {
            try context.checkStop()
            isPicked[centre] = true
            let fresh = distances(to: centre)
            for i in 0..<n { nearest[i] = min(nearest[i], fresh[i]) }
        }
        var picks: [Pick] = []
        if let first {
            nearest = distances(to: first)
            isPicked[first] = true
            picks = [Pick(row: first, score: nearest.enumerated().filter { $0.offset != first }.map(\.element).max() ?? 0)]
        }
        var radius: [Double] = []
        while true {
            var next = -1
            var farthest = -Double.infinity
            for i in 0..<n where !isPicked[i] && nearest[i] > farthest { farthest = nearest[i]; next = i }
            radius.append(max(farthest, 0))
            context.progress(SelectionProgress(step: picks.count, total: count, value: radius.last!))
            guard picks.count < count, next >= 0 else { break }
            try context.checkStop()
            picks.append(Pick(row: next, score: farthest))
            isPicked[next] = true
            let fresh = distances(to: next)
            for i in 0..<n { nearest[i] = min(nearest[i], fresh[i]) }
        }
        return SelectionResult(picks: picks, curveName: "radius", curve: radius, initialRows: [])
    }
}
