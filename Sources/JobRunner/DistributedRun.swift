import Crypto
import FeatureIO
import Foundation
import Logging
import Selection
import SelectionStore

/// A run split over the processes of ``JobRunner/group`` (under `selectjob-mpi`).
///
/// Every process parses the job and reads only its own block of rows (``RowPartition``: contiguous
/// whole blocks of 1,024 rows) — features, ids and labels, by hyperslab reads — plus the method's
/// small inputs whole. Rank 0 alone takes the job lock and opens, writes and commits the database;
/// it receives the pool's ids and labels (N of each, not the features) to check that ids are unique
/// and to record the picks. The fingerprint is combined from each block's SHA-256, so it equals the
/// one a single process records. Each phase ends in an agreement: if any process failed, every
/// process stops with that process's exit status, and rank 0 reports it naming the rank. Stop
/// signals are collective too (a stop on any process stops all at the same step), so a run is
/// recorded 'cancelled' by rank 0 exactly as in one process. A process that dies leaves the others
/// to be ended by the MPI launcher; the run stays 'running' with its lock released, and the next
/// `run` or `runs` marks it 'crashed'. Memory per process: its N/P·d floats plus the method's
/// O(K·d) state; rank 0 also holds N ids and labels.
extension JobRunner {
    func runDistributed(jobPath: String, logger: Logger, stopSignal: () -> Int32?,
                        progress: (SelectionProgress) -> Void) throws(RunError) -> RunOutcome {
        let group = self.group, isRoot = group.rank == 0
        let started = Date()
        func collectiveStop() -> Int32? {
            let local = stopSignal()
            guard group.any(local != nil) else { return nil }
            return local ?? SIGTERM
        }

        let (spec, contents) = try agreed { () throws(RunError) in
            do throws(JobError) { return try JobSpec.load(path: jobPath) } catch { throw .job(error) }
        }
        let configured = spec.method.configured
        try agreed { () throws(RunError) in
            do throws(SelectionError) { try configured.checkDistributable(processes: group.size) } catch { throw .parameters(file: jobPath, error) }
            guard spec.labelled.isEmpty else {
                throw .notDistributable(file: jobPath, reason: "a job with \"labelled\" samples runs in one process (without mpirun)")
            }
            guard spec.features.format == .hdf5 else {
                throw .notDistributable(file: jobPath, reason: "\(spec.features.path): a distributed run reads HDF5 features by row blocks; convert the .npy file to HDF5")
            }
            guard spec.features.rows == nil else {
                throw .notDistributable(file: jobPath, reason: "\"features.rows\" selects a row range: a distributed run partitions the whole dataset")
            }
        }
        if let signal = collectiveStop() { throw .cancelled(signal: signal, recorded: false) }
        let databasePath = databasePath(for: spec)
        var lock: JobLock?
        try agreed { () throws(RunError) in
            guard isRoot else { return }
            do throws(StoreError) { try SelectionStore.check(path: databasePath) } catch { throw .store(error) }
            lock = try JobLock.acquire(database: databasePath, job: spec.name, wait: lockWait, stopSignal: stopSignal)
        }
        defer { withExtendedLifetime(lock) {} }

        // The pool's size, then this process's rows of it.
        let totalRows = try agreed { () throws(RunError) in
            do throws(FeatureInputError) { return try FeatureTable.rowCount(spec.features) } catch { throw .input(error) }
        }
        try agreed { () throws(RunError) in
            guard totalRows >= RowPartition.minimumRows(processes: group.size) else {
                throw .notDistributable(file: jobPath, reason: "the pool's \(totalRows) rows are too few for \(group.size) processes (each needs a block of \(RowPartition.blockRows) rows; at least \(RowPartition.minimumRows(processes: group.size)) rows)")
            }
        }
        let partition = RowPartition(totalRows: totalRows, rank: group.rank, size: group.size)
        var blockSource = spec.features
        blockSource.rows = partition.rows
        var block = try agreed { () throws(RunError) in
            do throws(FeatureInputError) { return try FeatureTable.load(blockSource) } catch { throw .input(error) }
        }
        let inputs = try agreed { () throws(RunError) in
            var inputs: [String: FeatureTable] = [:]
            for (name, source) in spec.method.inputs.sorted(by: { $0.key < $1.key }) {
                do throws(FeatureInputError) { inputs[name] = try FeatureTable.load(source) } catch { throw .input(error) }
            }
            return inputs
        }
        let budget = spec.budget.count(poolSize: totalRows)
        let shape = ProblemShape(poolSize: totalRows, width: block.columns, budget: budget,
                                 inputs: inputs.mapValues { (rows: $0.rows, columns: $0.columns) })
        try agreed { () throws(RunError) in
            do throws(SelectionError) { try configured.validate(shape) } catch { throw .parameters(file: jobPath, error) }
        }
        logger.info("read features", metadata: [
            "job": "\(spec.name)", "file": "\(spec.features.path)", "n": "\(totalRows)", "d": "\(block.columns)",
            "type": "\(block.storedType)", "processes": "\(group.size)", "rows per process": "≤ \(zip(partition.boundaries.dropFirst(), partition.boundaries).map { $0 - $1 }.max() ?? 0)",
        ])

        // The whole pool's fingerprint, ids and labels, from every block.
        let digests = group.gather(values: FeatureTable.blockDigests(columns: block.columns, values: block.values,
                                                                     ids: block.ids, labels: block.labels).flatMap { $0 })
            .flatMap { $0 }
        let fingerprint = FeatureTable.fingerprint(
            rows: totalRows, columns: block.columns, ids: block.ids, hasLabels: block.labels != nil,
            blockDigests: stride(from: 0, to: digests.count, by: 32).map { Array(digests[$0..<($0 + 32)]) })
        let ids = gatheredIDs(block.ids, group: group)
        let labels = block.labels.map { (local: [Int64]) in group.gather(values: local).flatMap { $0 } }
        try agreed { () throws(RunError) in
            do throws(FeatureInputError) { try FeatureTable.checkUniqueIDs(ids, file: spec.features.path, dataset: spec.features.ids ?? "ids") }
            catch { throw .input(error) }
        }
        let pool = block.describingWholePool(totalRows: totalRows, ids: ids, labels: labels, fingerprint: fingerprint)
        let job = ValidatedJob(spec: spec, features: pool, inputs: inputs, outcomes: [:], budget: budget)
        let jobSHA256 = SHA256.hash(data: contents).map { String(format: "%02x", $0) }.joined()

        // Rank 0: the database, the unchanged test and the run row.
        var store: SelectionStore?
        var unchangedRun: Int64?
        var runID: Int64 = 0
        try agreed { () throws(RunError) in
            guard isRoot, let lock else { return }
            do throws(StoreError) {
                let opened = try SelectionStore(path: databasePath, busyTimeout: busyTimeout)
                for (id, reason) in lock.inheritedFailures { try opened.markFailedIfRunning(runID: id, error: reason) }
                let crashed = try opened.markCrashed(job: spec.name, finishedAt: Date())
                if crashed > 0 { logger.warning("marked earlier runs as crashed", metadata: ["job": "\(spec.name)", "runs": "\(crashed)"]) }
                store = opened
            } catch {
                throw .store(error)
            }
            if !force, let previous = try? store!.latestSucceededRun(job: spec.name),
               job.isUnchanged(since: previous, jobSHA256: jobSHA256) {
                unchangedRun = previous.id
                return
            }
        }
        if group.any(unchangedRun != nil) {
            logger.info("unchanged", metadata: ["job": "\(spec.name)", "run": "\(unchangedRun ?? -1)"])
            return .unchanged(job: spec.name, runID: unchangedRun ?? -1, database: databasePath)
        }
        if let signal = collectiveStop() { throw .cancelled(signal: signal, recorded: false) }
        try agreed { () throws(RunError) in
            guard isRoot, let store else { return }
            do throws(StoreError) {
                runID = try store.beginRun(NewRun(
                    job: spec.name, jobPath: URL(fileURLWithPath: jobPath).standardizedFileURL.path,
                    jobJSON: String(decoding: contents, as: UTF8.self), jobSHA256: jobSHA256,
                    featuresPath: pool.source.path, featuresFingerprint: fingerprint,
                    method: spec.method.name, paramsJSON: job.recordedParameters(initialRows: []).jsonText,
                    n: totalRows, d: pool.columns, budget: budget, seed: Int64(spec.seed),
                    toolVersion: selectjobVersion, startedAt: started, round: 1, labelledCount: 0, labelledFingerprint: nil))
            } catch {
                throw .store(error)
            }
            logger.info("run started", metadata: ["run": "\(runID)", "database": "\(databasePath)", "k": "\(budget)"])
        }
        func end(_ status: RunStatus, _ message: String) {
            try? store?.endRun(id: runID, status: status, error: message, finishedAt: Date(),
                               durationSeconds: Date().timeIntervalSince(started))
        }

        // Every process: the selection on its rows.
        var matrix = FeatureMatrix(rows: block.rows, columns: block.columns, values: block.takeValues())
        if configured.usesUnitRows { matrix.normalizeRows(threads: threads) }
        // Handed over to the method with the only reference to this process's rows (see `JobRunner`).
        var problem: SelectionProblem? = SelectionProblem(pool: consume matrix, budget: budget,
                                                          inputs: inputs.mapValues { $0.matrix }, partition: partition)
        let outcome: Result<SelectionResult, SelectionError>
        do {
            outcome = .success(try withoutActuallyEscaping(collectiveStop) { stop throws(SelectionError) in
                try withoutActuallyEscaping(progress) { progress throws(SelectionError) in
                    var context = SelectionContext(seed: spec.seed, threads: threads, group: group,
                                                   shouldStop: { stop() != nil },
                                                   progress: isRoot ? progress : { _ in })
                    return try configured.select(problem.take()!, &context)
                }
            })
        } catch {
            outcome = .failure(error)
        }
        let result = try agreed { () throws(RunError) in
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

        // Rank 0: one commit.
        let finished = Date()
        let seconds = finished.timeIntervalSince(started)
        try agreed { () throws(RunError) in
            guard isRoot, let store else { return }
            if let error = RunError.unrecordable(result, file: jobPath, method: spec.method.name) {
                end(.failed, error.errorDescription ?? "\(error)")
                throw error
            }
            let selection = result.picks.enumerated().map { rank, pick in
                SelectedSample(runID: runID, rank: rank, rowIndex: pick.row, sampleID: ids.identifier(ofRow: pick.row),
                               score: pick.score, label: labels?[pick.row])
            }
            let metrics = result.curve.enumerated().map { step, value in
                RunMetric(runID: runID, step: step, name: result.curveName, value: value)
            }
            do throws(StoreError) {
                try store.completeRun(id: runID, selection: selection, metrics: metrics,
                                      paramsJSON: job.recordedParameters(initialRows: result.initialRows).jsonText,
                                      finishedAt: finished, durationSeconds: seconds,
                                      poolLabels: labels.map { Dictionary($0.map { ($0, 1) }, uniquingKeysWith: +) } ?? [:],
                                      notesJSON: result.notesJSON)
            } catch {
                end(.failed, error.errorDescription ?? "\(error)")
                throw .store(error)
            }
            logger.info("run succeeded", metadata: ["run": "\(runID)", "seconds": "\(String(format: "%.2f", seconds))",
                                                    "processes": "\(group.size)"])
        }
        return .completed(RunSummary(runID: runID, job: spec.name, method: spec.method.name, n: totalRows,
                                     d: pool.columns, budget: budget, seconds: seconds, database: databasePath,
                                     finalValue: result.curve.last, round: 1, labelledCount: 0, notesJSON: result.notesJSON))
    }

    /// Runs `body` on every process, then agrees: when any process failed, every process throws —
    /// the failed process its own error, the others ``RunError/onRank(rank:status:message:)`` for
    /// the lowest failed rank — so all stop at the same step with the same exit status. One gather.
    private func agreed<T>(_ body: () throws(RunError) -> T) throws(RunError) -> T {
        let outcome: Result<T, RunError>
        do { outcome = .success(try body()) } catch { outcome = .failure(error) }
        var report: [UInt8] = []
        if case let .failure(error) = outcome {
            report = withUnsafeBytes(of: error.exitStatus.rawValue.littleEndian) { Array($0) }
                + Array((error.errorDescription ?? "\(error)").utf8)
        }
        let reports = group.gather(report)
        guard let failed = reports.firstIndex(where: { !$0.isEmpty }) else { return try outcome.get() }
        if case let .failure(error) = outcome, failed == group.rank { throw error }
        let status = reports[failed].prefix(4).enumerated().reduce(Int32(0)) { $0 | Int32($1.element) << (8 * $1.offset) }
        throw .onRank(rank: failed, status: ExitStatus(rawValue: status) ?? .failure,
                      message: String(decoding: reports[failed].dropFirst(4), as: UTF8.self))
    }

    /// The whole pool's ids from every process's block, in row order.
    private func gatheredIDs(_ ids: SampleIDs, group: any ProcessGroup) -> SampleIDs {
        switch ids {
        case .rowIndices:
            return .rowIndices
        case let .integers(values):
            return .integers(group.gather(values: values).flatMap { $0 })
        case let .strings(values):
            let joined: [UInt8] = values.flatMap { Array($0.utf8) + [0] }
            return .strings(group.gather(joined).flatMap { part in
                part.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
            })
        }
    }
}
