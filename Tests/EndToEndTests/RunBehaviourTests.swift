import Foundation
import GRDB
import HDF5
import Testing
import TestSupport

/// How `run` behaves around a job: unchanged skips, temporary failures, errors, logs, progress, JSON.
@Suite struct RunBehaviourTests {
    let runs: TwoRecordedRuns
    var workspace: Workspace { runs.workspace }
    var db: [String] { runs.db }

    init() throws { runs = try TwoRecordedRuns() }

    /// A job is skipped as unchanged only if the selectjob version and every input it reads
    /// are unchanged too.
    @Test func anUpgradeOrAChangedInputRunsTheJobAgain() throws {
        try workspace.writeFeatures("data/targets.h5", rows: 30)
        let job = try workspace.writeJob("directed", method: #"{"name": "itl", "targets": {"path": "../data/targets.h5"}}"#,
                                         budget: #"{"count": 5}"#)
        #expect(try selectjob(["run", "--quiet", job], in: workspace.url).status == 0)
        #expect(try selectjob(["run", "--quiet", job], in: workspace.url).stdout.contains("unchanged since run 3"))
        // As if run 3 had been made by an older selectjob.
        try GRDB.DatabaseQueue(path: workspace.path("data/sel.sqlite")).write { db in
            try db.execute(sql: "UPDATE runs SET tool_version = '0.0.1' WHERE id = 3")
        }
        let upgraded = try selectjob(["run", "--quiet", job], in: workspace.url)
        #expect(upgraded.status == 0 && upgraded.stdout.contains("run       4"), "\(upgraded.stdout)")
        // The same job file with changed targets runs again.
        try workspace.writeFeatures("data/targets.h5", rows: 30) { values in values[0] += 1 }
        let changed = try selectjob(["run", "--quiet", job], in: workspace.url)
        #expect(changed.status == 0 && changed.stdout.contains("run       5"), "\(changed.stdout)")
    }

    /// A feature file another process holds open for writing is exit 75 (retry later), not 65.
    @Test func aFeatureFileBeingWrittenIsATemporaryFailure() throws {
        let path = workspace.path("data/busy.h5")
        let writer = try HDF5File.create(at: path)  // held open, and HDF5-locked, for writing until the test ends
        try writer.write(floats: (0..<64).map { Float($0 % 7) + 1 }, shape: [16, 4], to: "features")
        writer.flush()
        let job = try workspace.writeJob("busy", method: #"{"name": "random"}"#, budget: #"{"count": 3}"#,
                                         features: "../data/busy.h5")
        let outcome = try selectjob(["run", "--quiet", job], in: workspace.url)
        withExtendedLifetime(writer) {}
        #expect(outcome.status == 75, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("busy.h5: another process has the file open for writing"))
    }

    /// In a run of several jobs, each error line names its job file.
    @Test func errorsOfSeveralJobsNameTheirJob() throws {
        let fine = try workspace.writeJob("fine", method: #"{"name": "random"}"#, budget: #"{"count": 3}"#)
        let locked = try workspace.writeJob("elsewhere", method: #"{"name": "random"}"#, budget: #"{"count": 3}"#,
                                            extra: #", "database": "../nowhere/sel.sqlite""#)
        let outcome = try selectjob(["run", "--quiet", fine, locked], in: workspace.url)
        #expect(outcome.status == 73)
        #expect(outcome.stderr.contains("selectjob: error: \(locked): "), "\(outcome.stderr)")
    }

    /// Debug logging shows the phases with their timings.
    @Test func debugLoggingShowsThePhases() throws {
        let job = try workspace.writeJob("phases", method: #"{"name": "random"}"#, budget: #"{"count": 3}"#)
        let info = try selectjob(["run", "--quiet", job], in: workspace.url)
        let debug = try selectjob(["run", "--quiet", "--force", "--log-level", "debug", job], in: workspace.url)
        for phase in ["job parsed", "lock taken", "features and inputs read and checked", "database opened",
                      "selection computed", "committed"] {
            #expect(debug.stderr.contains(phase), "\(phase)")
            #expect(!info.stderr.contains(phase))
        }
        #expect(debug.stderr.contains("seconds="))
    }

    /// On a terminal, each redraw clears the rest of the line and the last one ends it, so
    /// the next line never starts glued to the bar.
    @Test func theProgressBarClearsItsLineAndEndsIt() throws {
        let job = try workspace.writeJob("bar", method: #"{"name": "kcenter"}"#, budget: #"{"count": 50}"#)
        let process = prepareProcess(URL(fileURLWithPath: "/usr/bin/script"),
                                     ["-qec", "\(selectjobBinary.path) run --log-level warning \(job)", "/dev/null"],
                                     in: workspace.url)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else {
            print("skipped: script(1) is not available to provide a terminal")
            return
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("\u{1B}[K"), "every redraw clears the rest of the line")
        #expect(text.contains("50/50"), "\(text)")
        let afterBar = try #require(text.range(of: "50/50"))
        let rest = text[afterBar.upperBound...]
        let newline = rest.firstIndex { $0.isNewline }  // the terminal writes "\r\n", one Character
        let endOfBar = try #require(newline)
        #expect(!rest[..<endOfBar].contains("job "), "the summary starts on a line of its own: \(text)")
    }

    /// Issue 10, expected by users: a warning (not an error) when the features look transposed.
    @Test func featuresWithMoreColumnsThanRowsWarn() throws {
        try workspace.writeFeatures("data/wide.h5", rows: 20, dimensions: 64)
        let job = try workspace.writeJob("wide", method: #"{"name": "random"}"#, budget: #"{"count": 3}"#,
                                         features: "../data/wide.h5")
        let outcome = try selectjob(["run", "--quiet", job], in: workspace.url)
        #expect(outcome.status == 0)
        #expect(outcome.stderr.contains("warning") && outcome.stderr.contains("is the dataset transposed"), "\(outcome.stderr)")
        let normal = try selectjob(["run", "--quiet", "--force", try workspace.writeJob("tall", method: #"{"name": "random"}"#,
                                                                                      budget: #"{"count": 3}"#)], in: workspace.url)
        #expect(!normal.stderr.contains("transposed"))
    }

    /// Issue 10, expected by users: `run --json` (one object per job) and `show --json`.
    @Test func runAndShowSpeakJSON() throws {
        let good = try workspace.writeJob("good")  // rewritten (ActiveFT now), so it runs again
        let fresh = try workspace.writeJob("fresh", method: #"{"name": "kcenter"}"#, budget: #"{"count": 4}"#)
        let broken = try workspace.writeJob("broken", method: #"{"name": "kcenter", "metric": "manhattan"}"#)
        let outcome = try selectjob(["run", "--quiet", "--json", fresh, good, broken], in: workspace.url)
        #expect(outcome.status == 64)
        let objects = try outcome.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(objects.map { $0["outcome"] as? String } == ["completed", "completed", "failed"])
        #expect(objects[0]["run"] as? Int == 3 && objects[0]["budget"] as? Int == 4 && objects[0]["method"] as? String == "kcenter")
        #expect(objects[2]["exit_code"] as? Int == 64 && (objects[2]["error"] as? String)?.contains("method.metric") == true)

        let shown = try selectjob(["show", "3", "--json"] + db, in: workspace.url)
        #expect(shown.status == 0)
        let run = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
        #expect(run["id"] as? Int == 3 && run["status"] as? String == "succeeded" && run["selected"] as? Int == 4)
        #expect((run["params"] as? [String: Any])?["metric"] as? String == "cosine")
        #expect((run["selection"] as? [[String: Any]])?.count == 4)
        #expect((run["curves"] as? [String: [Double]])?["radius"]?.count == 4)
        #expect((run["classes"] as? [[String: Any]])?.isEmpty == false)
    }
}
