@testable import Selection
import Numerics
import Foundation
import Testing

/// The closed-form loss and gradient against a direct recomputation and finite differences.
@Suite struct ActiveFTObjectiveTests {
    struct Problem {
        let unit: FeatureMatrix
        let theta: [Double]
    }

    func problem(seed: UInt64, rows: Int = 80, columns: Int = 6, centroids: Int = 5) -> Problem {
        var generator = SeededGenerator(seed: seed)
        let unit = RandomProblem.features(rows: rows, columns: columns, generator: &generator).normalizedRows()
        let theta = (0..<(centroids * columns)).map { _ in RandomProblem.gaussian(&generator) * 0.7 }
        return Problem(unit: unit, theta: theta)
    }

    @Test(arguments: [(UInt64(1), 0.07, 1.0), (2, 0.2, 0.5), (3, 0.5, 2.0), (4, 1.0, 1.0)])
    func lossEqualsDirectFormula(seed: UInt64, temperature: Double, balance: Double) {
        let p = problem(seed: seed)
        let objective = ActiveFTObjective(features: p.unit, temperature: temperature, balance: balance)
        let fast = objective.lossAndGradient(centroids: p.theta).loss
        let direct = directActiveFTLoss(unit: p.unit, theta: p.theta, frozen: p.theta,
                                        temperature: temperature, balance: balance)
        #expect(abs(fast - direct) / direct < 1e-5, "fast \(fast) direct \(direct)")
    }

    @Test func batchLossEqualsDirectFormulaOnThoseRows() {
        let p = problem(seed: 9, rows: 120)
        let batch = [3, 17, 0, 99, 54, 21, 77, 118, 5]
        let objective = ActiveFTObjective(features: p.unit, temperature: 0.3, balance: 1)
        let fast = objective.lossAndGradient(centroids: p.theta, batch: batch).loss
        let direct = directActiveFTLoss(unit: p.unit.selecting(rows: batch), theta: p.theta, frozen: p.theta,
                                        temperature: 0.3, balance: 1)
        #expect(abs(fast - direct) / direct < 1e-5)
    }

    @Test(arguments: [(UInt64(11), 0.2, 1.0), (12, 0.5, 0.5), (13, 0.1, 3.0)])
    func gradientMatchesFiniteDifferences(seed: UInt64, temperature: Double, balance: Double) {
        let p = problem(seed: seed)
        let objective = ActiveFTObjective(features: p.unit, temperature: temperature, balance: balance)
        let gradient = objective.lossAndGradient(centroids: p.theta).gradient
        let step = 1e-6
        var worst = 0.0
        let largest = gradient.map(abs).max()!
        for index in p.theta.indices {
            var plus = p.theta, minus = p.theta
            plus[index] += step
            minus[index] -= step
            // The left operand stays frozen at θ, exactly as the reference detaches it.
            let numeric = (directActiveFTLoss(unit: p.unit, theta: plus, frozen: p.theta, temperature: temperature,
                                              balance: balance)
                - directActiveFTLoss(unit: p.unit, theta: minus, frozen: p.theta, temperature: temperature,
                                     balance: balance)) / (2 * step)
            worst = max(worst, abs(numeric - gradient[index]))
        }
        #expect(largest > 1e-4, "the test problem must have a non-trivial gradient")
        #expect(worst / largest < 1e-4, "worst gradient error \(worst) against largest entry \(largest)")
    }

    @Test func centroidTermInManyBlocksIsTheSameForEveryThreadCount() {
        // 1,100 centroids: the centroid term runs in 9 blocks of 137 rows (``centroidChunkRows``), so
        // 45 pairs of blocks in 4 parts.
        let p = problem(seed: 41, rows: 120, columns: 4, centroids: 1_100)
        #expect(ActiveFTObjective.centroidChunkRows(centroids: 1_100) == 137)
        let objective = ActiveFTObjective(features: p.unit, temperature: 0.07, balance: 1)
        let one = objective.lossAndGradient(centroids: p.theta, threads: 1)
        let direct = directActiveFTLoss(unit: p.unit, theta: p.theta, frozen: p.theta, temperature: 0.07, balance: 1)
        #expect(abs(one.loss - direct) / direct < 1e-5, "blocked \(one.loss) direct \(direct)")
        // The gradient of centroids in the first, a middle and the last block, by finite differences.
        let d = p.unit.columns
        let owning = (0..<1_100).filter { c in (0..<d).contains { one.gradient[c * d + $0] != 0 } }
        let largest = one.gradient.map(abs).max()!
        var worst = 0.0
        for c in [owning.first!, owning[owning.count / 2], owning.last!] {
            for index in (c * d)..<((c + 1) * d) {
                var plus = p.theta, minus = p.theta
                plus[index] += 1e-6
                minus[index] -= 1e-6
                let numeric = (directActiveFTLoss(unit: p.unit, theta: plus, frozen: p.theta, temperature: 0.07,
                                                  balance: 1)
                    - directActiveFTLoss(unit: p.unit, theta: minus, frozen: p.theta, temperature: 0.07,
                                         balance: 1)) / 2e-6
                worst = max(worst, abs(numeric - one.gradient[index]))
            }
        }
        #expect(owning.last! >= 1_100 - 137, "a centroid of the last block must own samples")
        #expect(worst / largest < 1e-4, "worst gradient error \(worst) against largest entry \(largest)")
        for threads in [2, 3] {
            let other = objective.lossAndGradient(centroids: p.theta, threads: threads)
            #expect(other.loss == one.loss)
            let differing = zip(other.gradient, one.gradient).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(differing) gradient entries differ with \(threads) threads")
        }
    }

    @Test func smallTemperatureCannotOverflow() {
        let p = problem(seed: 21)
        let objective = ActiveFTObjective(features: p.unit, temperature: 1e-3, balance: 1)
        let (loss, gradient) = objective.lossAndGradient(centroids: p.theta)
        #expect(loss.isFinite && loss > 0)
        #expect(gradient.allSatisfy { $0.isFinite })
    }

    @Test func softplusAndSigmoidShareOneExponentialAndCannotOverflow() {
        for x in stride(from: -30.0, through: 30.0, by: 0.37) + [0, -0.0, 1e-300, -1e-300] {
            let (softplus, sigmoid) = softplusAndSigmoid(x)
            #expect(softplus.isApproximatelyEqual(to: log1p(exp(x)), relativeTolerance: 1e-12), "softplus(\(x))")
            #expect(sigmoid.isApproximatelyEqual(to: 1 / (1 + exp(-x)), relativeTolerance: 1e-12), "sigmoid(\(x))")
        }
        #expect(softplusAndSigmoid(1000) == (1000, 1))
        #expect(softplusAndSigmoid(-1000) == (0, 0))
    }

    @Test func gradientIsOrthogonalToEachCentroid() {
        // J depends on θ_k only through θ_k/‖θ_k‖, so ∂J/∂θ_k ⟂ θ_k.
        let p = problem(seed: 31)
        let gradient = ActiveFTObjective(features: p.unit, temperature: 0.1, balance: 1)
            .lossAndGradient(centroids: p.theta).gradient
        let d = p.unit.columns
        for k in 0..<(p.theta.count / d) {
            let radial = (0..<d).reduce(0.0) { $0 + gradient[k * d + $1] * p.theta[k * d + $1] }
            #expect(abs(radial) < 1e-9)
        }
    }

    @Test(arguments: [1, 3, 5, 8, 67, 130])
    func unitRowsAndGradientAreTheScalarLoopsBitForBit(centroids k: Int) {
        // Four rows share the vector lanes and 64-row chunks run in parallel: every value must still
        // be what one scalar loop per row gives, for K not a multiple of 4 and any thread count.
        var generator = SeededGenerator(seed: UInt64(k))
        let d = 13
        func random(_ count: Int) -> [Double] { (0..<count).map { _ in Double.random(in: -1...1, using: &generator) } }
        let theta = random(k * d), repelled = random(k * d), pulled = random(k * d), weight = random(k)
        var unit = theta, norms = [Double](repeating: 0, count: k), gradient = [Double](repeating: 0, count: k * d)
        for c in 0..<k {
            var sum = 0.0
            for j in 0..<d { sum += theta[c * d + j] * theta[c * d + j] }
            norms[c] = sum.squareRoot()
            for j in 0..<d { unit[c * d + j] /= norms[c] }
        }
        let scale = 0.37
        for c in 0..<k {
            var g = [Double](repeating: 0, count: d), radial = 0.0
            for j in 0..<d {
                g[j] = (weight[c] * repelled[c * d + j] - pulled[c * d + j]) * scale
                radial += g[j] * unit[c * d + j]
            }
            for j in 0..<d { gradient[c * d + j] = (g[j] - radial * unit[c * d + j]) / norms[c] }
        }
        for threads in [1, 2, 3] {
            let fast = ActiveFTObjective.unitRows(theta, columns: d, threads: threads)
            #expect(fast.unit == unit && fast.norms == norms, "threads \(threads)")
            let fastGradient = ActiveFTObjective.normalisedGradient(
                weight: weight, repelled: repelled, pulled: pulled, scale: scale, unit: unit, norms: norms,
                columns: d, threads: threads)
            #expect(fastGradient == gradient, "threads \(threads)")
        }
    }

    @Test func firstAdamStepMovesEveryParameterByTheLearningRate() {
        // With zero moments, PyTorch's first Adam step is −lr·g/(|g| + ε·√(1−β2)) ≈ −lr·sign(g).
        var adam = AdamOptimizer(count: 3, learningRate: 0.01)
        var parameters = [1.0, -2.0, 0.5]
        adam.step(parameters: &parameters, gradient: [0.3, -4.0, 1e-3])
        #expect(abs(parameters[0] - 0.99) < 1e-9)
        #expect(abs(parameters[1] - -1.99) < 1e-9)
        #expect(abs(parameters[2] - 0.49) < 1e-6)
    }

    @Test func adamStepIsItsRecurrenceForEveryParameterAndThreadCount() {
        // 20,000 parameters: ranges of 8,192 (the last one partial), which 2 and 3 threads split
        // differently; every parameter must follow the scalar recurrence, bit for bit.
        var generator = SeededGenerator(seed: 5)
        let count = 20_000
        let gradients = (0..<3).map { _ in (0..<count).map { _ in Double.random(in: -1...1, using: &generator) } }
        var expected = [Double](repeating: 0.5, count: count)
        for i in 0..<count {
            var single = AdamOptimizer(count: 1, learningRate: 0.01)
            var parameter = [expected[i]]
            for g in gradients { single.step(parameters: &parameter, gradient: [g[i]]) }
            expected[i] = parameter[0]
        }
        for threads in [1, 2, 3] {
            var adam = AdamOptimizer(count: count, learningRate: 0.01)
            var parameters = [Double](repeating: 0.5, count: count)
            for g in gradients { adam.step(parameters: &parameters, gradient: g, threads: threads) }
            let differing = parameters.indices.filter { parameters[$0] != expected[$0] }
            #expect(differing.isEmpty, "threads \(threads): \(differing.count) parameters differ, the first at \(differing.first ?? -1)")
        }
    }

    @Test func adamMatchesItsRecurrenceOverSeveralSteps() {
        var adam = AdamOptimizer(count: 1, learningRate: 0.1)
        var parameter = [0.0]
        var m = 0.0, v = 0.0, expected = 0.0
        for (t, g) in [0.5, -0.2, 0.9, 0.1].enumerated() {
            adam.step(parameters: &parameter, gradient: [g])
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            let mHat = m / (1 - pow(0.9, Double(t + 1))), vHat = v / (1 - pow(0.999, Double(t + 1)))
            expected -= 0.1 * mHat / (vHat.squareRoot() + 1e-8)
            #expect(abs(parameter[0] - expected) < 1e-12)
        }
    }
}

import Foundation
