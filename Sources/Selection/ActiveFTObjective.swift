import BLAS
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
/// term, O(N·d) for the gradient. Memory beyond the inputs: O(K² + K·d + block·K).
public struct ActiveFTObjective: Sendable {
    /// Unit-norm features, one per row.
    public let features: FeatureMatrix
    public let temperature: Double
    public let balance: Double
    /// Rows per sgemm block: large enough for BLAS efficiency, small enough to stay in cache.
    static let blockRows = 2048

    public init(features: FeatureMatrix, temperature: Double, balance: Double) {
        self.features = features
        self.temperature = temperature
        self.balance = balance
    }

    /// J and ∂J/∂θ at `centroids` (K×d row-major θ), over all samples or only the rows in `batch`.
    public func lossAndGradient(centroids theta: [Double], batch: [Int]? = nil) -> (loss: Double, gradient: [Double]) {
        let d = features.columns
        let k = theta.count / d
        let tau = temperature

        var norms = [Double](repeating: 0, count: k)
        var unitCentroids = theta
        for c in 0..<k {
            var sum = 0.0
            for j in 0..<d { sum += theta[c * d + j] * theta[c * d + j] }
            norms[c] = sum.squareRoot()
            for j in 0..<d { unitCentroids[c * d + j] /= norms[c] }
        }

        // Centroid term: L_k = logsumexp_j(G_jk/τ) and m_k = Σ_j softmax_j(G_jk/τ) c_j.
        var gram = [Double](repeating: 0, count: k * k)
        BLAS.multiplyTransposed(m: k, n: k, k: d, a: unitCentroids, lda: d, b: unitCentroids, ldb: d,
                                c: &gram, ldc: k)
        var logSums = [Double](repeating: 0, count: k)
        var softmax = [Double](repeating: 0, count: k * k)
        for c in 0..<k {
            var largest = -Double.infinity
            for j in 0..<k { largest = max(largest, gram[j * k + c] / tau) }
            var sum = 0.0
            for j in 0..<k { sum += exp(gram[j * k + c] / tau - largest) }
            logSums[c] = largest + log(sum)
            for j in 0..<k { softmax[c * k + j] = exp(gram[j * k + c] / tau - logSums[c]) }
        }
        var repelled = [Double](repeating: 0, count: k * d)
        BLAS.multiply(m: k, n: d, k: k, a: softmax, lda: k, b: unitCentroids, ldb: d, c: &repelled, ldc: d)

        // Samples: nearest centroid, its softplus term, and the weighted pull W_k, F_k.
        let centroidsF = unitCentroids.map(Float.init)
        let logBalance = log(balance)
        var pullWeight = [Double](repeating: 0, count: k)
        var pullSum = [Double](repeating: 0, count: k * d)
        var loss = 0.0
        let count = batch?.count ?? features.rows
        let blockRows = Self.blockRows
        var similarities = [Float](repeating: 0, count: blockRows * k)
        var gathered = [Float](repeating: 0, count: batch == nil ? 0 : blockRows * d)
        features.values.withUnsafeBufferPointer { all in
            for start in stride(from: 0, to: count, by: blockRows) {
                let rows = min(blockRows, count - start)
                if let batch {
                    for r in 0..<rows {
                        let source = batch[start + r] * d
                        for j in 0..<d { gathered[r * d + j] = all[source + j] }
                    }
                }
                gathered.withUnsafeBufferPointer { gatheredBuffer in
                    let block = batch == nil ? all.baseAddress! + start * d : gatheredBuffer.baseAddress!
                    BLAS.multiplyTransposed(m: rows, n: k, k: d, a: block, lda: d, b: centroidsF, ldb: d,
                                            c: &similarities, ldc: k)
                    for r in 0..<rows {
                        var best = 0
                        var bestSimilarity = similarities[r * k]
                        for c in 1..<max(k, 1) where similarities[r * k + c] > bestSimilarity {
                            best = c
                            bestSimilarity = similarities[r * k + c]
                        }
                        let z = logBalance + logSums[best] - Double(bestSimilarity) / tau
                        loss += softplus(z)
                        let weight = sigmoid(z)
                        pullWeight[best] += weight
                        let row = block + r * d
                        for j in 0..<d { pullSum[best * d + j] += weight * Double(row[j]) }
                    }
                }
            }
        }

        // g_k = (W_k m_k − F_k)/(Nτ), then back through the normalisation c_k = θ_k/‖θ_k‖.
        let scale = 1 / (Double(count) * tau)
        var gradient = [Double](repeating: 0, count: k * d)
        for c in 0..<k {
            var radial = 0.0
            var g = [Double](repeating: 0, count: d)
            for j in 0..<d {
                g[j] = (pullWeight[c] * repelled[c * d + j] - pullSum[c * d + j]) * scale
                radial += g[j] * unitCentroids[c * d + j]
            }
            for j in 0..<d { gradient[c * d + j] = (g[j] - radial * unitCentroids[c * d + j]) / norms[c] }
        }
        return (loss / Double(count), gradient)
    }
}

/// log(1 + eˣ) without overflow.
@inline(__always) func softplus(_ x: Double) -> Double { x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)) }

/// 1/(1 + e⁻ˣ) without overflow.
@inline(__always) func sigmoid(_ x: Double) -> Double {
    x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))
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

    /// One update of `parameters` against `gradient`.
    public mutating func step(parameters: inout [Double], gradient: [Double]) {
        stepCount += 1
        let correction1 = 1 - pow(beta1, Double(stepCount))
        let correction2 = (1 - pow(beta2, Double(stepCount))).squareRoot()
        for i in parameters.indices {
            firstMoment[i] = beta1 * firstMoment[i] + (1 - beta1) * gradient[i]
            secondMoment[i] = beta2 * secondMoment[i] + (1 - beta2) * gradient[i] * gradient[i]
            let denominator = secondMoment[i].squareRoot() / correction2 + epsilon
            parameters[i] -= learningRate / correction1 * firstMoment[i] / denominator
        }
    }
}
