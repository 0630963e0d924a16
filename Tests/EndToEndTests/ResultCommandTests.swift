import Foundation
import GRDB
import HDF5
import Testing
import TestSupport

/// Writes an ActiveFT-style `.npy` dump: N × (d+1) float32, the label (0, 1, 2) in the last column.
func writeActiveFTDump(_ path: String, rows: Int, dimensions: Int, header: String? = nil) throws {
    let values = (0..<(rows * (dimensions + 1))).map { i -> Float in
        let column = i % (dimensions + 1)
        return column == dimensions ? Float((i / (dimensions + 1)) % 3) : Float(sin(Double(i) * 0.37) + 1.5)
    }
    try writeNpy(values, rows: rows, columns: dimensions + 1, header: header, to: path)
}

/// `runs`, `show`, `export`, `diff` and `.npy` input through the built binary.
@Suite struct ResultCommandTests {
    let workspace: Workspace
    let db: [String]

    init() throws {
        workspace = try Workspace()
        try workspace.writeFeatures()
        db = ["--db", workspace.path("data/sel.sqlite")]
        let activeft = try workspace.writeJob("first")
        let vtl = try workspace.writeJob("second", method: #"{"name": "vtl", "normalize": true}"#)
        let outcome = try selectjob(["run", "--quiet", activeft, vtl], in: workspace.url)
        #expect(outcome.status == 0, "\(outcome.stderr)")
    }

    @Test func runsListsNewestFirstAndFilters() throws {
        let all = try selectjob(["runs"] + db, in: workspace.url)
        #expect(all.status == 0)
        let lines = all.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("id  job") == true)
        #expect(lines.count == 3 && lines[1].contains("second") && lines[2].contains("first"))
        #expect(lines[1].contains("vtl") && lines[1].contains("600") && lines[1].contains("30") && lines[1].contains("succeeded"))

        let one = try selectjob(["runs", "--job", "first", "--json"] + db, in: workspace.url)
        let parsed = try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as! [[String: Any]]
        #expect(parsed.count == 1 && parsed[0]["job"] as? String == "first" && parsed[0]["budget"] as? Int == 30)
        #expect(try selectjob(["runs", "--status", "failed"] + db, in: workspace.url).stdout.split(separator: "\n").count == 1)
        #expect(try selectjob(["runs", "--limit", "1"] + db, in: workspace.url).stdout.split(separator: "\n").count == 2)
        // The environment variable names the database when --db is absent.
        let viaEnvironment = try selectjob(["runs"], in: workspace.url, environment: ["SELECTJOB_DB": db[1]])
        #expect(viaEnvironment.stdout == all.stdout)
    }

    @Test func showReportsParametersCurveSelectionAndClasses() throws {
        let outcome = try selectjob(["show", "1"] + db, in: workspace.url)
        #expect(outcome.status == 0)
        for expected in ["run        1", "job        first", "method     activeft", "pool       N=600, d=16",
                         "budget     K=30, seed 7", "sha256:", "loss (40 steps)", "selection (first 10 of 30):",
                         "classes (selection against pool):"] {
            #expect(outcome.stdout.contains(expected), "missing \(expected)")
        }
        #expect(outcome.stdout.contains("▁"))
        let vtl = try selectjob(["show", "2", "--rows", "3"] + db, in: workspace.url)
        #expect(vtl.stdout.contains("value (30 steps)") && vtl.stdout.contains("selection (first 3 of 30):"))
    }

    @Test func exportWritesEachFormat() throws {
        let expected = try workspace.database().read { db in
            try Row.fetchAll(db, sql: "SELECT rank, row_index, sample_id, score FROM selections WHERE run_id = 1 ORDER BY rank")
        }
        let json = try selectjob(["export", "1", "--format", "json"] + db, in: workspace.url)
        let indices = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [Int]
        #expect(indices == expected.map { $0["row_index"] as Int }.sorted())

        let csv = try selectjob(["export", "--job", "first", "--format", "csv", "-o", "out/sel.csv"] + db, in: workspace.url)
        #expect(csv.status == 74, "the folder out/ does not exist: the export cannot be written")
        try FileManager.default.createDirectory(atPath: workspace.path("out"), withIntermediateDirectories: true)
        #expect(try selectjob(["export", "--job", "first", "--format", "csv", "-o", "out/sel.csv"] + db, in: workspace.url).status == 0)
        let lines = try String(contentsOfFile: workspace.path("out/sel.csv"), encoding: .utf8).split(separator: "\n")
        #expect(lines[0] == "rank,row_index,sample_id,score,label")
        #expect(lines.count == 31)
        #expect(lines[1].hasPrefix("0,\(expected[0]["row_index"] as Int),\(expected[0]["sample_id"] as Int),"))

        #expect(try selectjob(["export", "1", "--format", "txt", "-o", "out/ids.txt"] + db, in: workspace.url).status == 0)
        let ids = try String(contentsOfFile: workspace.path("out/ids.txt"), encoding: .utf8).split(separator: "\n").map { Int($0)! }
        #expect(ids == expected.map { $0["sample_id"] as Int })

        #expect(try selectjob(["export", "1", "--format", "hdf5", "-o", "out/sel.h5"] + db, in: workspace.url).status == 0)
        let file = try HDF5File.open(readingAt: workspace.path("out/sel.h5"))
        #expect(try file.dataset("row_indices").readInt64s().map(Int.init) == expected.map { $0["row_index"] as Int })
        #expect(try file.dataset("sample_ids").readInt64s().map(Int.init) == expected.map { $0["sample_id"] as Int })
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: workspace.path("out")).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty, "atomic writes leave no temporary files")

        let binaryToStdout = try selectjob(["export", "1", "--format", "hdf5"] + db, in: workspace.url)
        #expect(binaryToStdout.status == 64 && binaryToStdout.stderr.contains("-o FILE"))
    }

    @Test func diffCountsSharedAndOnlyEither() throws {
        let same = try selectjob(["diff", "1", "1"] + db, in: workspace.url)
        #expect(same.stdout.contains("shared     30") && same.stdout.contains("only A     0") && same.stdout.contains("jaccard    1.0000"))
        let other = try selectjob(["diff", "1", "2"] + db, in: workspace.url)
        #expect(other.status == 0 && other.stdout.contains("B          run 2 (second, vtl, K=30)"))
        // --json and --ids agree with the summary and with the database.
        let (onlyA, onlyB) = try workspace.database().read { db in
            (try Int.fetchAll(db, sql: "SELECT sample_id FROM selections WHERE run_id = 1 AND sample_id NOT IN (SELECT sample_id FROM selections WHERE run_id = 2) ORDER BY rank"),
             try Int.fetchAll(db, sql: "SELECT sample_id FROM selections WHERE run_id = 2 AND sample_id NOT IN (SELECT sample_id FROM selections WHERE run_id = 1) ORDER BY rank"))
        }
        let json = try selectjob(["diff", "1", "2", "--json"] + db, in: workspace.url)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["only_a"] as? [Int] == onlyA && object["only_b"] as? [Int] == onlyB)
        #expect(object["shared"] as? Int == 30 - onlyA.count && object["compared_by"] as? String == "sample_id")
        #expect(other.stdout.contains("only A     \(onlyA.count)"))
        let ids = try selectjob(["diff", "1", "2", "--ids"] + db, in: workspace.url)
        #expect(ids.stdout.split(separator: "\n").map(String.init) == onlyA.map { "A \($0)" } + onlyB.map { "B \($0)" })
    }

    @Test(arguments: [
        (["show", "99"], "no run with id 99"),
        (["export", "99", "--format", "json"], "no run with id 99"),
        (["export", "--job", "nobody", "--format", "json"], "no succeeded run of job 'nobody'"),
        (["diff", "1", "42"], "no run with id 42"),
    ])
    func unknownRunsAndJobsExit64(arguments: [String], message: String) throws {
        let outcome = try selectjob(arguments + db, in: workspace.url)
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("selectjob: error: \(db[1]): \(message)"))
    }

    @Test func missingDatabaseIsNamedAndNotCreated() throws {
        for command in [["runs"], ["show", "1"], ["export", "1", "--format", "txt"], ["diff", "1", "2"]] {
            let outcome = try selectjob(command + ["--db", "data/none.sqlite"], in: workspace.url)
            #expect(outcome.status == 64)
            #expect(outcome.stderr.contains("data/none.sqlite: no such database (give --db or set SELECTJOB_DB)"))
        }
        #expect(!FileManager.default.fileExists(atPath: workspace.path("data/none.sqlite")))
    }

    @Test func activeFTNpyDumpsAreReadAsFeatures() throws {
        try writeActiveFTDump(workspace.path("data/dump.npy"), rows: 200, dimensions: 12)
        let job = Data(#"""
            {"name": "npy", "features": {"path": "../data/dump.npy", "layout": "activeft"}, "method": {"name": "activeft", "iterations": 10},
             "budget": {"count": 8}, "database": "../data/sel.sqlite"}
            """#.utf8)
        try job.write(to: workspace.url.appendingPathComponent("jobs/npy.json"))
        let outcome = try selectjob(["run", "--quiet", "jobs/npy.json"], in: workspace.url)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("pool      N=200, d=12"))
        try workspace.database().read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT row_index, sample_id, label FROM latest_selections WHERE job = 'npy'")
            #expect(rows.count == 8)
            #expect(rows.allSatisfy { ($0["row_index"] as Int) == ($0["sample_id"] as Int) && ($0["label"] as Int) == ($0["row_index"] as Int) % 3 })
        }

        try writeActiveFTDump(workspace.path("data/bad.npy"), rows: 5, dimensions: 3,
                     header: "{'descr': '<i8', 'fortran_order': False, 'shape': (5, 4), }")
        let badJob = Data(#"""
            {"name": "badnpy", "features": {"path": "../data/bad.npy", "layout": "activeft"}, "method": {"name": "activeft"}, "budget": {"count": 2}}
            """#.utf8)
        try badJob.write(to: workspace.url.appendingPathComponent("jobs/badnpy.json"))
        let bad = try selectjob(["run", "jobs/badnpy.json"], in: workspace.url)
        #expect(bad.status == 65)
        #expect(bad.stderr.contains("bad.npy: dataset '(npy array)' holds <i8, expected little-endian float32 or float64"))
    }
}

/// `selectjob crontab`: ready-to-install lines for scheduled jobs.
@Suite struct CrontabCommandTests {
    @Test func printsAbsoluteLinesForScheduledJobsOnly() throws {
        let workspace = try Workspace()
        let scheduled = try workspace.writeJob("nightly", extra: #", "database": "../data/sel.sqlite", "schedule": "15 2 * * *""#)
        let unscheduled = try workspace.writeJob("manual")
        let outcome = try selectjob(["crontab", "--log-dir", "logs", scheduled, unscheduled], in: workspace.url)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let lines = outcome.stdout.split(separator: "\n").map(String.init)
        let entry = try #require(lines.first { $0.hasPrefix("15 2 * * * ") })
        let folder = workspace.url.standardizedFileURL.path
        #expect(entry.contains("cd \(folder)/jobs && "))
        #expect(entry.contains(" run --quiet \(folder)/jobs/nightly.json >> \(folder)/logs/nightly.log 2>&1"))
        #expect(entry.contains(selectjobBinary.standardizedFileURL.path) || entry.contains("/selectjob run"))
        #expect(lines.contains("# nightly: lock \(folder)/data/sel.sqlite.nightly.lock"))
        #expect(lines.contains { $0.hasPrefix("# manual (") && $0.hasSuffix("): no schedule") })

        // Issue 10 item 18: % is escaped for cron, and a database from SELECTJOB_DB is passed explicitly.
        try FileManager.default.createDirectory(atPath: workspace.path("jobs/100%"), withIntermediateDirectories: true)
        try Data(#"{"name": "pct", "features": {"path": "../../data/features.h5"}, "method": {"name": "random"}, "budget": {"count": 3}, "schedule": "0 1 * * *"}"#.utf8)
            .write(to: URL(fileURLWithPath: workspace.path("jobs/100%/pct.json")))
        let environment = ["SELECTJOB_DB": workspace.path("data/env.sqlite")]
        let escaped = try selectjob(["crontab", "jobs/100%/pct.json"], in: workspace.url, environment: environment)
        let line = try #require(escaped.stdout.split(separator: "\n").first { $0.hasPrefix("0 1 * * * ") })
        #expect(line.contains("cd '\(folder)/jobs/100\\%' && "), "\(line)")
        #expect(!line.replacingOccurrences(of: "\\%", with: "").contains("%"))
        #expect(line.contains(" --db \(folder)/data/env.sqlite "), "\(line)")

        let bad = try workspace.writeJob("bad", extra: #", "schedule": "0 25 * * *""#)
        let failed = try selectjob(["crontab", bad], in: workspace.url)
        #expect(failed.status == 64 && failed.stderr.contains("schedule: the hour field '25'"))
    }
}
