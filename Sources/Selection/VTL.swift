import BLAS

/// VTL's parameters, defaulting to the `activeft` package's.
public struct VTLParameters: Sendable, Equatable {
    /// σ², the observation noise variance (the package's default when no noise is given: 0.01).
    public var noiseVariance: Double = 0.01
    /// L2-normalise pool and targets first (the package does not).
    public var normalize: Bool = false
    /// Keep only the `prefilter` pool samples with the largest |x·ā| (ā the mean target) before selecting.
    public var prefilter: Int?

    public init(noiseVariance: Double = 0.01, normalize: Bool = false, prefilter: Int? = nil) {
        self.noiseVariance = noiseVariance
        self.normalize = normalize
        self.prefilter = prefilter
    }
}

/// VTL, variance-based transductive learning (Hübotter et al., "Transductive Active Learning: Theory
/// and Applications", NeurIPS 2024), with the linear kernel k(x, x') = x·x', as the `activeft`
/// package's `VTL` and `UndirectedVTL` choose — but exact over the whole pool instead of the package's
/// hierarchical mini-batches.
///
/// Each pick greedily minimises the total posterior variance of the targets A, tr(A Σ Aᵀ), after a
/// noisy observation of the picked sample. In the conditional-embedding form, with Σ the posterior
/// covariance in feature space (Σ = I before any pick), G = AᵀA (G = XᵀX when undirected),
/// k_j = x_jᵀΣx_j and r_j = x_jᵀΣGΣx_j, adding x_j lowers the total by r_j/(k_j + σ²). After picking s,
/// with u = Σx_s and c = k_s + σ², every k_j and r_j takes a rank-one update that needs only
/// t_j = x_j·u and x_j·(ΣGu). Σ is never formed: Σy = y − Σ_l u_l(u_l·y)/c_l over the picks so far.
///
/// Cost: O(N·d² + m·d²) once; then per pick one pass over the pool (an N×d by d×2 product) plus
/// O(picks·d + d²). Memory: the pool in double precision, O(N + d² + K·d) more; nothing N×N or N×m.
public enum VTL {
    /// Picks `budget` rows of `pool` for `targets` (`nil`: undirected VTL, the pool is its own target).
    ///
    /// Each pick's score is the package's value: minus the total posterior variance of the targets
    /// after adding it. `progress` is called after each pick with that value.
    public static func select(
        pool: FeatureMatrix, targets: FeatureMatrix?, budget: Int, parameters: VTLParameters,
        progress: (SelectionProgress) -> Void = { _ in }
    ) throws(SelectionError) -> SelectionResult {
        try validate(poolSize: pool.rows, poolWidth: pool.columns, targetWidth: targets?.columns, budget: budget,
                     parameters: parameters)
        BLAS.threadCount = 1  // as in ActiveFT: parallel work is split by selectjob, not BLAS
        let pool = parameters.normalize ? pool.normalizedRows() : pool
        let targets = parameters.normalize ? targets?.normalizedRows() : targets
        var candidates = Array(0..<pool.rows)
        if let keep = parameters.prefilter, let targets {
            candidates = prefilterRows(pool: pool, targets: targets, keep: keep)
        }
        let x = candidates.count == pool.rows ? pool.values.map(Double.init)
            : pool.selecting(rows: candidates).values.map(Double.init)
        let g = targets.map { gram($0.values.map(Double.init), rows: $0.rows, columns: $0.columns) }
            ?? gram(x, rows: candidates.count, columns: pool.columns)
        var state = PosteriorState(pool: x, rows: candidates.count, columns: pool.columns, gram: g,
                                   noiseVariance: parameters.noiseVariance)
        var picks: [Pick] = []
        var values: [Double] = []
        for step in 0..<budget {
            let (row, value) = state.pickBest(updating: step + 1 < budget)
            picks.append(Pick(row: candidates[row], score: value))
            values.append(value)
            progress(SelectionProgress(step: step + 1, total: budget, value: value))
        }
        return SelectionResult(picks: picks, curveName: "value", curve: values, initialRows: [])
    }

    /// Checks the budget, widths and parameters against the pool before any work.
    public static func validate(poolSize n: Int, poolWidth: Int, targetWidth: Int?, budget: Int,
                                parameters: VTLParameters) throws(SelectionError) {
        guard n > 0 else { throw .emptyPool }
        if let targetWidth, targetWidth != poolWidth {
            throw .targetWidthMismatch(poolWidth: poolWidth, targetWidth: targetWidth)
        }
        guard parameters.noiseVariance > 0, parameters.noiseVariance.isFinite else {
            throw .noiseVarianceOutOfRange(parameters.noiseVariance)
        }
        let available = min(n, parameters.prefilter ?? n)
        guard budget >= 1, budget <= available else {
            if let keep = parameters.prefilter, keep < n {
                throw .budgetExceedsPrefilter(budget: budget, prefilter: keep)
            }
            throw .budgetOutOfRange(budget: budget, poolSize: n)
        }
    }

    /// The `keep` pool rows with the largest |x·ā|, ā the mean target, in increasing row order
    /// (ties to the lower row). Mirrors the package's Retriever with `also_query_opposite`. O(N·d + N log N).
    static func prefilterRows(pool: FeatureMatrix, targets: FeatureMatrix, keep: Int) -> [Int] {
        let d = pool.columns
        var meanTarget = [Double](repeating: 0, count: d)
        for t in 0..<targets.rows { for j in 0..<d { meanTarget[j] += Double(targets.values[t * d + j]) } }
        for j in 0..<d { meanTarget[j] /= Double(targets.rows) }
        let relevance = (0..<pool.rows).map { i in
            var dot = 0.0
            for j in 0..<d { dot += Double(pool.values[i * d + j]) * meanTarget[j] }
            return abs(dot)
        }
        let ranked = (0..<pool.rows).sorted { relevance[$0] > relevance[$1] || (relevance[$0] == relevance[$1] && $0 < $1) }
        return ranked.prefix(keep).sorted()
    }

    /// MᵀM for a row-major `rows × columns` matrix M. O(rows·columns²).
    static func gram(_ m: [Double], rows: Int, columns: Int) -> [Double] {
        var g = [Double](repeating: 0, count: columns * columns)
        BLAS.gram(rows: rows, columns: columns, a: m, c: &g)
        return g
    }
}

/// The posterior over the pool after the picks so far, in conditional-embedding form.
struct PosteriorState {
    let x: [Double]
    let rows: Int
    let columns: Int
    let g: [Double]
    let noiseVariance: Double
    /// k_j = x_jᵀΣx_j, the posterior variance of each pool sample.
    var variance: [Double]
    /// r_j = x_jᵀΣGΣx_j, the numerator of each sample's variance reduction.
    var numerator: [Double]
    /// tr(GΣ), the targets' total posterior variance.
    var totalVariance: Double
    var picked: [Bool]
    /// u_l and c_l of each pick, so Σy = y − Σ_l u_l(u_l·y)/c_l.
    var directions: [[Double]] = []
    var scales: [Double] = []

    init(pool x: [Double], rows: Int, columns: Int, gram g: [Double], noiseVariance: Double) {
        self.x = x
        self.rows = rows
        self.columns = columns
        self.g = g
        self.noiseVariance = noiseVariance
        picked = [Bool](repeating: false, count: rows)
        totalVariance = (0..<columns).reduce(0) { $0 + g[$1 * columns + $1] }
        variance = [Double](repeating: 0, count: rows)
        numerator = [Double](repeating: 0, count: rows)
        // r_j = x_jᵀGx_j, blockwise so that only a block of XG is ever held.
        let block = 1024
        var xg = [Double](repeating: 0, count: block * columns)
        for start in stride(from: 0, to: rows, by: block) {
            let count = min(block, rows - start)
            x.withUnsafeBufferPointer { xs in
                BLAS.multiply(m: count, n: columns, k: columns, a: xs.baseAddress! + start * columns, lda: columns,
                              b: g, ldb: columns, c: &xg, ldc: columns)
            }
            for r in 0..<count {
                var k = 0.0, q = 0.0
                for j in 0..<columns {
                    let value = x[(start + r) * columns + j]
                    k += value * value
                    q += xg[r * columns + j] * value
                }
                variance[start + r] = k
                numerator[start + r] = q
            }
        }
    }

    /// Σy for the current posterior. O(picks·d).
    func applyCovariance(_ y: [Double]) -> [Double] {
        var out = y
        for (u, c) in zip(directions, scales) {
            var dot = 0.0
            for j in 0..<columns { dot += u[j] * y[j] }
            let factor = dot / c
            for j in 0..<columns { out[j] -= factor * u[j] }
        }
        return out
    }

    /// Picks the unpicked row with the largest variance reduction (the first on ties), conditions on
    /// it, and returns it with minus the targets' total posterior variance afterwards.
    mutating func pickBest(updating: Bool) -> (row: Int, value: Double) {
        var best = -1
        var bestGain = -Double.infinity
        for j in 0..<rows where !picked[j] {
            let gain = numerator[j] / (variance[j] + noiseVariance)
            if gain > bestGain { bestGain = gain; best = j }
        }
        let s = best
        let c = variance[s] + noiseVariance
        totalVariance -= numerator[s] / c
        picked[s] = true
        let value = -totalVariance
        guard updating else { return (s, value) }

        let u = applyCovariance(Array(x[(s * columns)..<((s + 1) * columns)]))
        var gu = [Double](repeating: 0, count: columns)
        for i in 0..<columns {
            var sum = 0.0
            for j in 0..<columns { sum += g[i * columns + j] * u[j] }
            gu[i] = sum
        }
        let uGu = zip(u, gu).reduce(0) { $0 + $1.0 * $1.1 }
        let sigmaGu = applyCovariance(gu)
        // [t_j, x_j·ΣGu] for every row in one pass over the pool.
        let directionsBlock = u + sigmaGu
        var products = [Double](repeating: 0, count: rows * 2)
        BLAS.multiplyTransposed(m: rows, n: 2, k: columns, a: x, lda: columns, b: directionsBlock, ldb: columns,
                                c: &products, ldc: 2)
        for j in 0..<rows {
            let t = products[2 * j], q = products[2 * j + 1]
            variance[j] -= t * t / c
            numerator[j] += -2 * t * q / c + t * t * uGu / (c * c)
        }
        directions.append(u)
        scales.append(c)
        return (s, value)
    }
}
