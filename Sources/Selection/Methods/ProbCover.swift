/// ProbCover: greedy maximum coverage of δ-balls around the picks.
///
/// Yehuda, Dekel, Hacohen & Weinshall, "Active Learning Through a Covering Lens", NeurIPS 2022
/// (avihu111/TypiClust, `prob_cover.py`). The graph has an edge x → y when ‖x − y‖ < δ on
/// L2-normalised features (every sample covers itself). Each pick is the sample whose ball holds the
/// most samples not yet covered (ties to the lower row); its score is that count, the curve the
/// covered fraction after each pick. Once everything is covered, the remaining picks are drawn at
/// random with the seed (the reference would repeat row 0). Cost: O(N²·d) in blocked sgemm to build
/// the graph, then O(edges) for all picks together; memory O(edges), never N×N floats.
public enum ProbCover: SelectionMethod {
    public struct Parameters: MethodParameters {
        public var delta = 0.6
        public var maxEdges = 200_000_000

        public init() {}

        public static var parameters: [Parameter<Self>] {
            [.number("delta", \.delta, above: 0, atMost: 2,
                     help: "δ, the ball radius (Euclidean distance between normalised features, 0 < δ ≤ 2)."),
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
        let balls = try ballGraph(unit, delta: parameters.delta, maxEdges: parameters.maxEdges, threads: context.threads)
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
        return SelectionResult(picks: picks, curveName: "coverage", curve: curve, initialRows: [])
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
