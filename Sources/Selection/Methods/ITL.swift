/// ITL, information-based transductive learning, with the linear kernel, as the `activeft`
/// package's `ITL` (with targets) and `UndirectedITL` (without) define it — exact over the whole pool.
///
/// Hübotter et al., "Transductive Active Learning: Theory and Applications", NeurIPS 2024 (jonhue/activeft,
/// `acquisition_functions/itl.py`, `undirected_itl.py`). Each pick maximises the information its
/// noisy observation gives about the targets A: ½ log(k_i(x, x) / k̃_i(x, x)), where k_i is the kernel
/// conditioned on the picks so far and k̃_i is k_i further conditioned on noisy observations of A. With
/// the linear kernel both are quadratic forms, k_i(x, x) = xᵀS x with S = (I + XₚᵀXₚ/σ²)⁻¹ and
/// k̃_i(x, x) = xᵀS̃ x with S̃ = (I + AᵀA/σ² + XₚᵀXₚ/σ²)⁻¹ (Xₚ the picks), so one d × d inverse at the
/// start and a rank-one update of each per pick suffice (``LinearKernelPosterior``). Undirected ITL
/// maximises k_i(x, x) itself: greedy determinant maximisation. A pick's score is that value; picked
/// rows are never picked again (the package may pick a row twice); ties go to the lower row.
/// Cost: O(m·d² + d³ + N·d²) once, then O(N·d + d²) per pick; O(d² + N) memory beyond the pool.
public enum ITL: SelectionMethod {
    public struct Parameters: MethodParameters {
        public var noiseVariance = 0.01
        public var normalize = false

        public init() {}

        public static var parameters: [Parameter<Self>] {
            [.number("noise_variance", \.noiseVariance, above: 0, help: "σ², the observation noise variance (the package's default)."),
             .boolean("normalize", \.normalize, help: "L2-normalise pool and targets first (the package does not).")]
        }
    }

    public static let name = "itl"
    public static let summary = "Greedily maximise the information gained about the targets (undirected without targets: greedy determinant maximisation)."
    public static let reference = "Hübotter et al., \"Transductive Active Learning: Theory and Applications\", NeurIPS 2024 (the activeft package's ITL and UndirectedITL)"
    public static let inputs = [
        MethodInput("targets", .features, required: false,
                    help: "Features of the samples to predict well; without them, undirected ITL."),
    ]

    public static func validate(_ shape: ProblemShape, _ parameters: Parameters) throws(SelectionError) {
        try shape.checkPoolAndBudget()
        try shape.checkTargetWidth()
    }

    public static let labelledUse = LabelledUse.used(
        "Conditions both posteriors on them, in the order they were picked, before the first pick.")

    public static func select(_ problem: SelectionProblem, _ parameters: Parameters, _ context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult {
        let pool = parameters.normalize ? problem.pool.normalizedRows() : problem.pool
        let targets = problem.inputs["targets"].map { parameters.normalize ? $0.normalizedRows() : $0 }
        let sigma2 = parameters.noiseVariance
        var prior = LinearKernelPosterior(pool: pool, noiseVariance: sigma2, threads: context.threads)
        var conditioned: LinearKernelPosterior?
        if let targets {
            let d = pool.columns
            var precision = VTL.gram(targets, threads: context.threads).map { $0 / sigma2 }
            for j in 0..<d { precision[j * d + j] += 1 }
            guard let covariance = inverseOfPositiveDefinite(precision, dimension: d) else {
                throw .parameterOutOfRange(parameter: "noise_variance", value: "\(sigma2)",
                                           reason: "I + AᵀA/σ² is not numerically positive definite")
            }
            conditioned = LinearKernelPosterior(pool: pool, noiseVariance: sigma2, threads: context.threads,
                                                covariance: covariance)
        }
        var isPicked = problem.isLabelled
        for row in problem.labelled {
            try context.checkStop()
            let x = prior.row(row)
            prior.observe(x)
            conditioned?.observe(x)
        }
        var picks: [Pick] = []
        var values: [Double] = []
        for step in 0..<problem.budget {
            try context.checkStop()
            var best = -1
            var bestValue = -Double.infinity
            for j in 0..<pool.rows where !isPicked[j] {
                let value: Double
                if let conditioned {
                    let after = conditioned.variances[j]
                    value = after > 0 ? 0.5 * max(0, Foundation.log(prior.variances[j] / after)) : 0
                } else {
                    value = prior.variances[j]
                }
                if value > bestValue { bestValue = value; best = j }
            }
            isPicked[best] = true
            picks.append(Pick(row: best, score: bestValue))
            values.append(bestValue)
            context.progress(SelectionProgress(step: step + 1, total: problem.budget, value: bestValue))
            if step + 1 < problem.budget {
                let x = prior.row(best)
                prior.observe(x)
                conditioned?.observe(x)
            }
        }
        return SelectionResult(picks: picks, curveName: "information", curve: values, initialRows: [])
    }
}

import Foundation
