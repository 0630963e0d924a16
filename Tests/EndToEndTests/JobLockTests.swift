import Foundation
import GRDB
import HDF5
import Testing
import TestSupport

/// One run of a job at a time: the job lock, its file, and crashed runs.
@Suite struct JobLockTests {
    let runs: TwoRecordedRuns
    var workspace: Workspace { runs.workspace }
    var db: [String] { runs.db }

    init() throws { runs = try TwoRecordedRuns() }

    /// A symbolic link planted at the lock file's path is refused; its target is untouched.
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

    /// The same database through a symlinked folder has the same job lock, and `runs`
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

    /// Asking whether a job's lock is held never takes it, so a run starting meanwhile never
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

    /// SIGTERM while waiting for the lock acts at once and says nothing was recorded.
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
