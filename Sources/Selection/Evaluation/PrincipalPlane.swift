import OpenBLAS
import Foundation

/// The plane of a pool's two leading principal components, to draw the pool in two dimensions.
///
/// Principal component analysis (Pearson, "On lines and planes of closest fit", Phil. Mag. 1901):
/// the covariance C = XᵀX/N − μμᵀ is accumulated in double from single-precision sgemm blocks over a
/// fixed number of row groups, summed in group order, so the plane is the same for every thread count.
/// Its two leading eigenvectors come from orthogonal (subspace) iteration finished by a 2×2
/// Rayleigh–Ritz rotation (Golub & Van Loan, "Matrix Computations", 4th ed. 2013, §8.2.4).
///
/// Cost: O(N·d²) flops for C (one pass over the rows), O(iterations·d²) for the eigenvectors,
/// O(N·d) per projection; memory O(groups·d²) doubles beyond the input.
public struct PrincipalPlane: Sendable, Equatable {
    /// The pool's mean row.
    public let mean: [Double]
    /// The two unit eigenvectors of the covariance, the one with the larger eigenvalue first; each
    /// signed so that its largest-magnitude entry is positive.
    public let axes: [[Double]]
    /// The covariance's eigenvalues along `axes`: the variance of the projected coordinates.
    public let variances: [Double]
    /// The covariance's trace: the total variance.
    public let totalVariance: Double

    /// Row groups whose partial sums are added in order (a constant, so thread count never matters).
    static let groups = 16
    /// Rows per sgemm block inside a group.
    static let blockRows = 2048

    /// The share of the total variance each axis explains.
    public var explainedShare: [Double] { variances.map { totalVariance > 0 ? $0 / totalVariance : 0 } }

    /// Fits the plane to the rows of `x` (at least one row).
    public static func fit(_ x: FeatureMatrix, threads: Int) -> PrincipalPlane {
        let n = x.rows, d = x.columns
        precondition(n > 0 && d > 0, "PCA of an empty matrix")
        let groupCount = min(groups, n)
        let partial = ChunkResults<(sum: [Double], gram: [Double])>(count: groupCount)
        x.values.withUnsafeBufferPointer { values in
            let input = ReadOnlyPointer(base: values.baseAddress!)
            ParallelChunks.run(chunks: groupCount, threads: threads) { group in
                let start = group * n / groupCount, end = (group + 1) * n / groupCount
                var sum = [Double](repeating: 0, count: d)
                var gram = [Double](repeating: 0, count: d * d)
                var block = [Float](repeating: 0, count: d * d)
                var row = start
                while row < end {
                    let rows = min(blockRows, end - row)
                    BLAS.gram(rows: rows, columns: d, a: input.base + row * d, c: &block)
                    for k in 0..<(d * d) { gram[k] += Double(block[k]) }
                    for r in row..<(row + rows) {
                        for j in 0..<d { sum[j] += Double(input.base[r * d + j]) }
                    }
                    row += rows
                }
                partial.set(group, (sum, gram))
            }
        }
        var mean = [Double](repeating: 0, count: d)
        var covariance = [Double](repeating: 0, count: d * d)
        for (sum, gram) in partial.values {
            for j in 0..<d { mean[j] += sum[j] }
            for k in 0..<(d * d) { covariance[k] += gram[k] }
        }
        for j in 0..<d { mean[j] /= Double(n) }
        for i in 0..<d {
            for j in 0..<d { covariance[i * d + j] = covariance[i * d + j] / Double(n) - mean[i] * mean[j] }
        }
        let trace = (0..<d).reduce(0.0) { $0 + covariance[$1 * d + $1] }
        let (axes, variances) = leadingEigenvectors(covariance, dimension: d)
        return PrincipalPlane(mean: mean, axes: axes, variances: variances, totalVariance: trace)
    }

    /// The coordinates of each row of `x` in the plane: (x_i − μ)·a₁ and (x_i − μ)·a₂. O(N·d).
    public func project(_ x: FeatureMatrix, threads: Int) -> (x: [Float], y: [Float]) {
        let axisMatrix = FeatureMatrix(rows: 2, columns: x.columns, values: axes.flatMap { $0.map(Float.init) })
        let offsets = axes.map { axis in zip(axis, mean).reduce(0.0) { $0 + $1.0 * $1.1 } }
        let points = BlockedSimilarity.rowwise(x, axisMatrix, threads: threads) { _, s in
            (Float(Double(s[0]) - offsets[0]), Float(Double(s[1]) - offsets[1]))
        }
        return (points.map(\.0), points.map(\.1))
    }

    /// The two leading eigenvectors and eigenvalues of the symmetric `d × d` matrix `c`.
    ///
    /// Orthogonal iteration from a seeded start until the plane stops moving (or 5,000 steps), then the
    /// 2×2 Rayleigh–Ritz problem in that plane, solved by one Jacobi rotation. O(steps·d²).
    static func leadingEigenvectors(_ c: [Double], dimension d: Int) -> (axes: [[Double]], values: [Double]) {
        if d == 1 { return ([[1], [0]], [c[0], 0]) }
        var generator = SeededGenerator(seed: 0)
        var q = (0..<(2 * d)).map { _ in Double.random(in: -1...1, using: &generator) }  // d × 2, row-major
        orthonormalizeColumns(&q, rows: d)
        var next = [Double](repeating: 0, count: 2 * d)
        for _ in 0..<5000 {
            BLAS.multiply(m: d, n: 2, k: d, a: c, lda: d, b: q, ldb: 2, c: &next, ldc: 2)
            orthonormalizeColumns(&next, rows: d)
            // The plane has settled when the new basis lies in the old one: ‖QᵀQ'‖_F² = 2.
            var overlap = 0.0
            for a in 0..<2 {
                for b in 0..<2 {
                    var dot = 0.0
                    for i in 0..<d { dot += q[i * 2 + a] * next[i * 2 + b] }
                    overlap += dot * dot
                }
            }
            swap(&q, &next)
            if 2 - overlap < 1e-15 { break }
        }
        // Rayleigh–Ritz: H = QᵀCQ, rotated to diagonal.
        var cq = [Double](repeating: 0, count: 2 * d)
        BLAS.multiply(m: d, n: 2, k: d, a: c, lda: d, b: q, ldb: 2, c: &cq, ldc: 2)
        func h(_ a: Int, _ b: Int) -> Double { (0..<d).reduce(0.0) { $0 + q[$1 * 2 + a] * cq[$1 * 2 + b] } }
        let h11 = h(0, 0), h22 = h(1, 1), h12 = (h(0, 1) + h(1, 0)) / 2
        let angle = 0.5 * atan2(2 * h12, h11 - h22)
        let cosine = Foundation.cos(angle), sine = Foundation.sin(angle)
        var first = (0..<d).map { cosine * q[$0 * 2] + sine * q[$0 * 2 + 1] }
        var second = (0..<d).map { -sine * q[$0 * 2] + cosine * q[$0 * 2 + 1] }
        var values = [h11 * cosine * cosine + 2 * h12 * sine * cosine + h22 * sine * sine,
                      h11 * sine * sine - 2 * h12 * sine * cosine + h22 * cosine * cosine]
        if values[1] > values[0] {
            swap(&first, &second)
            values.swapAt(0, 1)
        }
        return ([signed(first), signed(second)], values)
    }

    /// Gram–Schmidt, twice for stability, on the two columns of a row-major `rows × 2` matrix.
    static func orthonormalizeColumns(_ m: inout [Double], rows: Int) {
        for _ in 0..<2 {
            for column in 0..<2 {
                if column == 1 {
                    var dot = 0.0
                    for i in 0..<rows { dot += m[i * 2] * m[i * 2 + 1] }
                    for i in 0..<rows { m[i * 2 + 1] -= dot * m[i * 2] }
                }
                var norm = 0.0
                for i in 0..<rows { norm += m[i * 2 + column] * m[i * 2 + column] }
                norm = norm.squareRoot()
                if norm > 0 { for i in 0..<rows { m[i * 2 + column] /= norm } }
            }
        }
    }

    /// `v` or −v, whichever has its largest-magnitude entry (the first such) positive.
    static func signed(_ v: [Double]) -> [Double] {
        var largest = 0
        for i in v.indices where abs(v[i]) > abs(v[largest]) { largest = i }
        return v[largest] < 0 ? v.map { -$0 } : v
    }
}
