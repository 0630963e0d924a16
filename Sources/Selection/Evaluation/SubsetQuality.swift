import Foundation

/// How good a selected subset is, by measures a user can check against their own labels.
///
/// Every measure is defined in docs/evaluation.md with its formula. Features are L2-normalised first (as the
/// selection methods see them); distances are Euclidean between unit vectors, ‖x − y‖ = √(2 − 2x·y).
public struct SubsetQuality: Sendable, Equatable, Codable {
    /// Linear-probe accuracy and macro-F1 on the test set (nil without a test set).
    public var accuracy: Double?
    public var macroF1: Double?
    /// Classes among the selected samples, and in the pool (nil without pool labels).
    public var classesSelected: Int?
    public var classesInPool: Int?
    /// The smallest class's share of the selection and of the pool (over the pool's classes; a class
    /// the selection misses has share 0).
    public var smallestClassShare: Double?
    public var smallestClassSharePool: Double?
    /// Max and mean distance from a pool sample to its nearest selected sample.
    public var coveringRadius: Double
    public var meanDistance: Double
    /// Maximum mean discrepancy between pool and selection, Gaussian kernel (see ``SubsetEvaluation``).
    public var mmd: Double

    public init(accuracy: Double? = nil, macroF1: Double? = nil, classesSelected: Int? = nil, classesInPool: Int? = nil,
                smallestClassShare: Double? = nil, smallestClassSharePool: Double? = nil, coveringRadius: Double,
                meanDistance: Double, mmd: Double) {
        self.accuracy = accuracy
        self.macroF1 = macroF1
        self.classesSelected = classesSelected
        self.classesInPool = classesInPool
        self.smallestClassShare = smallestClassShare
        self.smallestClassSharePool = smallestClassSharePool
        self.coveringRadius = coveringRadius
        self.meanDistance = meanDistance
        self.mmd = mmd
    }

    enum CodingKeys: String, CodingKey {
        case accuracy, macroF1 = "macro_f1", classesSelected = "classes_selected", classesInPool = "classes_in_pool"
        case smallestClassShare = "smallest_class_share", smallestClassSharePool = "smallest_class_share_pool"
        case coveringRadius = "covering_radius", meanDistance = "mean_distance", mmd
    }
}

/// A labelled test set for the linear probe.
public struct LabelledTestSet: Sendable {
    public let features: FeatureMatrix
    public let labels: [Int64]
    public init(features: FeatureMatrix, labels: [Int64]) {
        self.features = features
        self.labels = labels
    }
}

/// Measures a selection: the linear probe, class coverage, covering radius and MMD, and the same for
/// seeded random subsets of the same size (the baseline every figure is read against).
public enum SubsetEvaluation {
    /// Pool rows the MMD's pool term uses at most (a seeded subsample beyond that).
    public static let mmdPoolSample = 2000
    /// The default C of the probe's multinomial logistic regression (inverse L2 strength). Chosen by
    /// measurement on real embeddings (docs/evaluation.md): C = 1, scikit-learn's default, underfits a
    /// few hundred picks of many classes so much that it hides the differences between selections.
    public static let defaultProbeC = 10.0
    /// The share of a run's ranked picks each point of the label-budget curve trains on.
    public static let budgetCurveFractions = [0.25, 0.5, 1.0]

    /// Measures the subset `selected` (pool rows) of `pool`. `labels` are the pool's labels (the
    /// probe trains on the selected samples' labels); `test` is what the probe is scored on;
    /// `candidates` the rows a random subset may be drawn from (for the MMD subsample too).
    /// Cost: O(N·K·d) for the distances, O(m²·d) for the MMD (m ≤ 2,000), and the probe's fit.
    public static func measure(pool unitPool: FeatureMatrix, labels: [Int64]?, selected: [Int], test: LabelledTestSet?,
                               mmdRows: [Int], bandwidth: Double, probeC: Double, threads: Int) -> SubsetQuality {
        let subset = unitPool.selecting(rows: selected)
        let distances = nearestDistances(pool: unitPool, subset: subset, threads: threads)
        var quality = SubsetQuality(coveringRadius: distances.max() ?? 0,
                                    meanDistance: distances.reduce(0, +) / Double(max(distances.count, 1)),
                                    mmd: mmd(unitPool.selecting(rows: mmdRows), subset, bandwidth: bandwidth, threads: threads))
        if let labels {
            var poolCounts: [Int64: Int] = [:]
            for label in labels { poolCounts[label, default: 0] += 1 }
            var selectedCounts: [Int64: Int] = [:]
            for row in selected { selectedCounts[labels[row], default: 0] += 1 }
            quality.classesInPool = poolCounts.count
            quality.classesSelected = selectedCounts.count
            quality.smallestClassShare = poolCounts.keys.map { Double(selectedCounts[$0] ?? 0) / Double(selected.count) }.min()
            quality.smallestClassSharePool = poolCounts.values.map { Double($0) / Double(labels.count) }.min()
            if let test {
                let (accuracy, f1) = linearProbe(train: subset, labels: selected.map { labels[$0] }, test: test,
                                                 probeC: probeC, threads: threads)
                quality.accuracy = accuracy
                quality.macroF1 = f1
            }
        }
        return quality
    }

    /// The distance from each pool row to its nearest row of `subset` (unit rows): √max(0, 2 − 2·max_s x·s),
    /// the covering radius's terms. Exact, by ``NearestTargetSearch`` (at most O(N·K·d), much less when
    /// the subset is clustered); identical for every thread count. An empty subset gives NaN.
    public static func nearestDistances(pool unitPool: FeatureMatrix, subset: FeatureMatrix, threads: Int) -> [Double] {
        guard subset.rows > 0 else { return [Double](repeating: .nan, count: unitPool.rows) }
        let search = NearestTargetSearch.tuned(targets: subset, queries: unitPool, threads: threads).search
        return search.nearest(unitPool, threads: threads).similarity.map { (max(0, 2 - 2 * Double($0))).squareRoot() }
    }

    /// A multinomial L2 logistic regression (inverse strength `probeC`) trained on `train` and its labels, scored on
    /// `test`: accuracy and macro-F1 (the mean F1 over the classes in the test labels or the
    /// predictions, as scikit-learn's `f1_score(average="macro")`). With one class in `train`, every
    /// test sample is predicted that class. Features must already be unit rows.
    public static func linearProbe(train: FeatureMatrix, labels: [Int64], test: LabelledTestSet, probeC: Double,
                                   threads: Int) -> (accuracy: Double, macroF1: Double) {
        precondition(!test.labels.isEmpty, "a probe needs at least one test sample")
        let classes = Array(Set(labels)).sorted()
        let predicted: [Int64]
        if classes.count == 1 {
            predicted = [Int64](repeating: classes[0], count: test.labels.count)
        } else {
            let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
            let model = LogisticRegression.fit(features: train, labels: labels.map { index[$0]! }, classes: classes.count,
                                               inverseRegularization: probeC, tolerance: 1e-6,
                                               maxIterations: 500, threads: threads)
            let p = model.probabilities(test.features)
            predicted = (0..<test.features.rows).map { row in
                var best = 0
                for c in 1..<classes.count where p[row * classes.count + c] > p[row * classes.count + best] { best = c }
                return classes[best]
            }
        }
        let correct = zip(predicted, test.labels).filter { $0 == $1 }.count
        var f1s: [Double] = []
        for label in Set(test.labels).union(predicted).sorted() {
            var tp = 0, fp = 0, fn = 0
            for (p, t) in zip(predicted, test.labels) {
                if p == label, t == label { tp += 1 } else if p == label { fp += 1 } else if t == label { fn += 1 }
            }
            f1s.append(tp == 0 ? 0 : 2 * Double(tp) / Double(2 * tp + fp + fn))
        }
        return (Double(correct) / Double(max(test.labels.count, 1)), f1s.reduce(0, +) / Double(max(f1s.count, 1)))
    }

    /// MMD between the rows of `a` and of `b` with the Gaussian kernel exp(−‖x − y‖²/(2h²)), h =
    /// `bandwidth`: √max(0, mean k(a, a) + mean k(b, b) − 2 mean k(a, b)) (the biased V-statistic;
    /// Gretton et al., "A Kernel Two-Sample Test", JMLR 2012). Unit rows. O((|a| + |b|)²·d).
    public static func mmd(_ a: FeatureMatrix, _ b: FeatureMatrix, bandwidth h: Double, threads: Int) -> Double {
        func meanKernel(_ x: FeatureMatrix, _ y: FeatureMatrix) -> Double {
            let sums = BlockedSimilarity.rowwise(x, y, threads: threads) { _, s in
                s.reduce(0.0) { $0 + Foundation.exp(-max(0, 2 - 2 * Double($1)) / (2 * h * h)) }
            }
            return sums.reduce(0, +) / Double(x.rows * y.rows)
        }
        return max(0, meanKernel(a, a) + meanKernel(b, b) - 2 * meanKernel(a, b)).squareRoot()
    }

    /// The median distance between distinct rows of `x` (unit rows): the MMD's bandwidth (the median
    /// heuristic). O(m²·d).
    public static func medianDistance(_ x: FeatureMatrix, threads: Int) -> Double {
        let rows = BlockedSimilarity.rowwise(x, x, threads: threads) { i, s in
            (0..<s.count).filter { $0 > i }.map { (max(0, 2 - 2 * Double(s[$0]))).squareRoot() }
        }
        let all = rows.flatMap { $0 }.sorted()
        guard !all.isEmpty else { return 1 }
        let median = all.count % 2 == 1 ? all[all.count / 2] : (all[all.count / 2 - 1] + all[all.count / 2]) / 2
        return median > 0 ? median : 1
    }

    /// `draws` seeded random subsets of `count` rows from `candidates`, each in draw order (so any
    /// prefix is a random subset too). O(draws·count).
    public static func randomSubsets(count: Int, candidates: [Int], draws: Int,
                                     generator: inout SeededGenerator) -> [[Int]] {
        (0..<draws).map { _ in generator.distinctIndices(count: count, from: candidates.count).map { candidates[$0] } }
    }

    /// The training sizes of the label-budget curve for `count` ranked picks: ⌈f·count⌉ for each of
    /// ``budgetCurveFractions``, each at least 1, without repeats. O(1).
    public static func budgetCurveSizes(count: Int) -> [Int] {
        var sizes: [Int] = []
        for fraction in budgetCurveFractions {
            let size = max(1, Int((fraction * Double(count)).rounded(.up)))
            if size <= count, !sizes.contains(size) { sizes.append(size) }
        }
        return sizes
    }

    /// The probe's accuracy when it trains on the first `size` rows of `ranked` only, for each size of
    /// ``budgetCurveSizes(count:)``: how the selection's value grows with the labels spent on it,
    /// beside the same for each random subset's first rows. The last point, the whole of `ranked` and
    /// of each subset, is `whole` (already measured by ``measure(pool:labels:selected:test:mmdRows:bandwidth:probeC:threads:)``,
    /// so no probe is fitted twice). O((sizes − 1) · (1 + draws) probe fits).
    public static func budgetCurve(pool unitPool: FeatureMatrix, labels: [Int64], ranked: [Int], baselines: [[Int]],
                                   test: LabelledTestSet, probeC: Double, whole: BudgetPoint, threads: Int) -> [BudgetPoint] {
        precondition(whole.trainSize == ranked.count, "the whole point trains on every ranked pick")
        func accuracy(_ rows: ArraySlice<Int>) -> Double {
            let rows = Array(rows)
            return linearProbe(train: unitPool.selecting(rows: rows), labels: rows.map { labels[$0] }, test: test,
                               probeC: probeC, threads: threads).accuracy
        }
        return budgetCurveSizes(count: ranked.count).dropLast().map { size in
            BudgetPoint(trainSize: size, accuracy: accuracy(ranked.prefix(size)),
                        baselineAccuracy: baselines.map { accuracy($0.prefix(size)) })
        } + [whole]
    }
}

/// One point of a label-budget curve: the probe trained on a run's first `trainSize` ranked picks,
/// and on the first `trainSize` rows of each random subset.
public struct BudgetPoint: Sendable, Equatable, Codable {
    public var trainSize: Int
    public var accuracy: Double
    public var baselineAccuracy: [Double]

    public init(trainSize: Int, accuracy: Double, baselineAccuracy: [Double]) {
        self.trainSize = trainSize
        self.accuracy = accuracy
        self.baselineAccuracy = baselineAccuracy
    }

    enum CodingKeys: String, CodingKey {
        case trainSize = "train_size", accuracy, baselineAccuracy = "baseline_accuracy"
    }
}

/// An evaluation of a selection, as `evaluations.results_json` stores it: the selection's measures and
/// those of each random subset of the same size.
public struct EvaluationResult: Sendable, Equatable, Codable {
    public var selection: SubsetQuality
    public var baseline: [SubsetQuality]
    /// Selected samples that fell in the held-out part and were left out of training.
    public var heldOutSelected: Int
    /// What a held-out split leaves in the held-out part of a selection of this size by chance: the
    /// hypergeometric mean and standard deviation (nil without a hold-out).
    public var heldOutExpected: Double?
    public var heldOutDeviation: Double?
    /// Samples trained on (the selection minus the held-out ones) and test samples.
    public var trainSize: Int
    public var testSize: Int
    public var bandwidth: Double
    /// The probe's C (nil in evaluations recorded before it was an option: C = 1).
    public var probeC: Double?
    /// Accuracy against the labels spent: the probe on the first picks (nil without a test set).
    public var budgetCurve: [BudgetPoint]?

    enum CodingKeys: String, CodingKey {
        case selection, baseline, heldOutSelected = "held_out_selected", trainSize = "train_size"
        case testSize = "test_size", bandwidth, probeC = "probe_c", budgetCurve = "budget_curve"
        case heldOutExpected = "held_out_expected", heldOutDeviation = "held_out_std"
    }

    public init(selection: SubsetQuality, baseline: [SubsetQuality], heldOutSelected: Int, trainSize: Int, testSize: Int,
                bandwidth: Double, probeC: Double? = nil, budgetCurve: [BudgetPoint]? = nil,
                heldOutExpected: Double? = nil, heldOutDeviation: Double? = nil) {
        self.selection = selection
        self.baseline = baseline
        self.heldOutSelected = heldOutSelected
        self.trainSize = trainSize
        self.testSize = testSize
        self.bandwidth = bandwidth
        self.probeC = probeC
        self.budgetCurve = budgetCurve
        self.heldOutExpected = heldOutExpected
        self.heldOutDeviation = heldOutDeviation
    }

    /// Standard deviations beyond which the held-out share of the picks is called improbable.
    public static let improbableHeldOutDeviations = 4.0

    /// A warning when the held-out part took an improbable share of the picks (more than
    /// ``improbableHeldOutDeviations`` standard deviations from what a random split would take):
    /// the split is then not independent of the selection. Nil otherwise.
    public var heldOutWarning: String? {
        guard let expected = heldOutExpected, let deviation = heldOutDeviation else { return nil }
        let distance = abs(Double(heldOutSelected) - expected)
        guard distance > Self.improbableHeldOutDeviations * max(deviation, 1e-12) else { return nil }
        return "\(heldOutSelected) of the \(heldOutSelected + trainSize) picks fell in the held-out part where a random split "
            + String(format: "holds out %.1f ± %.1f: the split is not independent of the selection (%.1f standard deviations); ",
                     expected, deviation, distance / max(deviation, 1e-12))
            + "read these numbers with care"
    }
}
