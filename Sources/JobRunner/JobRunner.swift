import Crypto
import FeatureIO
import Foundation
import Logging
import Selection
import SelectionStore

/// The version recorded in `runs.tool_version`.
public let selectjobVersion = "0.1.0"

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
        return try validate(spec, jobPath: jobPath)
    }

    /// Checks an already parsed job against the data it names (features, VTL targets, budget).
    func validate(_ spec: JobSpec, jobPath: String) throws(RunError) -> ValidatedJob {
        let features: FeatureTable
        do { features = try FeatureTable.load(spec.features) } catch { throw .input(error) }
        let budget = spec.budget.count(poolSize: features.rows)
        var targets: FeatureTable?
        if case let .vtl(_, targetSource?) = spec.method {
            do { targets = try FeatureTable.load(targetSource) } catch { throw .input(error) }
        }
        do {
            switch spec.method {
            case let .activeFT(parameters):
                try ActiveFT.validate(poolSize: features.rows, budget: budget, parameters: parameters)
            case let .vtl(parameters, _):
                try VTL.validate(poolSize: features.rows, poolWidth: features.columns, targetWidth: targets?.columns,
                                 budget: budget, parameters: parameters)
            }
        } catch {
            throw .parameters(file: jobPath, error)
        }
        return ValidatedJob(spec: spec, features: features, targets: targets, budget: budget)
    }

    /// Runs the job at `jobPath` to completion and records it, unless its latest succeeded run had the
    /// same job file and the same data (then it reports that run; `force` runs anyway).
    ///
    /// Order: job file, lock, data, database, computation, one commit — a bad job or bad data never
    /// reaches the database, a second run of the same job stops at the lock, and `stopSignal` (asked
    /// throughout; it returns the signal that asked the run to stop, if any) ends the run as 'cancelled'.
    public func run(jobPath: String, logger: Logger, stopSignal: () -> Int32? = { nil },
                    progress: (SelectionProgress) -> Void = { _ in }) throws(RunError) -> RunOutcome {
        let started = Date()
        let contents: Data
        let parsed: JobSpec
        do { (parsed, contents) = try JobSpec.load(path: jobPath) } catch { throw .job(error) }
        let databasePath = databasePath(for: parsed)
        if let signal = stopSignal() { throw .cancelled(signal: signal) }
        let lock = try JobLock.acquire(database: databasePath, job: parsed.name, wait: lockWait)
        defer { withExtendedLifetime(lock) {} }

        // The spec parsed above, from the same bytes whose SHA-256 the run records.
        let job = try validate(parsed, jobPath: jobPath)
        let (spec, features, budget) = (job.spec, job.features, job.budget)
        logger.info("read features", metadata: [
            "job": "\(spec.name)", "file": "\(features.source.path)", "n": "\(features.rows)",
            "d": "\(features.columns)", "type": "\(features.storedType)",
        ])
        let jobSHA256 = SHA256.hash(data: contents).map { String(format: "%02x", $0) }.joined()

        let store: SelectionStore
        do {
            store = try SelectionStore(path: databasePath, busyTimeout: busyTimeout)
            // We hold the job's lock, so any run of it still marked 'running' lost its process.
            let crashed = try store.markCrashed(job: spec.name, finishedAt: Date())
            if crashed > 0 { logger.warning("marked earlier runs as crashed", metadata: ["job": "\(spec.name)", "runs": "\(crashed)"]) }
            if !force, let previous = try? store.latestSucceededRun(job: spec.name), previous.jobSHA256 == jobSHA256,
               previous.featuresFingerprint == features.fingerprint,
               job.targets.map({ previous.paramsJSON.contains($0.fingerprint) }) ?? true {
                logger.info("unchanged", metadata: ["job": "\(spec.name)", "run": "\(previous.id)"])
                return .unchanged(job: spec.name, runID: previous.id, database: databasePath)
            }
        } catch {
            throw .store(error)
        }
        if let signal = stopSignal() { throw .cancelled(signal: signal) }

        let runID: Int64
        do {
            runID = try store.beginRun(NewRun(
                job: spec.name, jobPath: URL(fileURLWithPath: jobPath).standardizedFileURL.path,
                jobJSON: String(decoding: contents, as: UTF8.self), jobSHA256: jobSHA256,
                featuresPath: features.source.path, featuresFingerprint: features.fingerprint,
                method: spec.method.name, paramsJSON: RecordedParameters(job).json,
                n: features.rows, d: features.columns, budget: budget, seed: Int64(spec.seed),
                toolVersion: selectjobVersion, startedAt: started))
        } catch {
            throw .store(error)
        }
        logger.info("run started", metadata: ["run": "\(runID)", "database": "\(databasePath)", "k": "\(budget)"])

        func end(_ status: RunStatus, _ message: String) {
            try? store.endRun(id: runID, status: status, error: message, finishedAt: Date(),
                              durationSeconds: Date().timeIntervalSince(started))
        }
        let matrix = FeatureMatrix(rows: features.rows, columns: features.columns, values: features.values)
        var generator = SeededGenerator(seed: spec.seed)
        let shouldStop = { stopSignal() != nil }
        let result: SelectionResult
        do {
            switch spec.method {
            case let .activeFT(parameters):
                result = try ActiveFT.select(features: matrix, budget: budget, parameters: parameters,
                                             generator: &generator, threads: threads, shouldStop: shouldStop,
                                             progress: progress)
            case let .vtl(parameters, _):
                let targets = job.targets.map { FeatureMatrix(rows: $0.rows, columns: $0.columns, values: $0.values) }
                result = try VTL.select(pool: matrix, targets: targets, budget: budget, parameters: parameters,
                                        threads: threads, shouldStop: shouldStop, progress: progress)
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

        let selection = result.picks.enumerated().map { rank, pick in
            SelectedSample(runID: runID, rank: rank, rowIndex: pick.row, sampleID: features.ids.identifier(ofRow: pick.row),
                           score: pick.score, label: features.labels?[pick.row])
        }
        let metrics = result.curve.enumerated().map { step, value in
            RunMetric(runID: runID, step: step, name: result.curveName, value: value)
        }
        var recorded = RecordedParameters(job)
        if case .activeFT = spec.method { recorded.initRows = result.initialRows }
        let finished = Date()
        let seconds = finished.timeIntervalSince(started)
        do {
            try store.completeRun(id: runID, selection: selection, metrics: metrics, paramsJSON: recorded.json,
                                  finishedAt: finished, durationSeconds: seconds,
                                  poolLabels: features.labels.map { Dictionary($0.map { ($0, 1) }, uniquingKeysWith: +) } ?? [:])
        } catch {
            end(.failed, error.errorDescription ?? "\(error)")
            throw .store(error)
        }
        logger.info("run succeeded", metadata: ["run": "\(runID)", "seconds": "\(String(format: "%.2f", seconds))"])
        return .completed(RunSummary(runID: runID, job: spec.name, method: spec.method.name, n: features.rows,
                                     d: features.columns, budget: budget, seconds: seconds, database: databasePath,
                                     finalValue: result.curve.last))
    }

    /// Marks as 'crashed' the 'running' runs whose job lock no process holds (their process died).
    /// Returns how many were marked.
    @discardableResult
    public static func markCrashedRuns(in store: SelectionStore) throws(StoreError) -> Int {
        var marked = 0
        for job in try store.jobsWithRunningRuns() where !JobLock.isHeld(database: store.path, job: job) {
            marked += try store.markCrashed(job: job, finishedAt: Date())
        }
        return marked
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
    public let features: FeatureTable
    /// VTL's targets, read and checked; `nil` for other methods and undirected VTL.
    public let targets: FeatureTable?
    /// K, the number of samples to select.
    public let budget: Int
}

/// The budget as the job gave it and the sample count it came to.
struct RecordedBudget: Encodable {
    var percent: Double?
    var count: Int
}

/// VTL's targets as read: where from, how many, and the fingerprint of the data.
struct RecordedTargets: Encodable {
    var path: String
    var dataset: String
    var rows: [Int]?
    var m: Int
    var fingerprint: String
}

/// VTL's prefilter: the samples kept of the pool.
struct RecordedPrefilter: Encodable {
    var k: Int
    var kept: Int
}

/// The effective parameters of a run, every default filled in, as stored in `runs.params_json`.
struct RecordedParameters: Encodable {
    var name: String
    var budget: RecordedBudget
    var seed: UInt64
    // ActiveFT
    var temperature: Double?
    var iterations: Int?
    var learningRate: Double?
    var balance: Double?
    var initialization: String?
    var batchSize: Int?
    /// The rows the centroids started from, once known: `{"init": {"rows": ...}}` reproduces the run.
    var initRows: [Int]?
    // VTL
    var noiseVariance: Double?
    var normalize: Bool?
    var targets: RecordedTargets?
    var undirected: Bool?
    var prefilter: RecordedPrefilter?

    enum CodingKeys: String, CodingKey {
        case name, budget, seed, temperature, iterations, learningRate = "learning_rate", balance
        case initialization = "init", batchSize = "batch_size", initRows = "init_rows"
        case noiseVariance = "noise_variance", normalize, targets, undirected, prefilter
    }

    init(_ job: ValidatedJob) {
        let spec = job.spec
        name = spec.method.name
        seed = spec.seed
        switch spec.budget {
        case let .percent(p): budget = RecordedBudget(percent: p, count: job.budget)
        case .count: budget = RecordedBudget(percent: nil, count: job.budget)
        }
        switch spec.method {
        case let .activeFT(parameters):
            temperature = parameters.temperature
            iterations = parameters.iterations
            learningRate = parameters.learningRate
            balance = parameters.balance
            batchSize = parameters.batchSize
            switch parameters.initialization {
            case .random: initialization = "random"
            case .farthestPoint: initialization = "fps"
            case .rows: initialization = "rows"
            }
        case let .vtl(parameters, _):
            noiseVariance = parameters.noiseVariance
            normalize = parameters.normalize
            undirected = job.targets == nil
            targets = job.targets.map { table in
                RecordedTargets(path: table.source.path, dataset: table.source.dataset,
                                rows: table.source.rows.map { [$0.lowerBound, $0.upperBound] }, m: table.rows,
                                fingerprint: table.fingerprint)
            }
            prefilter = parameters.prefilter.map { RecordedPrefilter(k: $0, kept: min($0, job.features.rows)) }
        }
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
