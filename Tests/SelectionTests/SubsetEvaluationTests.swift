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
                                               mmdRows: Array(0..<180), bandwidth: 1, probeC: 1, threads: 2)
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
        let (accuracy, f1) = SubsetEvaluation.linearProbe(train: pool.selecting(rows: [5, 6]), labels: [0, 0], test: test,
                                                          probeC: 1, threads: 1)
        #expect(accuracy == 0.5)
        // Class 0: TP 2, FP 2, FN 0 → F1 2/3; class 1: F1 0; macro = 1/3.
        #expect(f1.isApproximatelyEqual(to: 1.0 / 3, absoluteTolerance: 1e-12))
        // Trained on every class, the probe scores the training data itself almost perfectly here.
        let all = LabelledTestSet(features: pool, labels: labels)
        let fitted = SubsetEvaluation.linearProbe(train: pool, labels: labels, test: all, probeC: 1, threads: 2)
        #expect(fitted.accuracy > 0.5)
    }

    /// The random subsets are a function of the seed, and draw only from the candidates.
    @Test func randomSubsetsAreSeeded() {
        func draws(_ seed: UInt64) -> [[Int]] {
            var generator = SeededGenerator(seed: seed, stream: .evaluationBaseline)
            return SubsetEvaluation.randomSubsets(count: 10, candidates: Array(0..<90), draws: 3, generator: &generator)
        }
        #expect(draws(1) == draws(1))
        #expect(draws(1) != draws(2))
        #expect(draws(1).count == 3 && draws(1).allSatisfy { $0.count == 10 && Set($0).count == 10 && $0.allSatisfy { $0 < 90 } })
    }

    /// The curve's sizes: a quarter, a half and all of the picks, rounded up, at least one, no repeats.
    @Test func budgetCurveSizesAreQuarterHalfAndAll() {
        #expect(SubsetEvaluation.budgetCurveSizes(count: 100) == [25, 50, 100])
        #expect(SubsetEvaluation.budgetCurveSizes(count: 10) == [3, 5, 10])
        #expect(SubsetEvaluation.budgetCurveSizes(count: 2) == [1, 2])
        #expect(SubsetEvaluation.budgetCurveSizes(count: 1) == [1])
    }

    /// Each point of the curve is the probe trained on exactly the first picks (checked by refitting
    /// on the prefix directly), and its last point is the whole selection's accuracy.
    @Test func budgetCurveProbesThePrefixOfTheRankedPicks() {
        let ranked = [3, 40, 77, 101, 150, 9, 12, 33, 64, 88, 120, 171]
        let test = LabelledTestSet(features: pool.selecting(rows: Array(0..<60)), labels: Array(labels[0..<60]))
        let baselines = [[5, 6, 7, 8, 90, 91, 92, 93, 140, 141, 142, 143]]
        let whole = SubsetEvaluation.measure(pool: pool, labels: labels, selected: ranked, test: test,
                                             mmdRows: Array(0..<180), bandwidth: 1, probeC: 10, threads: 2)
        let wholeBaseline = SubsetEvaluation.measure(pool: pool, labels: labels, selected: baselines[0], test: test,
                                                     mmdRows: Array(0..<180), bandwidth: 1, probeC: 10, threads: 2)
        let curve = SubsetEvaluation.budgetCurve(pool: pool, labels: labels, ranked: ranked, baselines: baselines, test: test,
                                                 probeC: 10,
                                                 whole: BudgetPoint(trainSize: 12, accuracy: whole.accuracy!,
                                                                    baselineAccuracy: [wholeBaseline.accuracy!]),
                                                 threads: 2)
        #expect(curve.map(\.trainSize) == [3, 6, 12])
        for point in curve {
            let prefix = Array(ranked.prefix(point.trainSize))
            let direct = SubsetEvaluation.linearProbe(train: pool.selecting(rows: prefix), labels: prefix.map { labels[$0] },
                                                      test: test, probeC: 10, threads: 1).accuracy
            #expect(point.accuracy == direct)
            let base = Array(baselines[0].prefix(point.trainSize))
            #expect(point.baselineAccuracy == [SubsetEvaluation.linearProbe(
                train: pool.selecting(rows: base), labels: base.map { labels[$0] }, test: test, probeC: 10, threads: 1).accuracy])
        }
        #expect(curve.last?.accuracy == whole.accuracy)
    }

    /// The probe's C is used: on three samples of one class and one of another, a strong penalty
    /// (tiny C) predicts the majority class everywhere, a weak one (large C) fits all four.
    @Test func probeCChangesTheFit() {
        let rows = [0, 1, 2, 3]
        let train = pool.selecting(rows: rows)
        let test = LabelledTestSet(features: train, labels: [0, 0, 0, 1])
        let strong = SubsetEvaluation.linearProbe(train: train, labels: [0, 0, 0, 1], test: test, probeC: 1e-6, threads: 1)
        let weak = SubsetEvaluation.linearProbe(train: train, labels: [0, 0, 0, 1], test: test, probeC: 1e6, threads: 1)
        #expect(strong.accuracy == 0.75)
        #expect(weak.accuracy == 1)
    }
}

/// When a held-out split took an improbable share of the picks.
@Suite struct HeldOutWarningTests {
    func result(heldOut: Int, expected: Double?, deviation: Double?) -> EvaluationResult {
        EvaluationResult(selection: SubsetQuality(coveringRadius: 0, meanDistance: 0, mmd: 0), baseline: [],
                         heldOutSelected: heldOut, trainSize: 100 - heldOut, testSize: 10, bandwidth: 1,
                         heldOutExpected: expected, heldOutDeviation: deviation)
    }

    /// Within 4 standard deviations of chance: no warning; beyond, on either side: a warning naming the counts.
    @Test func warnsBeyondFourStandardDeviations() {
        #expect(result(heldOut: 20, expected: 20, deviation: 4).heldOutWarning == nil)
        #expect(result(heldOut: 35, expected: 20, deviation: 4).heldOutWarning == nil)
        #expect(result(heldOut: 37, expected: 20, deviation: 4).heldOutWarning?.contains("37 of the 100 picks") == true)
        #expect(result(heldOut: 3, expected: 20, deviation: 4).heldOutWarning != nil)
        #expect(result(heldOut: 100, expected: 20, deviation: 4).heldOutWarning != nil)
        #expect(result(heldOut: 50, expected: nil, deviation: nil).heldOutWarning == nil)
    }
}
