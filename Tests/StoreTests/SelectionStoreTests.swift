import Foundation
import GRDB
@testable import Store
import Testing
import TestSupport

func newRun(job: String = "job-a", n: Int = 10) -> NewRun {
    NewRun(job: job, jobPath: "/jobs/\(job).json", jobJSON: "{}", jobSHA256: "00", featuresPath: "/data/f.h5",
           featuresFingerprint: "sha256:ff", method: "activeft", paramsJSON: "{}", n: n, d: 4, budget: 3, seed: 0,
           toolVersion: "test", startedAt: Date(timeIntervalSince1970: 1_700_000_000))
}

func selection(runID: Int64, rows: [Int]) -> [SelectedSample] {
    rows.enumerated().map { rank, row in
        SelectedSample(runID: runID, rank: rank, rowIndex: row, sampleID: .integer(Int64(1000 + row)),
                       score: 1 - Double(rank) / 10, label: Int64(row % 2))
    }
}

@Suite struct SelectionStoreTests {
    let folder: TemporaryFolder
    init() throws { folder = try TemporaryFolder() }

    @Test func migrationCreatesTheContractTablesAndView() throws {
        let path = folder.path("db.sqlite")
        let store = try SelectionStore(path: path)
        #expect(try store.appliedMigrations() == ["v1: runs, selections, run_metrics, latest_selections", "v2: pool_labels",
                                                 "v3: rounds", "v4: evaluations", "v5: runs.notes_json", "v6: simulations",
                                                 "v7: dropped_duplicates"])
        let queue = try DatabaseQueue(path: path)
        try queue.read { db in
            for table in ["runs", "selections", "run_metrics", "pool_labels", "evaluations", "simulations", "dropped_duplicates"] { #expect(try db.tableExists(table)) }
            #expect(try db.viewExists("latest_selections"))
            #expect(try db.viewExists("round_selections"))
            let runColumns = Set(try db.columns(in: "runs").map(\.name))
            #expect(runColumns == ["id", "job", "job_path", "job_json", "job_sha256", "features_path",
                                   "features_fingerprint", "method", "params_json", "n", "d", "budget", "seed",
                                   "status", "started_at", "finished_at", "duration_s", "tool_version", "error",
                                   "round", "labelled_count", "labelled_fingerprint", "notes_json"])
            #expect(Set(try db.columns(in: "selections").map(\.name))
                == ["run_id", "rank", "row_index", "sample_id", "score", "label"])
            #expect(try String.fetchOne(db, sql: "PRAGMA journal_mode") == "wal")
        }
        // Opening again migrates nothing new.
        #expect(try SelectionStore(path: path).appliedMigrations().count == 7)
    }

    /// A database written before rounds existed upgrades in place: its runs are round 1 with nothing labelled.
    @Test func aVersion2DatabaseUpgradesToRounds() throws {
        let path = folder.path("old.sqlite")
        let queue = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(queue, upTo: "v2: pool_labels")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO runs (job, job_path, job_json, job_sha256, features_path, features_fingerprint, method,
                                  params_json, n, d, budget, seed, status, started_at, tool_version)
                VALUES ('old', '/j', '{}', '00', '/f', 'sha256:ff', 'activeft', '{}', 10, 4, 3, 0, 'succeeded', '2026-01-01', '0.1.0')
                """)
        }
        try queue.close()
        let store = try SelectionStore(path: path)
        #expect(try store.appliedMigrations().last == "v7: dropped_duplicates")
        let run = try store.latestSucceededRun(job: "old")
        #expect(run.round == 1 && run.labelledCount == 0 && run.labelledFingerprint == nil && run.notesJSON == nil)
        // New runs record their round.
        var next = newRun(job: "new")
        next.round = 3
        next.labelledCount = 7
        next.labelledFingerprint = "sha256:aa"
        let id = try store.beginRun(next)
        #expect(try store.run(id: id).round == 3)
        #expect(try store.run(id: id).labelledFingerprint == "sha256:aa")
    }

    /// An evaluation is stored once per run, test set and parameters, and goes with its run.
    @Test func evaluationsAreStoredOnceAndDeletedWithTheirRun() throws {
        let store = try SelectionStore(path: folder.path("db.sqlite"))
        let id = try store.beginRun(newRun())
        let record = EvaluationRecord(runID: id, testFingerprint: "holdout", paramsJSON: "{\"seed\":0}",
                                      resultsJSON: "{\"accuracy\":0.5}", createdAt: Date(timeIntervalSince1970: 1), toolVersion: "t")
        let saved = try store.saveEvaluation(record)
        #expect(saved.id != nil)
        var again = record
        again.resultsJSON = "{\"accuracy\":0.9}"
        #expect(try store.saveEvaluation(again) == saved)
        #expect(try store.evaluation(runID: id, testFingerprint: "holdout", paramsJSON: "{\"seed\":0}") == saved)
        #expect(try store.evaluation(runID: id, testFingerprint: "other", paramsJSON: "{\"seed\":0}") == nil)
        try store.deleteRuns(ids: [id])
        #expect(try store.evaluations(runID: id).isEmpty)
    }

    @Test func completedRunIsVisibleWithSelectionAndCurve() throws {
        let store = try SelectionStore(path: folder.path("db.sqlite"))
        let id = try store.beginRun(newRun())
        #expect(try store.run(id: id).status == .running)
        try store.completeRun(id: id, selection: selection(runID: id, rows: [4, 1, 7]),
                              metrics: [RunMetric(runID: id, step: 0, name: "loss", value: 2.5),
                                        RunMetric(runID: id, step: 1, name: "loss", value: 2.25)],
                              paramsJSON: "{\"k\":3}", finishedAt: Date(timeIntervalSince1970: 1_700_000_010),
                              durationSeconds: 10)
        let run = try store.run(id: id)
        #expect(run.status == .succeeded)
        #expect(run.durationS == 10)
        #expect(run.paramsJSON == "{\"k\":3}")
        #expect(try store.selection(runID: id).map(\.rowIndex) == [4, 1, 7])
        #expect(try store.metrics(runID: id).map(\.value) == [2.5, 2.25])
    }

    @Test func latestSelectionsShowsEachJobsNewestSucceededRunOnly() throws {
        let path = folder.path("db.sqlite")
        let store = try SelectionStore(path: path)
        let first = try store.beginRun(newRun())
        try store.completeRun(id: first, selection: selection(runID: first, rows: [1, 2, 3]), metrics: [],
                              paramsJSON: "{}", finishedAt: Date(), durationSeconds: 1)
        let second = try store.beginRun(newRun())
        try store.completeRun(id: second, selection: selection(runID: second, rows: [5, 6, 7]), metrics: [],
                              paramsJSON: "{}", finishedAt: Date(), durationSeconds: 1)
        let failed = try store.beginRun(newRun())
        try store.endRun(id: failed, status: .failed, error: "boom", finishedAt: Date(), durationSeconds: 1)
        _ = try store.beginRun(newRun())  // still running
        let other = try store.beginRun(newRun(job: "job-b"))
        try store.completeRun(id: other, selection: selection(runID: other, rows: [9]), metrics: [],
                              paramsJSON: "{}", finishedAt: Date(), durationSeconds: 1)

        let queue = try DatabaseQueue(path: path)
        try queue.read { db in
            let rowsA = try Int.fetchAll(db, sql: "SELECT row_index FROM latest_selections WHERE job = 'job-a' ORDER BY rank")
            #expect(rowsA == [5, 6, 7])
            let ids = try Int64.fetchAll(db, sql: "SELECT sample_id FROM latest_selections WHERE job = 'job-b'")
            #expect(ids == [1009])
        }
        #expect(try store.run(id: failed).error == "boom")
    }

    @Test func aFailingCompletionLeavesNoPartialSelection() throws {
        let store = try SelectionStore(path: folder.path("db.sqlite"))
        let id = try store.beginRun(newRun())
        // Row 2 twice violates UNIQUE(run_id, row_index) after two rows were inserted.
        var broken = selection(runID: id, rows: [1, 2, 3, 4])
        broken[3].rowIndex = 2
        #expect(throws: StoreError.self) {
            try store.completeRun(id: id, selection: broken, metrics: [RunMetric(runID: id, step: 0, name: "loss", value: 1)],
                                  paramsJSON: "{}", finishedAt: Date(), durationSeconds: 1)
        }
        #expect(try store.selection(runID: id).isEmpty)
        #expect(try store.metrics(runID: id).isEmpty)
        #expect(try store.run(id: id).status == .running)
    }

    @Test func stringAndIntegerSampleIdsKeepTheirType() throws {
        let store = try SelectionStore(path: folder.path("db.sqlite"))
        let id = try store.beginRun(newRun())
        let samples = [
            SelectedSample(runID: id, rank: 0, rowIndex: 0, sampleID: .text("007"), score: 1, label: nil),
            SelectedSample(runID: id, rank: 1, rowIndex: 1, sampleID: .integer(7), score: 0.5, label: nil),
        ]
        try store.completeRun(id: id, selection: samples, metrics: [], paramsJSON: "{}", finishedAt: Date(),
                              durationSeconds: 0)
        #expect(try store.selection(runID: id).map(\.sampleID) == [.text("007"), .integer(7)])
    }

    @Test func databaseFromANewerSelectjobIsRefused() throws {
        let path = folder.path("db.sqlite")
        _ = try SelectionStore(path: path)
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('v99: from the future')") }
        #expect(throws: StoreError.newerSchema(database: path, unknownMigrations: ["v99: from the future"])) {
            _ = try SelectionStore(path: path)
        }
    }

    @Test func missingFolderIsNamed() {
        let path = folder.path("no/such/folder/db.sqlite")
        let error = #expect(throws: StoreError.self) { _ = try SelectionStore(path: path) }
        #expect(error?.errorDescription?.contains("folder \(folder.path("no/such/folder")) does not exist") == true)
    }

    @Test func writeLockedByAnotherConnectionIsBusy() throws {
        let path = folder.path("db.sqlite")
        let store = try SelectionStore(path: path, busyTimeout: 0.2)
        let other = try DatabaseQueue(path: path)
        try other.inDatabase { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            #expect(throws: StoreError.busy(database: path)) { _ = try store.beginRun(newRun()) }
            try db.execute(sql: "ROLLBACK")
        }
        #expect(try store.beginRun(newRun()) > 0)
    }

    @Test func unknownRunIsNamed() throws {
        let path = folder.path("db.sqlite")
        let store = try SelectionStore(path: path)
        #expect(throws: StoreError.unknownRun(database: path, id: 42)) { _ = try store.run(id: 42) }
    }
}
