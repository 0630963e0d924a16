import Foundation
import Numerics
@testable import Selection
import Testing

/// scikit-learn's fits, recorded by Tests/Fixtures/logistic/record_sklearn.py.
struct SklearnFits: Decodable {
    struct Case: Decodable {
        let name: String
        let labels: [Int]
        let classes: Int
        let C: Double
        let sample_weight: [Double]?
        let coef: [[Double]]
        let intercept: [Double]
    }
    let n: Int
    let d: Int
    let x: [[Double]]
    let cases: [Case]

    var features: FeatureMatrix { FeatureMatrix(rows: n, columns: d, values: x.flatMap { $0.map(Float.init) }) }
}

/// The logistic-regression head of ATL (and of the evaluation's linear probe), checked three ways.
@Suite struct LogisticRegressionTests {
    let fixture: SklearnFits
    init() throws { fixture = try Fixtures.json("logistic/sklearn_fits.json", as: SklearnFits.self) }

    func fit(_ fit: SklearnFits.Case, threads: Int = 2) -> LogisticRegression {
        LogisticRegression.fit(features: fixture.features, labels: fit.labels, classes: fit.classes,
                               inverseRegularization: fit.C, sampleWeights: fit.sample_weight, threads: threads)
    }

    /// The same coefficients and intercepts as scikit-learn's lbfgs fit, within 1e-4.
    @Test func agreesWithScikitLearn() {
        for recorded in fixture.cases {
            let model = fit(recorded)
            #expect(model.converged, "\(recorded.name)")
            let expected = recorded.coef.flatMap { $0 }
            #expect(model.weights.count == expected.count, "\(recorded.name)")
            for (ours, theirs) in zip(model.weights + model.intercepts, expected + recorded.intercept) {
                #expect(ours.isApproximatelyEqual(to: theirs, absoluteTolerance: 1e-4), "\(recorded.name): \(ours) vs \(theirs)")
            }
        }
    }

    /// The analytic gradient equals central finite differences of the loss at an arbitrary point.
    @Test func gradientMatchesFiniteDifferences() {
        for recorded in fixture.cases {
            let outputs = recorded.classes == 2 ? 1 : recorded.classes
            let width = outputs * (fixture.d + 1)
            let theta = (0..<width).map { sin(Double($0) * 1.7) * 0.3 }
            let weights = recorded.sample_weight ?? [Double](repeating: 1, count: fixture.n)
            func loss(_ t: [Double]) -> Double {
                LogisticRegression.lossAndGradient(t, x: fixture.features, labels: recorded.labels, weights: weights,
                                                   outputs: outputs, threads: 1).0
            }
            let (_, gradient) = LogisticRegression.lossAndGradient(theta, x: fixture.features, labels: recorded.labels,
                                                                   weights: weights, outputs: outputs, threads: 1)
            for i in 0..<width {
                var up = theta, down = theta
                up[i] += 1e-6
                down[i] -= 1e-6
                let numeric = (loss(up) - loss(down)) / 2e-6
                #expect(gradient[i].isApproximatelyEqual(to: numeric, absoluteTolerance: 1e-4, relativeTolerance: 1e-5),
                        "\(recorded.name)[\(i)]")
            }
        }
    }

    /// At the optimum the objective is stationary: W/C + Σ sᵢ ∂ℓᵢ/∂W = 0 and Σ sᵢ ∂ℓᵢ/∂b = 0 (KKT for an
    /// unconstrained convex problem), and the fit does not depend on the thread count.
    @Test func optimumIsStationaryAndThreadIndependent() {
        for recorded in fixture.cases {
            let model = fit(recorded, threads: 1)
            let outputs = recorded.classes == 2 ? 1 : recorded.classes
            let weights = recorded.sample_weight ?? [Double](repeating: 1, count: fixture.n)
            let (_, gradient) = LogisticRegression.lossAndGradient(model.weights + model.intercepts, x: fixture.features,
                                                                   labels: recorded.labels, weights: weights,
                                                                   outputs: outputs, threads: 1)
            let total = weights.reduce(0, +)
            for i in 0..<(outputs * fixture.d) {
                #expect(abs(model.weights[i] / recorded.C + gradient[i]) / total < 1e-7, "\(recorded.name) w[\(i)]")
            }
            for k in 0..<outputs { #expect(abs(gradient[outputs * fixture.d + k]) / total < 1e-7, "\(recorded.name) b[\(k)]") }
            let three = fit(recorded, threads: 3)
            #expect(three.weights == model.weights && three.intercepts == model.intercepts)
        }
    }

    /// Probabilities are distributions, and balanced weights give every class the same total.
    @Test func probabilitiesAndBalancedWeights() {
        let recorded = fixture.cases[2]
        let model = fit(recorded)
        let p = model.probabilities(fixture.features)
        for i in 0..<fixture.n {
            let row = p[(i * 3)..<((i + 1) * 3)]
            #expect(row.reduce(0, +).isApproximatelyEqual(to: 1, absoluteTolerance: 1e-12))
        }
        let weights = LogisticRegression.balancedWeights(labels: recorded.labels, classes: 3)
        let totals = (0..<3).map { k in zip(recorded.labels, weights).filter { $0.0 == k }.reduce(0.0) { $0 + $1.1 } }
        for total in totals { #expect(total.isApproximatelyEqual(to: Double(fixture.n) / 3, relativeTolerance: 1e-12)) }
    }
}
