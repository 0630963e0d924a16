import FeatureIO
import Foundation
import Selection
import Store

/// The process exit codes of `selectjob`: a contract for schedulers, documented in the README and docs/commands.md, and tested.
public enum ExitStatus: Int32, Sendable, CaseIterable {
    /// Success.
    case ok = 0
    /// Anything not covered below (an unexpected I/O or database failure).
    case failure = 1
    /// Bad job file or command-line usage (BSD `EX_USAGE`).
    case badJob = 64
    /// Bad input data: the feature file is missing, malformed or holds invalid values (`EX_DATAERR`).
    case badData = 65
    /// The database cannot be opened or created: missing folder, read-only file or folder, not
    /// SQLite, or written by a newer selectjob (`EX_CANTCREAT`). Found before any computation.
    case databaseUnavailable = 73
    /// An I/O error while writing the result, such as a full disk (`EX_IOERR`); the database stays intact.
    case ioError = 74
    /// Temporary failure, worth retrying later: the job is running elsewhere, or the database stayed
    /// locked past the busy timeout (`EX_TEMPFAIL`).
    case temporaryFailure = 75
    /// Interrupted by SIGINT (128 + 2).
    case interrupted = 130
    /// Terminated by SIGTERM (128 + 15).
    case terminated = 143
}

/// Why a run did not complete, with the exit status it maps to.
public enum RunError: Error, Sendable {
    case job(JobError)
    case input(FeatureInputError)
    /// The job's parameters do not fit the data it names (e.g. a budget larger than the pool).
    case parameters(file: String, SelectionError)
    case store(StoreError)
    /// The job's labelled samples name a job, run or sample that is not there.
    case labelled(LabelledError)
    /// Another process is running the same job and holds its lock.
    case locked(job: String, lockFile: String, holder: String?)
    /// A signal stopped the run; the run is recorded as 'cancelled'.
    /// `recorded`: whether a run row existed to mark 'cancelled' (a signal before it leaves nothing).
    case cancelled(signal: Int32, recorded: Bool = true)
    /// In a distributed run: another process (`rank`) failed with this status and message.
    case onRank(rank: Int, status: ExitStatus, message: String)
    /// The method's numbers overflowed on this data (a non-finite score or curve value); nothing is
    /// recorded but the failure.
    case nonFiniteResult(file: String, method: String, detail: String)
    /// A distributed run cannot run this job (a method or job feature that needs the whole pool in
    /// one process, or a pool too small for the processes).
    case notDistributable(file: String, reason: String)

    public var exitStatus: ExitStatus {
        switch self {
        case .job, .parameters: return .badJob
        case let .input(error): return error.isTemporary ? .temporaryFailure : .badData
        case let .store(error): return error.exitStatus
        case let .labelled(error): return error.exitStatus
        case .locked: return .temporaryFailure
        case let .cancelled(signal, _): return signal == SIGTERM ? .terminated : .interrupted
        case let .onRank(_, status, _): return status
        case .notDistributable: return .badJob
        case .nonFiniteResult: return .badData
        }
    }
}

extension StoreError {
    /// The exit status a command reports for this failure.
    public var exitStatus: ExitStatus {
        switch self {
        case .busy: return .temporaryFailure
        case .unknownRun, .unknownJob, .missingDatabase: return .badJob
        case .cannotOpen, .readOnly, .newerSchema, .foreignSchema: return .databaseUnavailable
        case .diskFull, .ioError: return .ioError
        case .sqlite: return .failure
        }
    }
}

extension RunError {
    /// The error that keeps `result` out of the database — a non-finite score or curve value, which
    /// JSON and the report cannot show — or nil when every number is finite. Both run paths ask it
    /// before their commit. O(K + steps).
    static func unrecordable(_ result: SelectionResult, file: String, method: String) -> RunError? {
        result.firstNonFinite.map { .nonFiniteResult(file: file, method: method, detail: $0) }
    }
}

extension StoreError {
    /// The store's message with what a user of the command line can do about it: the store speaks of
    /// files, this layer adds the options.
    public var userMessage: String {
        let base = errorDescription ?? "\(self)"
        if case .missingDatabase = self { return base + " (give --db or set SELECTJOB_DB)" }
        return base
    }
}

extension SelectionError {
    /// The method's message with what a user of the command line can do about it.
    public var userMessage: String {
        switch self {
        case .notDistributable: return description + "; run it in one process (without mpirun)"
        case let .needsLabelledSamples(_, withClasses):
            return description + (withClasses ? " (give the job's \"labelled\" with \"labels\")" : " (give the job's \"labelled\")")
        default: return description
        }
    }
}

extension RunError: LocalizedError {
    public var errorDescription: String? {
        switch self {
        case let .job(error): return error.errorDescription
        case let .input(error): return error.errorDescription
        case let .parameters(file, error): return "\(file): \(error.userMessage)"
        case let .store(error): return error.userMessage
        case let .labelled(error): return error.message
        case let .locked(job, lockFile, holder):
            let who = holder.map { "process \($0)" } ?? "another process"
            return "job '\(job)' is already running (\(who) holds \(lockFile)); try again later or use --wait SECONDS"
        case let .onRank(rank, _, message): return "rank \(rank): \(message)"
        case let .notDistributable(file, reason): return "\(file): \(reason)"
        case let .nonFiniteResult(file, method, detail):
            return "\(file): \(method) produced a non-finite \(detail) on these features; nothing was recorded (rescale the features?)"
        case let .cancelled(signal, recorded):
            return "stopped by \(signal == SIGTERM ? "SIGTERM" : signal == SIGINT ? "SIGINT" : "signal \(signal)"); "
                + (recorded ? "the run is recorded as cancelled" : "before the run started: nothing was recorded")
        }
    }
}
