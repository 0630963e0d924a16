import BLAS

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
    public static func select(
        features: FeatureMatrix, budget: Int, parameters: ActiveFTParameters, labelled: [Int] = [],
        generator: inout SeededGenerator, threads: Int = ParallelChunks.processorCount,
        partition: RowPartition? = nil, group: any ProcessGroup = SingleProcess(),
        shouldStop: () -> Bool = { false }, progress: (SelectionProgress) -> Void = { _ in }
    ) throws(SelectionError) -> SelectionResult {
        let partition = partition ?? RowPartition(totalRows: features.rows)
        let n = partition.totalRows, first = partition.rows.lowerBound
        try validate(poolSize: n, budget: budget, parameters: parameters)
        let unit = features.normalizedRows()  // no copy when the runner already normalised them in place
        let initialRows = initialRows(unit, budget: budget, initialization: parameters.initialization,
                                      labelled: labelled, poolRows: n, generator: &generator)

        let objective = ActiveFTObjective(features: unit, temperature: parameters.temperature,
                                          balance: parameters.balance)
        // Labelled samples are fixed centroids ahead of the K free ones: they take part in the loss
        // (samples they match need no free centroid; free centroids are repelled by them) but never move.
        let fixed = labelled.count * unit.columns
        var theta = partition.gatherRows(labelled + initialRows, from: unit, group: group).values.map(Double.init)
        var adam = AdamOptimizer(count: theta.count - fixed, learningRate: parameters.learningRate)
        var search = NearestCentroidSearch(samples: unit.rows, centroids: labelled.count + budget, pruning: true,
                                           threads: max(1, threads))
        var losses: [Double] = []
        losses.reserveCapacity(parameters.iterations)
        for iteration in 0..<parameters.iterations {
            guard !shouldStop() else { throw .cancelled }
            // The batch is drawn over the whole pool; each process takes the rows it holds.
            let batch = parameters.batchSize.map { generator.distinctIndices(count: $0, from: n) }
            let localBatch = batch.map { partition.isWhole ? $0 : $0.filter(partition.rows.contains).map { $0 - first } }
            let (loss, gradient) = objective.lossAndGradient(centroids: theta, batch: localBatch,
                                                             totalCount: batch?.count ?? n, search: &search, group: group)
            losses.append(loss)
            if fixed == 0 {
                adam.step(parameters: &theta, gradient: gradient)
            } else {
                var free = Array(theta[fixed...])
                adam.step(parameters: &free, gradient: Array(gradient[fixed...]))
                theta.replaceSubrange(fixed..., with: free)
            }
            progress(SelectionProgress(step: iteration + 1, total: parameters.iterations, value: loss))
        }
        let picks = assignDistinct(features: unit, centroids: normalizedRows(Array(theta[fixed...]), columns: unit.columns),
                                   excluding: labelled, threads: max(1, threads), partition: partition, group: group)
        return SelectionResult(picks: picks, curveName: "loss", curve: losses, initialRows: initialRows)
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

    /// Each centroid, in order, takes the most similar row not taken by an earlier centroid.
    ///
    /// Centroid k can lose at most k rows (plus the excluded ones) to earlier centroids, so its best
    /// min(k + 1 + excluded, `kept`) rows are kept (bounded heaps filled from blocked sgemm; centroids
    /// split across threads, each heap filled by one thread in row order). A centroid whose kept rows
    /// are all taken — only possible when the cap cut its list — is recomputed against every row
    /// (one gemv). Ties go to the lower row. The reference sorts all N rows per centroid,
    /// O(N·K·log N); this is O(N·K·d) flops for the sgemm, O(N·K) heap offers of which few get in,
    /// O(R·N·d) for R recomputed centroids, and O(K·kept) memory.
    ///
    /// Distributed (`partition` not whole): each process keeps the best rows among its own, the
    /// kept lists are gathered and merged — the union of every process's best holds the best
    /// overall — and a recomputed centroid's best row is a group ``ProcessGroup/argmax(value:row:)``.
    /// Rows are global; the picks are the same on every process and for every split.
    static func assignDistinct(features unit: FeatureMatrix, centroids: [Float], excluding: [Int] = [],
                               kept: Int = 32, threads: Int = ParallelChunks.processorCount,
                               partition: RowPartition? = nil, group: any ProcessGroup = SingleProcess()) -> [Pick] {
        let partition = partition ?? RowPartition(totalRows: unit.rows)
        let n = unit.rows, d = unit.columns, k = centroids.count / d, firstRow = partition.rows.lowerBound
        let capacity = (0..<k).map { min($0 + 1 + excluding.count, kept, partition.totalRows) }
        let centroidsPerChunk = 256, blockRows = 1024
        let chunks = (k + centroidsPerChunk - 1) / centroidsPerChunk
        let lists = ChunkResults<[[BoundedBest.Entry]]>(count: chunks)
        unit.values.withUnsafeBufferPointer { x in
            centroids.withUnsafeBufferPointer { c in
                let input = (ReadOnlyPointer(base: x.baseAddress!), ReadOnlyPointer(base: c.baseAddress!))
                ParallelChunks.run(chunks: chunks, threads: threads) { chunk in
                    let first = chunk * centroidsPerChunk, count = min(centroidsPerChunk, k - first)
                    var heaps = (first..<(first + count)).map { BoundedBest(capacity: capacity[$0]) }
                    var block = [Float](repeating: 0, count: blockRows * count)
                    for start in stride(from: 0, to: n, by: blockRows) {
                        let rows = min(blockRows, n - start)
                        BLAS.multiplyTransposed(m: rows, n: count, k: d, a: input.0.base + start * d, lda: d,
                                                b: input.1.base + first * d, ldb: d, c: &block, ldc: count)
                        for r in 0..<rows {
                            for j in 0..<count { heaps[j].offer(row: firstRow + start + r, similarity: block[r * count + j]) }
                        }
                    }
                    lists.set(chunk, heaps.map { $0.sortedBestFirst() })
                }
            }
        }
        var candidates = lists.values.flatMap { $0 }
        if !partition.isWhole { candidates = mergedAcross(group, candidates, capacity: capacity) }
        var taken = Set(excluding)
        var picks: [Pick] = []
        picks.reserveCapacity(k)
        for j in 0..<k {
            if let best = candidates[j].first(where: { !taken.contains($0.row) }) {
                taken.insert(best.row)
                picks.append(Pick(row: best.row, score: Double(best.similarity)))
                continue
            }
            // Every kept row is taken: the best of all rows not taken (ties to the lower row).
            let similarity = BlockedSimilarity.similarities(unit, to: Array(centroids[(j * d)..<((j + 1) * d)]), threads: threads)
            var bestRow = -1
            for row in 0..<n where !taken.contains(firstRow + row) && (bestRow < 0 || similarity[row] > similarity[bestRow]) {
                bestRow = row
            }
            let best = group.argmax(value: bestRow < 0 ? -.infinity : Double(similarity[bestRow]),
                                    row: bestRow < 0 ? -1 : firstRow + bestRow)
            taken.insert(best.row)
            picks.append(Pick(row: best.row, score: best.value))
        }
        return picks
    }

    /// Every process's kept lists merged: per centroid, the best `capacity[c]` entries of all of
    /// them, best first (ties to the lower row). One gather of the lists. O(P·K·kept·log(P·kept)).
    private static func mergedAcross(_ group: any ProcessGroup, _ lists: [[BoundedBest.Entry]],
                                     capacity: [Int]) -> [[BoundedBest.Entry]] {
        // Per centroid: its entry count, then (row, similarity bits) pairs.
        var flat: [Int64] = []
        for list in lists {
            flat.append(Int64(list.count))
            for entry in list { flat.append(Int64(entry.row)); flat.append(Int64(entry.similarity.bitPattern)) }
        }
        let parts = group.gather(values: flat)
        var merged = [[BoundedBest.Entry]](repeating: [], count: lists.count)
        for part in parts {
            var position = 0
            for c in 0..<lists.count {
                let count = Int(part[position])
                position += 1
                for _ in 0..<count {
                    merged[c].append(BoundedBest.Entry(row: Int(part[position]),
                                                       similarity: Float(bitPattern: UInt32(part[position + 1]))))
                    position += 2
                }
            }
        }
        return merged.enumerated().map { c, entries in
            Array(entries.sorted { $0.similarity > $1.similarity || ($0.similarity == $1.similarity && $0.row < $1.row) }
                .prefix(capacity[c]))
        }
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

/// The `capacity` best (row, similarity) pairs seen so far: a min-heap on (similarity, −row).
struct BoundedBest {
    struct Entry { let row: Int; let similarity: Float }
    let capacity: Int
    private var heap: [Entry] = []

    init(capacity: Int) {
        self.capacity = capacity
        heap.reserveCapacity(capacity)
    }

    /// Whether `a` ranks below `b`: lower similarity, or equal similarity and a higher row.
    private static func worse(_ a: Entry, _ b: Entry) -> Bool {
        a.similarity < b.similarity || (a.similarity == b.similarity && a.row > b.row)
    }

    /// Keeps the pair if it is among the best `capacity`. O(log capacity), O(1) when rejected.
    mutating func offer(row: Int, similarity: Float) {
        let entry = Entry(row: row, similarity: similarity)
        if heap.count < capacity {
            heap.append(entry)
            var i = heap.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard Self.worse(heap[i], heap[parent]) else { break }
                heap.swapAt(i, parent)
                i = parent
            }
        } else if Self.worse(heap[0], entry) {
            heap[0] = entry
            var i = 0
            while true {
                let left = 2 * i + 1, right = left + 1
                var smallest = i
                if left < heap.count, Self.worse(heap[left], heap[smallest]) { smallest = left }
                if right < heap.count, Self.worse(heap[right], heap[smallest]) { smallest = right }
                if smallest == i { break }
                heap.swapAt(i, smallest)
                i = smallest
            }
        }
    }

    /// The kept pairs, best first.
    func sortedBestFirst() -> [Entry] { heap.sorted { Self.worse($1, $0) } }
}

extension ActiveFTParameters: MethodParameters {
    public static var fields: [ParameterField] {
        let defaults = Self()
        return [
            ParameterField("temperature", .number(exclusiveMinimum: 0, maximum: nil), default: .number(defaults.temperature),
                           help: "τ, the softmax temperature of the matching loss."),
            ParameterField("iterations", .integer(0...1_000_000), default: .integer(Int64(defaults.iterations)),
                           help: "Adam steps on the centroids."),
            ParameterField("learning_rate", .number(exclusiveMinimum: 0, maximum: nil),
                           default: .number(defaults.learningRate), help: "Adam's learning rate."),
            ParameterField("balance", .number(exclusiveMinimum: 0, maximum: nil), default: .number(defaults.balance),
                           help: "β, the weight of the centroids' mutual repulsion."),
            ParameterField("init", .structured(#""random", "fps", "kmeans++" or {"rows": [...]}"#),
                           default: .string("random"),
                           help: "Initial centroids: K random rows, farthest-point sampling, k-means++ seeding, or explicit 0-based rows in centroid order."),
            ParameterField("batch_size", .integer(1...Int64.max), default: nil,
                           help: "Samples drawn per iteration (the reference's ImageNet variant); default all."),
        ]
    }

    public init(_ reader: ParameterReader) throws(ParameterError) {
        self.init()
        temperature = reader.number("temperature")
        iterations = reader.integer("iterations")
        learningRate = reader.number("learning_rate")
        balance = reader.number("balance")
        batchSize = reader.optionalInteger("batch_size")
        initialization = try Self.initialization(reader.value("init")!)
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

    public static func select(_ problem: SelectionProblem, _ parameters: ActiveFTParameters,
                              _ context: inout SelectionContext) throws(SelectionError) -> SelectionResult {
        try select(features: problem.pool, budget: problem.budget, parameters: parameters, labelled: problem.labelled,
                   generator: &context.generator, threads: context.threads, partition: problem.partition,
                   group: context.group, shouldStop: context.shouldStop, progress: context.progress)
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
