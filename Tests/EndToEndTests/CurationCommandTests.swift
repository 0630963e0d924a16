import Foundation
import GRDB
import HDF5
import Testing
import TestSupport

/// `filter`, `dedup` and `balance` through the binary: what is picked, what is recorded and shown,
/// and bad values refused with the file, dataset or field named and nothing recorded.
@Suite struct CurationCommandTests {
    let workspace: Workspace

    /// 600 samples; rows 300..<330 are near-copies of rows 0..<30; a string `split` (every third row
    /// "val") in the features file and a `source` column in a CSV.
    init() throws {
        workspace = try Workspace()
        try workspace.writeFeatures(transform: { values in
            for row in 300..<330 {
                for j in 0..<16 { values[row * 16 + j] = values[(row - 300) * 16 + j] * 1.0001 + (j == 0 ? 1e-4 : 0) }
            }
        }, more: { file in try file.write(strings: (0..<600).map { $0 % 3 == 0 ? "val" : "train" }, to: "split") })
        let csv = "sample_id,source\n" + (0..<600).map { "\(1_000_000 + $0),\($0 < 450 ? "web" : ($0 < 570 ? "scan" : "phone"))" }
            .joined(separator: "\n") + "\n"
        try csv.write(toFile: workspace.path("data/meta.csv"), atomically: true, encoding: .utf8)
    }

    func run(_ name: String, budget: Int = 30, _ curation: String, method: String = #"{"name": "kmeans"}"#) throws -> Outcome {
        try workspace.writeJob(name, method: method, budget: "{\"count\": \(budget)}",
                               extra: #", "database": "../data/sel.sqlite", "#  + curation)
        return try selectjob(["run", "jobs/\(name).json"], in: workspace.url, timeout: 120)
    }

    func rows(_ sql: String, _ arguments: StatementArguments = []) throws -> [Row] {
        try workspace.database().read { db in try Row.fetchAll(db, sql: sql, arguments: arguments) }
    }

    func recordedRuns() throws -> Int {
        guard FileManager.default.fileExists(atPath: workspace.path("data/sel.sqlite")) else { return 0 }
        return try rows("SELECT COUNT(*) AS n FROM runs")[0]["n"]
    }

    /// Filter + dedup + balance by a CSV column: picks only "train" rows, none a dropped copy, each
    /// source its quota (α = 0: equal shares), the dropped copies in `dropped_duplicates`, all shown.
    @Test func filterDedupAndBalanceTogether() throws {
        let outcome = try run("curated", #""filter": {"dataset": "split", "values": ["train"]}, "dedup": {"threshold": 0.999}, "balance": {"by": "metadata", "path": "../data/meta.csv", "dataset": "source", "alpha": 0}"#)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let picks: [Int] = try rows("SELECT row_index FROM selections").map { $0["row_index"] }
        #expect(picks.count == 30 && picks.allSatisfy { $0 % 3 != 0 })
        let dropped = try rows("SELECT row_index, representative_row, sample_id, representative_id, similarity FROM dropped_duplicates")
        // Copies 300..<330 of train rows 0..<30, both train: a third of rows are "val" on either side.
        #expect(!dropped.isEmpty && dropped.allSatisfy { ($0["row_index"] as Int) - ($0["representative_row"] as Int) == 300 })
        #expect(dropped.allSatisfy { ($0["similarity"] as Double) >= 0.999 && ($0["sample_id"] as Int64) == 1_000_000 + ($0["row_index"] as Int64) })
        #expect(Set(picks).isDisjoint(with: dropped.map { $0["row_index"] as Int }))
        let bySource = Dictionary(grouping: picks) { $0 < 450 ? "web" : ($0 < 570 ? "scan" : "phone") }.mapValues(\.count)
        #expect(bySource == ["web": 10, "scan": 10, "phone": 10])
        #expect(outcome.stdout.contains("curation  \(400 - dropped.count) of 600 samples were candidates; filter split in {train} kept 400; dedup at cosine ≥ 0.999 dropped \(dropped.count) (table dropped_duplicates); balance by source (alpha 0): phone 10/20, scan 10/80, web 10/\(300 - dropped.count)"), "\(outcome.stdout)")
        let report = try selectjob(["report", "--db", "data/sel.sqlite", "1", "-o", "data/report.html"], in: workspace.url)
        #expect(report.status == 0, "\(report.stderr)")
        let page = try String(contentsOfFile: workspace.path("data/report.html"), encoding: .utf8)
        #expect(page.contains("\(400 - dropped.count) of 600 samples were candidates"))
        // Unchanged when nothing changed; a changed metadata file is a change.
        #expect(try run("curated", #""filter": {"dataset": "split", "values": ["train"]}, "dedup": {"threshold": 0.999}, "balance": {"by": "metadata", "path": "../data/meta.csv", "dataset": "source", "alpha": 0}"#).stdout.contains("unchanged"))
        let csv = try String(contentsOfFile: workspace.path("data/meta.csv"), encoding: .utf8).replacingOccurrences(of: ",phone", with: ",scan")
        try csv.write(toFile: workspace.path("data/meta.csv"), atomically: true, encoding: .utf8)
        let again = try run("curated", #""filter": {"dataset": "split", "values": ["train"]}, "dedup": {"threshold": 0.999}, "balance": {"by": "metadata", "path": "../data/meta.csv", "dataset": "source", "alpha": 0}"#)
        #expect(again.status == 0 && !again.stdout.contains("unchanged") && again.stdout.contains("balance by source (alpha 0): scan 15/100"), "\(again.stdout)")
    }

    /// Balance by the pool's labels at α = 1: quotas proportional to the classes' sizes, met exactly.
    @Test func balanceByPoolLabelsIsProportional() throws {
        let outcome = try run("labels", budget: 60, #""balance": {"by": "labels"}"#, method: #"{"name": "random"}"#)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let pool = try rows("SELECT label, count FROM pool_labels")
        let selected = Dictionary(uniqueKeysWithValues: try rows("SELECT label, COUNT(*) AS n FROM selections GROUP BY label")
            .map { ($0["label"] as Int64, $0["n"] as Int) })
        // Largest remainder: each class gets its share of 60 rounded down or up, 60 in all.
        for row in pool {
            let share = Double(row["count"] as Int) / 10
            #expect(abs(Double(selected[row["label"]] ?? 0) - share) < 1, "class \(row["label"] as Int64)")
        }
        #expect(selected.values.reduce(0, +) == 60 && selected.count == pool.count)
    }

    /// Bad values: the file and dataset or field named, the documented exit code, nothing recorded.
    @Test func badCurationIsRefusedBeforeAnythingIsRecorded() throws {
        let none = try run("none", #""filter": {"dataset": "split", "values": ["test"]}"#)
        #expect(none.status == 64)
        #expect(none.stderr.contains(#"filter.values: no sample of \#(workspace.path("data/features.h5")):split has one of these values; it holds "train", "val""#), "\(none.stderr)")
        let missing = try run("missing", #""filter": {"dataset": "splits", "values": ["train"]}"#)
        #expect(missing.status == 65 && missing.stderr.contains("splits"), "\(missing.stderr)")
        try "sample_id,source\n1,web\n".write(toFile: workspace.path("data/short.csv"), atomically: true, encoding: .utf8)
        let short = try run("short", #""balance": {"by": "metadata", "path": "../data/short.csv", "dataset": "source"}"#)
        #expect(short.status == 65)
        #expect(short.stderr.contains("\(workspace.path("data/short.csv")): dataset 'source' has 1 values, expected 600") || short.stderr.contains("short.csv"), "\(short.stderr)")
        let few = try run("few", budget: 250, #""filter": {"dataset": "split", "values": ["val"]}"#)
        #expect(few.status == 64)
        #expect(few.stderr.contains("budget 250 is more than the 200 samples left to pick from after the filter"), "\(few.stderr)")
        let predicted = try run("predicted", #""balance": {"by": "predicted"}"#)
        #expect(predicted.status == 64)
        #expect(predicted.stderr.contains(#"balance by predicted class needs samples labelled in earlier rounds, with their class labels (give the job's "labelled" with "labels")"#), "\(predicted.stderr)")
        let rowsNamed = try run("first-row", #""dedup": {"threshold": 0.99}"#, method: #"{"name": "kcenter", "first_row": 3}"#)
        #expect(rowsNamed.status == 64)
        #expect(rowsNamed.stderr.contains(#"method.first_row: names pool rows, which "filter", "dedup" and "balance" renumber; leave one of them out"#), "\(rowsNamed.stderr)")
        #expect(try rows("SELECT COUNT(*) AS n FROM runs WHERE status = 'succeeded'")[0]["n"] as Int == 0)
        #expect(try rows("SELECT COUNT(*) AS n FROM runs WHERE job != 'predicted'")[0]["n"] as Int == 0)
    }
}
