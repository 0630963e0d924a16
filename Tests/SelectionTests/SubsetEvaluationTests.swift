import Foundation
import Numerics
@testable import Selection
import Testing

/// The evaluation measures, against direct recomputations on small problems.
@Suite struct SubsetEvaluationTests {
    let pool = MethodRegistryTests.pool(rows: 180, columns: 8, seed: 31).normalizedRows()
    var labels: [Int64] { (0..<180).map { Int64($0 % 12 % 4) } }

    func distance(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
    }

    /// Covering radius and mean distance are the max and mean over the pool of the distance to the
    /// nearest selected sample; class counts and shares are counted directly.
    @Test func distancesAndClassesMatchADirectCount() {
        let selected = [3, 40, 77, 101, 150, 9]
        let quality = SubsetEvaluation.measure(pool: pool, labels: labels, selected: selected, test: nil,
                                               mmdRows: Array(0..<180), bandwidth: 1, threads: 2)
        let nearest = (0..<180).map { i in selected.map { distance(pool.row(i), pool.row($0)) }.min()! }
        #expect(quality.coveringRadius.isApproximatelyEqual(to: nearest.max()!, absoluteTolerance: 1e-5))
        #expect(quality.meanDistance.isApproximatelyEqual(to: nearest.reduce(0, +) / 180, absoluteTolerance: 1e-5))
        let selectedClasses = Set(selected.map { labels[$0] })
        #expect(quality.classesSelected == selectedClasses.count && quality.classesInPool == 4)
        let shares = (0..<4).map { c in Double(selected.filter { labels[$0] == Int64(c) }.count) / 6 }
        #expect(quality.smallestClassShare == shares.min())
        #expect(quality.smallestClassSharePool == 45.0 / 180)
        #expect(quality.accuracy == nil)
    }

    /// MMD against the V-statistic computed with plain loops; zero for identical sets.
    @Test func mmdMatchesTheDirectFormula() {
        let a = pool.selecting(rows: Array(0..<60)), b = pool.selecting(rows: Array(100..<130))
        let h = 0.8
        func k(_ x: [Float], _ y: [Float]) -> Double { exp(-pow(distance(x, y), 2) / (2 * h * h)) }
        func mean(_ x: FeatureMatrix, _ y: FeatureMatrix) -> Double {
            var total = 0.0
            for i in 0..<x.rows { for j in 0..<y.rows { total += k(x.row(i), y.row(j)) } }
            return total / Double(x.rows * y.rows)
        }
        let direct = max(0, mean(a, a) + mean(b, b) - 2 * mean(a, b)).squareRoot()
        #expect(SubsetEvaluation.mmd(a, b, bandwidth: h, threads: 2).isApproximatelyEqual(to: direct, absoluteTolerance: 1e-5))
        #expect(SubsetEvaluation.mmd(a, a, bandwidth: h, threads: 2) < 1e-3)
    }

    /// The probe's accuracy and macro-F1: a one-class training set predicts that class everywhere.
    @Test func probeScoresAgainstAHandCount() {
        let test = LabelledTestSet(features: pool.selecting(rows: [0, 1, 2, 3]), labels: [0, 0, 1, 1])
        let (accuracy, f1) = SubsetEvaluation.linearProbe(train: pool.selecting(rows: [5, 6]), labels: [0, 0], test: test, threads: 1)
        #expect(accuracy == 0.5)
        // Class 0: TP 2, FP 2, FN 0 → F1 2/3; class 1: F1 0; macro = 1/3.
        #expect(f1.isApproximatelyEqual(to: 1.0 / 3, absoluteTolerance: 1e-12))
        // Trained on every class, the probe scores the training data itself almost perfectly here.
        let all = LabelledTestSet(features: pool, labels: labels)
        let fitted = SubsetEvaluation.linearProbe(train: pool, labels: labels, test: all, threads: 2)
        #expect(fitted.accuracy > 0.5)
    }

    /// The random baseline is a function of the seed, and draws only from the candidates.
    @Test func randomBaselineIsSeeded() {
        func draws(_ seed: UInt64) -> [SubsetQuality] {
            var generator = SeededGenerator(seed: seed)
            return SubsetEvaluation.randomBaseline(pool: pool, labels: labels, count: 10, candidates: Array(0..<90), test: nil,
                                                   mmdRows: Array(0..<180), bandwidth: 1, draws: 3, generator: &generator,
                                                   threads: 2)
        }
        #expect(draws(1) == draws(1))
        #expect(draws(1) != draws(2))
        #expect(draws(1).count == 3)
    }
}
