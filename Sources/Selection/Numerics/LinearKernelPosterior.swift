/// The posterior of a Gaussian process with the linear kernel k(x, x') = x·x', as the `activeft`
/// package's batch selection via conditional embeddings (BaCE) maintains it, kept in feature space.
///
/// Hübotter et al., "Transductive Active Learning: Theory and Applications", NeurIPS 2024; the
/// package's `BaCE.step`: k_i(x, x') = k_{i−1}(x, x') − k_{i−1}(x, x_i) k_{i−1}(x_i, x') / (k_{i−1}(x_i, x_i) + σ²).
/// With the linear kernel that is k_i(x, x') = xᵀ S_i x' for a d × d covariance S (S_0 = I), and
/// observing x_s updates S ← S − u uᵀ / (x_sᵀ S x_s + σ²), u = S x_s. The struct keeps S in double
/// precision and every pool row's variance v_j = x_jᵀ S x_j, so one observation costs one pass over
/// the pool (t_j = x_j·u, v_j ← v_j − t_j² / c) plus O(d²); nothing N × N is formed.
/// Memory: O(d² + N). Rows are processed in parallel; each row's result depends on that row only,
/// so results are identical for every thread count.
struct LinearKernelPosterior {
    let pool: FeatureMatrix
    let noiseVariance: Double
    let threads: Int
    /// S, d × d, row-major.
    private(set) var covariance: [Double]
    /// v_j = x_jᵀ S x_j for every pool row.
    private(set) var variances: [Double]

    /// The prior S = I (`covariance == nil`) or the given d × d covariance. O(N·d²) for a given S, O(N·d) for I.
    init(pool: FeatureMatrix, noiseVariance: Double, threads: Int, covariance: [Double]? = nil) {
        let d = pool.columns
        self.pool = pool
        self.noiseVariance = noiseVariance
        self.threads = threads
        var identity = [Double](repeating: 0, count: d * d)
        for j in 0..<d { identity[j * d + j] = 1 }
        self.covariance = covariance ?? identity
        self.variances = []
        self.variances = quadraticForms(self.covariance)
    }

    /// xᵀ M x for every pool row, M symmetric d × d. O(N·d²).
    func quadraticForms(_ m: [Double]) -> [Double] {
        let d = pool.columns
        var out = [Double](repeating: 0, count: pool.rows)
        let blockRows = 256
        let blocks = (pool.rows + blockRows - 1) / blockRows
        let values = pool.values
        out.withUnsafeMutableBufferPointer { buffer in
            let target = SharedPointer(base: buffer.baseAddress!)
            ParallelChunks.run(chunks: blocks, threads: threads) { block in
                var row = [Double](repeating: 0, count: d)
                for i in (block * blockRows)..<min(pool.rows, (block + 1) * blockRows) {
                    for j in 0..<d { row[j] = Double(values[i * d + j]) }
                    var total = 0.0
                    for a in 0..<d {
                        var dot = 0.0
                        for b in 0..<d { dot += m[a * d + b] * row[b] }
                        total += row[a] * dot
                    }
                    target.base[i] = total
                }
            }
        }
        return out
    }

    /// S y for a vector y of width d. O(d²).
    func apply(_ y: [Double]) -> [Double] {
        let d = pool.columns
        var out = [Double](repeating: 0, count: d)
        for a in 0..<d {
            var dot = 0.0
            for b in 0..<d { dot += covariance[a * d + b] * y[b] }
            out[a] = dot
        }
        return out
    }

    /// x_j · y for every pool row (products in double). O(N·d).
    func dots(_ y: [Double]) -> [Double] { pool.products(with: y, threads: threads) }

    /// Row `i` in double precision.
    func row(_ i: Int) -> [Double] { pool.row(i).map(Double.init) }

    /// Conditions on a noisy observation of `vector` (a pool row or any point of width d).
    /// Returns u = S x and c = xᵀ S x + σ², which other quantities need for the same update. O(N·d + d²).
    @discardableResult
    mutating func observe(_ vector: [Double]) -> (u: [Double], c: Double) {
        let d = pool.columns
        let u = apply(vector)
        var quadratic = 0.0
        for j in 0..<d { quadratic += vector[j] * u[j] }
        let c = quadratic + noiseVariance
        let t = dots(u)
        for i in 0..<pool.rows { variances[i] = max(0, variances[i] - t[i] * t[i] / c) }
        for a in 0..<d {
            for b in 0..<d { covariance[a * d + b] -= u[a] * u[b] / c }
        }
        return (u, c)
    }
}

/// Inverse of a symmetric positive-definite d × d matrix by Cholesky factorisation. O(d³).
/// Returns nil when the matrix is not positive definite.
func inverseOfPositiveDefinite(_ m: [Double], dimension d: Int) -> [Double]? {
    // Cholesky: m = L Lᵀ.
    var l = [Double](repeating: 0, count: d * d)
    for i in 0..<d {
        for j in 0...i {
            var sum = m[i * d + j]
            for k in 0..<j { sum -= l[i * d + k] * l[j * d + k] }
            if i == j {
                guard sum > 0 else { return nil }
                l[i * d + i] = sum.squareRoot()
            } else {
                l[i * d + j] = sum / l[j * d + j]
            }
        }
    }
    // L⁻¹ by forward substitution, then m⁻¹ = L⁻ᵀ L⁻¹.
    var inverseL = [Double](repeating: 0, count: d * d)
    for column in 0..<d {
        for i in column..<d {
            var sum = i == column ? 1.0 : 0.0
            for k in column..<i { sum -= l[i * d + k] * inverseL[k * d + column] }
            inverseL[i * d + column] = sum / l[i * d + i]
        }
    }
    var out = [Double](repeating: 0, count: d * d)
    for i in 0..<d {
        for j in 0...i {
            var sum = 0.0
            for k in i..<d { sum += inverseL[k * d + i] * inverseL[k * d + j] }
            out[i * d + j] = sum
            out[j * d + i] = sum
        }
    }
    return out
}

extension FeatureMatrix {
    /// x_i · y for every row, each product accumulated in double. O(rows·columns), in parallel row
    /// blocks; each row's value depends on that row only, so the result is the same for any `threads`.
    func products(with y: [Double], threads: Int) -> [Double] {
        let d = columns, n = rows
        var out = [Double](repeating: 0, count: n)
        let blockRows = 1024
        let blocks = (n + blockRows - 1) / blockRows
        let values = self.values
        out.withUnsafeMutableBufferPointer { buffer in
            let target = SharedPointer(base: buffer.baseAddress!)
            ParallelChunks.run(chunks: blocks, threads: threads) { block in
                for i in (block * blockRows)..<min(n, (block + 1) * blockRows) {
                    var dot = 0.0
                    for j in 0..<d { dot += Double(values[i * d + j]) * y[j] }
                    target.base[i] = dot
                }
            }
        }
        return out
    }
}
