import OpenBLAS

/// ActiveFT's hyper-parameters, defaulting to the reference's (`ActiveFT_CIFAR.py` arguments).
public struct ActiveFTParameters: Sendable, Equatable {
    /// How the K centroids start.
    public enum Initialization: Sendable, Equatable {
        /// K distinct rows drawn with the job's seed.
        case random
        /// Farthest-point sampling from one random row (Euclidean on the normalised features).
        case farthestPoint
        /// Greedy k-means++ seeding (scikit-learn's) on the normalised features.
        case kMeansPlusPlus
        /// Explicit 0-based rows in centroid order.
        case rows([Int])
    }

    public var temperature: Double = 0.07
    public var iterations: Int = 300
    public var learningRate: Double = 0.001
    public var balance: Double = 1.0
    public var initialization: Initialization = .random
    /// Samples drawn per iteration (the reference's ImageNet variant); `nil` uses every sample.
    public var batchSize: Int?

    /// Every default (the reference's).
    public init() {}

    public init(temperature: Double = 0.07, iterations: Int = 300, learningRate: Double = 0.001,
                balance: Double = 1.0, initialization: Initialization = .random, batchSize: Int? = nil) {
        self.temperature = temperature
        self.iterations = iterations
        self.learningRate = learningRate
        self.balance = balance
        self.initialization = initialization
        self.batchSize = batchSize
    }
}

/// ActiveFT data selection (Xie et al., "Active Finetuning: Exploiting Annotation Budget in the
/// Pretraining-Finetuning Paradigm", CVPR 2023), as `data_selection/sample_tools/ActiveFT_CIFAR.py`
/// of yichen928/ActiveFT computes it, with the loss and gradient in closed form.
///
/// K centroids θ are optimised with Adam so that the normalised centroids match the feature
/// distribution (each sample pulls its nearest centroid) while repelling each other; then each
/// centroid, in order, takes the most similar feature not taken yet.
///
/// Cost per iteration: one N×K×d sgemm in row blocks fused with the row argmax (no N×K matrix is
/// kept), one K×K×d gram matrix, and one O(N·d) pass for the sparse gradient. Memory: O(N·d + K·d + K²).
public enum ActiveFT {
    /// Runs ActiveFT on `features` (any norm; they are L2-normalised first) to pick `budget` samples.
    ///
    /// All randomness (random or farthest-point initialisation, mini-batches) comes from `generator`.
    /// `progress` is called after each iteration with the loss computed in it. `threads` bounds the
    /// threads of selectjob's own loops (BLAS has its own setting); results do not depend on it.
    /// `shouldStop` is asked before each iteration; when it answers true, the method throws
    /// ``SelectionError/cancelled``.
    ///
    /// `features` is taken over: over the whole pool, the rows are held in the order of their nearest
    /// centroid from the first iteration on (``rowsByCentroid(_:centroids:)``), in place when this is
    /// the only reference to them (else in a copy, leaving the caller's matrix as it was).
    public static func select(
        features: consuming FeatureMatrix, budget: Int, parameters: ActiveFTParameters, labelled: [Int] = [],
        generator: inout SeededGenerator, threads: Int = ParallelChunks.processorCount,
        partition: RowPartition? = nil, group: any ProcessGroup = SingleProcess(),
        shouldStop: () -> Bool = { false }, progress: (SelectionProgress) -> Void = { _ in }
    ) throws(SelectionError) -> SelectionResult {
        let partition = partition ?? RowPartition(totalRows: features.rows)
        let n = partition.totalRows, first = partition.rows.lowerBound
        try validate(poolSize: n, budget: budget, parameters: parameters)
        // No copy when the runner normalised the pool in place and handed over its only reference.
        let unit = (consume features).normalizedRows()
        let initialRows = initialRows(unit, budget: budget, initialization: parameters.initialization,
                                      labelled: labelled, poolRows: n, generator: &generator)

        // Labelled samples are fixed centroids ahead of the K free ones: they take part in the loss
        // (samples they match need no free centroid; free centroids are repelled by them) but never move.
        let fixed = labelled.count * unit.columns
        var theta = partition.gatherRows(labelled + initialRows, from: unit, group: group).values.map(Double.init)
        let initialCentroids = Array(theta[(labelled.count * unit.columns)...])
        let localRows = unit.rows, columns = unit.columns
        var objective = ActiveFTObjective(features: consume unit, temperature: parameters.temperature,
                                          balance: parameters.balance)
        var adam = AdamOptimizer(count: theta.count - fixed, learningRate: parameters.learningRate)
        var search = NearestCentroidSearch(samples: localRows, centroids: labelled.count + budget, pruning: true,
                                           threads: max(1, threads))
        // After the first iteration over every row, the rows are held in the order of their nearest
        // centroid (`order[i]` is the row now at i): see ``rowsByCentroid(_:centroids:)``.
        var order: [Int]?
        var losses: [Double] = []
        losses.reserveCapacity(parameters.iterations)
        for iteration in 0..<parameters.iterations {
            guard !shouldStop() else { throw .cancelled }
            // The batch is drawn over the whole pool; each process takes the rows it holds.
            let batch = parameters.batchSize.map { generator.distinctIndices(count: $0, from: n) }
            let localBatch = batch.map { partition.isWhole ? $0 : $0.filter(partition.rows.contains).map { $0 - first } }
            let step = objective.lossAndGradient(centroids: theta, batch: localBatch, totalCount: batch?.count ?? n,
                                                 search: &search, group: group)
            if iteration == 0, batch == nil, parameters.iterations > 1 {
                let grouped = rowsByCentroid(step.nearest, centroids: labelled.count + budget)
                objective.permuteRows(grouped)
                search.permuteRows(grouped)
                order = grouped
            }
            losses.append(step.loss)
            if fixed == 0 {
                adam.step(parameters: &theta, gradient: step.gradient, threads: max(1, threads))
            } else {
                var free = Array(theta[fixed...])
                adam.step(parameters: &free, gradient: Array(step.gradient[fixed...]), threads: max(1, threads))
                theta.replaceSubrange(fixed..., with: free)
            }
            progress(SelectionProgress(step: iteration + 1, total: parameters.iterations, value: step.loss))
        }
        if let order { objective.restoreRows(order) }
        let finalCentroids = normalizedRows(Array(theta[fixed...]), columns: columns)
        let picks = assignDistinct(features: objective.features, centroids: finalCentroids,
                                   excluding: labelled, unitRows: true, threads: max(1, threads), partition: partition, group: group)
        return SelectionResult(picks: picks, curveName: "loss", curve: losses, initialRows: initialRows,
                               notes: notes(picks: picks, initialRows: initialRows, initial: initialCentroids,
                                            final: finalCentroids, columns: columns))
    }

    /// How far the optimisation took the selection from its start (issue: with random initial rows and
    /// the paper's learning rate the centroids barely move, and most picks are their starting rows):
    /// `picks_at_initial_rows`, the picks that are initial rows, and `mean_centroid_movement`, the mean
    /// Euclidean distance between each centroid's unit start and unit end (0 … 2). O(K·d).
    static func notes(picks: [Pick], initialRows: [Int], initial: [Double], final: [Float], columns d: Int)
        -> [String: Double] {
        let starts = Set(initialRows)
        let k = initialRows.count
        var movement = 0.0
        for c in 0..<k {
            var squared = 0.0
            for j in 0..<d {
                let difference = Double(final[c * d + j]) - initial[c * d + j]
                squared += difference * difference
            }
            movement += squared.squareRoot()
        }
        return ["picks_at_initial_rows": Double(picks.filter { starts.contains($0.row) }.count),
                "mean_centroid_movement": k > 0 ? movement / Double(k) : 0]
    }

    /// The rows grouped by their nearest centroid, centroid by centroid, each group in row order (a
    /// stable counting sort): the order ``select(features:budget:parameters:labelled:generator:threads:partition:group:shouldStop:progress:)``
    /// holds the rows in after its first iteration. A sample's pull then adds into the same centroid's
    /// totals as its neighbours in memory, and the bound checks' blocks of rows meet few centroid
    /// groups; samples change centroids slowly, so that stays mostly true. It changes no bit of the
    /// result (every sum over samples is a ``FixedPointSum``, every similarity is per row, and the
    /// search follows the rows). O(N + K).
    static func rowsByCentroid(_ nearest: [Int32], centroids k: Int) -> [Int] {
        var start = [Int](repeating: 0, count: k + 1)
        for c in nearest { start[Int(c) + 1] += 1 }
        for c in 0..<k { start[c + 1] += start[c] }
        var order = [Int](repeating: 0, count: nearest.count)
        for (row, c) in nearest.enumerated() {
            order[start[Int(c)]] = row
            start[Int(c)] += 1
        }
        return order
    }

    /// Checks `parameters` and `budget` against a pool of `poolSize` samples, before any work.
    public static func validate(poolSize n: Int, budget: Int, parameters: ActiveFTParameters) throws(SelectionError) {
        guard n > 0 else { throw .emptyPool }
        guard budget >= 1, budget <= n else { throw .budgetOutOfRange(budget: budget, poolSize: n) }
        if let batchSize = parameters.batchSize, batchSize < 1 || batchSize > n {
            throw .batchSizeOutOfRange(batchSize: batchSize, poolSize: n)
        }
        if case let .rows(rows) = parameters.initialization {
            guard rows.count == budget else { throw .initialRowsCount(given: rows.count, budget: budget) }
            var seen = Set<Int>()
            for row in rows {
                guard row >= 0, row < n else { throw .initialRowOutOfRange(row: row, poolSize: n) }
                guard seen.insert(row).inserted else { throw .duplicateInitialRow(row: row) }
            }
        }
    }

    /// The starting rows for the free centroids (already validated), none of them `labelled`;
    /// farthest-point and k-means++ seeding continue from the labelled rows.
    static func initialRows(
        _ unit: FeatureMatrix, budget: Int, initialization: ActiveFTParameters.Initialization,
        labelled: [Int] = [], poolRows: Int? = nil, generator: inout SeededGenerator
    ) -> [Int] {
        let n = poolRows ?? unit.rows
        switch initialization {
        case .random:
            if labelled.isEmpty { return generator.distinctIndices(count: budget, from: n) }
            let isLabelled = Set(labelled)
            let rest = (0..<n).filter { !isLabelled.contains($0) }
            return generator.distinctIndices(count: budget, from: rest.count).map { rest[$0] }
        case .farthestPoint:
            return farthestPointSample(unit, count: budget, given: labelled, generator: &generator)
        case .kMeansPlusPlus:
            return KMeansClustering(unit: unit, spherical: false, threads: ParallelChunks.processorCount)
                .seed(k: budget, given: labelled, generator: &generator)
        case let .rows(rows):
            return rows
        }
    }

    /// Farthest-point sampling on unit vectors: start at a random row, then repeatedly take the row
    /// whose nearest chosen row is farthest (Euclidean, i.e. smallest best cosine). O(count·N·d).
    ///
    /// Follows `farthest_distance_sample` in the reference's `sample_tools/utils.py`.
    static func farthestPointSample(_ unit: FeatureMatrix, count: Int, given: [Int] = [],
                                    generator: inout SeededGenerator) -> [Int] {
        let n = unit.rows, d = unit.columns
        var chosen = given.isEmpty ? [Int.random(in: 0..<n, using: &generator)] : given
        var isChosen = [Bool](repeating: false, count: n)
        for row in chosen { isChosen[row] = true }
        var nearestSimilarity = [Float](repeating: -.infinity, count: n)
        var similarity = [Float](repeating: 0, count: n)
        unit.values.withUnsafeBufferPointer { x in
            // Every given row's similarities count; then each new pick's.
            for row in chosen.dropLast() {
                BLAS.multiplyVector(m: n, n: d, a: x.baseAddress!, lda: d, x: x.baseAddress! + row * d, y: &similarity)
                for i in 0..<n { nearestSimilarity[i] = max(nearestSimilarity[i], similarity[i]) }
            }
            while chosen.count < count + given.count {
                let last = chosen[chosen.count - 1]
                BLAS.multiplyVector(m: n, n: d, a: x.baseAddress!, lda: d, x: x.baseAddress! + last * d,
                                    y: &similarity)
                var next = -1
                var lowest = Float.infinity
                for i in 0..<n {
                    nearestSimilarity[i] = max(nearestSimilarity[i], similarity[i])
                    if !isChosen[i], nearestSimilarity[i] < lowest { lowest = nearestSimilarity[i]; next = i }
                }
                chosen.append(next)
                isChosen[next] = true
            }
        }
        return given.isEmpty ? chosen : Array(chosen.dropFirst(given.count))
    }

    /// Rows of `theta` (a `columns`-wide row-major matrix) scaled to unit norm, as `Float`.
    static func normalizedRows(_ theta: [Double], columns: Int) -> [Float] {
        var out = [Float](repeating: 0, count: theta.count)
        for start in stride(from: 0, to: theta.count, by: columns) {
            var sum = 0.0
            for j in start..<(start + columns) { sum += theta[j] * theta[j] }
            let scale = 1 / sum.squareRoot()
            for j in start..<(start + columns) { out[j] = Float(theta[j] * scale) }
        }
        return out
    }
}

extension ActiveFTParameters {
    /// τ must exceed this: the loss grows as 1/τ, and far below it (τ ≈ 10⁻¹²) the objective's sums
    /// leave double precision and the centroids become NaN. The paper uses 0.07.
    public static let temperatureFloor = 1e-4
}

extension ActiveFTParameters: MethodParameters {
    public static var parameters: [Parameter<Self>] {
        [.number("temperature", \.temperature, above: temperatureFloor, help: "τ, the softmax temperature of the matching loss."),
         .integer("iterations", \.iterations, in: 0...1_000_000, help: "Adam steps on the centroids."),
         .number("learning_rate", \.learningRate, above: 0, help: "Adam's learning rate."),
         .number("balance", \.balance, above: 0, help: "β, the weight of the centroids' mutual repulsion."),
         .structured("init", \.initialization, accepts: #""random", "fps", "kmeans++" or {"rows": [...]}"#,
                     schema: ["oneOf": [
                         ["enum": ["random", "fps", "kmeans++"]],
                         ["type": "object", "additionalProperties": false, "required": ["rows"],
                          "properties": ["rows": ["type": "array", "minItems": 1,
                                                  "items": ["type": "integer", "minimum": 0, "maximum": .integer(Int64(Int32.max))]]]],
                     ]],
                     encode: { .some(encoded($0)) }, decode: initialization,
                     help: "Initial centroids: K random rows, farthest-point sampling, k-means++ seeding, or explicit 0-based rows in centroid order."),
         .integer("batch_size", \.batchSize, in: 1...Int64.max,
                  help: "Samples drawn per iteration (the reference's ImageNet variant); default all.")]
    }

    /// `initialization` as a job writes it.
    static func encoded(_ initialization: Initialization) -> ParameterValue {
        switch initialization {
        case .random: return "random"
        case .farthestPoint: return "fps"
        case .kMeansPlusPlus: return "kmeans++"
        case let .rows(rows): return ["rows": .array(rows.map { .integer(Int64($0)) })]
        }
    }

    static func initialization(_ value: ParameterValue) throws(ParameterError) -> Initialization {
        switch value {
        case .string("random"): return .random
        case .string("fps"): return .farthestPoint
        case .string("kmeans++"): return .kMeansPlusPlus
        case .object:
            let members = try ParameterReader.object(value, at: "init", allowed: ["rows"], required: ["rows"])
            guard case let .array(items) = members["rows"]! else {
                throw ParameterError(path: "init.rows", problem: "expected an array of row indices, got \(members["rows"]!.described)")
            }
            guard !items.isEmpty else { throw ParameterError(path: "init.rows", problem: "expected at least one row, got []") }
            var rows: [Int] = []
            for (i, item) in items.enumerated() {
                rows.append(try ParameterReader.integer(item, at: "init.rows[\(i)]", in: 0...Int64(Int32.max)))
            }
            return .rows(rows)
        default:
            throw ParameterError(path: "init", problem: #"expected "random", "fps", "kmeans++" or {"rows": [...]}, got \#(value.quoted)"#)
        }
    }
}

extension ActiveFT: SelectionMethod {
    public typealias Parameters = ActiveFTParameters
    public static let name = "activeft"
    public static let summary = "Optimise K centroids to match the pool's distribution while repelling each other; each takes its nearest sample."
    public static let reference = "Xie et al., \"Active Finetuning: Exploiting Annotation Budget in the Pretraining-Finetuning Paradigm\", CVPR 2023 (yichen928/ActiveFT)"

    /// ActiveFT normalises the pool before anything else.
    public static func usesUnitRows(_ parameters: ActiveFTParameters) -> Bool { true }

    public static func validate(_ shape: ProblemShape, _ parameters: ActiveFTParameters) throws(SelectionError) {
        try validate(poolSize: shape.poolSize, budget: shape.budget, parameters: parameters)
        try shape.checkPoolAndBudget()
        if case .rows = parameters.initialization, shape.labelledCount > 0 {
            throw .parameterOutOfRange(parameter: "init", value: "rows",
                                       reason: "cannot be combined with labelled samples (the initial centroids are chosen among the unlabelled ones)")
        }
    }

    /// Takes the problem's pool: with the only reference to it, the rows are reordered in place.
    public static func select(_ problem: consuming SelectionProblem, _ parameters: ActiveFTParameters,
                              _ context: inout SelectionContext) throws(SelectionError) -> SelectionResult {
        let (budget, labelled, partition) = (problem.budget, problem.labelled, problem.partition)
        return try select(features: (consume problem).pool, budget: budget, parameters: parameters, labelled: labelled,
                          generator: &context.generator, threads: context.threads, partition: partition,
                          group: context.group, shouldStop: context.shouldStop, progress: context.progress)
    }

    public static func poolRowParameter(_ parameters: ActiveFTParameters) -> String? {
        if case .rows = parameters.initialization { return "init" }
        return nil
    }

    /// Distributed with random or explicit initial rows; farthest-point and k-means++ seeding are not.
    public static func distributionObstacle(_ parameters: ActiveFTParameters) -> String? {
        switch parameters.initialization {
        case .random, .rows: return nil
        case .farthestPoint, .kMeansPlusPlus: return "its \"init\" seeding needs every row in one process (use \"random\" or {\"rows\": [...]})"
        }
    }

    public static let labelledUse = LabelledUse.used(
        "Keeps them as fixed centroids: they take part in the loss (matching the samples near them, repelling the new centroids) but never move; only the K new centroids are optimised, each then taking its nearest unlabelled sample.")
}
