/// CTL, correlation-based transductive learning, with the linear kernel, as the `activeft` package
/// defines it — exact over the whole pool.
///
/// Hübotter et al., "Transductive Active Learning: Theory and Applications", NeurIPS 2024 (jonhue/activeft,
/// `acquisition_functions/ctl.py`). Each pick maximises the mean over the targets A of the posterior
/// correlation Cor(f(x), f(a) | picks) = xᵀS a / √(xᵀS x · aᵀS a), S = (I + XₚᵀXₚ/σ²)⁻¹ the linear
/// kernel's covariance after noisy observations of the picks (``LinearKernelPosterior``). The sum over
/// targets folds into one vector, z = Σ_a a / √(aᵀS a), so a pick costs one pass over the pool and one
/// over the targets. A pick's score is that mean correlation; picked rows are never picked again;
/// ties go to the lower row. Cost: O(N·d + m·d + d²) per pick; O(d² + N + m) memory beyond the data.
public enum CTL: SelectionMethod {
    public typealias Parameters = ITL.Parameters

    public static let name = "ctl"
    public static let summary = "Greedily maximise the mean posterior correlation with the targets."
    public static let reference = "Hübotter et al., \"Transductive Active Learning: Theory and Applications\", NeurIPS 2024 (the activeft package's CTL)"
    public static let inputs = [
        MethodInput("targets", .features, required: true, help: "Features of the samples to predict well."),
    ]

    public static func validate(_ shape: ProblemShape, _ parameters: Parameters) throws(SelectionError) {
        try shape.checkPoolAndBudget()
        try shape.checkTargetWidth()
    }

    public static func select(_ problem: SelectionProblem, _ parameters: Parameters, _ context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult {
        guard let given = problem.inputs["targets"] else { throw .missingInput("targets") }
        let pool = parameters.normalize ? problem.pool.normalizedRows() : problem.pool
        let targets = parameters.normalize ? given.normalizedRows() : given
        let d = pool.columns, m = targets.rows
        var posterior = LinearKernelPosterior(pool: pool, noiseVariance: parameters.noiseVariance, threads: context.threads)
        let targetRows = (0..<m).map { targets.row($0).map(Double.init) }
        var targetVariances = targetRows.map { row in row.reduce(0) { $0 + $1 * $1 } }
        var isPicked = [Bool](repeating: false, count: pool.rows)
        var picks: [Pick] = []
        var values: [Double] = []
        for step in 0..<problem.budget {
            try context.checkStop()
            var z = [Double](repeating: 0, count: d)
            for (a, row) in targetRows.enumerated() where targetVariances[a] > 0 {
                let scale = 1 / targetVariances[a].squareRoot()
                for j in 0..<d { z[j] += row[j] * scale }
            }
            let covariances = posterior.dots(posterior.apply(z))
            var best = -1
            var bestValue = -Double.infinity
            for j in 0..<pool.rows where !isPicked[j] {
                let variance = posterior.variances[j]
                let value = variance > 0 ? covariances[j] / (variance.squareRoot() * Double(m)) : 0
                if value > bestValue { bestValue = value; best = j }
            }
            isPicked[best] = true
            picks.append(Pick(row: best, score: bestValue))
            values.append(bestValue)
            context.progress(SelectionProgress(step: step + 1, total: problem.budget, value: bestValue))
            if step + 1 < problem.budget {
                let (u, c) = posterior.observe(posterior.row(best))
                for (a, row) in targetRows.enumerated() {
                    var t = 0.0
                    for j in 0..<d { t += row[j] * u[j] }
                    targetVariances[a] = max(0, targetVariances[a] - t * t / c)
                }
            }
        }
        return SelectionResult(picks: picks, curveName: "correlation", curve: values, initialRows: [])
    }
}
