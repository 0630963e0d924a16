import Foundation
import GRDB
import Testing
import TestSupport

/// The loop from a labelling tool back to selectjob: `"labelled": {"path": FILE}` takes every format
/// selectjob exports and plain lists of ids, and the next round never selects those samples again.
@Suite struct LabelledFileTests {
    let workspace: Workspace
    let db = ["--db", "data/sel.sqlite"]

    init() throws {
        workspace = try Workspace()
        try workspace.writeFeatures()
        try workspace.writeJob("first", method: #"{"name": "kmeans"}"#, budget: #"{"count": 15}"#)
        let outcome = try selectjob(["run", "--quiet", "jobs/first.json"], in: workspace.url, timeout: 120)
        precondition(outcome.status == 0, outcome.stderr)
    }

    /// Rows and ids of run 1's picks.
    func firstPicks() throws -> (rows: Set<Int>, ids: [Int64]) {
        try workspace.database().read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT row_index, sample_id FROM selections WHERE run_id = 1 ORDER BY rank")
            return (Set(rows.map { $0["row_index"] as Int }), rows.map { $0["sample_id"] as Int64 })
        }
    }

    /// Runs a second round labelled by `source` and returns its labelled count and whether it avoided `rows`.
    func secondRound(_ name: String, labelled source: String) throws -> (status: Int32, stderr: String, labelled: Int, avoided: Bool) {
        try workspace.writeJob(name, method: #"{"name": "kmeans"}"#, budget: #"{"count": 20}"#,
                               extra: #", "database": "../data/sel.sqlite", "labelled": \#(source)"#)
        let outcome = try selectjob(["run", "--quiet", "jobs/\(name).json"], in: workspace.url, timeout: 120)
        guard outcome.status == 0 else { return (outcome.status, outcome.stderr, 0, false) }
        let picks = try firstPicks().rows
        return try workspace.database().read { db in
            let count = try Int.fetchOne(db, sql: "SELECT labelled_count FROM runs WHERE job = ?", arguments: [name]) ?? -1
            let rows = try Int.fetchAll(db, sql: "SELECT row_index FROM latest_selections WHERE job = ?", arguments: [name])
            return (outcome.status, outcome.stderr, count, picks.isDisjoint(with: rows))
        }
    }

    @Test(arguments: ["json", "txt", "csv", "hdf5"])
    func everyExportFormatNamesTheLabelledSamples(format: String) throws {
        let file = "data/labelled.\(format == "hdf5" ? "h5" : format)"
        #expect(try selectjob(["export", "1", "--format", format, "-o", file] + db, in: workspace.url).status == 0)
        let round = try secondRound("second-\(format)", labelled: #"{"path": "../\#(file)"}"#)
        #expect(round.status == 0, "\(round.stderr)")
        #expect(round.labelled == 15 && round.avoided, "\(format): \(round.labelled) labelled")
    }

    @Test func plainListsOfIds() throws {
        let ids = try firstPicks().ids
        try Data(("sample_id\n" + ids.map { "\($0)\n" }.joined()).utf8).write(to: URL(fileURLWithPath: workspace.path("data/tool.csv")))
        try Data(("[" + ids.map(String.init).joined(separator: ", ") + "]").utf8).write(to: URL(fileURLWithPath: workspace.path("data/ids.json")))
        try writeNpy(integers: ids, to: workspace.path("data/ids.npy"))
        for (name, source) in [("csv", #"{"path": "../data/tool.csv"}"#), ("json", #"{"path": "../data/ids.json"}"#),
                               ("npy", #"{"path": "../data/ids.npy"}"#)] {
            let round = try secondRound("plain-\(name)", labelled: source)
            #expect(round.status == 0, "\(name): \(round.stderr)")
            #expect(round.labelled == 15 && round.avoided, "\(name)")
        }
        // A JSON list of integers without selectjob's provenance beside it is read as ids; "as": "rows"
        // reads it as rows, and these ids are far outside the pool's 600 rows.
        let asRows = try secondRound("as-rows", labelled: #"{"path": "../data/ids.json", "as": "rows"}"#)
        #expect(asRows.status == 65)
        #expect(asRows.stderr.contains("labelled: sample id row \(ids[0]) (from \(workspace.path("data/ids.json"))) is not in the pool"), "\(asRows.stderr)")
        #expect(asRows.stderr.contains("the pool's rows are 0..<600"))
    }

    @Test func anIdNotInThePoolIsNamedWithItsFile() throws {
        try Data("1000001\n42\n".utf8).write(to: URL(fileURLWithPath: workspace.path("data/bad.txt")))
        let round = try secondRound("bad", labelled: #"{"path": "../data/bad.txt"}"#)
        #expect(round.status == 65)
        #expect(round.stderr.contains("labelled: sample id 42 (from \(workspace.path("data/bad.txt"))) is not in the pool"), "\(round.stderr)")
        let refused = try secondRound("badkey", labelled: #"{"job": "first", "as": "rows"}"#)
        #expect(refused.status == 64 && refused.stderr.contains(#"labelled.as: only used with "path""#), "\(refused.stderr)")
    }

    /// The annotators' labels travel with the labelled samples: from the pool, or from a column of the
    /// labelled file; `dropquery` fits its probe to them. Contradicting labels are refused.
    @Test func labelsOfTheLabelledSamplesFeedTheProbe() throws {
        func dropquery(_ name: String, _ labelled: String) throws -> Outcome {
            try workspace.writeJob(name, method: #"{"name": "dropquery"}"#, budget: #"{"count": 20}"#,
                                   extra: #", "database": "../data/sel.sqlite", "labelled": \#(labelled)"#)
            return try selectjob(["run", "--quiet", "jobs/\(name).json"], in: workspace.url, timeout: 120)
        }
        let fromPool = try dropquery("from-pool", #"{"job": "first", "labels": "pool"}"#)
        #expect(fromPool.status == 0, "\(fromPool.stderr)")
        try workspace.database().read { db in
            let params = try String.fetchOne(db, sql: "SELECT params_json FROM runs WHERE job = 'from-pool'") ?? ""
            #expect(params.contains(#""with_labels":true"#), "\(params)")
        }
        // The annotation tool's CSV: sample_id and label columns.
        let (ids, labels) = try workspace.database().read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT sample_id, label FROM selections WHERE run_id = 1 ORDER BY rank")
            return (rows.map { $0["sample_id"] as Int64 }, rows.map { $0["label"] as Int64 })
        }
        let csv = "sample_id,label\n" + zip(ids, labels).map { "\($0),\($1)\n" }.joined()
        try Data(csv.utf8).write(to: URL(fileURLWithPath: workspace.path("data/annotated.csv")))
        let fromFile = try dropquery("from-file", #"{"path": "../data/annotated.csv", "labels": "label"}"#)
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        // Without labels dropquery says what it needs; contradicting labels name both sources.
        let without = try dropquery("without", #"{"job": "first"}"#)
        #expect(without.status == 64)
        #expect(without.stderr.contains(#"dropquery needs samples labelled in earlier rounds, with their class labels (give the job's "labelled" with "labels")"#),
                "\(without.stderr)")
        let wrong = "sample_id,label\n\(ids[0]),\(labels[0] + 1)\n"
        try Data(wrong.utf8).write(to: URL(fileURLWithPath: workspace.path("data/wrong.csv")))
        let conflict = try dropquery("conflict", #"[{"job": "first", "labels": "pool"}, {"path": "../data/wrong.csv", "labels": "label"}]"#)
        #expect(conflict.status == 65)
        #expect(conflict.stderr.contains("has label \(labels[0]) from run 1 of job first and \(labels[0] + 1) from"), "\(conflict.stderr)")
        let column = try dropquery("column", #"{"job": "first", "labels": "label"}"#)
        #expect(column.status == 64 && column.stderr.contains(#"labelled.labels: expected "pool""#), "\(column.stderr)")
    }

    /// Without a predictions file, the uncertainty methods rank by a probe fit to the labelled samples.
    @Test func uncertaintyFromTheProbe() throws {
        try workspace.writeJob("probe-margin", method: #"{"name": "margin"}"#, budget: #"{"count": 20}"#,
                               extra: #", "database": "../data/sel.sqlite", "labelled": {"job": "first", "labels": "pool"}"#)
        let outcome = try selectjob(["run", "--quiet", "jobs/probe-margin.json"], in: workspace.url, timeout: 120)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let picks = try workspace.database().read { db in
            try Row.fetchAll(db, sql: "SELECT row_index, score FROM latest_selections WHERE job = 'probe-margin' ORDER BY rank")
        }
        let first = try firstPicks().rows
        #expect(picks.count == 20 && Set(picks.map { $0["row_index"] as Int }).isDisjoint(with: first))
        #expect(zip(picks, picks.dropFirst()).allSatisfy { ($0["score"] as Double) >= ($1["score"] as Double) })
        try workspace.writeJob("no-probe", method: #"{"name": "margin"}"#, budget: #"{"count": 20}"#,
                               extra: #", "database": "../data/sel.sqlite", "labelled": {"job": "first"}"#)
        let refused = try selectjob(["run", "--quiet", "jobs/no-probe.json"], in: workspace.url, timeout: 60)
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("margin needs predictions, or samples labelled in earlier rounds with their class labels"),
                "\(refused.stderr)")
    }
}
