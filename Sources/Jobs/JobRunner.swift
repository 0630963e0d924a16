import Crypto
import FeatureIO
import Foundation
import Logging
import Selection
import Store

/// The version recorded in `runs.tool_version`.
public let selectjobVersion = "0.2.0"

/// What a finished run reports back.
public struct RunSummary: Sendable {
    public let runID: Int64
    public let job: String
    public let method: String
    public let n: Int
    public let d: Int
    public let budget: Int
    public let seconds: Double
    public let database: String
    /// The last value of the method's curve (ActiveFT's final loss), and the curve's name ("loss").
    public let finalValue: Double?
    public var curveName = ""
    /// The labelling round, and how many samples were already labelled.
    public let round: Int
    public let labelledCount: Int
    /// The method's notes on its selection, as recorded (`runs.notes_json`); nil without.
    public var notesJSON: String? = nil
    /// The parameters as recorded (`runs.params_json`).
    public var paramsJSON = "{}"
}

/// Runs jobs: job file → features → selection → database, in that order, so that a bad job or bad
/// data is rejected before the database is touched, and the selection is committed in one transaction.
public struct JobRunner: Sendable {
    /// `--db`, if given: overrides the job's `database`.
    public var databaseOverride: String?
    /// The database used when neither `--db` nor the job names one (`SELECTJOB_DB`, else ./selections.sqlite).
    public var defaultDatabase: String
    /// Seconds a database write waits for another process's lock before the run fails with exit 75.
    public var busyTimeout: TimeInterval
    /// Threads the selection may use; the selection does not depend on it.
    public var threads: Int
    /// Run even when the latest succeeded run had the same job file and data.
    public var force = false
    /// Seconds to wait for another run of the same job to release its lock (0: fail at once).
    public var lockWait: TimeInterval = 0
    /// The processes the run is split over: one, except under `selectjob-mpi` (see `DistributedRun.swift`).
    public var group: any ProcessGroup = SingleProcess()

    public init(databaseOverride: String? = nil, defaultDatabase: String = "selections.sqlite",
                busyTimeout: TimeInterval = 30, threads: Int = ParallelChunks.processorCount) {
        self.databaseOverride = databaseOverride
        self.defaultDatabase = defaultDatabase
        self.busyTimeout = busyTimeout
        self.threads = threads
    }

    /// The database a job writes to: `--db`, else the job's own `database`, else the default.
    public func databasePath(for spec: JobSpec) -> String {
        databaseOverride ?? spec.database ?? defaultDatabase
    }

    /// Validates a job file and the data it names, without computing or writing anything.
    public func validate(jobPath: String) throws(RunError) -> ValidatedJob {
        try validate(.file(jobPath))
    }

    /// Validates a job and the data it names, without computing or writing anything.
    public func validate(_ input: JobInput) throws(RunError) -> ValidatedJob {
        let jobPath = input.name
        let spec: JobSpec
        do { spec = try input.load().spec } catch { throw .job(error) }
        var checked = try validate(spec, jobPath: jobPath)
        let database = databasePath(for: spec)
        do { try SelectionStore.check(path: database) } catch { throw .store(error) }
        try JobLock.checkPath(database: database, job: spec.name)
        if !spec.labelled.isEmpty {
            // Read-only: validate writes nothing, and a database that does not exist yet has no runs.
            var store: SelectionStore?
            if FileManager.default.fileExists(atPath: database) {
                do { store = try SelectionStore(readingAt: database) } catch { throw .store(error) }
            }
            try checked.resolveLabelled(store: store, database: database, jobPath: jobPath)
        }
        return checked
    }


    /// Runs the job at `jobPath` to completion and records it, unless its latest succeeded run had the
    /// same job file and the same data (then it reports that run; `force` runs anyway).
    ///
    /// Order: job file, lock, data, database, computation, one commit — a bad job or bad data never
    /// reaches the database, a second run of the same job stops at the lock, and `stopSignal` (asked
    /// throughout; it returns the signal that asked the run to stop, if any) ends the run as 'cancelled'.
    ///
    /// One pipeline for one process and for many (``group``, under `selectjob-mpi`): every process
    /// parses the job and reads its own rows of the pool (all of them in one process, see
    /// `DistributedRun.swift` for blocks); rank 0 alone takes the job lock and opens, writes and
    /// commits the database. Each phase ends in an agreement (``agreed(_:)``): when any process fails,
    /// every process stops with that process's exit status. Stop signals are collective too.
    public func run(jobPath: String, logger: Logger, stopSignal: () -> Int32? = { nil },
                    progress: (SelectionProgress) -> Void = { _ in }) throws(RunError) -> RunOutcome {
        try run(.file(jobPath), logger: logger, stopSignal: stopSignal, progress: progress)
    }

    /// Runs `input` (a job file, or a job built in memory by `selectjob select`): see
    /// ``run(jobPath:logger:stopSignal:progress:)``.
    public func run(_ input: JobInput, logger: Logger, stopSignal: () -> Int32? = { nil },
                    progress: (SelectionProgress) -> Void = { _ in }) throws(RunError) -> RunOutcome {
        let jobPath = input.name
        let group = self.group, isRoot = group.rank == 0
        let started = Date()
        var phase = Date()
        func elapsed() -> String {
            defer { phase = Date() }
            return String(format: "%.3f", Date().timeIntervalSince(phase))
        }
        /// A stop asked of any process stops every process at the same step.
        func collectiveStop() -> Int32? {
            let local = stopSignal()
            guard group.any(local != nil) else { return nil }
            return local ?? SIGTERM
        }

        let (spec, contents) = try agreed { () throws(RunError) in
            do throws(JobError) { return try input.load() } catch { throw .job(error) }
        }
        logger.debug("job parsed", metadata: ["job": "\(spec.name)", "file": "\(jobPath)", "bytes": "\(contents.count)",
                                              "method": "\(spec.method.name)"])
        let configured = spec.method.configured
        if group.size > 1 { try agreed { () throws(RunError) in try checkDistributable(spec, jobPath: jobPath) } }
        if let signal = collectiveStop() { throw .cancelled(signal: signal, recorded: false) }

        // Rank 0: a database that cannot be opened is exit 73 before anything, a lock file included, is created.
        let databasePath = databasePath(for: spec)
        var lock: JobLock?
        try agreed { () throws(RunError) in
            guard isRoot else { return }
            do throws(StoreError) { try SelectionStore.check(path: databasePath) } catch { throw .store(error) }
            lock = try JobLock.acquire(database: databasePath, job: spec.name, wait: lockWait, stopSignal: stopSignal)
        }
        defer { withExtendedLifetime(lock) {} }
        if let lock { logger.debug("lock taken", metadata: ["lock": "\(lock.path)", "seconds": "\(elapsed())"]) }

        // Every process: the job checked against its data, and its own rows of the pool.
        var (job, poolValues, partition) = group.size > 1
            ? try loadBlocks(spec, jobPath: jobPath)
            : try agreed { () throws(RunError) in try loadWhole(spec, jobPath: jobPath) }
        let features = job.features
        logger.info("read features", metadata: [
            "job": "\(spec.name)", "file": "\(features.source.displayPath)", "shards": "\(max(1, features.source.shards.count))", "dataset": "\(features.source.dataset)", "n": "\(features.rows)",
            "d": "\(features.columns)", "type": "\(features.storedType)", "processes": "\(group.size)",
        ])
        if isRoot {
            for warning in job.warnings { logger.warning("\(warning)", metadata: ["job": "\(spec.name)"]) }
        }
        logger.debug("features and inputs read and checked", metadata: [
            "seconds": "\(elapsed())", "megabytes": "\(poolValues.count * 4 / 1_048_576)",
            "inputs": "\(job.inputs.keys.sorted().joined(separator: ","))", "k": "\(job.budget)",
        ])
        let jobSHA256 = SHA256.hash(data: contents).map { String(format: "%02x", $0) }.joined()
        let standardPath = input.recordedPath

        // Rank 0: the database — runs that lost their process marked, labelled samples resolved, and
        // the unchanged test.
        var store: SelectionStore?
        var unchangedRun: Int64?
        try agreed { () throws(RunError) in
            guard isRoot, let lock else { return }
            let opened = try openStore(databasePath, lock: lock, job: spec.name, logger: logger)
            store = opened
            try job.resolveLabelled(store: opened, database: databasePath, jobPath: jobPath)
            if !spec.labelled.isEmpty {
                logger.info("labelled samples", metadata: ["job": "\(spec.name)", "count": "\(job.labelled.rows.count)",
                                                           "round": "\(job.labelled.round)"])
            }
            let previous = try? opened.latestSucceededRun(job: spec.name)
            if !force, let previous, job.isUnchanged(since: previous, jobSHA256: jobSHA256) {
                unchangedRun = previous.id
                return
            }
            if let previous, previous.jobPath != standardPath, previous.jobSHA256 != jobSHA256 {
                logger.warning("another job file with other content has this job's name: each run replaces the other's latest selection, and neither is ever skipped as unchanged; give each job file its own name", metadata: [
                    "job": "\(spec.name)", "file": "\(standardPath)", "previous_file": "\(previous.jobPath)",
                    "previous_run": "\(previous.id)",
                ])
            }
            logger.debug("database opened", metadata: ["database": "\(databasePath)", "seconds": "\(elapsed())"])
        }
        if group.any(unchangedRun != nil) {
            logger.info("unchanged", metadata: ["job": "\(spec.name)", "run": "\(unchangedRun ?? -1)"])
            return .unchanged(job: spec.name, runID: unchangedRun ?? -1, database: databasePath)
        }
        if let signal = collectiveStop() { throw .cancelled(signal: signal, recorded: false) }

        var runID: Int64 = 0
        try agreed { () throws(RunError) in
            guard let store else { return }
            do throws(StoreError) {
                runID = try store.beginRun(NewRun(
                    job: spec.name, jobPath: standardPath,
                    jobJSON: String(decoding: contents, as: UTF8.self), jobSHA256: jobSHA256,
                    featuresPath: features.source.displayPath, featuresFingerprint: features.fingerprint,
                    method: spec.method.name, paramsJSON: job.recordedParameters(initialRows: []).json(),
                    n: features.rows, d: features.columns, budget: job.budget, seed: Int64(spec.seed),
                    toolVersion: selectjobVersion, startedAt: started, round: job.labelled.round,
                    labelledCount: job.labelled.rows.count, labelledFingerprint: job.labelled.fingerprint))
            } catch {
                throw .store(error)
            }
            logger.info("run started", metadata: ["run": "\(runID)", "database": "\(databasePath)", "k": "\(job.budget)"])
        }
        func end(_ status: RunStatus, _ message: String) {
            try? store?.endRun(id: runID, status: status, error: message, finishedAt: Date(),
                               durationSeconds: Date().timeIntervalSince(started))
        }

        // Every process: the selection on its rows. A method that reads only unit rows gets them
        // normalised in place; the problem then holds the only reference to the pool and is handed
        // over to the method, which may rework it in place (ActiveFT reorders its rows) without a copy.
        var pool = FeatureMatrix(rows: partition.rows.count, columns: features.columns, values: consume poolValues)
        if configured.usesUnitRows { pool.normalizeRows(threads: threads) }
        var problem: SelectionProblem? = SelectionProblem(pool: consume pool, budget: job.budget,
                                                          inputs: job.inputs.mapValues(\.matrix),
                                                          labelled: job.labelled.rows, labelledClasses: job.labelled.classes,
                                                          outcomes: job.outcomes,
                                                          partition: partition)
        let outcome: Result<(SelectionResult, CuratedSelection?), SelectionError>
        do {
            outcome = .success(try withoutActuallyEscaping(collectiveStop) { stop throws(SelectionError) in
                try withoutActuallyEscaping(progress) { progress throws(SelectionError) in
                    var context = SelectionContext(seed: spec.seed, threads: threads, group: group,
                                                   shouldStop: { stop() != nil }, progress: isRoot ? progress : { _ in })
                    if let curation = job.curation {
                        let curated = try curation.curation.select(problem.take()!, method: configured, context: &context)
                        return (curated.result, curated)
                    }
                    return (try configured.select(problem.take()!, &context), nil)
                }
            })
        } catch {
            outcome = .failure(error)
        }
        let (result, curated) = try agreed { () throws(RunError) in
            switch outcome {
            case let .success(result): return result
            case .failure(.cancelled):
                let signal = stopSignal() ?? SIGTERM
                end(.cancelled, RunError.cancelled(signal: signal).errorDescription ?? "cancelled")
                throw .cancelled(signal: signal)
            case let .failure(error):
                end(.failed, error.description)
                throw .parameters(file: jobPath, error)
            }
        }
        if let signal = collectiveStop() {
            end(.cancelled, RunError.cancelled(signal: signal).errorDescription ?? "cancelled")
            throw .cancelled(signal: signal)
        }
        logger.debug("selection computed", metadata: ["run": "\(runID)", "seconds": "\(elapsed())",
                                                      "picks": "\(result.picks.count)", "curve": "\(result.curve.count)"])

        // Rank 0: one commit.
        let finished = Date()
        let seconds = finished.timeIntervalSince(started)
        try agreed { () throws(RunError) in
            guard let store, let lock else { return }
            try commit(result, curated: curated, job: job, runID: runID, store: store, lock: lock, jobPath: jobPath,
                       finished: finished, seconds: seconds)
            logger.debug("committed", metadata: ["run": "\(runID)", "seconds": "\(elapsed())"])
            logger.info("run succeeded", metadata: ["run": "\(runID)", "seconds": "\(String(format: "%.2f", seconds))",
                                                    "processes": "\(group.size)"])
        }
        return .completed(RunSummary(runID: runID, job: spec.name, method: spec.method.name, n: features.rows,
                                     d: features.columns, budget: job.budget, seconds: seconds, database: databasePath,
                                     finalValue: result.curve.last, curveName: result.curveName, round: job.labelled.round,
                                     labelledCount: job.labelled.rows.count, notesJSON: result.notesJSON,
                                     paramsJSON: job.recordedParameters(initialRows: result.initialRows, curated: curated).json()))
    }

    /// Reads the whole pool in this one process: the job checked against its data, the pool's values
    /// moved out of it (so they are held once), and a partition of one block.
    private func loadWhole(_ spec: JobSpec, jobPath: String) throws(RunError) -> (ValidatedJob, [Float], RowPartition) {
        var job = try validate(spec, jobPath: jobPath)
        let values = job.takePoolValues()
        return (job, values, RowPartition(totalRows: job.features.rows))
    }

    /// Opens the database for a run holding `lock`: runs of `job` still marked 'running' lost their
    /// process (or failed without recording it, as the lock file says) and are marked so.
    private func openStore(_ path: String, lock: JobLock, job: String, logger: Logger) throws(RunError) -> SelectionStore {
        do {
            let store = try SelectionStore(path: path, busyTimeout: busyTimeout)
            for (id, reason) in lock.inheritedFailures { try store.markFailedIfRunning(runID: id, error: reason) }
            let crashed = try store.markCrashed(job: job, finishedAt: Date())
            if crashed > 0 { logger.warning("marked earlier runs as crashed", metadata: ["job": "\(job)", "runs": "\(crashed)"]) }
            return store
        } catch {
            throw .store(error)
        }
    }

    /// Records `result` as run `runID`'s selection, metrics and notes in one transaction, or marks the
    /// run failed: a result with a non-finite number is refused; a commit that waited the whole busy
    /// timeout is recorded as failed once more, else its reason is left in `lock`'s file.
    private func commit(_ result: SelectionResult, curated: CuratedSelection?, job: ValidatedJob, runID: Int64, store: SelectionStore, lock: JobLock,
                        jobPath: String, finished: Date, seconds: Double) throws(RunError) {
        func end(_ message: String) throws(StoreError) {
            try store.endRun(id: runID, status: .failed, error: message, finishedAt: Date(), durationSeconds: seconds)
        }
        if let error = RunError.unrecordable(result, file: jobPath, method: job.spec.method.name) {
            try? end(error.errorDescription ?? "\(error)")
            throw error
        }
        let features = job.features
        let selection = result.picks.enumerated().map { rank, pick in
            SelectedSample(runID: runID, rank: rank, rowIndex: pick.row, sampleID: features.ids.identifier(ofRow: pick.row),
                           score: pick.score, label: features.labels?[pick.row])
        }
        let dropped = (curated?.duplicates?.dropped ?? []).map { duplicate in
            DroppedDuplicate(runID: runID, rowIndex: duplicate.row, sampleID: features.ids.identifier(ofRow: duplicate.row),
                             representativeRow: duplicate.representative,
                             representativeID: features.ids.identifier(ofRow: duplicate.representative),
                             similarity: Double(duplicate.similarity))
        }
        let metrics = result.curve.enumerated().map { step, value in
            RunMetric(runID: runID, step: step, name: result.curveName, value: value)
        }
        do {
            try store.completeRun(id: runID, selection: selection, metrics: metrics,
                                  paramsJSON: job.recordedParameters(initialRows: result.initialRows, curated: curated).json(),
                                  finishedAt: finished, durationSeconds: seconds,
                                  poolLabels: features.labels.map { Dictionary($0.map { ($0, 1) }, uniquingKeysWith: +) } ?? [:],
                                  notesJSON: result.notesJSON, droppedDuplicates: dropped)
        } catch {
            let reason = error.errorDescription ?? "\(error)"
            if case .busy = error {
                // The commit waited the whole busy timeout. Recording the failure waits again, once more
                // (the lock holder has usually finished by then), so the run is not left 'running' —
                // which the next `run` or `runs` would take for a crash.
                let message = "\(reason); the selection was computed but not saved"
                if (try? end(message)) == nil {
                    // Still locked: leave the reason in our lock file for whoever finds the run next.
                    lock.noteUnrecordedFailure(runID: runID, reason: message)
                }
            } else {
                try? end(reason)
            }
            throw .store(error)
        }
    }

    /// Marks as 'crashed' the 'running' runs whose job lock no process holds (their process died),
    /// race-free against runs that start meanwhile.
    /// Returns how many were marked.
    @discardableResult
    public static func markCrashedRuns(in store: SelectionStore) throws(StoreError) -> Int {
        // The running runs are listed before the lock is tested: a listed run was started by a process
        // that held the lock; if the lock is free now, that process is gone. A run that starts after
        // the listing is not in it, so it can never be marked by mistake.
        let deadByJob = try store.runningRunIDs().sorted(by: { $0.key < $1.key })
            .filter { !JobLock.isHeld(database: store.path, job: $0.key) }
        let dead = deadByJob.flatMap(\.value)
        guard !dead.isEmpty else { return 0 }
        // A read-only store (a reader) marks them through a writable one, when the database may be
        // written at all; on read-only media they stay 'running' until a `run` of their job.
        let writer: SelectionStore
        if store.isReadOnly {
            let folder = URL(fileURLWithPath: store.path).deletingLastPathComponent().path
            guard access(store.path, W_OK) == 0, access(folder, W_OK) == 0,
                  let opened = try? SelectionStore(path: store.path) else { return 0 }
            writer = opened
        } else {
            writer = store
        }
        // Runs whose failure could not be recorded left the reason in their job's lock file.
        for (job, ids) in deadByJob {
            for (id, reason) in JobLock.unrecordedFailures(database: store.path, job: job) where ids.contains(id) {
                try writer.markFailedIfRunning(runID: id, error: reason)
            }
        }
        return try writer.markCrashed(runIDs: dead, finishedAt: Date())
    }
}

/// How `run` ended when it did not fail.
public enum RunOutcome: Sendable {
    /// The run computed and committed its selection.
    case completed(RunSummary)
    /// The job file and its data equal those of this earlier succeeded run; nothing was computed.
    case unchanged(job: String, runID: Int64, database: String)
}

extension SampleIDs {
    /// The stored identifier of `row`.
    func identifier(ofRow row: Int) -> SampleIdentifier {
        switch self {
        case .rowIndices: return .integer(Int64(row))
        case let .integers(ids): return .integer(ids[row])
        case let .strings(ids): return .text(ids[row])
        }
    }
}

