import Foundation
import GRDB
import HDF5
@testable import Jobs
import Logging
import Store
import Testing
import TestSupport

/// Issue 10 item 9: a commit blocked past the busy timeout must not leave the run 'running'.
@Suite struct CommitFailureTests {
    @Test func aCommitBlockedPastTheBusyTimeoutIsRecordedAsFailed() throws {
        let temporary = try TemporaryFolder(prefix: "commit")
        let folder = temporary.url
        let file = try HDF5File.create(at: folder.appendingPathComponent("f.h5").path)
        try file.write(floats: (0..<(200 * 4)).map { Float(($0 * 7919) % 101) + 1 }, shape: [200, 4], to: "features")
        file.flush()
        let job = folder.appendingPathComponent("job.json")
        try Data(#"{"name": "blocked", "features": {"path": "f.h5"}, "method": {"name": "kcenter"}, "budget": {"count": 5}, "database": "sel.sqlite"}"#.utf8)
            .write(to: job)
        let runner = JobRunner(busyTimeout: 1, threads: 1)
        let database = folder.appendingPathComponent("sel.sqlite").path

        // While the selection is computed (after the 'running' row, before the commit), another
        // connection takes the write lock and holds it 3 s: past the commit's 1 s wait and the 1 s
        // wait for recording the failure, so the run can only leave its reason in the lock file.
        var holder: Thread?
        let outcome = Result { () throws(RunError) -> RunOutcome in
            try runner.run(jobPath: job.path, logger: Logger(label: "test"), progress: { _ in
                guard holder == nil else { return }
                let locked = DispatchSemaphore(value: 0)
                holder = Thread {
                    let queue = try! DatabaseQueue(path: database)
                    try! queue.inDatabase { db in
                        try db.execute(sql: "BEGIN IMMEDIATE")
                        locked.signal()
                        usleep(3_000_000)
                        try db.execute(sql: "COMMIT")
                    }
                }
                holder!.start()
                locked.wait()
            })
        }
        guard case let .failure(error) = outcome, case .store(.busy) = error else {
            Issue.record("expected a busy failure, got \(outcome)")
            return
        }
        #expect(error.exitStatus == .temporaryFailure)
        while holder?.isFinished == false { usleep(20_000) }
        // The database could not take the failure; the next look at it (here `runs`' crash check)
        // records it as failed with the reason, not as crashed.
        #expect(try JobRunner.markCrashedRuns(in: SelectionStore(readingAt: database)) == 0)
        try DatabaseQueue(path: database).read { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT status, error FROM runs WHERE job = 'blocked'"))
            #expect(row["status"] as String == "failed")
            #expect((row["error"] as String).contains("the selection was computed but not saved"))
        }
    }
}
