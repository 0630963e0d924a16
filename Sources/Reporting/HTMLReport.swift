import Foundation
import Selection
import Store

/// The pool a report draws: its file and shape, every row's coordinates in the plane of its two
/// leading principal components, and its labels if it has them.
public struct ReportPool: Sendable {
    public var featuresPath: String
    public var rows: Int
    public var columns: Int
    public var x: [Float]
    public var y: [Float]
    public var labels: [Int64]?
    /// The share of the total variance each of the two axes explains.
    public var explainedShare: [Double]

    public init(featuresPath: String, rows: Int, columns: Int, x: [Float], y: [Float], labels: [Int64]?,
                explainedShare: [Double]) {
        self.featuresPath = featuresPath
        self.rows = rows
        self.columns = columns
        self.x = x
        self.y = y
        self.labels = labels
        self.explainedShare = explainedShare
    }
}

/// One run of a report: its record, curves, selection (pool rows in rank order), the distance from
/// each pool row to the selection, what it built on, and its latest evaluation.
public struct ReportRun: Sendable {
    public var run: RunRecord
    public var metrics: [RunMetric]
    public var selectedRows: [Int]
    public var nearestDistances: [Double]
    /// Rows labelled before the run; nil when they could not be reconstructed.
    public var labelledRows: [Int]?
    public var earlierRuns: [RunRecord]
    public var evaluation: EvaluationResult?
    public var evaluationTest: String?

    public init(run: RunRecord, metrics: [RunMetric], selectedRows: [Int], nearestDistances: [Double],
                labelledRows: [Int]?, earlierRuns: [RunRecord], evaluation: EvaluationResult?, evaluationTest: String?) {
        self.run = run
        self.metrics = metrics
        self.selectedRows = selectedRows
        self.nearestDistances = nearestDistances
        self.labelledRows = labelledRows
        self.earlierRuns = earlierRuns
        self.evaluation = evaluation
        self.evaluationTest = evaluationTest
    }
}

extension Reports {
    /// Bins of the pool map's 2-D histogram (4 × 4 CSS pixels each) and of the distance histogram.
    static let mapBins = (140, 104)
    static let distanceBins = 40

    /// The page's head and opening: title, generator and the one stylesheet every report page uses.
    static func pageHead(title: String, toolVersion: String) -> String {
        let e = SVGChart.escape
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="selectjob \(e(toolVersion))">
            <title>\(e(title))</title>
            <style>
            body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0;background:#f6f6f4}
            main{max-width:1340px;margin:0 auto;padding:16px 24px 40px}
            h1{font-size:22px;margin:8px 0 2px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
            h3{font-size:14px;margin:14px 0 6px}.sub{color:#555;margin:0 0 8px}
            .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(640px,1fr));gap:16px}
            figure{margin:0;width:fit-content;background:#fff;border:1px solid #ddd;padding:8px}figcaption{font-size:12px;color:#555;margin-top:4px}
            table{border-collapse:collapse;background:#fff;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
            td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}.best{font-weight:700}
            .note{background:#fff8e1;border:1px solid #f0d890;padding:6px 10px;margin:8px 0}.mono{font-family:ui-monospace,monospace;font-size:12px;overflow-wrap:anywhere}.param{font-family:ui-monospace,monospace;font-size:12px;overflow-wrap:break-word}table.counts td{text-align:right}
            .key{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
            footer{color:#777;font-size:12px;margin-top:32px}
            </style></head><body><main>

            """
    }

    /// A self-contained HTML page about one run, or several runs over the same pool side by side: the
    /// job and its inputs, curves, the pool map (PCA plane; density with the selection on top, coloured
    /// by label), class shares, distances to the selection with the covering radius, evaluation numbers
    /// and rounds. Inline CSS and SVG only: no script, no network.
    ///
    /// O(N) over the pool for the map and histograms plus O(K) per run; the page's size grows with the
    /// map's non-empty cells (at most 140 × 104), the selections and the classes — not with N.
    public static func html(pool: ReportPool, runs: [ReportRun], generatedAt: Date, toolVersion: String) -> String {
        let e = SVGChart.escape
        let compare = runs.count > 1
        let title = compare ? "selectjob report — runs " + runs.map { String($0.run.id) }.joined(separator: ", ")
            : "selectjob report — run \(runs[0].run.id) (\(runs[0].run.job))"
        var page = pageHead(title: title, toolVersion: toolVersion)
        page += "<h1>\(e(title))</h1>"
        page += "<p class=\"sub\">pool \(e(pool.featuresPath)): N = \(pool.rows), d = \(pool.columns)"
            + (pool.labels == nil ? "; no labels" : "; \(Set(pool.labels!).count) classes") + "</p>"
        if pool.labels == nil {
            page += "<p class=\"note\" id=\"no-labels\">The pool has no labels dataset (the job's <code>features.labels</code>): "
                + "the map is drawn without label colours, and the class histogram and evaluation, which need labels, are left out.</p>"
        }
        page += runSection(runs)
        page += curveSection(runs)
        page += mapSection(pool: pool, runs: runs)
        if let labels = pool.labels { page += classSection(labels: labels, runs: runs) }
        page += distanceSection(runs)
        page += evaluationSection(runs, poolHasLabels: pool.labels != nil)
        page += roundsSection(runs)
        page += "<footer>Generated by selectjob \(e(toolVersion)) at \(timestamp(generatedAt)) UTC. "
            + "One self-contained file: no scripts, no network.</footer></main></body></html>\n"
        return page
    }

    /// The colour of run `index` in figures that overlay runs.
    static func runColor(_ index: Int) -> String { SVGChart.palette[index % SVGChart.palette.count] }

    static func runName(_ run: RunRecord) -> String { "run \(run.id) · \(run.method)" }

    /// Job, inputs, timing and parameters, one column per run.
    static func runSection(_ runs: [ReportRun]) -> String {
        let e = SVGChart.escape
        var out = "<section id=\"job\"><h2>Job</h2><table><tr><th></th>"
        out += runs.map { "<th>\(e(runName($0.run)))</th>" }.joined() + "</tr>"
        func row(_ name: String, _ value: (RunRecord) -> String, mono: Bool = false) {
            out += "<tr><th>\(e(name))</th>" + runs.map { "<td\(mono ? " class=\"mono\"" : "")>\(e(value($0.run)))</td>" }.joined() + "</tr>"
        }
        row("job", \.job)
        row("job file", { "\($0.jobPath) (sha256 \($0.jobSHA256.prefix(12))…)" }, mono: true)
        row("status", { $0.status.rawValue })
        row("method", \.method)
        row("budget K", { "\($0.budget) of N = \($0.n) (\(String(format: "%.2f", 100 * Double($0.budget) / Double(max($0.n, 1)))) %)" })
        row("seed", { String($0.seed) })
        row("round", { "\($0.round)" + ($0.labelledCount > 0 ? " (\($0.labelledCount) labelled before)" : "") })
        if runs.contains(where: { $0.run.labelledCount > 0 }) {
            row("labelled after", { "\($0.labelledCount + $0.budget) (\($0.labelledCount) + \($0.budget) selected)" })
        }
        if runs.contains(where: { $0.run.notesJSON != nil }) {
            row("notes", { notesLine($0.notesJSON, budget: $0.budget) ?? "-" })
        }
        if runs.contains(where: { curationLine(paramsJSON: $0.run.paramsJSON, poolSize: $0.run.n) != nil }) {
            row("curation", { curationLine(paramsJSON: $0.paramsJSON, poolSize: $0.n) ?? "-" })
        }
        row("features", \.featuresPath, mono: true)
        row("fingerprint", \.featuresFingerprint, mono: true)
        row("started", { timestamp($0.startedAt) + " UTC" })
        row("duration", { $0.durationS.map { String(format: "%.2f s", $0) } ?? "-" })
        row("selectjob", \.toolVersion)
        out += "</table><h3>Parameters</h3><table><tr><th>parameter</th>"
            + runs.map { "<th>\(e(runName($0.run)))</th>" }.joined() + "</tr>"
        let parameters = runs.map { entry -> [String: String] in
            guard let object = (try? JSONSerialization.jsonObject(with: Data(entry.run.paramsJSON.utf8))) as? [String: Any] else {
                return [:]
            }
            return object.mapValues { parameterText($0) }
        }
        for key in Set(parameters.flatMap(\.keys)).sorted() {
            out += "<tr><td class=\"mono\">\(e(key))</td>" + parameters.map { "<td class=\"param\">\(e($0[key] ?? "—"))</td>" }.joined() + "</tr>"
        }
        return out + "</table></section>\n"
    }

    /// A recorded parameter as the report shows it: JSON with a space after each comma (so a cell
    /// wraps between values, not inside one), lists of more than 8 values shortened with their count.
    static func parameterText(_ value: Any) -> String {
        switch value {
        case let list as [Any]:
            let shown = list.prefix(8).map(parameterText).joined(separator: ", ")
            return list.count > 8 ? "[\(shown), … (\(list.count) values)]" : "[\(shown)]"
        case let object as [String: Any]:
            return "{" + object.keys.sorted().map { "\"\($0)\": \(parameterText(object[$0]!))" }.joined(separator: ", ") + "}"
        case let text as String:
            return "\"" + text + "\""
        case let number as NSNumber:
            // A JSON boolean arrives as an NSNumber of Objective-C type "c" (char).
            return String(cString: number.objCType) == "c" ? (number.boolValue ? "true" : "false") : "\(number)"
        default:
            return "\(value)"
        }
    }

    /// The method's curve per run (ActiveFT's loss per iteration, VTL's acquisition value per pick …).
    static func curveSection(_ runs: [ReportRun]) -> String {
        var figures: [String] = []
        let names = Set(runs.flatMap { $0.metrics.map(\.name) }).sorted()
        for name in names {
            let series = runs.enumerated().compactMap { index, entry -> SVGChart.Series? in
                let points = entry.metrics.filter { $0.name == name }.sorted { $0.step < $1.step }
                return points.isEmpty ? nil : SVGChart.Series(name: runName(entry.run), values: points.map(\.value), color: runColor(index))
            }
            let caption = series.map { entry in
                "\(entry.name): \(entry.values.count) steps, first \(String(format: "%.6g", entry.values.first ?? .nan)), "
                    + "last \(String(format: "%.6g", entry.values.last ?? .nan))"
            }.joined(separator: "; ")
            figures.append("<figure>" + SVGChart.lineChart(id: "curve-\(name)", title: "\(name) per step", series: series,
                                                           xTitle: "step", yTitle: name)
                           + "<figcaption>\(SVGChart.escape(name)) per step. \(SVGChart.escape(caption))</figcaption></figure>")
        }
        guard !figures.isEmpty else {
            return "<section id=\"curve\"><h2>Curve</h2><p class=\"sub\">The method recorded no curve.</p></section>\n"
        }
        return "<section id=\"curve\"><h2>Curve</h2><div class=\"grid\">" + figures.joined() + "</div></section>\n"
    }

    /// The pool's density in the PCA plane with each run's selection on top (one map per run, same axes).
    static func mapSection(pool: ReportPool, runs: [ReportRun]) -> String {
        let bounds = mapBounds(x: pool.x, y: pool.y)
        let classes = pool.labels.map { Array(Set($0)).sorted() } ?? []
        let colorOf = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, SVGChart.palette[$0 % SVGChart.palette.count]) })
        let xTitle = String(format: "PC 1 (%.1f %% of the variance)", 100 * (pool.explainedShare.first ?? 0))
        let yTitle = String(format: "PC 2 (%.1f %%)", 100 * (pool.explainedShare.dropFirst().first ?? 0))
        var figures: [String] = []
        for (index, entry) in runs.enumerated() {
            var sets: [SVGChart.PointSet] = []
            if let labelled = entry.labelledRows, !labelled.isEmpty {
                sets.append(SVGChart.PointSet(name: "labelled before (\(labelled.count))", x: labelled.map { pool.x[$0] },
                                              y: labelled.map { pool.y[$0] }, color: "#111", size: 4))
            }
            if let labels = pool.labels {
                let byClass = Dictionary(grouping: entry.selectedRows, by: { labels[$0] })
                for label in byClass.keys.sorted() {
                    let rows = byClass[label]!
                    sets.append(SVGChart.PointSet(name: "selected, label \(label) (\(rows.count))", x: rows.map { pool.x[$0] },
                                                  y: rows.map { pool.y[$0] }, color: colorOf[label] ?? "#e15759", size: 6))
                }
            } else {
                sets.append(SVGChart.PointSet(name: "selected (\(entry.selectedRows.count))", x: entry.selectedRows.map { pool.x[$0] },
                                              y: entry.selectedRows.map { pool.y[$0] }, color: runColor(index + 1), size: 6))
            }
            let svg = SVGChart.densityMap(id: "map", title: "\(runName(entry.run)): pool density and selection in the PCA plane",
                                          x: pool.x, y: pool.y, bounds: bounds, bins: mapBins, points: sets,
                                          xTitle: xTitle, yTitle: yTitle)
            var caption = "\(SVGChart.escape(runName(entry.run))): \(entry.selectedRows.count) selected samples"
            caption += pool.labels == nil ? " (the pool has no labels)" : ", coloured by label"
            if let labelled = entry.labelledRows, !labelled.isEmpty { caption += "; black: \(labelled.count) samples labelled before" }
            if entry.labelledRows == nil, entry.run.labelledCount > 0 {
                caption += "; the \(entry.run.labelledCount) samples labelled before can no longer be reconstructed (a run they came from was pruned or a labelled file changed)"
            }
            figures.append("<figure>\(svg)<figcaption>\(caption).</figcaption></figure>")
        }
        var out = "<section id=\"map\"><h2>Pool map</h2><p class=\"sub\">The L2-normalised pool projected on its two leading "
            + "principal components; grey: density of the \(pool.rows) pool samples (a \(mapBins.0) × \(mapBins.1) 2-D histogram, log shading)"
            + (runs.count > 1 ? "; the same projection in every map." : ".") + "</p>"
        if !classes.isEmpty, classes.count <= 40 {
            out += "<p class=\"sub\">" + classes.map { "<span class=\"key\" style=\"background:\(colorOf[$0]!)\"></span>\($0)" }
                .joined(separator: " &nbsp; ") + (classes.count > SVGChart.palette.count ? " (colours repeat after 20 classes)" : "") + "</p>"
        } else if classes.count > 40 {
            out += "<p class=\"sub\">\(classes.count) classes: colours repeat after 20.</p>"
        }
        return out + "<div class=\"grid\">" + figures.joined() + "</div></section>\n"
    }

    /// The drawn range of the map: each axis's min and max, padded by 3 %.
    static func mapBounds(x: [Float], y: [Float]) -> (x: (Double, Double), y: (Double, Double)) {
        func range(_ v: [Float]) -> (Double, Double) {
            var lo = Double(v.min() ?? 0), hi = Double(v.max() ?? 1)
            if hi - lo < 1e-9 { lo -= 0.5; hi += 0.5 }
            let pad = (hi - lo) * 0.03
            return (lo - pad, hi + pad)
        }
        return (range(x), range(y))
    }

    /// Each class's share of the pool and of each selection.
    static func classSection(labels: [Int64], runs: [ReportRun]) -> String {
        var poolCounts: [Int64: Int] = [:]
        for label in labels { poolCounts[label, default: 0] += 1 }
        let classes = poolCounts.keys.sorted()
        var series = [SVGChart.Series(name: "pool", values: classes.map { Double(poolCounts[$0]!) / Double(labels.count) },
                                      color: "#9aa0a6")]
        var missing: [String] = []
        for (index, entry) in runs.enumerated() {
            var counts: [Int64: Int] = [:]
            for row in entry.selectedRows { counts[labels[row], default: 0] += 1 }
            let total = Double(max(entry.selectedRows.count, 1))
            series.append(SVGChart.Series(name: runName(entry.run), values: classes.map { Double(counts[$0] ?? 0) / total },
                                          color: runColor(index)))
            let absent = classes.filter { counts[$0] == nil }
            missing.append("\(runName(entry.run)): \(classes.count - absent.count) of \(classes.count) classes"
                           + (absent.isEmpty ? "" : "; missing " + absent.prefix(20).map(String.init).joined(separator: ", ")
                              + (absent.count > 20 ? " …" : "")))
        }
        let svg = SVGChart.groupedBars(id: "classes", title: "class shares, pool and selection", categories: classes.map(String.init),
                                       series: series, yTitle: "share")
        // Counts beside the shares: a class of 3 samples is invisible as a bar, not as a number.
        var table = "<details><summary>Samples per class</summary><table class=\"counts\"><tr><th>class</th><th>pool</th>"
            + runs.map { "<th>\(SVGChart.escape(runName($0.run)))</th>" }.joined() + "</tr>"
        let selectedCounts = runs.map { entry -> [Int64: Int] in
            var counts: [Int64: Int] = [:]
            for row in entry.selectedRows { counts[labels[row], default: 0] += 1 }
            return counts
        }
        for label in classes {
            let pool = poolCounts[label]!
            table += "<tr><td>\(label)</td><td>\(pool) (\(String(format: "%.1f", 100 * Double(pool) / Double(labels.count))) %)</td>"
                + selectedCounts.map { "<td>\($0[label] ?? 0)</td>" }.joined() + "</tr>"
        }
        table += "</table></details>"
        return "<section id=\"classes\"><h2>Classes</h2><figure>\(svg)<figcaption>Share of each class in the pool and in the selection. "
            + SVGChart.escape(missing.joined(separator: ". ")) + ".</figcaption></figure>\(table)</section>\n"
    }

    /// How far each pool sample is from its nearest selected sample, with the covering radius (max) and mean.
    static func distanceSection(_ runs: [ReportRun]) -> String {
        let all = runs.flatMap(\.nearestDistances).filter(\.isFinite)
        guard !all.isEmpty else { return "" }
        let hi = max(all.max()!, 1e-9) * 1.02
        var series: [SVGChart.Series] = []
        var markers: [SVGChart.Marker] = []
        var notes: [String] = []
        for (index, entry) in runs.enumerated() {
            var counts = [Double](repeating: 0, count: distanceBins)
            for distance in entry.nearestDistances where distance.isFinite {
                counts[min(distanceBins - 1, Int(distance / hi * Double(distanceBins)))] += 1
            }
            let finite = entry.nearestDistances.filter(\.isFinite)
            let radius = finite.max() ?? .nan, mean = finite.reduce(0, +) / Double(max(finite.count, 1))
            series.append(SVGChart.Series(name: runName(entry.run), values: counts, color: runColor(index)))
            markers.append(SVGChart.Marker(x: radius, label: (runs.count > 1 ? "run \(entry.run.id) " : "") + String(format: "radius %.3f", radius),
                                           color: runColor(index)))
            notes.append(String(format: "%@: covering radius %.4f, mean %.4f", runName(entry.run), radius, mean))
        }
        let svg = SVGChart.histogram(id: "distances", title: "distance from each pool sample to its nearest selected sample",
                                     range: (0, hi), series: series, markers: markers,
                                     xTitle: "distance to the nearest selected sample (unit vectors)")
        return "<section id=\"distances\"><h2>Distance to the selection</h2><figure>\(svg)<figcaption>"
            + "Euclidean distance between L2-normalised features, √(2 − 2·cos). The dashed line is the covering radius (the largest). "
            + SVGChart.escape(notes.joined(separator: "; ")) + ".</figcaption></figure></section>\n"
    }

    /// The stored evaluations: each measure of the selection beside random subsets of the same size.
    static func evaluationSection(_ runs: [ReportRun], poolHasLabels: Bool) -> String {
        let e = SVGChart.escape
        var out = "<section id=\"evaluation\"><h2>Evaluation</h2>"
        let evaluated = runs.filter { $0.evaluation != nil }
        for entry in runs where entry.evaluation == nil {
            out += "<p class=\"note\">\(e(runName(entry.run))) has not been evaluated"
                + (poolHasLabels ? ": <code>selectjob evaluate \(entry.run.id) --holdout 0.2</code> (or <code>--test PATH:DATASET --test-labels DATASET</code>) records it, and the report shows it."
                   : " (evaluation needs the pool's labels).") + "</p>"
        }
        guard !evaluated.isEmpty else { return out + "</section>\n" }
        let shown = measures.filter { measure in evaluated.contains { measure.value($0.evaluation!.selection) != nil } }
        var best: [String: Double] = [:]
        for measure in shown {
            let values = evaluated.compactMap { measure.value($0.evaluation!.selection) }
            best[measure.key] = measure.larger ? values.max() : values.min()
        }
        out += "<table><tr><th>run</th><th>test set</th>" + shown.map { "<th class=\"num\">\(e($0.name)) \($0.larger ? "↑" : "↓")</th>" }.joined() + "</tr>"
        for entry in evaluated {
            let result = entry.evaluation!
            let trained = result.heldOutSelected > 0
                ? "; \(result.heldOutSelected) selected samples fell in the held-out part: every measure uses the other \(result.trainSize)" : ""
            out += "<tr><td>\(e(runName(entry.run)))</td><td>\(e((entry.evaluationTest ?? "") + trained))</td>"
            for measure in shown {
                guard let value = measure.value(result.selection) else { out += "<td class=\"num\">—</td>"; continue }
                let mark = evaluated.count > 1 && value == best[measure.key]
                let text = measure.key == "classes_selected" ? "\(Int(value)) of \(result.selection.classesInPool ?? 0)" : number(value)
                out += "<td class=\"num\(mark ? " best" : "")\">\(text)</td>"
            }
            out += "</tr><tr><td>random, same K</td><td>\(result.baseline.count) draws, mean ± std</td>"
            for measure in shown {
                let values = result.baseline.compactMap(measure.value)
                guard !values.isEmpty else { out += "<td class=\"num\">—</td>"; continue }
                let (mean, deviation) = meanAndDeviation(values)
                out += "<td class=\"num\">\(number(mean)) ± \(number(deviation))</td>"
            }
            out += "</tr>"
        }
        out += "</table><p class=\"sub\">↑ larger is better, ↓ smaller is better"
            + (evaluated.count > 1 ? "; bold: best of the runs" : "")
            + "; probe C = \(e(probeDescription(evaluated[0].evaluation!))). Measures are defined in docs/evaluation.md.</p>"
        let curves = evaluated.filter { !($0.evaluation!.budgetCurve ?? []).isEmpty }
        if !curves.isEmpty {
            out += "<h3>Label-budget curve</h3><table><tr><th>run</th><th class=\"num\">labels</th><th class=\"num\">accuracy</th>"
                + "<th class=\"num\">random, first rows (mean ± std)</th></tr>"
            for entry in curves {
                for point in entry.evaluation!.budgetCurve! {
                    let cells = budgetRow(point)
                    out += "<tr><td>\(e(runName(entry.run)))</td>" + cells.map { "<td class=\"num\">\(e($0))</td>" }.joined() + "</tr>"
                }
            }
            out += "</table><p class=\"sub\">The probe trained on each run's first picks in rank order: what the labels "
                + "spent so far buy, beside the first rows of each random subset.</p>"
        }
        return out + "</section>\n"
    }

    /// The rounds a run built on: the earlier runs whose picks were labelled before it, and the run.
    static func roundsSection(_ runs: [ReportRun]) -> String {
        let relevant = runs.filter { !$0.earlierRuns.isEmpty || $0.run.labelledCount > 0 }
        guard !relevant.isEmpty else { return "" }
        let e = SVGChart.escape
        var out = "<section id=\"rounds\"><h2>Rounds</h2>"
        for entry in relevant {
            out += "<h3>\(e(runName(entry.run))), round \(entry.run.round)</h3>"
            if entry.labelledRows == nil {
                out += "<p class=\"note\">\(entry.run.labelledCount) samples were labelled before this run; the runs they came from can no longer be reconstructed.</p>"
            }
            out += "<table><tr><th class=\"num\">run</th><th>job</th><th class=\"num\">round</th><th>method</th><th class=\"num\">K</th><th>finished (UTC)</th></tr>"
            for run in entry.earlierRuns + [entry.run] {
                out += "<tr\(run.id == entry.run.id ? " class=\"best\"" : "")><td class=\"num\">\(run.id)</td><td>\(e(run.job))</td>"
                    + "<td class=\"num\">\(run.round)</td><td>\(e(run.method))</td><td class=\"num\">\(run.budget)</td>"
                    + "<td>\(run.finishedAt.map(timestamp) ?? "-")</td></tr>"
            }
            out += "</table>"
        }
        return out + "</section>\n"
    }
}
