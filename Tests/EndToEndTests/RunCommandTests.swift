import Foundation
import GRDB
import HDF5
import Testing
import TestSupport

/// `selectjob run` and `selectjob validate` through the built binary: output, database, exit codes.
@Suite struct RunCommandTests {
    let workspace: Workspace
    init() throws {
        workspace = try Workspace()
        try workspace.writeFeatures()
    }

    @Test func runRecordsTheSelectionTheCurveAndTheRun() throws {
        let job = try workspace.writeJob("mixture")
        let outcome = try selectjob(["run", job], in: workspace.url)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("job       mixture"))
        #expect(outcome.stdout.contains("pool      N=600, d=16"))
        #expect(outcome.stdout.contains("selected  K=30"))
        #expect(outcome.stdout.contains("final     loss "), "the final value names its curve")
        #expect(outcome.stdout.contains("database  \(workspace.path("data/sel.sqlite"))"))
        #expect(outcome.stderr.contains("progress"), "cron-style log lines when stderr is not a terminal")

        try workspace.database().read { db in
            let run = try Row.fetchOne(db, sql: "SELECT * FROM runs")!
            #expect(run["status"] as String == "succeeded")
            #expect(run["n"] as Int == 600 && run["d"] as Int == 16 && run["budget"] as Int == 30)
            #expect(run["method"] as String == "activeft")
            #expect((run["features_fingerprint"] as String).hasPrefix("sha256:"))
            #expect((run["job_sha256"] as String).count == 64)
            #expect((run["params_json"] as String).contains("\"init_rows\":["))
            let rows = try Row.fetchAll(db, sql: "SELECT rank, row_index, sample_id, label FROM latest_selections WHERE job = 'mixture' ORDER BY rank")
            #expect(rows.map { $0["rank"] as Int } == Array(0..<30))
            #expect(Set(rows.map { $0["row_index"] as Int }).count == 30)
            #expect(rows.allSatisfy { ($0["sample_id"] as Int64) == 1_000_000 + ($0["row_index"] as Int64) })
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM run_metrics WHERE name = 'loss'") == 40)
            // The selection spreads over the mixture's classes.
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT label) FROM latest_selections") == 5)
        }
    }

    @Test func sameJobAndSeedGiveTheIdenticalSelection() throws {
        let job = try workspace.writeJob("repeat", method: #"{"name": "activeft", "iterations": 30, "init": "fps"}"#)
        for _ in 0..<2 { #expect(try selectjob(["run", "--quiet", "--force", job], in: workspace.url).status == 0) }
        try workspace.database().read { db in
            let first = try Row.fetchAll(db, sql: "SELECT row_index, score FROM selections WHERE run_id = 1 ORDER BY rank")
            let second = try Row.fetchAll(db, sql: "SELECT row_index, score FROM selections WHERE run_id = 2 ORDER BY rank")
            #expect(first == second && first.count == 30)
        }
    }

    @Test func threadCountDoesNotChangeTheSelection() throws {
        let job = try workspace.writeJob("threads", method: #"{"name": "activeft", "iterations": 25}"#)
        for threads in ["1", "2", "3"] {
            #expect(try selectjob(["run", "--quiet", "--force", "--threads", threads, job], in: workspace.url).status == 0)
        }
        let vtl = try workspace.writeJob("threads-vtl", method: #"{"name": "vtl"}"#)
        for threads in ["1", "2"] {
            #expect(try selectjob(["run", "--quiet", "--force", "--threads", threads, vtl], in: workspace.url).status == 0)
        }
        try workspace.database().read { db in
            func selection(_ run: Int) throws -> [Row] {
                try Row.fetchAll(db, sql: "SELECT row_index, sample_id, score FROM selections WHERE run_id = ? ORDER BY rank",
                                 arguments: [run])
            }
            func curve(_ run: Int) throws -> [Double] {
                try Double.fetchAll(db, sql: "SELECT value FROM run_metrics WHERE run_id = ? ORDER BY step", arguments: [run])
            }
            let selections = try (1...5).map(selection), curves = try (1...5).map(curve)
            #expect(selections[0] == selections[1] && selections[0] == selections[2] && selections[0].count == 30)
            #expect(curves[0] == curves[1] && curves[0] == curves[2])
            #expect(selections[3] == selections[4] && curves[3] == curves[4])
        }
    }

    @Test func databaseOptionAndEnvironmentChooseTheDatabase() throws {
        let job = try workspace.writeJob("where", extra: "")
        #expect(try selectjob(["run", "--quiet", "--db", "data/flag.sqlite", job], in: workspace.url).status == 0)
        #expect(FileManager.default.fileExists(atPath: workspace.path("data/flag.sqlite")))
        #expect(try selectjob(["run", "--quiet", job], in: workspace.url,
                              environment: ["SELECTJOB_DB": workspace.path("data/env.sqlite")]).status == 0)
        #expect(FileManager.default.fileExists(atPath: workspace.path("data/env.sqlite")))
        #expect(try selectjob(["run", "--quiet", job], in: workspace.url).status == 0)
        #expect(FileManager.default.fileExists(atPath: workspace.path("selections.sqlite")))
    }

    @Test func badJobExits64AndWritesNothing() throws {
        let job = try workspace.writeJob("bad", method: #"{"name": "activeft", "temprature": 0.1}"#)
        let outcome = try selectjob(["run", job], in: workspace.url)
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("selectjob: error: \(job): method.temprature: unknown key"))
        #expect(!FileManager.default.fileExists(atPath: workspace.path("data/sel.sqlite")))
    }

    @Test func budgetLargerThanThePoolExits64AndWritesNothing() throws {
        let job = try workspace.writeJob("greedy", budget: #"{"count": 601}"#)
        let outcome = try selectjob(["run", job], in: workspace.url)
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("\(job): budget 601 is outside 1...600 (the pool has 600 samples)"))
        #expect(!FileManager.default.fileExists(atPath: workspace.path("data/sel.sqlite")))
    }

    @Test func badDataExits65AndWritesNothing() throws {
        try workspace.writeFeatures("data/nan.h5") { $0[17 * 16 + 3] = .nan }
        let nanJob = try workspace.writeJob("nan", features: "../data/nan.h5")
        let nan = try selectjob(["run", nanJob], in: workspace.url)
        #expect(nan.status == 65)
        #expect(nan.stderr.contains("\(workspace.path("data/nan.h5")): dataset 'features' has nan at row 17, column 3"))

        let missingJob = try workspace.writeJob("missing", features: "../data/nowhere.h5")
        let missing = try selectjob(["run", missingJob], in: workspace.url)
        #expect(missing.status == 65)
        #expect(missing.stderr.contains("\(workspace.path("data/nowhere.h5")): no such file"))
        #expect(!FileManager.default.fileExists(atPath: workspace.path("data/sel.sqlite")))
    }

    @Test func lockedDatabaseExits75AndLeavesNoRun() throws {
        let job = try workspace.writeJob("locked")
        #expect(try selectjob(["run", "--quiet", job], in: workspace.url).status == 0)
        let holder = try DatabaseQueue(path: workspace.path("data/sel.sqlite"))
        try holder.inDatabase { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            let outcome = try selectjob(["run", "--quiet", "--force", "--busy-timeout", "0.2", job], in: workspace.url)
            #expect(outcome.status == 75)
            #expect(outcome.stderr.contains("database is locked"))
            try db.execute(sql: "ROLLBACK")
        }
        #expect(try workspace.database().read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM runs") } == 1)
    }

    @Test func everyJobRunsAndTheFirstFailureSetsTheExitCode() throws {
        let good = try workspace.writeJob("good")
        let bad = try workspace.writeJob("bad-budget", budget: #"{"count": 0}"#)
        let outcome = try selectjob(["run", "--quiet", bad, good], in: workspace.url)
        #expect(outcome.status == 64)
        #expect(outcome.stdout.contains("job       good"))
    }

    @Test func vtlRunRecordsPicksValuesAndItsTargets() throws {
        try workspace.writeFeatures("data/targets.h5", rows: 40)
        let job = try workspace.writeJob("vtl", method: #"""
            {"name": "vtl", "targets": {"path": "../data/targets.h5", "rows": [0, 25]}, "prefilter": {"k": 300}}
            """#, budget: #"{"count": 20}"#)
        let outcome = try selectjob(["run", job], in: workspace.url)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("method    vtl"))
        try workspace.database().read { db in
            let params = try String.fetchOne(db, sql: "SELECT params_json FROM runs")!
            #expect(params.contains(#""prefilter":{"k":300}"#))
            #expect(params.contains(#""inputs":{"targets":{"#) && params.contains(#""m":25"#))
            let scores = try Double.fetchAll(db, sql: "SELECT score FROM selections ORDER BY rank")
            let values = try Double.fetchAll(db, sql: "SELECT value FROM run_metrics WHERE name = 'value' ORDER BY step")
            #expect(scores.count == 20 && scores == values)
            #expect(zip(scores, scores.dropFirst()).allSatisfy { $0.0 <= $0.1 })
        }

        let undirected = try workspace.writeJob("undirected", method: #"{"name": "vtl", "normalize": true}"#)
        #expect(try selectjob(["run", "--quiet", undirected], in: workspace.url).status == 0)
    }

    /// Every method `selectjob methods` lists runs end to end with its defaults and records its curve.
    @Test func everyListedMethodRunsThroughTheBinary() throws {
        let listed = try selectjob(["methods", "--json"], in: workspace.url)
        #expect(listed.status == 0)
        let methods = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as! [[String: Any]]
        #expect(methods.count >= 8)
        do {  // predictions for the uncertainty methods: a softmax of three feature columns
            let features = try HDF5File.open(readingAt: workspace.path("data/features.h5")).dataset("features").readFloats()
            var probabilities: [Float] = []
            for row in 0..<600 {
                let logits = (0..<3).map { Double(features[row * 16 + $0]) }
                let total = logits.reduce(0) { $0 + exp($1) }
                probabilities += logits.map { Float(exp($0) / total) }
            }
            try HDF5File.create(at: workspace.path("data/predictions.h5"))
                .write(floats: probabilities, shape: [600, 3], to: "predictions")
            // A validation set for the ATL methods: 60 samples, the model wrong on every third.
            let validation = try HDF5File.create(at: workspace.path("data/validation.h5"))
            try validation.write(floats: Array(features[(100 * 16)..<(160 * 16)]), shape: [60, 16], to: "features")
            let truth: [Int64] = (0..<60).map { Int64($0 % 2) }
            let predicted: [Int64] = truth.indices.map { (i: Int) -> Int64 in i % 3 == 0 ? 1 - truth[i] : truth[i] }
            try validation.write(int64s: truth, to: "labels")
            try validation.write(int64s: predicted, to: "predicted")
            try HDF5File.create(at: workspace.path("data/labelled.h5")).write(int64s: [1_000_001, 1_000_002, 1_000_300], to: "ids")
        }
        for method in methods {
            let name = method["name"] as! String
            // Required inputs: features are the first 20 pool rows; predictions the file above.
            let inputs = (method["inputs"] as! [[String: Any]]).filter { $0["required"] as! Bool || $0["kind"] as? String == "predictions" }
                .map { input -> String in
                    switch input["kind"] as? String {
                    case "predictions": #", "\#(input["name"] as! String)": {"path": "../data/predictions.h5"}"#
                    case "validation": #", "\#(input["name"] as! String)": {"path": "../data/validation.h5"}"#
                    default: #", "\#(input["name"] as! String)": {"path": "../data/features.h5", "rows": [0, 20]}"#
                    }
                }.joined()
            // Methods that need labelled samples get three, with their labels from the pool.
            var extra = ", \"database\": \"../data/sel.sqlite\""
            if (method["labelled"] as! String).hasPrefix("Required") {
                extra += ", \"labelled\": {\"path\": \"../data/labelled.h5\", \"labels\": \"pool\"}"
            }
            let job = try workspace.writeJob("every-\(name)", method: #"{"name": "\#(name)"\#(inputs)}"#, budget: #"{"count": 12}"#,
                                             extra: extra)
            let outcome = try selectjob(["run", "--quiet", job], in: workspace.url)
            #expect(outcome.status == 0, "\(name): \(outcome.stderr) \((try? String(contentsOfFile: workspace.path(job), encoding: .utf8)) ?? "")")
            try workspace.database().read { db in
                let run = try Row.fetchOne(db, sql: "SELECT id, method, status, params_json FROM runs WHERE job = ?",
                                           arguments: ["every-\(name)"])!
                #expect(run["method"] as String == name && run["status"] as String == "succeeded")
                #expect((run["params_json"] as String).contains(#""name":"\#(name)""#))
                let rows = try Int.fetchAll(db, sql: "SELECT row_index FROM selections WHERE run_id = ?", arguments: [run["id"] as Int64])
                #expect(rows.count == 12 && Set(rows).count == 12)
            }
        }
    }

    /// ProbCover learns that δ is too large only while building its graph: the run is recorded as
    /// failed with the reason, and the exit code is still 64 (the job's parameter is at fault).
    @Test func probCoverGraphOverMaxEdgesFailsTheRunWithExit64() throws {
        let job = try workspace.writeJob("dense", method: #"{"name": "probcover", "delta": 1.5, "max_edges": 1000}"#,
                                         budget: #"{"count": 10}"#)
        let outcome = try selectjob(["run", "--quiet", job], in: workspace.url)
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("delta 1.5 gives") && outcome.stderr.contains("more than max_edges 1000; use a smaller delta"))
        try workspace.database().read { db in
            #expect(try String.fetchOne(db, sql: "SELECT status FROM runs WHERE job = 'dense'") == "failed")
            let error = try String.fetchOne(db, sql: "SELECT error FROM runs WHERE job = 'dense'") ?? ""
            #expect(error.contains("max_edges 1000"))
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM selections") == 0)
        }
    }

    @Test func vtlTargetsOfAnotherWidthAreRejectedBeforeAnyWork() throws {
        try workspace.writeFeatures("data/narrow.h5", rows: 10, dimensions: 8)
        let job = try workspace.writeJob("narrow", method: #"{"name": "vtl", "targets": {"path": "../data/narrow.h5"}}"#)
        let outcome = try selectjob(["run", job], in: workspace.url)
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("\(job): the targets have 8 features per row but the pool has 16"))
        #expect(!FileManager.default.fileExists(atPath: workspace.path("data/sel.sqlite")))
        let missing = try workspace.writeJob("gone", method: #"{"name": "vtl", "targets": {"path": "../data/gone.h5"}}"#)
        #expect(try selectjob(["run", missing], in: workspace.url).status == 65)
    }

    @Test func validateChecksJobAndDataWithoutWriting() throws {
        let job = try workspace.writeJob("check")
        let ok = try selectjob(["validate", job], in: workspace.url)
        #expect(ok.status == 0)
        #expect(ok.stdout.contains("\(job): ok (job check, activeft, N=600, d=16, K=30"))
        #expect(!FileManager.default.fileExists(atPath: workspace.path("data/sel.sqlite")))
        let badJob = try workspace.writeJob("rows", method: #"{"name": "activeft", "init": {"rows": [1, 2]}}"#)
        let bad = try selectjob(["validate", badJob], in: workspace.url)
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("\(badJob): 2 initial rows were given but the budget is 30 (one per centroid)"))
    }

    @Test(arguments: [["run"], ["frobnicate"], ["run", "--busy-timeout", "-1", "x.json"], ["run", "--threads", "0", "x.json"], ["validate"]])
    func usageErrorsExit64(arguments: [String]) throws {
        let outcome = try selectjob(arguments, in: workspace.url)
        #expect(outcome.status == 64, "\(arguments): \(outcome.stderr)")
        #expect(outcome.stderr.contains("Error:") || outcome.stderr.contains("error:"))
    }

    @Test(arguments: [["--help"], ["run", "--help"], ["validate", "--help"], ["--version"]])
    func helpAndVersionExit0(arguments: [String]) throws {
        let outcome = try selectjob(arguments, in: workspace.url)
        #expect(outcome.status == 0)
        #expect(!outcome.stdout.isEmpty)
    }

    /// A reader that closes the pipe (`run a b c | head -c 1`) no longer kills run with SIGPIPE: the
    /// command ends with exit 74 and every job still runs and is recorded.
    @Test func aClosedPipeIsExit74AndEveryJobStillRuns() throws {
        for name in ["a", "b", "c"] {
            try workspace.writeJob(name, method: #"{"name": "random"}"#, budget: #"{"count": 10}"#)
        }
        let script = "\"$0\" run jobs/a.json jobs/b.json jobs/c.json | head -c 1 > /dev/null; echo \"status ${PIPESTATUS[0]}\""
        let shell = try selectjob(["-c", script, selectjobBinary.path], in: workspace.url,
                                  executable: URL(fileURLWithPath: "/bin/bash"), timeout: 120)
        #expect(shell.stdout.contains("status 74"), "\(shell.stdout) \(shell.stderr)")
        #expect(shell.stderr.contains("standard output: cannot write"), "\(shell.stderr)")
        let jobs = try workspace.database().read { db in
            try String.fetchAll(db, sql: "SELECT job FROM runs WHERE status = 'succeeded' ORDER BY id")
        }
        #expect(jobs == ["a", "b", "c"])
    }

    /// Two job files with one name and different content: the second run warns that each replaces the
    /// other's latest selection (they alternated silently, never skipped as unchanged).
    @Test func twoJobFilesWithOneNameAreWarnedAbout() throws {
        try workspace.writeJob("same", method: #"{"name": "random"}"#, budget: #"{"count": 10}"#)
        #expect(try selectjob(["run", "--quiet", "jobs/same.json"], in: workspace.url).status == 0)
        try FileManager.default.createDirectory(atPath: workspace.path("other"), withIntermediateDirectories: true)
        let text = try String(contentsOfFile: workspace.path("jobs/same.json"), encoding: .utf8)
            .replacingOccurrences(of: #""count": 10"#, with: #""count": 12"#)
        try text.write(toFile: workspace.path("other/same.json"), atomically: true, encoding: .utf8)
        let second = try selectjob(["run", "--quiet", "other/same.json"], in: workspace.url)
        #expect(second.status == 0)
        #expect(second.stderr.contains("another job file with other content has this job's name"), "\(second.stderr)")
        let quiet = try selectjob(["run", "--quiet", "--force", "other/same.json"], in: workspace.url)
        #expect(!quiet.stderr.contains("another job file"), "the same file again: \(quiet.stderr)")
    }

    /// ActiveFT's notes (picks still at their initial rows, the centroids' mean movement) are recorded
    /// and shown by run, show and runs --json.
    @Test func activeFTNotesAreRecordedAndShown() throws {
        let job = try workspace.writeJob("moved")
        let run = try selectjob(["run", job], in: workspace.url)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("notes     "), "\(run.stdout)")
        #expect(run.stdout.contains("of 30 picks are the rows the centroids started at"), "\(run.stdout)")
        let show = try selectjob(["show", "1", "--db", "data/sel.sqlite"], in: workspace.url)
        #expect(show.stdout.contains("centroids moved"), "\(show.stdout)")
        let runs = try selectjob(["runs", "--db", "data/sel.sqlite", "--json"], in: workspace.url)
        let objects = try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as! [[String: Any]]
        let notes = try #require(objects.first?["notes"] as? [String: Any])
        #expect(notes["picks_at_initial_rows"] != nil && notes["mean_centroid_movement"] != nil)
        let stored = try workspace.database().read { db in try String.fetchOne(db, sql: "SELECT notes_json FROM runs")! }
        #expect(stored.hasPrefix("{\"mean_centroid_movement\":"), "\(stored)")
    }
}
