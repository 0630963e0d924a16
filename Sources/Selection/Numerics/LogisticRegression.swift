import Foundation

/// L2-regularised logistic regression, binary (one weight vector, sigmoid) or multinomial (one per
/// class, softmax), fitted by ``LBFGS`` in double precision.
///
/// The objective is scikit-learn's `LogisticRegression` (lbfgs solver, intercept not penalised):
/// minimise ½‖W‖² + C · Σᵢ sᵢ ℓᵢ, with ℓᵢ the log-loss of sample i and sᵢ its weight; it is
/// evaluated divided by C·Σsᵢ (the same minimiser) so that the gradient tolerance does not depend on
/// the sample count. Cross-checked against scikit-learn on a recorded fixture
/// (`Tests/Fixtures/logistic/`), by finite differences and by the optimum's stationarity (KKT)
/// condition. Each evaluation is one pass over the samples, O(n·d·classes), in fixed row blocks summed
/// in block order, so the result does not depend on the thread count.
public struct LogisticRegression: Sendable {
    /// Number of classes (2: the binary, sigmoid model).
    public let classes: Int
    public let dimensions: Int
    /// Binary: d weights (for class 1). Multinomial: classes × d, row-major.
    public let weights: [Double]
    /// Binary: one intercept. Multinomial: one per class.
    public let intercepts: [Double]
    /// How the fit ended (iterations, final gradient norm).
    public let iterations: Int
    public let gradientNorm: Double
    public let converged: Bool

    var outputs: Int { classes == 2 ? 1 : classes }

    /// Fits the model to `features` and `labels` (each in 0..<classes), with C =
    /// `inverseRegularization` and optional per-sample weights. O(iterations · n·d·classes).
    public static func fit(features x: FeatureMatrix, labels: [Int], classes: Int, inverseRegularization c: Double = 1,
                           sampleWeights: [Double]? = nil, tolerance: Double = 1e-9, maxIterations: Int = 2000,
                           threads: Int = 1) -> LogisticRegression {
        precondition(classes >= 2 && labels.count == x.rows && labels.allSatisfy { (0..<classes).contains($0) })
        let d = x.columns, outputs = classes == 2 ? 1 : classes
        let weights = sampleWeights ?? [Double](repeating: 1, count: x.rows)
        let total = weights.reduce(0, +)
        let parameters = outputs * (d + 1)
        let outcome = LBFGS.minimize(start: [Double](repeating: 0, count: parameters), tolerance: tolerance,
                                     maxIterations: maxIterations) { theta in
            var (value, gradient) = lossAndGradient(theta, x: x, labels: labels, weights: weights, outputs: outputs,
                                                    threads: threads)
            // (C·Σ sᵢℓᵢ + ½‖W‖²) / (C·Σs): the penalty on the weights only, never on the intercepts
            // (the last `outputs` entries).
            value /= total
            for i in gradient.indices { gradient[i] /= total }
            for i in 0..<(outputs * d) {
                value += 0.5 * theta[i] * theta[i] / (c * total)
                gradient[i] += theta[i] / (c * total)
            }
            return (value, gradient)
        }
        return LogisticRegression(classes: classes, dimensions: d, weights: Array(outcome.x[0..<(outputs * d)]),
                                  intercepts: Array(outcome.x[(outputs * d)...]), iterations: outcome.iterations,
                                  gradientNorm: outcome.gradientNorm, converged: outcome.converged)
    }

    /// Σᵢ sᵢ ℓᵢ and its gradient with respect to θ = (W, b). O(n·d·outputs), in parallel row blocks.
    static func lossAndGradient(_ theta: [Double], x: FeatureMatrix, labels: [Int], weights: [Double], outputs: Int,
                                threads: Int) -> (Double, [Double]) {
        let d = x.columns, n = x.rows, width = outputs * (d + 1)
        let blockRows = 512
        let blocks = max(1, (n + blockRows - 1) / blockRows)
        var partial = [Double](repeating: 0, count: blocks * (width + 1))
        let values = x.values
        withSharedPointers(&partial) { out in
            ParallelChunks.run(chunks: blocks, threads: threads) { block in
                let base = out.base + block * (width + 1)
                var z = [Double](repeating: 0, count: outputs)
                var row = [Double](repeating: 0, count: d)
                for i in (block * blockRows)..<min(n, (block + 1) * blockRows) {
                    for j in 0..<d { row[j] = Double(values[i * d + j]) }
                    for k in 0..<outputs {
                        var dot = theta[outputs * d + k]
                        for j in 0..<d { dot += theta[k * d + j] * row[j] }
                        z[k] = dot
                    }
                    let s = weights[i]
                    // residual[k] = ∂ℓ/∂z_k.
                    var residual = [Double](repeating: 0, count: outputs)
                    if outputs == 1 {
                        let t = Double(labels[i])
                        // log(1 + e^z) − t·z, stably.
                        base[width] += s * (max(z[0], 0) + Foundation.log1p(Foundation.exp(-abs(z[0]))) - t * z[0])
                        residual[0] = 1 / (1 + Foundation.exp(-z[0])) - t
                    } else {
                        let top = z.max()!
                        var total = 0.0
                        for k in 0..<outputs { total += Foundation.exp(z[k] - top) }
                        let logSum = top + Foundation.log(total)
                        base[width] += s * (logSum - z[labels[i]])
                        for k in 0..<outputs { residual[k] = Foundation.exp(z[k] - logSum) - (k == labels[i] ? 1 : 0) }
                    }
                    for k in 0..<outputs {
                        let r = s * residual[k]
                        for j in 0..<d { base[k * d + j] += r * row[j] }
                        base[outputs * d + k] += r
                    }
                }
            }
        }
        var gradient = [Double](repeating: 0, count: width)
        var value = 0.0
        for block in 0..<blocks {
            for i in 0..<width { gradient[i] += partial[block * (width + 1) + i] }
            value += partial[block * (width + 1) + width]
        }
        return (value, gradient)
    }

    /// Class probabilities for `rows` of `x` (default every row): rows × classes, row-major.
    /// O(rows·d·classes).
    public func probabilities(_ x: FeatureMatrix, rows: [Int]? = nil) -> [Double] {
        let d = dimensions
        let count = rows?.count ?? x.rows
        var out = [Double](repeating: 0, count: count * classes)
        for i in 0..<count {
            let row = rows?[i] ?? i
            var z = [Double](repeating: 0, count: outputs)
            for k in 0..<outputs {
                var dot = intercepts[k]
                for j in 0..<d { dot += weights[k * d + j] * Double(x.values[row * d + j]) }
                z[k] = dot
            }
            if outputs == 1 {
                let p = 1 / (1 + Foundation.exp(-z[0]))
                out[i * 2] = 1 - p
                out[i * 2 + 1] = p
            } else {
                let top = z.max()!
                let exps = z.map { Foundation.exp($0 - top) }
                let total = exps.reduce(0, +)
                for k in 0..<classes { out[i * classes + k] = exps[k] / total }
            }
        }
        return out
    }

    /// Weights that give every class the same total weight: n / (classes · n_k), scikit-learn's
    /// `class_weight="balanced"`. A class with no sample gets none. O(n).
    public static func balancedWeights(labels: [Int], classes: Int) -> [Double] {
        var counts = [Int](repeating: 0, count: classes)
        for label in labels { counts[label] += 1 }
        return labels.map { Double(labels.count) / (Double(classes) * Double(counts[$0])) }
    }
}

extension LogisticRegression {
    /// The probe round methods fit on the labels already gathered: a logistic regression on `rows` of
    /// `unit` with their `classes` (mapped to 0..<C in sorted order), gradient tolerance 1e-6. Fewer
    /// than two classes cannot be told apart. O(fit).
    static func probe(_ unit: FeatureMatrix, rows: [Int], classes: [Int64], c: Double, threads: Int)
        throws(SelectionError) -> LogisticRegression {
        let names = Array(Set(classes)).sorted()
        guard names.count >= 2 else {
            throw .parameterOutOfRange(parameter: "labelled classes", value: "\(names.count) class",
                                       reason: "the probe needs labelled samples of at least 2 classes")
        }
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        return LogisticRegression.fit(features: unit.selecting(rows: rows), labels: classes.map { index[$0]! },
                                      classes: names.count, inverseRegularization: c, tolerance: 1e-6,
                                      maxIterations: 1000, threads: threads)
    }
}
