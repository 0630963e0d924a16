import FeatureIO
import Foundation
import Selection
import SelectionStore

/// The process exit codes of `selectjob`: a contract for schedulers, documented in the README and tested.
public enum ExitStatus: Int32, Sendable, CaseIterable {
    /// Success.
    case ok = 0
    /// Anything not covered below (an unexpected I/O or database failure).
    case failure = 1
    /// Bad job file or command-line usage (BSD `EX_USAGE`).
    case badJob = 64
    /// Bad input data: the feature file is missing, malformed or holds invalid values (`EX_DATAERR`).
    case badData = 65
    /// Temporary failure, worth retrying later: the database is locked (`EX_TEMPFAIL`).
    case temporaryFailure = 75
}

/// Why a run did not complete, with the exit status it maps to.
public enum RunError: Error, Sendable {
    case job(JobError)
    case input(FeatureInputError)
    /// The job's parameters do not fit the data it names (e.g. a budget larger than the pool).
    case parameters(file: String, SelectionError)
    case store(StoreError)

    public var exitStatus: ExitStatus {
        switch self {
        case .job, .parameters: return .badJob
        case .input: return .badData
        case let .store(error): return error.exitStatus
        }
    }
}

extension StoreError {
    /// The exit status a command reports for this failure.
    public var exitStatus: ExitStatus {
        switch self {
        case .busy: return .temporaryFailure
        case .unknownRun, .unknownJob, .missingDatabase: return .badJob
        default: return .failure
        }
    }
}

extension RunError: LocalizedError {
    public var errorDescription: String? {
        switch self {
        case let .job(error): return error.errorDescription
        case let .input(error): return error.errorDescription
        case let .parameters(file, error): return "\(file): \(error.description)"
        case let .store(error): return error.errorDescription
        }
    }
}
