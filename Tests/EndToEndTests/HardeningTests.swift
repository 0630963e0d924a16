import Foundation
import GRDB
import HDF5
import Testing

/// Faults an adversarial new-user test found (issue 10), each kept fixed through the binary.
@Suite struct HardeningTests {
    let workspace: Workspace
    let db: [String]

    /// Run 1 succeeded (k-means, 10 samples); run 2 failed (ProbCover over its max_edges).
    init() throws {
        workspace = try Workspace()
        try workspace.writeFeatures()
        db = ["--db", workspace.path("data/sel.sqlite")]
        let good = try workspace.writeJob("good", method: #"{"name": "kmeans"}"#, budget: #"{"count": 10}"#)
        let bad = try workspace.writeJob("bad", method: #"{"name": "probcover", "delta": 1.5, "max_edges": 100}"#,
                                         budget: #"{"count": 10}"#)
        #expect(try selectjob(["run", "--quiet", good], in: workspace.url).status == 0)
        #expect(try selectjob(["run", "--quiet", bad], in: workspace.url).status == 64)
    }

    /// A character device node in the workspace with the given numbers (1,3 is null, 1,7 is full), so
    /// a regression replaces the test's own node, never /dev's; nil when not permitted (not root).
    func device(_ name: String, minor: UInt32) -> String? {
        let path = workspace.path("data/\(name)")
        let number = dev_t((1 << 8) | minor)  // glibc's makedev(1, minor) for minor < 256
        return mknod(path, S_IFCHR | 0o666, number) == 0 ? path : nil
    }

    func export(_ arguments: [String]) throws -> Outcome {
        try selectjob(["export", "1", "--format", "csv"] + arguments + db, in: workspace.url)
    }

    /// Item 1: a symlink is followed — its target gets the export, the link stays a link.
    @Test func exportFollowsASymlinkToItsTarget() throws {
        let target = workspace.path("data/real.csv"), link = workspace.path("data/link.csv")
        try Data("old".utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "real.csv")
        #expect(try export(["-o", link]).status == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "real.csv")
        #expect(try String(contentsOfFile: target, encoding: .utf8).hasPrefix("rank,row_index,sample_id,score\n"))
    }

    /// Item 1: a replaced regular file keeps its permissions.
    @Test func exportKeepsTheReplacedFilesMode() throws {
        let path = workspace.path("data/private.csv")
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        #expect(chmod(path, 0o600) == 0)
        #expect(try export(["-o", path]).status == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("rank,"))
    }

    /// Item 1: a device is written through, never replaced by a regular file.
    @Test func exportToADeviceWritesThroughIt() throws {
        guard let null = device("null", minor: 3) else {
            print("skipped: cannot create a device node here (needs root)")
            return
        }
        #expect(try export(["-o", null]).status == 0)
        var info = stat()
        #expect(stat(null, &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR)
    }

    /// Item 1: a FIFO's reader gets the export.
    @Test func exportToAFIFOReachesItsReader() throws {
        let fifo = workspace.path("data/pipe")
        #expect(mkfifo(fifo, 0o600) == 0)
        let received = workspace.path("data/received.csv")
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/sh")
        reader.arguments = ["-c", "cat \"$0\" > \"$1\"", fifo, received]
        try reader.run()
        let outcome = try export(["-o", fifo])
        reader.waitUntilExit()
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(try String(contentsOfFile: received, encoding: .utf8).split(separator: "\n").count == 11)
        var info = stat()
        #expect(stat(fifo, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO)
    }

    /// Item 1: `-o -` is standard output.
    @Test func exportDashIsStandardOutput() throws {
        let outcome = try export(["-o", "-"])
        #expect(outcome.status == 0)
        #expect(outcome.stdout.hasPrefix("rank,row_index,sample_id,score\n"))
        #expect(!FileManager.default.fileExists(atPath: workspace.path("-")))
    }

    /// Item 5: a failed write — to a file or to standard output — is exit 74 naming where.
    @Test func failedWritesExit74() throws {
        if let full = device("full", minor: 7) {
            let toFile = try export(["-o", full])
            #expect(toFile.status == 74)
            #expect(toFile.stderr.contains("\(full): cannot write"))
        } else {
            print("skipped the export-to-device half: cannot create a device node here (needs root)")
        }
        for arguments in [["export", "1", "--format", "csv"], ["runs"], ["show", "1"], ["diff", "1", "1"],
                          ["methods"]] {
            let process = prepareProcess(selectjobBinary, arguments + (arguments == ["methods"] ? [] : db), in: workspace.url)
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/full")
            let errors = Pipe()
            process.standardError = errors
            try process.run()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 74, "\(arguments)")
            #expect(message.contains("standard output: cannot write"), "\(arguments): \(message)")
        }
    }

    /// Item 6: a run without a selection is exit 64 for export and diff; show marks it.
    @Test func runsThatDidNotSucceedHaveNoSelectionToReadOrCompare() throws {
        for arguments in [["export", "2", "--format", "json"], ["diff", "1", "2"]] {
            let outcome = try selectjob(arguments + db, in: workspace.url)
            #expect(outcome.status == 64, "\(arguments)")
            #expect(outcome.stderr.contains("run 2 (job bad) is failed"), "\(arguments): \(outcome.stderr)")
            #expect(outcome.stdout.isEmpty)
        }
        let shown = try selectjob(["show", "2"] + db, in: workspace.url)
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("selection  none: the run is failed, not succeeded"))
    }

    /// Item 2: a symbolic link planted at the lock file's path is refused; its target is untouched.
    @Test func aSymlinkAtTheLockPathIsRefusedAndItsTargetUntouched() throws {
        let victim = workspace.path("data/victim.txt")
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: victim))
        let job = try workspace.writeJob("planted")
        try FileManager.default.createSymbolicLink(atPath: workspace.path("data/sel.sqlite.planted.lock"),
                                                   withDestinationPath: victim)
        let outcome = try selectjob(["run", "--quiet", job], in: workspace.url)
        #expect(outcome.status == 73, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("sel.sqlite.planted.lock is a symbolic link; refusing to use it"))
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
    }

    /// Item 3: the same database through a symlinked folder has the same job lock, and `runs`
    /// through the other path does not mark the live run crashed.
    @Test func oneDatabaseByTwoPathsHasOneLockPerJob() throws {
        try FileManager.default.createSymbolicLink(atPath: workspace.path("alias"), withDestinationPath: workspace.path("data"))
        let endless = try workspace.writeJob("endless", method: #"{"name": "activeft", "iterations": 1000000}"#)
        let (first, _) = try startSelectjob(["run", "--quiet", endless], in: workspace.url)
        defer { if first.isRunning { first.terminate(); first.waitUntilExit() } }
        let running = { () throws -> Bool in
            (try? self.workspace.database().read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM runs WHERE status = 'running'") }) == 1
        }
        #expect(try eventually(running))
        let other = ["--db", workspace.path("alias/sel.sqlite")]
        let second = try selectjob(["run", "--quiet"] + other + [endless], in: workspace.url)
        #expect(second.status == 75, "\(second.stderr)")
        #expect(try selectjob(["runs"] + other, in: workspace.url).status == 0)
        #expect(try running(), "the live run must still be running, not crashed")
    }

    /// Item 17: asking whether a job's lock is held never takes it, so a run starting meanwhile never
    /// fails with 75 because of `runs`.
    @Test func checkingForCrashedRunsNeverBlocksAStartingRun() throws {
        let job = try workspace.writeJob("quick", method: #"{"name": "random"}"#, budget: #"{"count": 5}"#)
        // While each run is 'running', `runs` checks that job's lock on every call.
        let stop = Atomic(false)
        let folder = workspace.url, db = self.db
        let checker = Thread {
            while !stop.value { _ = try? selectjob(["runs"] + db, in: folder) }
        }
        checker.start()
        defer { stop.value = true }
        for _ in 0..<15 {
            let outcome = try selectjob(["run", "--quiet", "--force", job], in: workspace.url)
            #expect(outcome.status == 0, "\(outcome.stderr)")
        }
    }
}

extension HardeningTests {
    /// Item 11: an empty `--db` or `SELECTJOB_DB` is exit 64 naming it, and creates nothing.
    @Test func emptyDatabasePathsAreUsageErrors() throws {
        let job = try workspace.writeJob("somewhere")
        let before = try FileManager.default.contentsOfDirectory(atPath: workspace.url.path).sorted()
        for (arguments, environment, named) in [(["run", "--db", "", job], [String: String](), "--db: the database path is empty"),
                                                (["run", job], ["SELECTJOB_DB": ""], "SELECTJOB_DB is set but empty"),
                                                (["runs", "--db", ""], [:], "--db: the database path is empty"),
                                                (["runs"], ["SELECTJOB_DB": ""], "SELECTJOB_DB is set but empty")] {
            let outcome = try selectjob(arguments, in: workspace.url, environment: environment)
            #expect(outcome.status == 64, "\(arguments)")
            #expect(outcome.stderr.contains(named), "\(arguments): \(outcome.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.url.path).sorted() == before)
    }
}

extension HardeningTests {
    /// Item 16: a job is skipped as unchanged only if the selectjob version and every input it reads
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
}

extension HardeningTests {
    /// Item 10: an SQLite file of another application is refused with 73 and left byte-identical.
    @Test func aForeignDatabaseIsRefusedAndLeftUntouched() throws {
        let path = workspace.path("data/other.sqlite")
        try GRDB.DatabaseQueue(path: path).write { db in
            try db.execute(sql: "CREATE TABLE runs (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO runs (note) VALUES ('mine')")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let job = try workspace.writeJob("intruder", method: #"{"name": "random"}"#, budget: #"{"count": 3}"#)
        for arguments in [["run", "--quiet", "--db", path, job], ["validate", "--db", path, job], ["runs", "--db", path]] {
            let outcome = try selectjob(arguments, in: workspace.url)
            #expect(outcome.status == 73, "\(arguments): \(outcome.stderr)")
            #expect(outcome.stderr.contains("not a selectjob database (it has tables runs but no selectjob schema)"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal") && !FileManager.default.fileExists(atPath: path + "-shm"))
    }

    /// Item 12: `validate` finds what `run` would reject with 73, and creates nothing.
    @Test func validateChecksTheDatabaseLikeRun() throws {
        let job = try workspace.writeJob("checked", method: #"{"name": "random"}"#, budget: #"{"count": 3}"#)
        try Data("just text\n".utf8).write(to: URL(fileURLWithPath: workspace.path("data/text.sqlite")))
        for (database, message) in [("nowhere/sel.sqlite", "does not exist"), ("data", "is a directory"),
                                    ("data/text.sqlite", "cannot open database")] {
            let validated = try selectjob(["validate", "--db", workspace.path(database), job], in: workspace.url)
            #expect(validated.status == 73, "\(database): \(validated.stderr)")
            #expect(validated.stderr.contains(message), "\(database): \(validated.stderr)")
            let ran = try selectjob(["run", "--quiet", "--db", workspace.path(database), job], in: workspace.url)
            #expect(ran.status == 73, "\(database): run and validate agree")
        }
        let fresh = workspace.path("data/fresh.sqlite")
        #expect(try selectjob(["validate", "--db", fresh, job], in: workspace.url).status == 0)
        #expect(!FileManager.default.fileExists(atPath: fresh))
    }

    /// Item 13: every reader works on a database in an immutable folder and creates no file there.
    @Test func readersWorkOnReadOnlyMediaAndCreateNothing() throws {
        let folder = workspace.path("data")
        let lock = { (flag: String) -> Bool in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["chattr", flag, folder, folder + "/sel.sqlite"]
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return false }
            process.waitUntilExit()
            return process.terminationStatus == 0
        }
        guard lock("+i") else {
            print("skipped: chattr +i is not available here (needs root and a filesystem that supports it)")
            return
        }
        defer { _ = lock("-i") }
        let before = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        for arguments in [["runs"], ["show", "1"], ["export", "1", "--format", "csv"], ["diff", "1", "1"]] {
            let outcome = try selectjob(arguments + db, in: workspace.url)
            #expect(outcome.status == 0, "\(arguments): \(outcome.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == before)
    }
}

extension HardeningTests {
    /// Item 8: a feature file another process holds open for writing is exit 75 (retry later), not 65.
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
}

extension HardeningTests {
    /// Item 21: in a run of several jobs, each error line names its job file.
    @Test func errorsOfSeveralJobsNameTheirJob() throws {
        let fine = try workspace.writeJob("fine", method: #"{"name": "random"}"#, budget: #"{"count": 3}"#)
        let locked = try workspace.writeJob("elsewhere", method: #"{"name": "random"}"#, budget: #"{"count": 3}"#,
                                            extra: #", "database": "../nowhere/sel.sqlite""#)
        let outcome = try selectjob(["run", "--quiet", fine, locked], in: workspace.url)
        #expect(outcome.status == 73)
        #expect(outcome.stderr.contains("selectjob: error: \(locked): "), "\(outcome.stderr)")
    }
}

extension HardeningTests {
    /// Item 20: debug logging shows the phases with their timings.
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

    /// Item 22: SIGTERM while waiting for the lock acts at once and says nothing was recorded.
    @Test func aSignalWhileWaitingForTheLockActsAtOnce() throws {
        let endless = try workspace.writeJob("endless", method: #"{"name": "activeft", "iterations": 1000000}"#)
        let (first, _) = try startSelectjob(["run", "--quiet", endless], in: workspace.url)
        defer { if first.isRunning { first.terminate(); first.waitUntilExit() } }
        #expect(try eventually {
            (try? self.workspace.database().read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM runs WHERE job = 'endless'") }) == 1
        })
        let (second, errors) = try startSelectjob(["run", "--quiet", "--wait", "120", endless], in: workspace.url)
        usleep(500_000)
        let signalled = Date()
        kill(second.processIdentifier, SIGTERM)
        second.waitUntilExit()
        #expect(Date().timeIntervalSince(signalled) < 3)
        #expect(second.terminationStatus == 143)
        let message = try String(contentsOf: errors, encoding: .utf8)
        #expect(message.contains("stopped by SIGTERM; before the run started: nothing was recorded"), "\(message)")
    }
}

extension HardeningTests {
    /// Item 19: on a terminal, each redraw clears the rest of the line and the last one ends it, so
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
}

extension HardeningTests {
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
}

extension HardeningTests {
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

extension HardeningTests {
    /// Issue 10, expected by users: `prune` deletes runs with everything of theirs, keeps what is read.
    @Test func pruneDeletesRunsAndWhatBelongsToThem() throws {
        let good = workspace.path("jobs/good.json")
        #expect(try selectjob(["run", "--quiet", "--force", good], in: workspace.url).status == 0)  // run 3
        let count = { (table: String, run: Int) throws -> Int in
            try self.workspace.database().read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \(table) WHERE run_id = ?", arguments: [run])! }
        }
        #expect(try count("selections", 1) == 10 && count("run_metrics", 1) > 0)

        #expect(try selectjob(["prune"] + db, in: workspace.url).status == 64)
        let dry = try selectjob(["prune", "--job", "good", "--dry-run"] + db, in: workspace.url)
        #expect(dry.stdout.contains("would delete 1 run: 1") && dry.stdout.contains("kept: run 3 is the latest succeeded run of good"))
        #expect(try count("selections", 1) == 10)

        let pruned = try selectjob(["prune", "--job", "good", "--vacuum"] + db, in: workspace.url)
        #expect(pruned.status == 0 && pruned.stdout.contains("deleted 1 run: 1; database compacted"), "\(pruned.stdout)")
        #expect(try count("selections", 1) == 0 && count("run_metrics", 1) == 0 && count("pool_labels", 1) == 0)
        #expect(try count("selections", 3) == 10)
        #expect(try selectjob(["export", "--job", "good", "--format", "txt"] + db, in: workspace.url).status == 0)

        #expect(try selectjob(["prune", "99"] + db, in: workspace.url).status == 64)
        #expect(try selectjob(["prune", "3", "--include-latest"] + db, in: workspace.url).stdout.contains("deleted 1 run: 3"))
        #expect(try selectjob(["export", "--job", "good", "--format", "txt"] + db, in: workspace.url).status == 64)
    }
}

extension HardeningTests {
    /// Issue 10, expected by users: an exported file says which run it came from — HDF5 attributes,
    /// a sidecar for the text formats (whose layout stays exactly as it is).
    @Test func exportsCarryTheirProvenance() throws {
        let csv = workspace.path("data/subset.csv"), h5 = workspace.path("data/subset.h5")
        #expect(try export(["-o", csv]).status == 0)
        #expect(try String(contentsOfFile: csv, encoding: .utf8).hasPrefix("rank,row_index,sample_id,score\n"))
        let sidecar = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: csv + ".provenance.json"))) as? [String: Any])
        let fingerprint = try FeatureTableFingerprint.of(workspace.path("data/features.h5"))
        #expect(sidecar["selectjob_run_id"] as? Int == 1 && sidecar["job"] as? String == "good" && sidecar["method"] as? String == "kmeans")
        #expect(sidecar["features_fingerprint"] as? String == fingerprint)
        #expect((sidecar["params"] as? [String: Any])?["max_iterations"] as? Int == 300)

        #expect(try selectjob(["export", "1", "--format", "hdf5", "-o", h5] + db, in: workspace.url).status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: h5))
        for text in ["selectjob_run_id", "features_fingerprint", fingerprint] {
            #expect(bytes.range(of: Data(text.utf8)) != nil, "\(text) is an attribute of the HDF5 export")
        }
        #expect(!FileManager.default.fileExists(atPath: h5 + ".provenance.json"))
        // The JSON list stays exactly ActiveFT's --subset_ids format.
        let json = workspace.path("data/subset.json")
        #expect(try selectjob(["export", "1", "--format", "json", "-o", json] + db, in: workspace.url).status == 0)
        #expect(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) is [Int])
    }
}

/// A flag shared with a helper thread.
final class Atomic<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
