import Foundation
import GRDB
import Testing
import TestSupport

/// What `--db` may name: one regular SQLite file with one name, reachable, undamaged. Anything else is
/// exit 73 at once, before a lock file or a computation, never a hang or a lost run.
@Suite struct DatabaseFileTests {
    let workspace: Workspace

    init() throws {
        workspace = try Workspace()
        try workspace.writeFeatures()
        try workspace.writeJob("k", method: #"{"name": "kmeans"}"#, budget: #"{"count": 10}"#, extra: "")
    }

    func run(_ db: String, _ extra: [String] = [], timeout: Double = 60) throws -> Outcome {
        try selectjob(["run", "--quiet", "--db", db] + extra + ["jobs/k.json"], in: workspace.url, timeout: timeout)
    }

    func lockFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: workspace.path("data")).filter { $0.hasSuffix(".lock") }
    }

    /// A FIFO as the database: run, validate and runs exit 73 at once (they blocked in open(2)).
    @Test func aFIFOIsRefusedAtOnce() throws {
        let fifo = workspace.path("data/pipe.sqlite")
        #expect(mkfifo(fifo, 0o600) == 0)
        let outcome = try run(fifo, timeout: 20)
        #expect(outcome.status == 73, "\(outcome.status) \(outcome.stderr)")
        #expect(outcome.stderr.contains("is a FIFO, not a database file"), "\(outcome.stderr)")
        #expect(try selectjob(["validate", "--db", fifo, "jobs/k.json"], in: workspace.url, timeout: 20).status == 73)
        #expect(try selectjob(["runs", "--db", fifo], in: workspace.url, timeout: 20).status == 73)
        #expect(try lockFiles().isEmpty)
    }

    /// A character device (a null device of the test's own) is refused, and no lock file is made beside it.
    @Test func aDeviceIsRefusedWithoutALockFile() throws {
        let path = workspace.path("data/null")
        guard mknod(path, S_IFCHR | 0o666, dev_t((1 << 8) | 3)) == 0 else {
            print("skipped: cannot create a device node here (needs root)")
            return
        }
        let outcome = try run(path)
        #expect(outcome.status == 73)
        #expect(outcome.stderr.contains("is a character device"), "\(outcome.stderr)")
        #expect(try lockFiles().isEmpty)
    }

    /// One database under two hard links is refused through either name (two names, two WALs: runs
    /// that exited 0 were lost); a symbolic link is fine.
    @Test func aHardLinkedDatabaseIsRefused() throws {
        #expect(try run(workspace.path("data/sel.sqlite")).status == 0)
        #expect(link(workspace.path("data/sel.sqlite"), workspace.path("data/other.sqlite")) == 0)
        for name in ["sel", "other"] {
            let outcome = try run(workspace.path("data/\(name).sqlite"), ["--force"])
            #expect(outcome.status == 73)
            #expect(outcome.stderr.contains("has 2 hard links"), "\(outcome.stderr)")
        }
        #expect(try selectjob(["runs", "--db", "data/other.sqlite"], in: workspace.url).status == 73)
        #expect(unlink(workspace.path("data/other.sqlite")) == 0)
        try FileManager.default.createSymbolicLink(atPath: workspace.path("data/alias.sqlite"), withDestinationPath: "sel.sqlite")
        #expect(try run(workspace.path("data/alias.sqlite"), ["--force"]).status == 0)
    }

    /// A truncated database and one missing a table are exit 73 before any computation, naming the problem.
    @Test func damagedDatabasesAreUnavailable() throws {
        let path = workspace.path("data/sel.sqlite")
        #expect(try run(path).status == 0)
        let copy = workspace.path("data/missing.sqlite")
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        try DatabaseQueue(path: copy).write { db in try db.execute(sql: "DROP TABLE run_metrics") }
        let missing = try run(copy, ["--force"])
        #expect(missing.status == 73)
        #expect(missing.stderr.contains("the selectjob table 'run_metrics' is missing"), "\(missing.stderr)")
        #expect(!missing.stderr.contains("run started"))

        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let truncated = workspace.path("data/truncated.sqlite")
        try data.prefix(data.count / 2 + 100).write(to: URL(fileURLWithPath: truncated))
        let outcome = try run(truncated, ["--force"])
        #expect(outcome.status == 73, "\(outcome.status) \(outcome.stderr)")
        #expect(try selectjob(["runs", "--db", truncated], in: workspace.url).status == 73)
    }

    /// --busy-timeout beyond SQLite's 32-bit milliseconds is a usage error (it trapped in the database layer).
    @Test func aBusyTimeoutBeyondSQLitesLimitIsUsage() throws {
        let outcome = try run(workspace.path("data/sel.sqlite"), ["--busy-timeout", "3000000"])
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("--busy-timeout must be a number of seconds in 0 ... 2147483"), "\(outcome.stderr)")
    }

    /// A job whose lock file name is too long for the file system fails validate as it fails run.
    @Test func validateFindsALockFileNameTooLong() throws {
        let name = String(repeating: "j", count: 128)
        try workspace.writeJob(name, method: #"{"name": "random"}"#, budget: #"{"count": 10}"#, extra: "")
        let db = workspace.path("data/" + String(repeating: "d", count: 120) + ".sqlite")
        let validate = try selectjob(["validate", "--db", db, "jobs/\(name).json"], in: workspace.url)
        #expect(validate.status == 73, "\(validate.stderr)")
        #expect(validate.stderr.contains("longer than the file system's 255"), "\(validate.stderr)")
        #expect(try selectjob(["run", "--quiet", "--db", db, "jobs/\(name).json"], in: workspace.url).status == 73)
    }
}
