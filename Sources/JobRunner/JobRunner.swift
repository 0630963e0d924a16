import Crypto
import FeatureIO
import Foundation
import Logging
import Selection
import SelectionStore

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
    /// The last value of the method's curve (ActiveFT's final loss).
    public let finalValue: Double?
    /// The labelling round, and how many samples were already labelled.
    public let round: Int
    public let labelledCount: Int
    /// The method's notes on its selection, as recorded (`runs.notes_json`); nil without.
    public var notesJSON: String? = nil
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
        let spec: JobSpec
        do { spec = try JobSpec.load(path: jobPath).spec } catch { throw .job(error) }
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


    /// Checks an already parsed job against the data it names (features, the method's inputs, budget).
    func validate(_ spec: JobSpec, jobPath: String) throws(RunError) -> ValidatedJob {
        let features: FeatureTable
        do { features = try FeatureTable.load(spec.features) } catch { throw .input(error) }
        let budget = spec.budget.count(poolSize: features.rows)
        var inputs: [String: FeatureTable] = [:]
        var outcomes: [String: [Bool]] = [:]
        for (name, source) in spec.method.inputs.sorted(by: { $0.key < $1.key }) {
            do throws(FeatureInputError) {
                let table = try FeatureTable.load(source)
                if let kind = spec.method.predictionKinds[name] {
                    inputs[name] = try table.aligned(toPool: features.ids, poolRows: features.rows)
                        .classProbabilities(kind, poolRows: features.rows)
                } else {
                    inputs[name] = table
                }
                if let predictedName = spec.method.predictedDatasets[name], let truth = table.labels {
                    let predicted = try FeatureTable.loadPredictedClasses(path: source.path, dataset: predictedName,
                                                                          count: table.rows)
                    let correct = zip(truth, predicted).map { $0 == $1 }
                    guard correct.contains(true), correct.contains(false) else {
                        throw FeatureInputError.oneSidedValidation(
                            file: source.path, dataset: predictedName,
                            problem: "the model is \(correct.contains(true) ? "right" : "wrong") on all \(correct.count) validation samples; Active Transfer Learning needs both right and wrong ones")
                    }
                    outcomes[name] = correct
                }
            } catch { throw .input(error) }
        }
        let shape = ProblemShape(poolSize: features.rows, width: features.columns, budget: budget,
                                 inputs: inputs.mapValues { (rows: $0.rows, columns: $0.columns) })
        // With labelled samples the shape is checked once they are resolved (they change what is left).
        if spec.labelled.isEmpty {
            do { try spec.method.configured.validate(shape) } catch { throw .parameters(file: jobPath, error) }
        }
        return ValidatedJob(spec: spec, features: features, inputs: inputs, outcomes: outcomes, budget: budget)
    }

    /// Runs the job at `jobPath` to completion and records it, unless its latest succeeded run had the
    /// same job file and the same data (then it reports that run; `force` runs anyway).
    ///
    /// Order: job file, lock, data, database, computation, one commit — a bad job or bad data never
    /// reaches the database, a second run of the same job stops at the lock, and `stopSignal` (asked
    /// throughout; it returns the signal that asked the run to stop, if any) ends the run as 'cancelled'.
    public func run(jobPath: String, logger: Logger, stopSignal: () -> Int32? = { nil },
                    progress: (SelectionProgress) -> Void = { _ in }) throws(RunError) -> RunOutcome {
        if group.size > 1 {
            return try runDistributed(jobPath: jobPath, logger: logger, stopSignal: stopSignal, progress: progress)
        }
        let started = Date()
        let contents: Data
        let parsed: JobSpec
        do { (parsed, contents) = try JobSpec.load(path: jobPath) } catch { throw .job(error) }
        let databasePath = databasePath(for: parsed)
        if let signal = stopSignal() { throw .cancelled(signal: signal, recorded: false) }
        logger.debug("job parsed", metadata: ["job": "\(parsed.name)", "file": "\(jobPath)", "bytes": "\(contents.count)",
                                              "method": "\(parsed.method.name)"])
        var phase = Date()
        func elapsed() -> String {
            defer { phase = Date() }
            return String(format: "%.3f", Date().timeIntervalSince(phase))
        }
        // A database that cannot be opened is exit 73 before anything, a lock file included, is created.
        do { try SelectionStore.check(path: databasePath) } catch { throw .store(error) }
        let lock = try JobLock.acquire(database: databasePath, job: parsed.name, wait: lockWait, stopSignal: stopSignal)
        defer { withExtendedLifetime(lock) {} }
        logger.debug("lock taken", metadata: ["lock": "\(lock.path)", "seconds": "\(elapsed())"])

        // The spec parsed above, from the same bytes whose SHA-256 the run records.
        var job = try validate(parsed, jobPath: jobPath)
        // A method that reads only unit rows gets the pool normalised in place: its values move out of
        // the table first, so the features are held once.
        let unitPool = parsed.method.configured.usesUnitRows ? job.takePoolValues() : nil
        let (spec, features, budget) = (job.spec, job.features, job.budget)
        logger.info("read features", metadata: [
            "job": "\(spec.name)", "file": "\(features.source.path)", "n": "\(features.rows)",
            "d": "\(features.columns)", "type": "\(features.storedType)",
        ])
        if features.columns > features.rows {
            logger.warning("the features have more columns than rows: is the dataset transposed (it should be N × d)?", metadata: [
                "file": "\(features.source.path)", "dataset": "\(features.source.dataset)",
                "n": "\(features.rows)", "d": "\(features.columns)",
            ])
        }
        logger.debug("features and inputs read and checked", metadata: [
            "seconds": "\(elapsed())", "megabytes": "\(features.rows * features.columns * 4 / 1_048_576)",
            "inputs": "\(job.inputs.keys.sorted().joined(separator: ","))", "k": "\(budget)",
        ])
        let jobSHA256 = SHA256.hash(data: contents).map { String(format: "%02x", $0) }.joined()

        let store: SelectionStore
        do {
            store = try SelectionStore(path: databasePath, busyTimeout: busyTimeout)
            // We hold the job's lock, so any run of it still marked 'running' lost its process — or
            // failed without being able to record it, as its lock file says.
            for (id, reason) in lock.inheritedFailures { try store.markFailedIfRunning(runID: id, error: reason) }
            let crashed = try store.markCrashed(job: spec.name, finishedAt: Date())
            if crashed > 0 { logger.warning("marked earlier runs as crashed", metadata: ["job": "\(spec.name)", "runs": "\(crashed)"]) }
        } catch {
            throw .store(error)
        }
        try job.resolveLabelled(store: store, database: databasePath, jobPath: jobPath)
        if !spec.labelled.isEmpty {
            logger.info("labelled samples", metadata: ["job": "\(spec.name)", "count": "\(job.labelled.rows.count)",
                                                       "round": "\(job.labelled.round)"])
        }
        let previous = try? store.latestSucceededRun(job: spec.name)
        if !force, let previous, job.isUnchanged(since: previous, jobSHA256: jobSHA256) {
            logger.info("unchanged", metadata: ["job": "\(spec.name)", "run": "\(previous.id)"])
            return .unchanged(job: spec.name, runID: previous.id, database: databasePath)
        }
        let standardPath = URL(fileURLWithPath: jobPath).standardizedFileURL.path
        if let previous, previous.jobPath != standardPath, previous.jobSHA256 != jobSHA256 {
            logger.warning("another job file with other content has this job's name: each run replaces the other's latest selection, and neither is ever skipped as unchanged; give each job file its own name", metadata: [
                "job": "\(spec.name)", "file": "\(standardPath)", "previous_file": "\(previous.jobPath)",
                "previous_run": "\(previous.id)",
            ])
        }
        logger.debug("database opened", metadata: ["database": "\(databasePath)", "seconds": "\(elapsed())"])
        if let signal = stopSignal() { throw .cancelled(signal: signal, recorded: false) }

        let runID: Int64
        do {
            runID = try store.beginRun(NewRun(
                job: spec.name, jobPath: standardPath,
                jobJSON: String(decoding: contents, as: UTF8.self), jobSHA256: jobSHA256,
                featuresPath: features.source.path, featuresFingerprint: features.fingerprint,
                method: spec.method.name, paramsJSON: job.recordedParameters(initialRows: []).jsonText,
                n: features.rows, d: features.columns, budget: budget, seed: Int64(spec.seed),
                toolVersion: selectjobVersion, startedAt: started, round: job.labelled.round,
                labelledCount: job.labelled.rows.count, labelledFingerprint: job.labelled.fingerprint))
        } catch {
            throw .store(error)
        }
        logger.info("run started", metadata: ["run": "\(runID)", "database": "\(databasePath)", "k": "\(budget)"])

        func end(_ status: RunStatus, _ message: String) {
            try? store.endRun(id: runID, status: status, error: message, finishedAt: Date(),
                              durationSeconds: Date().timeIntervalSince(started))
        }
        var pool: FeatureMatrix
        if let unitPool {
            pool = FeatureMatrix(rows: features.rows, columns: features.columns, values: unitPool)
            pool.normalizeRows(threads: threads)
        } else {
            pool = features.matrix
        }
        // The problem holds the only reference to the pool and is handed over to the method, which
        // may then rework the pool in place (ActiveFT reorders its rows) without a second copy.
        var problem: SelectionProblem? = SelectionProblem(pool: consume pool, budget: budget,
                                                          inputs: job.inputs.mapValues(\.matrix),
                                                          labelled: job.labelled.rows, outcomes: job.outcomes)
        let result: SelectionResult
        do {
            result = try withoutActuallyEscaping(stopSignal) { stop throws(SelectionError) in
                try withoutActuallyEscaping(progress) { progress throws(SelectionError) in
                    var context = SelectionContext(seed: spec.seed, threads: threads, shouldStop: { stop() != nil },
                                                   progress: progress)
                    return try spec.method.configured.select(problem.take()!, &context)
                }
            }
        } catch .cancelled {
            let signal = stopSignal() ?? SIGINT
            end(.cancelled, RunError.cancelled(signal: signal).errorDescription ?? "cancelled")
            throw .cancelled(signal: signal)
        } catch {
            end(.failed, error.description)
            throw .parameters(file: jobPath, error)
        }
        if let signal = stopSignal() {
            end(.cancelled, RunError.cancelled(signal: signal).errorDescription ?? "cancelled")
            throw .cancelled(signal: signal)
        }

        logger.debug("selection computed", metadata: ["run": "\(runID)", "seconds": "\(elapsed())",
                                                      "picks": "\(result.picks.count)", "curve": "\(result.curve.count)"])
        if let error = RunError.unrecordable(result, file: jobPath, method: spec.method.name) {
            end(.failed, error.errorDescription ?? "\(error)")
            throw error
        }
        let selection = result.picks.enumerated().map { rank, pick in
            SelectedSample(runID: runID, rank: rank, rowIndex: pick.row, sampleID: features.ids.identifier(ofRow: pick.row),
                           score: pick.score, label: features.labels?[pick.row])
        }
        let metrics = result.curve.enumerated().map { step, value in
            RunMetric(runID: runID, step: step, name: result.curveName, value: value)
        }
        let recorded = job.recordedParameters(initialRows: result.initialRows)
        let finished = Date()
        let seconds = finished.timeIntervalSince(started)
        do {
            try store.completeRun(id: runID, selection: selection, metrics: metrics, paramsJSON: recorded.jsonText,
                                  finishedAt: finished, durationSeconds: seconds,
                                  poolLabels: features.labels.map { Dictionary($0.map { ($0, 1) }, uniquingKeysWith: +) } ?? [:],
                                  notesJSON: result.notesJSON)
        } catch {
            let reason = error.errorDescription ?? "\(error)"
            if case .busy = error {
                // The commit waited the whole busy timeout. Recording the failure waits again, once more
                // (the lock holder has usually finished by then), so the run is not left 'running' —
                // which the next `run` or `runs` would take for a crash.
                let message = "\(reason); the selection was computed but not saved"
                if (try? store.endRun(id: runID, status: .failed, error: message, finishedAt: Date(),
                                      durationSeconds: Date().timeIntervalSince(started))) == nil {
                    // Still locked: leave the reason in our lock file for whoever finds the run next.
                    lock.noteUnrecordedFailure(runID: runID, reason: message)
                }
            } else {
                end(.failed, reason)
            }
            throw .store(error)
        }
        logger.debug("committed", metadata: ["run": "\(runID)", "seconds": "\(elapsed())"])
        logger.info("run succeeded", metadata: ["run": "\(runID)", "seconds": "\(String(format: "%.2f", seconds))"])
        return .completed(RunSummary(runID: runID, job: spec.name, method: spec.method.name, n: features.rows,
                                     d: features.columns, budget: budget, seconds: seconds, database: databasePath,
                                     finalValue: result.curve.last, round: job.labelled.round,
                                     labelledCount: job.labelled.rows.count, notesJSON: result.notesJSON))
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

/// A job checked against its data and ready to run.
public struct ValidatedJob: Sendable {
    public let spec: JobSpec
    public private(set) var features: FeatureTable
    /// The method's named inputs, read and checked.
    public let inputs: [String: FeatureTable]
    /// For validation inputs: whether the model predicted each row correctly.
    public let outcomes: [String: [Bool]]
    /// K, the number of samples to select.
    public let budget: Int
    /// The samples already labelled (resolved against the database by ``resolveLabelled(store:database:jobPath:)``).
    public private(set) var labelled = LabelledSet.none

    init(spec: JobSpec, features: FeatureTable, inputs: [String: FeatureTable], outcomes: [String: [Bool]], budget: Int) {
        self.spec = spec
        self.features = features
        self.inputs = inputs
        self.outcomes = outcomes
        self.budget = budget
    }

    /// Moves the pool's values out of ``features`` (which keeps its ids, labels, shape and
    /// fingerprint), so that the caller holds the only copy.
    mutating func takePoolValues() -> [Float] { features.takeValues() }

    /// Resolves the job's labelled samples and checks the budget against the samples left.
    mutating func resolveLabelled(store: SelectionStore?, database: String, jobPath: String) throws(RunError) {
        labelled = try LabelledSet.resolve(spec.labelled, job: spec.name, features: features, store: store, database: database)
        let shape = ProblemShape(poolSize: features.rows, width: features.columns, budget: budget,
                                 inputs: inputs.mapValues { (rows: $0.rows, columns: $0.columns) },
                                 labelledCount: labelled.rows.count)
        do { try spec.method.configured.validate(shape) } catch { throw .parameters(file: jobPath, error) }
    }

    /// The effective parameters of a run, as stored in `runs.params_json`: the method's name, the
    /// budget, the seed, every parameter with its default filled in, each named input with its
    /// fingerprint, and the rows the method started from (`init_rows`) once known.
    func recordedParameters(initialRows: [Int]) -> JSONValue {
        var members = spec.method.configured.effective
        members["name"] = .string(spec.method.name)
        members["seed"] = .integer(Int64(spec.seed))
        var recordedBudget: [String: JSONValue] = ["count": .integer(Int64(budget))]
        if case let .percent(p) = spec.budget { recordedBudget["percent"] = .number(p) }
        members["budget"] = .object(recordedBudget)
        if !inputs.isEmpty {
            members["inputs"] = .object(inputs.mapValues { table in
                var input: [String: JSONValue] = [
                    "path": .string(table.source.path), "dataset": .string(table.source.dataset),
                    "m": .integer(Int64(table.rows)), "fingerprint": .string(table.fingerprint),
                ]
                if let rows = table.source.rows {
                    input["rows"] = .array([.integer(Int64(rows.lowerBound)), .integer(Int64(rows.upperBound))])
                }
                return .object(input)
            })
        }
        if !initialRows.isEmpty { members["init_rows"] = .array(initialRows.map { .integer(Int64($0)) }) }
        if !spec.labelled.isEmpty {
            members["labelled"] = .object([
                "sources": .array(spec.labelled.map { .string($0.description) }),
                "runs": .array(labelled.runIDs.map { .integer($0) }),
                "count": .integer(Int64(labelled.rows.count)), "round": .integer(Int64(labelled.round)),
                "fingerprint": labelled.fingerprint.map { .string($0) } ?? .null,
            ])
        }
        return .object(members)
    }

    /// The fingerprint of each named input, by name.
    var inputFingerprints: [String: String] { inputs.mapValues(\.fingerprint) }

    /// Whether `previous` ran this very job file, on the same features and inputs, with this version
    /// of selectjob, so that running again would give the same selection.
    func isUnchanged(since previous: RunRecord, jobSHA256: String) -> Bool {
        guard previous.jobSHA256 == jobSHA256, previous.featuresFingerprint == features.fingerprint,
              previous.toolVersion == selectjobVersion, previous.labelledFingerprint == labelled.fingerprint
        else { return false }
        guard let recorded = try? JSONValue.parse(Data(previous.paramsJSON.utf8)), case let .object(members, _) = recorded
        else { return false }
        var fingerprints: [String: String] = [:]
        if case let .object(inputs, _)? = members["inputs"] {
            for (name, input) in inputs {
                guard case let .object(fields, _) = input, case let .string(fingerprint)? = fields["fingerprint"] else { return false }
                fingerprints[name] = fingerprint
            }
        }
        return fingerprints == inputFingerprints
    }
}

extension FeatureTable {
    /// The features as the math module's matrix.
    var matrix: FeatureMatrix { FeatureMatrix(rows: rows, columns: columns, values: values) }
}

extension SelectionResult {
    /// The method's notes as `runs.notes_json` stores them (keys sorted), nil without notes.
    var notesJSON: String? {
        guard !notes.isEmpty else { return nil }
        let keys = notes.keys.sorted()
        return JSONValue.object(notes.mapValues { .number($0) }, keys: keys).jsonText
    }
}

extension JSONValue {
    /// Compact JSON with sorted keys; numbers in Swift's shortest round-trip form.
    var jsonText: String {
        switch self {
        case .null: return "null"
        case let .bool(value): return value ? "true" : "false"
        case let .integer(value): return String(value)
        case let .number(value): return value.isFinite ? "\(value)" : "null"
        case let .string(value):
            return String(decoding: (try? JSONEncoder.plain.encode(value)) ?? Data("\"\"".utf8), as: UTF8.self)
        case let .array(values): return "[" + values.map(\.jsonText).joined(separator: ",") + "]"
        case let .object(members, keys):
            return "{" + keys.map { JSONValue.string($0).jsonText + ":" + members[$0]!.jsonText }.joined(separator: ",") + "}"
        }
    }
}

extension JSONEncoder {
    static var plain: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }
}
