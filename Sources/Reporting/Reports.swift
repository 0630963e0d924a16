import Foundation
import Store

/// Text for people: tables of runs, a run's report, the overlap of two selections.
///
/// Pure formatting over what ``SelectionStore`` returns; the commands print it.
public enum Reports {
    /// A fixed-width table of runs: id, job, method, N, K, round, status, started, seconds, and — when any
    /// run failed, was cancelled or crashed — its error, cut to 70 characters (`show` has it whole). O(runs).
    public static func runTable(_ runs: [RunRecord]) -> String {
        let withErrors = runs.contains { $0.error != nil }
        let header = ["id", "job", "method", "N", "K", "round", "status", "started (UTC)", "seconds"] + (withErrors ? ["error"] : [])
        let rows = runs.map { run -> [String] in
            let seconds = run.durationS.map { String(format: "%.2f", $0) } ?? "-"
            var row: [String] = [String(run.id), run.job, run.method, String(run.n), String(run.budget),
                                 String(run.round), run.status.rawValue, timestamp(run.startedAt), seconds]
            if withErrors {
                let error = run.error ?? ""
                row.append(error.count > 70 ? String(error.prefix(69)) + "…" : error)
            }
            return row
        }
        return table(header: header, rows: rows, rightAligned: [0, 3, 4, 5, 8])
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }.joined(separator: "\n")
    }

    /// The fields `runs --json` gives for a run.
    static func runObject(_ run: RunRecord) -> [String: Any] {
        var object: [String: Any] = [
            "id": run.id, "job": run.job, "method": run.method, "n": run.n, "d": run.d, "budget": run.budget,
            "seed": run.seed, "status": run.status.rawValue, "started_at": timestamp(run.startedAt),
            "features_path": run.featuresPath, "features_fingerprint": run.featuresFingerprint,
            "tool_version": run.toolVersion, "round": run.round, "labelled_count": run.labelledCount,
        ]
        if let finished = run.finishedAt { object["finished_at"] = timestamp(finished) }
        if let seconds = run.durationS { object["duration_s"] = seconds }
        if let error = run.error { object["error"] = error }
        if let fingerprint = run.labelledFingerprint { object["labelled_fingerprint"] = fingerprint }
        let notes = notes(run.notesJSON)
        if !notes.isEmpty { object["notes"] = notes }
        return object
    }

    /// One run as a JSON object: the `runs --json` fields plus the parameters (parsed), the curves,
    /// the first `firstRows` selected samples and, for a labelled pool, the classes selected and in the pool.
    public static func runReportJSON(run: RunRecord, selection: [SelectedSample], metrics: [RunMetric],
                                     poolLabels: [Int64: Int], firstRows: Int = 10) -> String {
        var object = runObject(run)
        object["params"] = (try? JSONSerialization.jsonObject(with: Data(run.paramsJSON.utf8))) ?? run.paramsJSON
        object["job_path"] = run.jobPath
        object["job_sha256"] = run.jobSHA256
        object["selected"] = selection.count
        object["selection"] = selection.prefix(firstRows).map { sample -> [String: Any] in
            var row: [String: Any] = ["rank": sample.rank, "row_index": sample.rowIndex, "score": sample.score]
            switch sample.sampleID {
            case let .integer(id): row["sample_id"] = id
            default: row["sample_id"] = sample.sampleID.description
            }
            if let label = sample.label { row["label"] = label }
            return row
        }
        object["curves"] = Dictionary(grouping: metrics, by: \.name).mapValues { points in
            points.sorted { $0.step < $1.step }.map(\.value)
        }
        if !poolLabels.isEmpty {
            let selected = Dictionary(selection.compactMap(\.label).map { ($0, 1) }, uniquingKeysWith: +)
            object["classes"] = Set(poolLabels.keys).union(selected.keys).sorted().map { label -> [String: Any] in
                ["label": label, "selected": selected[label] ?? 0, "pool": poolLabels[label] ?? 0]
            }
        }
        return JSONText.encode(object, pretty: true)
    }

    /// Runs as a JSON array of objects (the `runs` columns that describe a run).
    public static func runJSON(_ runs: [RunRecord]) -> String {
        let objects = runs.map(runObject)
        return JSONText.encode(objects, pretty: true)
    }

    /// Everything about one run: parameters, inputs, timing, its curve, its first selected samples and,
    /// for a labelled pool, the selection's class histogram against the pool's.
    public static func runReport(run: RunRecord, selection: [SelectedSample], metrics: [RunMetric],
                                 poolLabels: [Int64: Int], firstRows: Int = 10) -> String {
        var lines = [
            "run        \(run.id)",
            "job        \(run.job)  (\(run.jobPath), sha256 \(run.jobSHA256.prefix(12))…)",
            "status     \(run.status.rawValue)" + (run.error.map { ": \($0)" } ?? ""),
            "method     \(run.method)",
            "params     \(run.paramsJSON.count > 400 ? String(run.paramsJSON.prefix(397)) + "..." : run.paramsJSON)",
            "features   \(run.featuresPath)",
            "           \(run.featuresFingerprint)",
            "pool       N=\(run.n), d=\(run.d)",
            "budget     K=\(run.budget), seed \(run.seed)",
            "round      \(run.round)" + (run.labelledCount > 0 ? " (\(run.labelledCount) samples labelled before)" : ""),
        ] + (notesLine(run.notesJSON, budget: run.budget).map { ["notes      \($0)"] } ?? [])
            + (curationLine(paramsJSON: run.paramsJSON, poolSize: run.n).map { ["curation   \($0)"] } ?? []) + [
            "started    \(timestamp(run.startedAt)) UTC",
            "finished   " + (run.finishedAt.map { timestamp($0) + " UTC" } ?? "-")
                + (run.durationS.map { String(format: "  (%.2f s)", $0) } ?? ""),
            "version    selectjob \(run.toolVersion)",
        ]
        let curves = Dictionary(grouping: metrics, by: \.name)
        for (name, points) in curves.sorted(by: { $0.key < $1.key }) {
            let values = points.sorted { $0.step < $1.step }.map(\.value)
            lines.append("")
            lines.append(String(format: "%@ (%d steps): first %.6g, last %.6g, min %.6g, max %.6g", name, values.count,
                                values.first ?? 0, values.last ?? 0, values.min() ?? 0, values.max() ?? 0))
            lines.append("  " + sparkline(values, width: 60))
        }
        if run.status != .succeeded {
            lines.append("")
            lines.append("selection  none: the run is \(run.status.rawValue), not succeeded")
        }
        if !selection.isEmpty {
            lines.append("")
            lines.append("selection (first \(min(firstRows, selection.count)) of \(selection.count)):")
            let rows = selection.prefix(firstRows).map { sample in
                [String(sample.rank), String(sample.rowIndex), sample.sampleID.description,
                 String(format: "%.6g", sample.score), sample.label.map(String.init) ?? "-"]
            }
            lines.append(indent(table(header: ["rank", "row", "sample_id", "score", "label"], rows: rows,
                                      rightAligned: [0, 1, 3, 4])))
        }
        if !poolLabels.isEmpty, !selection.isEmpty {
            let selected = Dictionary(selection.compactMap(\.label).map { ($0, 1) }, uniquingKeysWith: +)
            let poolTotal = poolLabels.values.reduce(0, +), selectedTotal = max(selection.count, 1)
            lines.append("")
            lines.append("classes (selection against pool):")
            let labels = Set(poolLabels.keys).union(selected.keys).sorted()
            let rows = labels.map { label -> [String] in
                let s = selected[label] ?? 0, p = poolLabels[label] ?? 0
                let share = Double(s) / Double(selectedTotal), poolShare = Double(p) / Double(max(poolTotal, 1))
                return [String(label), String(s), String(format: "%.1f%%", share * 100), String(p),
                        String(format: "%.1f%%", poolShare * 100), String(repeating: "▇", count: Int((share * 40).rounded()))]
            }
            lines.append(indent(table(header: ["label", "selected", "share", "pool", "share", ""], rows: rows,
                                      rightAligned: [0, 1, 2, 3, 4])))
        }
        return lines.joined(separator: "\n")
    }

    /// The overlap of two selections by sample id: shared, only in A, only in B, Jaccard index.
    public static func diff(a: RunRecord, selectionA: [SelectedSample], b: RunRecord,
                            selectionB: [SelectedSample]) -> String {
        let d = SelectionDiff(selectionA, selectionB)
        var lines = [
            "A          run \(a.id) (\(a.job), \(a.method), K=\(selectionA.count))",
            "B          run \(b.id) (\(b.job), \(b.method), K=\(selectionB.count))",
            "shared     \(d.shared)",
            "only A     \(d.onlyA.count)",
            "only B     \(d.onlyB.count)",
            String(format: "jaccard    %.4f", d.jaccard),
        ]
        if d.byRow { lines.append("compared   by row index: the runs' sample ids are of different kinds (integers and strings)") }
        return lines.joined(separator: "\n")
    }

    /// `diff --json`: the two runs and the comparison as one JSON object.
    public static func diffJSON(a: RunRecord, selectionA: [SelectedSample], b: RunRecord,
                                selectionB: [SelectedSample]) -> String {
        let d = SelectionDiff(selectionA, selectionB)
        func run(_ record: RunRecord, _ selection: [SelectedSample]) -> [String: Any] {
            ["run": record.id, "job": record.job, "method": record.method, "k": selection.count]
        }
        func ids(_ samples: [SelectedSample]) -> [Any] {
            samples.map { sample -> Any in
                switch sample.sampleID {
                case let .integer(value): return value
                case let .text(value): return value
                }
            }
        }
        return JSONText.encode([
            "a": run(a, selectionA), "b": run(b, selectionB), "shared": d.shared, "jaccard": d.jaccard,
            "only_a": ids(d.onlyA), "only_b": ids(d.onlyB), "compared_by": d.byRow ? "row_index" : "sample_id",
        ] as [String: Any])
    }

    /// `diff --ids`: the samples only A selected (`A id`), then those only B selected (`B id`), in rank order.
    public static func diffIDs(selectionA: [SelectedSample], selectionB: [SelectedSample]) -> String {
        let d = SelectionDiff(selectionA, selectionB)
        return (d.onlyA.map { "A \($0.sampleID)" } + d.onlyB.map { "B \($0.sampleID)" }).joined(separator: "\n")
    }

    /// `values` as a one-line chart of ▁…█, resampled to at most `width` characters. O(values).
    public static func sparkline(_ values: [Double], width: Int) -> String {
        // A non-finite value (a curve that overflowed) has no height: the line shows the finite ones.
        let values = values.filter(\.isFinite)
        guard let low = values.min(), let high = values.max(), !values.isEmpty else { return "" }
        let levels = Array("▁▂▃▄▅▆▇█")
        let count = min(width, values.count)
        return String((0..<count).map { i -> Character in
            let start = i * values.count / count, end = max(start + 1, (i + 1) * values.count / count)
            // Halves and terms divided first: finite for any finite values, even near Double's limits.
            let mean = values[start..<end].reduce(0) { $0 + $1 / Double(end - start) }
            let fraction = high > low ? (mean / 2 - low / 2) / (high / 2 - low / 2) : 0
            let level = min(max(Int((fraction * Double(levels.count - 1)).rounded()), 0), levels.count - 1)
            return levels[level]
        })
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }

    static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
    }

    static func table(header: [String], rows: [[String]], rightAligned: Set<Int>) -> String {
        let widths = header.indices.map { c in ([header[c]] + rows.map { $0[c] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return rightAligned.contains(c) ? pad + cell : cell + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}

/// Two selections compared: by sample id, or by row index when one run's ids are integers and the
/// other's strings (two feature files of the same pool, one with an ids dataset). O(K).
struct SelectionDiff {
    let shared: Int
    /// The samples only A (only B) selected, in rank order.
    let onlyA: [SelectedSample]
    let onlyB: [SelectedSample]
    let jaccard: Double
    let byRow: Bool

    init(_ a: [SelectedSample], _ b: [SelectedSample]) {
        func isText(_ sample: SelectedSample) -> Bool {
            if case .text = sample.sampleID { return true }
            return false
        }
        let kindsA = Set(a.map(isText)), kindsB = Set(b.map(isText))
        byRow = !a.isEmpty && !b.isEmpty && kindsA != kindsB
        let key: (SelectedSample) -> String = byRow ? { "\($0.rowIndex)" } : { "\(isText($0) ? "t" : "i"):\($0.sampleID)" }
        let keysA = Set(a.map(key)), keysB = Set(b.map(key))
        shared = keysA.intersection(keysB).count
        onlyA = a.filter { !keysB.contains(key($0)) }
        onlyB = b.filter { !keysA.contains(key($0)) }
        let union = keysA.union(keysB).count
        jaccard = union == 0 ? 1 : Double(shared) / Double(union)
    }
}
