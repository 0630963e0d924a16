import Foundation
import GRDB
import Selection
import Testing
import TestSupport

/// Starts `selectjob` in the background; the caller signals and waits for it.
func startSelectjob(_ arguments: [String], in folder: URL) throws -> (Process, URL) {
    let process = prepareProcess(selectjobBinary, arguments, in: folder)
    let errURL = folder.appendingPathComponent("stderr-\(UUID().uuidString).txt")
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    process.standardError = try FileHandle(forWritingTo: errURL)
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    return (process, errURL)
}

/// Polls `condition` every 50 ms for up to `seconds`.
func eventually(seconds: Double = 30, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(50_000)
    }
    return false
}

/// Overlap, signals, crashes, re-runs and an unusable database: what cron needs to rely on.
@Suite struct CronSafetyTests {
    let workspace: Workspace
    /// A job that computes until it is stopped (a million ActiveFT iterations).
    let endless: String

    init() throws {
        workspace = try Workspace()
        try workspace.writeFeatures()
        endless = try workspace.writeJob("endless", method: #"{"name": "activeft", "iterations": 1000000}"#)
    }

    /// Runs marked 'running' (0 while the database or its tables are still being created).
    func runningRows() throws -> Int {
        guard FileManager.default.fileExists(atPath: workspace.path("data/sel.sqlite")) else { return 0 }
        return (try? workspace.database().read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM runs WHERE status = 'running'") }) ?? 0
    }

    func statuses() throws -> [String] {
        try workspace.database().read { try String.fetchAll($0, sql: "SELECT status FROM runs ORDER BY id") }
    }

    func integrityAndNoPartialSelections() throws {
        try workspace.database().read { db in
            #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok")
            // A run has selection rows if and only if it succeeded, and then all K of them.
            let partial = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM runs r WHERE (r.status = 'succeeded') != (r.budget = (SELECT COUNT(*) FROM selections s WHERE s.run_id = r.id))
                """)
            #expect(partial == 0)
        }
    }

    @Test func secondRunOfTheSameJobExits75NamingTheHolder() throws {
        let (first, _) = try startSelectjob(["run", "--quiet", endless], in: workspace.url)
        defer { if first.isRunning { first.terminate(); first.waitUntilExit() } }
        #expect(try eventually { try runningRows() == 1 })
        let started = Date()
        let second = try selectjob(["run", "--quiet", endless], in: workspace.url)
        #expect(second.status == 75)
        #expect(second.stderr.contains("job 'endless' is already running (process \(first.processIdentifier) holds"))
        #expect(Date().timeIntervalSince(started) < 10, "exits at once")
        // A different job writes the same database meanwhile.
        let other = try workspace.writeJob("other")
        #expect(try selectjob(["run", "--quiet", other], in: workspace.url).status == 0)
    }

    @Test func waitWaitsForTheLock() throws {
        let slow = try workspace.writeJob("slow", method: #"{"name": "activeft", "iterations": 1500}"#)
        let (first, _) = try startSelectjob(["run", "--quiet", slow], in: workspace.url)
        #expect(try eventually { try runningRows() == 1 })
        let second = try selectjob(["run", "--quiet", "--force", "--wait", "120", slow], in: workspace.url)
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try statuses() == ["succeeded", "succeeded"])
    }

    @Test(arguments: [(Int32(SIGTERM), Int32(143)), (Int32(SIGINT), Int32(130))])
    func signalsCancelTheRunAndWriteNothingPartial(signal: Int32, expected: Int32) throws {
        let (process, errors) = try startSelectjob(["run", "--quiet", endless], in: workspace.url)
        #expect(try eventually { try runningRows() == 1 })
        usleep(200_000)
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        #expect(process.terminationStatus == expected)
        #expect(try String(contentsOf: errors, encoding: .utf8).contains("the run is recorded as cancelled"))
        #expect(try statuses() == ["cancelled"])
        try integrityAndNoPartialSelections()
    }

    @Test func killedRunIsMarkedCrashedByRunsAndByTheNextRun() throws {
        let (process, _) = try startSelectjob(["run", "--quiet", endless], in: workspace.url)
        #expect(try eventually { try runningRows() == 1 })
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(try statuses() == ["running"])
        try integrityAndNoPartialSelections()
        let listing = try selectjob(["runs", "--db", workspace.path("data/sel.sqlite")], in: workspace.url)
        #expect(listing.stdout.contains("crashed"))
        #expect(try statuses() == ["crashed"])

        // The next run of the job does the same for a run killed before it.
        let (again, _) = try startSelectjob(["run", "--quiet", endless], in: workspace.url)
        #expect(try eventually { try runningRows() == 1 })
        kill(again.processIdentifier, SIGKILL)
        again.waitUntilExit()
        let short = try workspace.writeJob("endless", method: #"{"name": "activeft", "iterations": 5}"#)
        #expect(try selectjob(["run", "--quiet", short], in: workspace.url).status == 0)
        #expect(try statuses() == ["crashed", "crashed", "succeeded"])
    }

    @Test func killsAtRandomMomentsNeverLeaveAPartialSelection() throws {
        let job = try workspace.writeJob("quick", method: #"{"name": "activeft", "iterations": 30}"#)
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<8 {
            let (process, _) = try startSelectjob(["run", "--quiet", "--force", job], in: workspace.url)
            usleep(UInt32.random(in: 20_000...600_000, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if FileManager.default.fileExists(atPath: workspace.path("data/sel.sqlite")) {
                try integrityAndNoPartialSelections()
            }
        }
    }

    @Test func unchangedJobAndDataAreSkippedUntilForcedOrChanged() throws {
        let job = try workspace.writeJob("again")
        #expect(try selectjob(["run", "--quiet", job], in: workspace.url).status == 0)
        let skipped = try selectjob(["run", "--quiet", job], in: workspace.url)
        #expect(skipped.status == 0)
        #expect(skipped.stdout.contains("job again: unchanged since run 1"))
        #expect(try statuses() == ["succeeded"])
        #expect(try selectjob(["run", "--quiet", "--force", job], in: workspace.url).status == 0)
        #expect(try statuses().count == 2)
        try workspace.writeFeatures(rows: 601)  // new data, same job file
        #expect(try selectjob(["run", "--quiet", job], in: workspace.url).stdout.contains("run       3"))
    }

    @Test func fullDiskDuringTheWriteExits74AndLeavesTheDatabaseIntact() throws {
        // A file-size limit (with SIGXFSZ ignored, so writes fail with EFBIG) plays a full disk: 128
        // blocks leave room to record the failure but not the 500 picks (measured: 72–192 blocks
        // work; 64 stopped leaving room for the failure once migration v7 added a table; 400 fits all).
        let job = try workspace.writeJob("big", method: #"{"name": "activeft", "iterations": 3}"#, budget: #"{"count": 500}"#)
        #expect(try selectjob(["run", "--quiet", job], in: workspace.url).status == 0)
        let limited = try selectjob(["-c", "trap '' XFSZ; ulimit -f 128; exec \"$0\" run --quiet --force \(job)",
                                     selectjobBinary.path], in: workspace.url, executable: URL(fileURLWithPath: "/bin/sh"))
        #expect(limited.status == 74, "\(limited.stderr)")
        #expect(limited.stderr.contains("I/O error") || limited.stderr.contains("disk full"))
        let recorded = try statuses()
        #expect(recorded == ["succeeded", "failed"], "\(recorded)")
        try integrityAndNoPartialSelections()
    }

    @Test func featuresReplacedDuringARunLeaveItOnTheDataItRead() throws {
        let job = try workspace.writeJob("swap", method: #"{"name": "activeft", "iterations": 3000}"#)
        let original = try FeatureTableFingerprint.of(workspace.path("data/features.h5"))
        let (process, errors) = try startSelectjob(["run", "--quiet", job], in: workspace.url)
        #expect(try eventually { try runningRows() == 1 })
        // Replace the file the way writers do: a new file renamed over the old one.
        try workspace.writeFeatures("data/replacement.h5", rows: 600) { values in values[0] += 1 }
        #expect(rename(workspace.path("data/replacement.h5"), workspace.path("data/features.h5")) == 0)
        process.waitUntilExit()
        let log = try String(contentsOf: errors, encoding: .utf8)
        #expect(process.terminationStatus == 0, "\(log)")
        let recorded = try workspace.database().read { try String.fetchOne($0, sql: "SELECT features_fingerprint FROM runs") }
        #expect(recorded == original)
        #expect(try FeatureTableFingerprint.of(workspace.path("data/features.h5")) != original)
    }

    @Test func unusableDatabaseExits73BeforeComputing() throws {
        let missingFolder = try workspace.writeJob("nofolder", extra: #", "database": "../nowhere/sel.sqlite""#)
        let missing = try selectjob(["run", "--quiet", missingFolder], in: workspace.url)
        #expect(missing.status == 73)
        #expect(missing.stderr.contains("nowhere"))

        let job = try workspace.writeJob("newer")
        #expect(try selectjob(["run", "--quiet", job], in: workspace.url).status == 0)
        let queue = try DatabaseQueue(path: workspace.path("data/sel.sqlite"))
        try queue.write { try $0.execute(sql: "INSERT INTO grdb_migrations VALUES ('v99: from the future')") }
        let newer = try selectjob(["run", "--quiet", "--force", job], in: workspace.url)
        #expect(newer.status == 73)
        #expect(newer.stderr.contains("written by a newer selectjob (unknown migrations: v99: from the future)"))
        try queue.write { try $0.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v99%'") }

        // A database path that is a folder, and a file that is not SQLite.
        try FileManager.default.createDirectory(atPath: workspace.path("data/folder.sqlite"), withIntermediateDirectories: true)
        let folderJob = try workspace.writeJob("folderdb", extra: #", "database": "../data/folder.sqlite""#)
        #expect(try selectjob(["run", "--quiet", folderJob], in: workspace.url).status == 73)
        try Data("not a database, just text, long enough to look like a header.....................".utf8)
            .write(to: URL(fileURLWithPath: workspace.path("data/text.sqlite")))
        let textJob = try workspace.writeJob("textdb", extra: #", "database": "../data/text.sqlite""#)
        let text = try selectjob(["run", "--quiet", textJob], in: workspace.url)
        #expect(text.status == 73, "\(text.stderr)")

        // A read-only database file in a read-only folder (unless running as root, which ignores modes).
        if getuid() != 0 {
            chmod(workspace.path("data/sel.sqlite"), 0o444)
            chmod(workspace.path("data"), 0o555)
            defer { chmod(workspace.path("data"), 0o755); chmod(workspace.path("data/sel.sqlite"), 0o644) }
            let readOnly = try selectjob(["run", "--quiet", "--force", job], in: workspace.url)
            #expect(readOnly.status == 73)
        }
        #expect(try statuses() == ["succeeded"])
    }
}
