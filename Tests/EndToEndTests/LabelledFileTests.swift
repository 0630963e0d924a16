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
}
