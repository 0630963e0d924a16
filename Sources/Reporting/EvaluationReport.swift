import Foundation
import Selection
import Store

/// Text and JSON for `selectjob evaluate` and `selectjob compare`.
extension Reports {
    /// One measure of ``SubsetQuality``: its name, how to read it, and whether larger is better.
    struct Measure: Sendable {
        let name: String
        let key: String
        let larger: Bool
        let value: @Sendable (SubsetQuality) -> Double?

        /// `value` as the tables print it: counts as integers (a mean of counts to one decimal),
        /// everything else to four decimals.
        func text(_ value: Double) -> String {
            guard key == "classes_selected" else { return Reports.number(value) }
            return value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
        }
    }

    static let measures: [Measure] = [
        Measure(name: "accuracy", key: "accuracy", larger: true, value: { $0.accuracy }),
        Measure(name: "macro-F1", key: "macro_f1", larger: true, value: { $0.macroF1 }),
        Measure(name: "classes selected", key: "classes_selected", larger: true, value: { $0.classesSelected.map(Double.init) }),
        Measure(name: "smallest class share", key: "smallest_class_share", larger: true, value: { $0.smallestClassShare }),
        Measure(name: "covering radius", key: "covering_radius", larger: false, value: { $0.coveringRadius }),
        Measure(name: "mean distance", key: "mean_distance", larger: false, value: { $0.meanDistance }),
        Measure(name: "MMD", key: "mmd", larger: false, value: { $0.mmd }),
    ]

    /// Mean and sample standard deviation (n − 1; 0 for one value). O(n).
    static func meanAndDeviation(_ values: [Double]) -> (mean: Double, deviation: Double) {
        guard !values.isEmpty else { return (.nan, .nan) }
        let mean = values.reduce(0, +) / Double(values.count)
        guard values.count > 1 else { return (mean, 0) }
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        return (mean, variance.squareRoot())
    }

    static func number(_ value: Double) -> String { String(format: "%.4f", value) }

    /// A run's evaluation: the selection's measures beside the random baseline's mean ± std.
    public static func evaluation(run: RunRecord, result: EvaluationResult, test: String, reused: Bool) -> String {
        var lines = [
            "run \(run.id)  job \(run.job)  method \(run.method)  K=\(run.budget)",
            "test: \(test); trained on \(result.trainSize) selected samples"
                + (result.heldOutSelected > 0 ? " (\(result.heldOutSelected) selected samples fell in the held-out part and were left out)" : "")
                + (result.testSize > 0 ? ", \(result.testSize) test samples" : ""),
        ]
        var rows: [[String]] = []
        for measure in measures {
            guard let value = measure.value(result.selection) else { continue }
            let baseline = meanAndDeviation(result.baseline.compactMap(measure.value))
            var row = [measure.name, measure.text(value),
                       result.baseline.isEmpty ? "—" : "\(measure.text(baseline.mean)) ± \(measure.text(baseline.deviation))"]
            if measure.key == "classes_selected", let pool = result.selection.classesInPool { row[1] = "\(Int(value)) of \(pool)" }
            if measure.key == "smallest_class_share", let pool = result.selection.smallestClassSharePool {
                row[1] += " (pool \(number(pool)))"
            }
            rows.append(row)
        }
        lines.append(table(header: ["measure", "selection", "random (\(result.baseline.count) draws, mean ± std)"], rows: rows,
                           rightAligned: [1, 2]))
        if let curve = result.budgetCurve, !curve.isEmpty {
            lines.append("label-budget curve: the probe on the first picks (rank order)")
            lines.append(table(header: ["labels", "accuracy", "random (first rows of each draw, mean ± std)"],
                               rows: curve.map(budgetRow), rightAligned: [0, 1, 2]))
        }
        lines.append("probe: logistic regression, C = \(probeDescription(result))"
                     + "; MMD: Gaussian kernel, bandwidth \(number(result.bandwidth)) (median distance)"
                     + (reused ? "; read back from the database (the same run, test set and options)" : ""))
        if let warning = result.heldOutWarning { lines.append("warning: \(warning)") }
        return lines.joined(separator: "\n")
    }

    /// A stored evaluation's probe C as it reads (evaluations recorded before `--probe-c` used C = 1).
    static func probeDescription(_ result: EvaluationResult) -> String {
        String(format: "%g", result.probeC ?? 1) + (result.probeC == nil ? " (recorded before --probe-c)" : "")
    }

    /// A point of the label-budget curve as a table row: labels, accuracy, random mean ± std.
    static func budgetRow(_ point: BudgetPoint) -> [String] {
        let (mean, deviation) = meanAndDeviation(point.baselineAccuracy)
        return [String(point.trainSize), number(point.accuracy),
                point.baselineAccuracy.isEmpty ? "—" : "\(number(mean)) ± \(number(deviation))"]
    }

    /// A run's evaluation as one JSON object.
    public static func evaluationJSON(run: RunRecord, result: EvaluationResult, test: String, reused: Bool) -> [String: Any] {
        func object(_ quality: SubsetQuality) -> [String: Any] {
            var out: [String: Any] = [:]
            for measure in measures { if let value = measure.value(quality) { out[measure.key] = value } }
            if let pool = quality.classesInPool { out["classes_in_pool"] = pool }
            if let pool = quality.smallestClassSharePool { out["smallest_class_share_pool"] = pool }
            return out
        }
        var mean: [String: Any] = [:], deviation: [String: Any] = [:]
        for measure in measures {
            let values = result.baseline.compactMap(measure.value)
            guard !values.isEmpty else { continue }
            let (m, s) = meanAndDeviation(values)
            mean[measure.key] = m
            deviation[measure.key] = s
        }
        var out: [String: Any] = [
            "run": run.id, "job": run.job, "method": run.method, "budget": run.budget, "test": test, "reused": reused,
            "train_size": result.trainSize, "test_size": result.testSize, "held_out_selected": result.heldOutSelected,
            "bandwidth": result.bandwidth, "probe_c": result.probeC ?? 1, "selection": object(result.selection),
            "baseline": ["draws": result.baseline.map(object), "mean": mean, "std": deviation] as [String: Any],
            "budget_curve": (result.budgetCurve ?? []).map { point -> [String: Any] in
                let (mean, deviation) = meanAndDeviation(point.baselineAccuracy)
                return ["train_size": point.trainSize, "accuracy": point.accuracy,
                        "baseline_accuracy": point.baselineAccuracy, "baseline_mean": mean, "baseline_std": deviation]
            },
        ]
        if let expected = result.heldOutExpected, let deviation = result.heldOutDeviation {
            out["held_out_expected"] = expected
            out["held_out_std"] = deviation
        }
        if let warning = result.heldOutWarning { out["warning"] = warning }
        return out
    }

    /// Runs side by side: one row per run, one column per measure, the best of each column marked `*`
    /// (largest accuracy, macro-F1, classes and smallest share; smallest radius, mean distance, MMD).
    public static func comparison(_ evaluations: [(run: RunRecord, result: EvaluationResult)]) -> String {
        let shown = measures.filter { measure in evaluations.contains { measure.value($0.result.selection) != nil } }
        var best: [String: Double] = [:]
        for measure in shown {
            let values = evaluations.compactMap { measure.value($0.result.selection) }
            best[measure.key] = measure.larger ? values.max() : values.min()
        }
        let rows = evaluations.map { entry -> [String] in
            [String(entry.run.id), entry.run.job, entry.run.method, String(entry.run.budget),
             String(entry.result.trainSize)] + shown.map { measure in
                guard let value = measure.value(entry.result.selection) else { return "—" }
                return measure.text(value) + (evaluations.count > 1 && value == best[measure.key] ? "*" : " ")
            }
        }
        let baselineRows = evaluations.map { entry -> [String] in
            ["", "random, same size", "(\(entry.result.baseline.count) draws)", "",
             String(entry.result.trainSize)] + shown.map { measure in
                let values = entry.result.baseline.compactMap(measure.value)
                return values.isEmpty ? "—" : measure.text(meanAndDeviation(values).mean) + " "
            }
        }
        let header = ["run", "job", "method", "K", "trained"] + shown.map(\.name)
        var interleaved: [[String]] = []
        for (row, baseline) in zip(rows, baselineRows) { interleaved += [row, baseline] }
        var text = table(header: header, rows: interleaved, rightAligned: Set([0, 3, 4] + (5..<(5 + shown.count))))
            + "\n* best of the runs compared (largest accuracy, macro-F1, classes, smallest share; smallest radius, mean distance, MMD)"
            + "\ntrained: the picks the probe trained on (picks that fell in a held-out part are left out)"
        let curves = evaluations.filter { !($0.result.budgetCurve ?? []).isEmpty }
        if !curves.isEmpty {
            text += "\n\nlabel-budget curve: accuracy of the probe on each run's first picks (random: the first rows of each draw)\n"
            text += table(header: ["run", "job", "labels", "accuracy", "random (mean ± std)"], rows: curves.flatMap { entry in
                entry.result.budgetCurve!.map { [String(entry.run.id), entry.run.job] + budgetRow($0) }
            }, rightAligned: [0, 2, 3, 4])
        }
        if let probe = evaluations.first?.result { text += "\nprobe: logistic regression, C = \(probeDescription(probe))" }
        return text
    }
}
