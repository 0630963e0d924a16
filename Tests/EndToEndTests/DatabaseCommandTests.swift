import Foundation
import GRDB
import HDF5
import Testing
import TestSupport

/// The database as the commands meet it: paths, foreign or read-only files, validate, prune.
@Suite struct DatabaseCommandTests {
    let runs: TwoRecordedRuns
    var workspace: Workspace { runs.workspace }
    var db: [String] { runs.db }

    init() throws { runs = try TwoRecordedRuns() }

    /// An empty `--db` or `SELECTJOB_DB` is exit 64 naming it, and creates nothing.
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

    /// An SQLite file of another application is refused with 73 and left byte-identical.
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

    /// Every reader works on a database in an immutable folder and creates no file there.
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
