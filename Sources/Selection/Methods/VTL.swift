import OpenBLAS

/// VTL's parameters, defaulting to the `activeft` package's.
public struct VTLParameters: Sendable, Equatable {
    /// σ², the observation noise variance (the package's default when no noise is given: 0.01).
    public var noiseVariance: Double = 0.01
    /// L2-normalise pool and targets first (the package does not).
    public var normalize: Bool = false
    /// Keep only the `prefilter` pool samples with the largest |x·ā| (ā the mean target) before selecting.
    public var prefilter: Int?

    /// Every default (the package's).
    public init() {}

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
    /// after adding it. `progress` is called after each pick with that value. `threads` bounds the
    /// threads used; results do not depend on it. `shouldStop` is asked before each pick; when it
    /// answers true, the method throws ``SelectionError/cancelled``.
    public static func select(
        pool: FeatureMatrix, targets: FeatureMatrix?, budget: Int, parameters: VTLParameters,
        labelled: [Int] = [],
        threads: Int = ParallelChunks.processorCount, partition: RowPartition? = nil,
        group: any ProcessGroup = SingleProcess(), shouldStop: () -> Bool = { false },
        progress: (SelectionProgress) -> Void = { _ in }
    ) throws(SelectionError) -> SelectionResult {
        let partition = partition ?? RowPartition(totalRows: pool.rows)
        try validate(poolSize: partition.totalRows, poolWidth: pool.columns, targetWidth: targets?.columns, budget: budget,
                     parameters: parameters)
        let pool = parameters.normalize ? pool.normalizedRows() : pool
        let targets = parameters.normalize ? targets?.normalizedRows() : targets
        var candidates = Array(0..<pool.rows)
        if let keep = parameters.prefilter, let targets {
            // Labelled rows stay in the posterior's rows (to condition on) even where the filter drops them.
            candidates = Array(Set(prefilterRows(pool: pool, targets: targets, keep: keep)).union(labelled)).sorted()
        }
        let x = candidates.count == pool.rows ? pool : pool.selecting(rows: candidates)
        let g = targets.map { gram($0, threads: threads) } ?? gram(x, threads: threads, totalRows: partition.totalRows, group: group)
        var state = PosteriorState(pool: x, gram: g, noiseVariance: parameters.noiseVariance, threads: threads,
                                   firstRow: partition.rows.lowerBound, group: group)
        // Earlier rounds' picks, in their order: the same rank-one updates their own picking made, so
        // a second round continues the first exactly.
        if !labelled.isEmpty {
            let position = Dictionary(uniqueKeysWithValues: candidates.enumerated().map { ($1, $0) })
            for row in labelled {
                guard !shouldStop() else { throw .cancelled }
                state.condition(on: position[row]!)
            }
        }
        var picks: [Pick] = []
        var values: [Double] = []
        for step in 0..<budget {
            guard !shouldStop() else { throw .cancelled }
            let (row, value) = state.pickBest(updating: step + 1 < budget)
            picks.append(Pick(row: candidates.count == pool.rows ? row : candidates[row], score: value))
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

    /// MᵀM in double precision: partial sums over fixed row blocks (each converted to double and
    /// multiplied by one dgemm), computed in parallel, each rounded once to a ``FixedPointSum`` and
    /// added as integers — over the blocks and, when `m` is one process's rows of a `totalRows`-row
    /// pool, over the group — so the result depends neither on `threads` nor on the processes.
    /// O(rows·columns²) time, O(threads·(block·columns + columns²)) extra memory.
    static func gram(_ m: FeatureMatrix, threads: Int, totalRows: Int? = nil,
                     group: any ProcessGroup = SingleProcess()) -> [Double] {
        let rows = m.rows, columns = m.columns
        let blockRows = RowPartition.blockRows
        let blocks = max(1, (rows + blockRows - 1) / blockRows)
        // |(MᵀM)_ab| over one block ≤ blockRows · max ‖m_i‖².
        var largest = [0.0]
        for i in 0..<rows {
            var norm = 0.0
            for j in 0..<columns { norm += Double(m.values[i * columns + j]) * Double(m.values[i * columns + j]) }
            largest[0] = max(largest[0], norm)
        }
        group.maximum(&largest)
        let allBlocks = ((totalRows ?? rows) + blockRows - 1) / blockRows
        let scale = FixedPointSum(bound: largest[0] * Double(blockRows) * 1.001, count: allBlocks)
        // Each thread takes a contiguous run of blocks, rounding each block's product into integer
        // totals of its own as soon as it is computed: memory O(threads·columns²), not O(blocks·columns²).
        let total = m.values.withUnsafeBufferPointer { input in
            let source = ReadOnlyPointer(base: input.baseAddress!)
            return ParallelChunks.integerTotals(count: blocks, parts: min(threads, blocks), width: columns * columns,
                                                threads: threads) { blockRange, total in
                var partial = [Double](repeating: 0, count: columns * columns)
                for block in blockRange {
                    let first = block * blockRows, count = min(blockRows, rows - first)
                    guard count > 0 else { continue }
                    let converted = (0..<(count * columns)).map { Double(source.base[first * columns + $0]) }
                    partial.withUnsafeMutableBufferPointer { BLAS.gram(rows: count, columns: columns, a: converted, c: $0.baseAddress!) }
                    for i in 0..<(columns * columns) { total[i] &+= scale.encode(partial[i]) }
                }
            }
        }
        return group.exactSum(total, scale: scale)
    }
}

/// The posterior over the pool after the picks so far, in conditional-embedding form.
///
/// The pool stays in single precision as read; every product is accumulated in double precision,
/// and so are k_j, r_j and the total, where the rank-one updates cancel.
struct PosteriorState {
    let x: FeatureMatrix
    let g: [Double]
    let noiseVariance: Double
    let threads: Int
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
    /// The unpicked row with the largest gain over the group (a global row), found during the last pass.
    var nextBest = -1
    /// The global index of `x`'s first row (0 unless the pool is split over a group).
    let firstRow: Int
    /// The processes holding the other rows: each pick is a group argmax, and the picked row's
    /// features and state come from the process that holds it.
    let group: any ProcessGroup
    static let chunkRows = 2048

    init(pool x: FeatureMatrix, gram g: [Double], noiseVariance: Double, threads: Int, firstRow: Int = 0,
         group: any ProcessGroup = SingleProcess()) {
        self.x = x
        self.g = g
        self.noiseVariance = noiseVariance
        self.threads = threads
        self.firstRow = firstRow
        self.group = group
        let rows = x.rows, d = x.columns
        picked = [Bool](repeating: false, count: rows)
        totalVariance = (0..<d).reduce(0) { $0 + g[$1 * d + $1] }
        variance = [Double](repeating: 0, count: rows)
        numerator = [Double](repeating: 0, count: rows)
        // k_j = ‖x_j‖² and r_j = x_jᵀGx_j, by row blocks in parallel (each block's XG is one dgemm).
        let chunkRows = Self.chunkRows
        let chunks = (rows + chunkRows - 1) / chunkRows
        withSharedPointers(&variance, &numerator) { out0, out1 in
            let out = (out0, out1)
            x.values.withUnsafeBufferPointer { xs in
                g.withUnsafeBufferPointer { gs in
                    let input = (ReadOnlyPointer(base: xs.baseAddress!), ReadOnlyPointer(base: gs.baseAddress!))
                    ParallelChunks.run(chunks: chunks, threads: threads) { chunk in
                        let first = chunk * chunkRows, count = min(chunkRows, rows - first)
                        var block = [Double](repeating: 0, count: count * d)
                        for i in 0..<(count * d) { block[i] = Double(input.0.base[first * d + i]) }
                        var xg = [Double](repeating: 0, count: count * d)
                        BLAS.multiply(m: count, n: d, k: d, a: block, lda: d, b: input.1.base, ldb: d, c: &xg, ldc: d)
                        for r in 0..<count {
                            var k = 0.0, q = 0.0
                            for j in 0..<d {
                                k += block[r * d + j] * block[r * d + j]
                                q += xg[r * d + j] * block[r * d + j]
                            }
                            out.0.base[first + r] = k
                            out.1.base[first + r] = q
                        }
                    }
                }
            }
        }
        nextBest = bestUnpicked()
    }

    /// The unpicked row with the largest gain r_j/(k_j + σ²) over the group, the first on ties. O(N).
    func bestUnpicked() -> Int {
        var best = -1
        var bestGain = -Double.infinity
        for j in 0..<x.rows where !picked[j] {
            let gain = numerator[j] / (variance[j] + noiseVariance)
            if best < 0 || gain > bestGain { bestGain = gain; best = j }
        }
        return group.argmax(value: bestGain, row: best < 0 ? -1 : firstRow + best).row
    }

    /// Σy for the current posterior. O(picks·d).
    func applyCovariance(_ y: [Double]) -> [Double] {
        var out = y
        for (u, c) in zip(directions, scales) {
            var dot = 0.0
            for j in 0..<y.count { dot += u[j] * y[j] }
            let factor = dot / c
            for j in 0..<y.count { out[j] -= factor * u[j] }
        }
        return out
    }

    /// Picks the unpicked row with the largest variance reduction (the first on ties), conditions on
    /// it, and returns it with minus the targets' total posterior variance afterwards.
    ///
    /// With `updating`, one parallel pass over the pool takes every k_j and r_j to the new posterior
    /// and finds the next best row. O(N·d + picks·d + d²).
    mutating func pickBest(updating: Bool) -> (row: Int, value: Double) {
        pick(nextBest, updating: updating)
    }

    /// Conditions on row `s` as a pick would (it is never picked afterwards). O(N·d + picks·d + d²).
    mutating func condition(on s: Int) {
        _ = pick(s, updating: true)
    }

    /// Marks `s` picked, conditions on it, and returns it with minus the targets' total posterior
    /// variance afterwards; with `updating`, updates every row and finds the next best.
    private mutating func pick(_ s: Int, updating: Bool) -> (row: Int, value: Double) {
        let d = x.columns
        // k_s, r_s and x_s, from the process holding row s.
        let local = s - firstRow
        let holds = local >= 0 && local < x.rows
        let offer = holds ? [variance[local], numerator[local]] + (0..<d).map { Double(x.values[local * d + $0]) } : []
        let chosen = group.gather(values: offer).first { !$0.isEmpty }!
        let c = chosen[0] + noiseVariance
        totalVariance -= chosen[1] / c
        if holds { picked[local] = true }
        let value = -totalVariance
        guard updating else { return (s, value) }

        let u = applyCovariance(Array(chosen[2...]))
        var gu = [Double](repeating: 0, count: d)
        for i in 0..<d {
            var sum = 0.0
            for j in 0..<d { sum += g[i * d + j] * u[j] }
            gu[i] = sum
        }
        let uGu = zip(u, gu).reduce(0) { $0 + $1.0 * $1.1 }
        let z = applyCovariance(gu)
        directions.append(u)
        scales.append(c)

        // t_j = x_j·u and x_j·ΣGu, the updates, and each chunk's best gain, in one pass.
        let rows = x.rows, chunkRows = Self.chunkRows, noise = noiseVariance
        let chunks = (rows + chunkRows - 1) / chunkRows
        var chunkBest = [Int](repeating: -1, count: chunks)
        var chunkGain = [Double](repeating: -.infinity, count: chunks)
        let (pool, isPicked, threads) = (x, picked, threads)  // read inside while `variance` and `numerator` are written
        withSharedPointers(&variance, &numerator, &chunkBest, &chunkGain) { out0, out1, out2, out3 in
            let out = (out0, out1, out2, out3)
            pool.values.withUnsafeBufferPointer { xs in
                isPicked.withUnsafeBufferPointer { pickedRows in
                    u.withUnsafeBufferPointer { us in
                        z.withUnsafeBufferPointer { zs in
                            let input = (ReadOnlyPointer(base: xs.baseAddress!), ReadOnlyPointer(base: pickedRows.baseAddress!),
                                         ReadOnlyPointer(base: us.baseAddress!), ReadOnlyPointer(base: zs.baseAddress!))
                            ParallelChunks.run(chunks: chunks, threads: threads) { chunk in
                                var best = -1
                                var bestGain = -Double.infinity
                                for j in (chunk * chunkRows)..<min(rows, (chunk + 1) * chunkRows) {
                                    let (t, q) = dotPair(input.0.base + j * d, input.2.base, input.3.base, count: d)
                                    let k = out.0.base[j] - t * t / c
                                    let r = out.1.base[j] - 2 * t * q / c + t * t * uGu / (c * c)
                                    out.0.base[j] = k
                                    out.1.base[j] = r
                                    if !input.1.base[j] {
                                        let gain = r / (k + noise)
                                        if best < 0 || gain > bestGain { bestGain = gain; best = j }
                                    }
                                }
                                out.2.base[chunk] = best
                                out.3.base[chunk] = bestGain
                            }
                        }
                    }
                }
            }
        }
        var best = -1
        var bestGain = -Double.infinity
        for chunk in 0..<chunks where chunkBest[chunk] >= 0 && (best < 0 || chunkGain[chunk] > bestGain) {
            bestGain = chunkGain[chunk]
            best = chunkBest[chunk]
        }
        nextBest = group.argmax(value: bestGain, row: best < 0 ? -1 : firstRow + best).row
        return (s, value)
    }
}

/// (x·u, x·z) for a single-precision row x and double-precision u, z, accumulated in double. O(count).
@inline(__always)
func dotPair(_ x: UnsafePointer<Float>, _ u: UnsafePointer<Double>, _ z: UnsafePointer<Double>,
             count: Int) -> (Double, Double) {
    var t = SIMD4<Double>(), q = SIMD4<Double>()
    var j = 0
    let rawU = UnsafeRawPointer(u), rawZ = UnsafeRawPointer(z), rawX = UnsafeRawPointer(x)
    while j + 4 <= count {
        let xv = SIMD4<Double>(rawX.loadUnaligned(fromByteOffset: j * 4, as: SIMD4<Float>.self))
        t += xv * rawU.loadUnaligned(fromByteOffset: j * 8, as: SIMD4<Double>.self)
        q += xv * rawZ.loadUnaligned(fromByteOffset: j * 8, as: SIMD4<Double>.self)
        j += 4
    }
    var tSum = t.sum(), qSum = q.sum()
    while j < count {
        tSum += Double(x[j]) * u[j]
        qSum += Double(x[j]) * z[j]
        j += 1
    }
    return (tSum, qSum)
}

extension VTLParameters: MethodParameters {
    public static var parameters: [Parameter<Self>] {
        [.number("noise_variance", \.noiseVariance, above: 0, help: "σ², the observation noise variance."),
         .boolean("normalize", \.normalize, help: "L2-normalise pool and targets first (the package does not)."),
         .structured("prefilter", \.prefilter, accepts: #"{"k": integer ≥ 1}"#,
                     schema: ["type": "object", "additionalProperties": false, "required": ["k"],
                              "properties": ["k": ["type": "integer", "minimum": 1]]],
                     encode: { $0.map { ["k": .integer(Int64($0))] } },
                     decode: { value throws(ParameterError) in
                         let members = try ParameterReader.object(value, at: "prefilter", allowed: ["k"], required: ["k"])
                         return try ParameterReader.integer(members["k"]!, at: "prefilter.k", in: 1...Int64.max)
                     },
                     help: "Keep only the k pool samples with the largest |x·ā| (ā the mean target) before selecting; needs targets.")]
    }
}

extension VTL: SelectionMethod {
    public typealias Parameters = VTLParameters
    public static let name = "vtl"
    public static let summary = "Greedily minimise the targets' posterior variance (undirected without targets: the pool is its own target)."
    public static let reference = "Hübotter et al., \"Transductive Active Learning: Theory and Applications\", NeurIPS 2024 (the activeft package's VTL)"
    public static let inputs = [
        MethodInput("targets", .features, required: false,
                    help: "Features of the samples to predict well (the test distribution); without them, undirected VTL."),
    ]

    public static func validate(_ shape: ProblemShape, _ parameters: VTLParameters) throws(SelectionError) {
        let targets = shape.inputs["targets"]
        if parameters.prefilter != nil, targets == nil {
            throw .needsInput(parameter: "prefilter", input: "targets", reason: "it keeps the samples closest to the mean target")
        }
        try validate(poolSize: shape.poolSize, poolWidth: shape.width, targetWidth: targets?.columns,
                     budget: shape.budget, parameters: parameters)
        try shape.checkPoolAndBudget()
    }

    public static let labelledUse = LabelledUse.used(
        "Conditions the posterior on them, in the order they were picked, before the first pick: a second round continues the first exactly.")

    public static func select(_ problem: SelectionProblem, _ parameters: VTLParameters,
                              _ context: inout SelectionContext) throws(SelectionError) -> SelectionResult {
        try select(pool: problem.pool, targets: problem.inputs["targets"], budget: problem.budget,
                   parameters: parameters, labelled: problem.labelled, threads: context.threads,
                   partition: problem.partition, group: context.group, shouldStop: context.shouldStop,
                   progress: context.progress)
    }

    /// Distributed per pick: a group argmax, and the picked row's state from its process. The
    /// prefilter ranks the whole pool, so it runs in one process.
    public static func distributionObstacle(_ parameters: VTLParameters) -> String? {
        parameters.prefilter == nil ? nil : "\"prefilter\" ranks the whole pool in one process"
    }
}
