import OpenBLAS
import Foundation

/// ActiveFT's loss and its gradient with respect to the unnormalised centroids θ, in closed form.
///
/// With c_k = θ_k/‖θ_k‖, k(i) = argmax_k f_i·c_k, a_i = f_i·c_{k(i)}/τ and
/// L_k = logsumexp_j(c̄_j·c_k/τ) (the left operand detached, as the reference's
/// `centroids.detach() @ centroids.T`), the loss is J = (1/N) Σ_i softplus(log β + L_{k(i)} − a_i),
/// which equals the reference's −mean log(e^a / (e^a + β Σ_j e^{c̄_j·c_k/τ})) but cannot overflow.
/// The gradient is sparse: each sample feeds only its own centroid (derivation in
/// `../shared/notes/activeft-math.md`, checked against finite differences in the tests).
///
/// Cost: O(N·K·d) for the assignment (blocked sgemm fused with the argmax), O(K²·d) for the centroid
/// term, O(N·d) for the gradient. Memory beyond the inputs: O(N + K·d + block·K).
public struct ActiveFTObjective: Sendable {
    /// Unit-norm features, one per row.
    public private(set) var features: FeatureMatrix
    public let temperature: Double
    public let balance: Double

    public init(features: FeatureMatrix, temperature: Double, balance: Double) {
        self.features = features
        self.temperature = temperature
        self.balance = balance
    }

    /// J and ∂J/∂θ at `centroids` (K×d row-major θ), over all samples or only the rows in `batch`.
    ///
    /// Every call compares every sample with every centroid; ``ActiveFT`` keeps a pruned
    /// ``NearestCentroidSearch`` across iterations instead, with the same result.
    public func lossAndGradient(centroids theta: [Double], batch: [Int]? = nil,
                                threads: Int = 1) -> (loss: Double, gradient: [Double]) {
        var search = NearestCentroidSearch(samples: features.rows, centroids: theta.count / features.columns,
                                           pruning: false, threads: threads)
        let step = lossAndGradient(centroids: theta, batch: batch, totalCount: batch?.count ?? features.rows,
                                   search: &search, group: SingleProcess())
        return (step.loss, step.gradient)
    }

    /// Reorders the feature rows in place (row i becomes the row that was at `order[i]`; see
    /// ``FeatureMatrix/permuteRows(_:)``): no copy when the objective holds the only reference to
    /// them. Every sum over samples is a ``FixedPointSum``, so J and ∂J/∂θ keep their bits. O(N·d).
    mutating func permuteRows(_ order: [Int]) { features.permuteRows(order) }

    /// Undoes ``permuteRows(_:)`` with the same `order`. O(N·d).
    mutating func restoreRows(_ order: [Int]) { features.restoreRows(order) }

    /// J and ∂J/∂θ, finding nearest centroids with `search` (which keeps its bounds between calls),
    /// and each sample's nearest centroid (per row of `batch` when given).
    ///
    /// In a distributed run `features` are this process's rows and `batch` the local rows of the
    /// batch; `totalCount` is the number of samples over the whole group. Every sum over samples is a
    /// ``FixedPointSum``, added over the group in one collective, so J and ∂J/∂θ are the same bits on
    /// every process and for every way of splitting the rows.
    func lossAndGradient(centroids theta: [Double], batch: [Int]?, totalCount: Int,
                         search: inout NearestCentroidSearch, group: some ProcessGroup)
        -> (loss: Double, gradient: [Double], nearest: [Int32]) {
        let d = features.columns
        let k = theta.count / d
        let tau = temperature
        let threads = search.threads
        let (unitCentroids, norms) = Self.unitRows(theta, columns: d, threads: threads)

        // Centroid term: L_k = logsumexp_j(G_jk/τ) and m_k = Σ_j softmax_j(G_jk/τ) c_j.
        let (logSums, repelled) = centroidTerm(unitCentroids, k: k, threads: threads)

        // Samples: nearest centroid, then each sample's softplus term and its pull on that centroid.
        let (nearest, similarity) = search.assign(rows: batch, features: features,
                                                  centroids: unitCentroids.map(Float.init))
        let count = totalCount
        let pull = samplePull(batch: batch, nearest: nearest, similarity: similarity, logSums: logSums,
                              centroids: k, totalCount: totalCount, threads: threads, group: group)

        // g_k = (W_k m_k − F_k)/(Nτ), then back through the normalisation c_k = θ_k/‖θ_k‖.
        let gradient = Self.normalisedGradient(weight: pull.weight, repelled: repelled, pulled: pull.sum,
                                               scale: 1 / (Double(count) * tau), unit: unitCentroids,
                                               norms: norms, columns: d, threads: threads)
        return (pull.loss / Double(count), gradient, nearest)
    }

    /// The rows of `theta` (row-major, `columns` wide) scaled to unit norm, and their norms ‖θ_k‖.
    ///
    /// Each norm is the square root of Σ_j θ_kj² summed in the order j = 0, 1, …, as one scalar loop
    /// per row would; four rows share one loop in the lanes of a vector (so the additions do not wait
    /// on each other), and chunks of rows run in parallel. O(K·d).
    static func unitRows(_ theta: [Double], columns d: Int, threads: Int) -> (unit: [Double], norms: [Double]) {
        let k = theta.count / d
        var unit = [Double](repeating: 0, count: theta.count)
        var norms = [Double](repeating: 0, count: k)
        withSharedPointers(&unit, &norms) { unit, norms in
            theta.withUnsafeBufferPointer { theta in
                let x = ReadOnlyPointer(base: theta.baseAddress!)
                forRowQuads(rows: k, threads: threads) { first, lanes, rowIndices in
                    let rowStarts = rowIndices &* d
                    var sum = SIMD4<Double>()
                    for j in 0..<d {
                        let v = SIMD4<Double>(gathering: x.base, rowStarts, j)
                        sum += v * v
                    }
                    for lane in 0..<lanes {
                        let row = first + lane, norm = sum[lane].squareRoot()
                        norms.base[row] = norm
                        for j in 0..<d { unit.base[row * d + j] = x.base[row * d + j] / norm }
                    }
                }
            }
        }
        return (unit, norms)
    }

    /// ∂J/∂θ from ∂J/∂c: per centroid, g = (W_k m_k − F_k)·`scale`, its radial part r = g·c_k
    /// (summed in the order j = 0, 1, …) taken off, and the rest divided by ‖θ_k‖. Four centroids
    /// share one loop in the lanes of a vector, chunks of centroids run in parallel; every value is
    /// what one scalar loop per centroid gives. O(K·d).
    static func normalisedGradient(weight: [Double], repelled: [Double], pulled: [Double], scale: Double,
                                   unit: [Double], norms: [Double], columns d: Int, threads: Int) -> [Double] {
        let k = norms.count
        var gradient = [Double](repeating: 0, count: k * d)
        withSharedPointers(&gradient) { gradient in
            repelled.withUnsafeBufferPointer { repelled in
                pulled.withUnsafeBufferPointer { pulled in
                    unit.withUnsafeBufferPointer { unit in
                        let (m, f, c) = (ReadOnlyPointer(base: repelled.baseAddress!), ReadOnlyPointer(base: pulled.baseAddress!),
                                         ReadOnlyPointer(base: unit.baseAddress!))
                        forRowQuads(rows: k, threads: threads) { first, lanes, rowIndices in
                            let rowStarts = rowIndices &* d
                            let w = SIMD4(weight[rowIndices[0]], weight[rowIndices[1]], weight[rowIndices[2]], weight[rowIndices[3]])
                            var radial = SIMD4<Double>()
                            for j in 0..<d {
                                let g = (w * SIMD4(gathering: m.base, rowStarts, j) - SIMD4(gathering: f.base, rowStarts, j)) * scale
                                radial += g * SIMD4(gathering: c.base, rowStarts, j)
                                gradient.base[rowStarts[0] + j] = g[0]
                                gradient.base[rowStarts[1] + j] = g[1]
                                gradient.base[rowStarts[2] + j] = g[2]
                                gradient.base[rowStarts[3] + j] = g[3]
                            }
                            for lane in 0..<lanes {
                                let row = first + lane, r = radial[lane], norm = norms[row]
                                for j in 0..<d {
                                    let at = row * d + j
                                    gradient.base[at] = (gradient.base[at] - r * c.base[at]) / norm
                                }
                            }
                        }
                    }
                }
            }
        }
        return gradient
    }

    /// Runs `body(first, lanes, rowIndices)` for the rows 0..<`rows` four at a time: `lanes` ≤ 4
    /// rows from `first`, listed in `rowIndices` (a short last group repeats its last row in the spare
    /// lanes, so they compute and write exactly what its own lane does). Chunks of 64 rows run in
    /// parallel.
    private static func forRowQuads(rows: Int, threads: Int, _ body: @Sendable (Int, Int, SIMD4<Int>) -> Void) {
        let chunkRows = 64
        ParallelChunks.run(chunks: (rows + chunkRows - 1) / chunkRows, threads: threads) { chunk in
            let end = min(rows, (chunk + 1) * chunkRows)
            for first in stride(from: chunk * chunkRows, to: end, by: 4) {
                let lanes = min(4, end - first)
                body(first, lanes, SIMD4(first, min(first + 1, end - 1), min(first + 2, end - 1), min(first + 3, end - 1)))
            }
        }
    }

    /// L_k = logsumexp_j(c_j·c_k/τ) and m_k = Σ_j softmax_j(c_j·c_k/τ) c_j for unit centroids `c`.
    ///
    /// G = C·Cᵀ is symmetric, so only its blocks on and above the diagonal are computed (blocks of
    /// ``centroidChunkRows(centroids:)`` rows, one single-threaded dgemm each). Unit centroids have
    /// G_kj ≤ 1, so E = exp((G − 1)/τ) needs no per-row maximum: E_kk = 1 keeps every row's sum at least
    /// 1 and no term can overflow (one that underflows is below 2⁻¹⁰²² of its row's sum). Block (I, J)
    /// then gives its row sums and E_IJ·C_J to block row I and, above the diagonal, its column sums and
    /// E_IJᵀ·C_I to block row J; finally L_k = 1/τ + log Σ_j E_kj and m_k = Σ_j E_kj c_j / Σ_j E_kj.
    /// O(3/2·K²·d) flops — three quarters of computing every row of G and then softmax·C — and K²/2
    /// exponentials. The pairs of blocks are split into ``centroidTermParts`` contiguous ranges, each
    /// summed in a fixed order into totals of its own, and the parts are added in order (rows of the
    /// result in parallel, O(parts·K·d)): the bits are the same for every thread count. Memory:
    /// O(parts·K·d + block²); never the K×K matrix.
    private func centroidTerm(_ c: [Double], k: Int, threads: Int) -> (logSums: [Double], repelled: [Double]) {
        let d = features.columns, tau = temperature
        let size = Self.centroidChunkRows(centroids: k)
        let blocks = (k + size - 1) / size
        let pairs = (0..<blocks).flatMap { i in (i..<blocks).map { j in (i, j) } }
        let parts = min(Self.centroidTermParts, pairs.count)
        // Per part, its own slice of `partTotals`: Σ_j E_kj for every k, then Σ_j E_kj c_j (K×d).
        let width = k + k * d
        var partTotals = [Double](repeating: 0, count: parts * width)
        // A block on the diagonal costs two dgemms, one above it three.
        let partCosts = (0..<parts).map { part in
            pairs[(pairs.count * part / parts)..<(pairs.count * (part + 1) / parts)].reduce(0.0) { $0 + ($1.0 == $1.1 ? 2 : 3) }
        }
        withSharedPointers(&partTotals) { partTotals in
            c.withUnsafeBufferPointer { centroids in
                let input = ReadOnlyPointer(base: centroids.baseAddress!)
                ParallelChunks.run(costs: partCosts, threads: threads) { part in
                    let block = OwnedBuffer<Double>(capacity: size * size)
                    let columnSums = OwnedBuffer<Double>(capacity: size)
                    let sums = partTotals.base + part * width, weighted = sums + k
                    for pair in (pairs.count * part / parts)..<(pairs.count * (part + 1) / parts) {
                        let (i, j) = pairs[pair]
                        let first = i * size, rows = min(size, k - first)
                        let firstColumn = j * size, columns = min(size, k - firstColumn)
                        BLAS.multiplyTransposed(m: rows, n: columns, k: d, a: input.base + first * d, lda: d,
                                                b: input.base + firstColumn * d, ldb: d, c: block.base, ldc: columns)
                        for column in 0..<columns { columnSums.base[column] = 0 }
                        for r in 0..<rows {
                            let row = block.base + r * columns
                            var rowSum = 0.0
                            for column in 0..<columns {
                                let e = exp((row[column] - 1) / tau)
                                row[column] = e
                                rowSum += e
                                columnSums.base[column] += e
                            }
                            sums[first + r] += rowSum
                        }
                        BLAS.multiply(m: rows, n: d, k: columns, a: block.base, lda: columns,
                                      b: input.base + firstColumn * d, ldb: d, beta: 1, c: weighted + first * d, ldc: d)
                        guard j > i else { continue }
                        for column in 0..<columns { sums[firstColumn + column] += columnSums.base[column] }
                        BLAS.multiplyFirstTransposed(m: columns, n: d, k: rows, a: block.base, lda: columns,
                                                     b: input.base + first * d, ldb: d, beta: 1,
                                                     c: weighted + firstColumn * d, ldc: d)
                    }
                }
            }
        }
        // The parts added in order, ((part 0 + part 1) + part 2) + …, for every entry; rows in parallel.
        var logSums = [Double](repeating: 0, count: k)
        var repelled = [Double](repeating: 0, count: k * d)
        let rowsPerChunk = 64
        withSharedPointers(&logSums, &repelled) { logSums, repelled in
            partTotals.withUnsafeBufferPointer { totals in
                let input = ReadOnlyPointer(base: totals.baseAddress!)
                ParallelChunks.run(chunks: (k + rowsPerChunk - 1) / rowsPerChunk, threads: threads) { chunk in
                    let weight = OwnedBuffer<Double>(capacity: d)
                    for r in (chunk * rowsPerChunk)..<min(k, (chunk + 1) * rowsPerChunk) {
                        var sum = input.base[r]
                        let firstWeighted = input.base + k + r * d
                        for j in 0..<d { weight.base[j] = firstWeighted[j] }
                        for part in 1..<parts {
                            sum += input.base[part * width + r]
                            let weighted = firstWeighted + part * width
                            for j in 0..<d { weight.base[j] += weighted[j] }
                        }
                        logSums.base[r] = 1 / tau + log(sum)
                        for j in 0..<d { repelled.base[r * d + j] = weight.base[j] / sum }
                    }
                }
            }
        }
        return (logSums, repelled)
    }

    /// How many fixed parts the centroid term's pairs of blocks are split into (at most this many
    /// threads share it): each part keeps K·(d + 1) doubles of totals, 39 MB at K = 12,811, d = 384.
    static let centroidTermParts = 4

    /// Rows (and columns) per block of the centroid term, a function of K alone (so the blocks, and
    /// the bits, are the same for every thread count): K/8 between 128 and 512. Each pair of blocks is
    /// three dgemms of block × block × d; below 128 their fixed costs (OpenBLAS packs both operands on
    /// every call) show, and K/8 blocks still give every part of the work several pairs.
    static func centroidChunkRows(centroids k: Int) -> Int { min(512, max(128, k / 8)) }

    /// Σ softplus(z_i), and per centroid W_k = Σ u_i and F_k = Σ u_i f_i over its samples, where
    /// z_i = log β + L_{k(i)} − s_i/τ and u_i = sigmoid(z_i), summed over the whole group.
    ///
    /// Every term is rounded once to a ``FixedPointSum`` and added as an integer, so the sums do not
    /// depend on the order of the samples, the thread count or the processes. One pass over the
    /// samples in their order (the features stream through the cache): each thread sums a contiguous
    /// part into integer totals of its own, then the parts are added. O(N·d + threads·K·d), memory
    /// O(threads·K·d), plus one collective sum of K·(d + 1) + 1 integers.
    private func samplePull(batch: [Int]?, nearest: [Int32], similarity: [Float], logSums: [Double],
                            centroids k: Int, totalCount: Int, threads: Int,
                            group: some ProcessGroup) -> (loss: Double, weight: [Double], sum: [Double]) {
        let d = features.columns
        let count = nearest.count
        let logBalance = log(balance), tau = temperature
        // softplus(z) ≤ max(z, 0) + log 2, and z ≤ log β + max L + 1/τ (similarities of unit rows ≥ −1).
        let largestZ = logBalance + (logSums.max() ?? 0) + 1.01 / tau
        let lossScale = FixedPointSum(bound: max(largestZ, 0) + 1, count: totalCount)
        // u < 1 and unit rows have |f_j| ≤ 1 (a little more after float rounding).
        let pullScale = FixedPointSum(bound: 2, count: totalCount)
        // Totals: [loss, W_0..W_{K-1}, F_0 (d values) ... F_{K-1}]; parts of at least 4,096 samples.
        let width = 1 + k + k * d
        var totals = features.values.withUnsafeBufferPointer { x in
            let rows = ReadOnlyPointer(base: x.baseAddress!)
            return ParallelChunks.integerTotals(count: count, parts: min(threads, count / 4096), width: width,
                                                threads: threads) { positions, base in
                for position in positions {
                    let c = Int(nearest[position])
                    let z = logBalance + logSums[c] - Double(similarity[position]) / tau
                    let (loss, u) = softplusAndSigmoid(z)
                    base[0] &+= lossScale.encode(loss)
                    base[1 + c] &+= pullScale.encode(u)
                    pullScale.accumulate(u, times: rows.base + (batch?[position] ?? position) * d, count: d,
                                         into: base + 1 + k + c * d)
                }
            }
        }
        group.sum(&totals)
        let weight = (0..<k).map { pullScale.decode(totals[1 + $0]) }
        let sum = (0..<(k * d)).map { pullScale.decode(totals[1 + k + $0]) }
        return (lossScale.decode(totals[0]), weight, sum)
    }
}

/// softplus(x) = log(1 + eˣ) and sigmoid(x) = 1/(1 + e⁻ˣ), without overflow, from one exponential
/// e = e^(−|x|): softplus is max(x, 0) + log1p(e), sigmoid 1/(1 + e) for x ≥ 0 and e/(1 + e) below.
@inline(__always) func softplusAndSigmoid(_ x: Double) -> (softplus: Double, sigmoid: Double) {
    let e = exp(-abs(x))
    return (x > 0 ? x + log1p(e) : log1p(e), x >= 0 ? 1 / (1 + e) : e / (1 + e))
}

/// Adam exactly as PyTorch's `torch.optim.Adam` defaults (β1 0.9, β2 0.999, ε 1e-8, no weight decay,
/// no amsgrad; Kingma & Ba, ICLR 2015). O(parameters) per step.
public struct AdamOptimizer: Sendable {
    public let learningRate: Double
    public let beta1 = 0.9
    public let beta2 = 0.999
    public let epsilon = 1e-8
    private var firstMoment: [Double]
    private var secondMoment: [Double]
    private var stepCount = 0

    public init(count: Int, learningRate: Double) {
        self.learningRate = learningRate
        firstMoment = [Double](repeating: 0, count: count)
        secondMoment = [Double](repeating: 0, count: count)
    }

    /// One update of `parameters` against `gradient`; each parameter on its own, so ranges of them go
    /// to `threads` threads with the same result.
    public mutating func step(parameters: inout [Double], gradient: [Double], threads: Int = 1) {
        precondition(parameters.count == firstMoment.count && gradient.count == firstMoment.count,
                     "Adam over \(firstMoment.count) parameters got \(parameters.count) and a gradient of \(gradient.count)")
        stepCount += 1
        let correction1 = 1 - pow(beta1, Double(stepCount))
        let correction2 = (1 - pow(beta2, Double(stepCount))).squareRoot()
        let (beta1, beta2, epsilon, learningRate) = (beta1, beta2, epsilon, learningRate)
        let count = parameters.count, chunk = 8192
        withSharedPointers(&parameters, &firstMoment, &secondMoment) { parameters, firstMoment, secondMoment in
            gradient.withUnsafeBufferPointer { g in
                let gradient = ReadOnlyPointer(base: g.baseAddress ?? UnsafePointer(parameters.base))
                // Every parameter on its own, four at a time in the lanes of a vector: the same
                // operations in the same order as one scalar loop, so the same bits.
                let step = learningRate / correction1
                ParallelChunks.run(chunks: (count + chunk - 1) / chunk, threads: threads) { part in
                    let end = min(count, (part + 1) * chunk)
                    var i = part * chunk
                    while i + 4 <= end {
                        let g = UnsafeRawPointer(gradient.base + i).loadUnaligned(as: SIMD4<Double>.self)
                        let m = beta1 * UnsafeRawPointer(firstMoment.base + i).loadUnaligned(as: SIMD4<Double>.self) + (1 - beta1) * g
                        let v = beta2 * UnsafeRawPointer(secondMoment.base + i).loadUnaligned(as: SIMD4<Double>.self)
                            + (1 - beta2) * g * g
                        UnsafeMutableRawPointer(firstMoment.base + i).storeBytes(of: m, as: SIMD4<Double>.self)
                        UnsafeMutableRawPointer(secondMoment.base + i).storeBytes(of: v, as: SIMD4<Double>.self)
                        let denominator = v.squareRoot() / correction2 + epsilon
                        let p = UnsafeRawPointer(parameters.base + i).loadUnaligned(as: SIMD4<Double>.self)
                        UnsafeMutableRawPointer(parameters.base + i).storeBytes(of: p - step * m / denominator, as: SIMD4<Double>.self)
                        i += 4
                    }
                    while i < end {
                        let m = beta1 * firstMoment.base[i] + (1 - beta1) * gradient.base[i]
                        let v = beta2 * secondMoment.base[i] + (1 - beta2) * gradient.base[i] * gradient.base[i]
                        firstMoment.base[i] = m
                        secondMoment.base[i] = v
                        let denominator = v.squareRoot() / correction2 + epsilon
                        parameters.base[i] -= step * m / denominator
                        i += 1
                    }
                }
            }
        }
    }
}

extension SIMD4<Double> {
    /// The elements at `column` of the four rows starting at `rowStarts` of `matrix`.
    @inline(__always) init(gathering matrix: UnsafePointer<Double>, _ rowStarts: SIMD4<Int>, _ column: Int) {
        self.init(matrix[rowStarts[0] + column], matrix[rowStarts[1] + column],
                  matrix[rowStarts[2] + column], matrix[rowStarts[3] + column])
    }
}
