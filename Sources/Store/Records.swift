import Foundation
import GRDB

/// What is known of a run when it starts; becomes a `runs` row with status 'running'.
public struct NewRun: Sendable {
    public var job: String
    public var jobPath: String
    public var jobJSON: String
    public var jobSHA256: String
    public var featuresPath: String
    public var featuresFingerprint: String
    public var method: String
    public var paramsJSON: String
    public var n: Int
    public var d: Int
    public var budget: Int
    public var seed: Int64
    public var toolVersion: String
    public var startedAt: Date
    /// The labelling round (1 when nothing was labelled before).
    public var round: Int
    /// Samples already labelled when the run started, and their fingerprint (nil: none).
    public var labelledCount: Int
    public var labelledFingerprint: String?

    public init(job: String, jobPath: String, jobJSON: String, jobSHA256: String, featuresPath: String,
                featuresFingerprint: String, method: String, paramsJSON: String, n: Int, d: Int, budget: Int,
                seed: Int64, toolVersion: String, startedAt: Date, round: Int = 1, labelledCount: Int = 0,
                labelledFingerprint: String? = nil) {
        self.round = round
        self.labelledCount = labelledCount
        self.labelledFingerprint = labelledFingerprint
        self.job = job
        self.jobPath = jobPath
        self.jobJSON = jobJSON
        self.jobSHA256 = jobSHA256
        self.featuresPath = featuresPath
        self.featuresFingerprint = featuresFingerprint
        self.method = method
        self.paramsJSON = paramsJSON
        self.n = n
        self.d = d
        self.budget = budget
        self.seed = seed
        self.toolVersion = toolVersion
        self.startedAt = startedAt
    }
}

/// A sample's identifier as stored in `selections.sample_id`: an integer or a string.
public enum SampleIdentifier: Sendable, Hashable, CustomStringConvertible, DatabaseValueConvertible {
    case integer(Int64)
    case text(String)

    public var description: String {
        switch self {
        case let .integer(value): return String(value)
        case let .text(value): return value
        }
    }

    public var databaseValue: DatabaseValue {
        switch self {
        case let .integer(value): return value.databaseValue
        case let .text(value): return value.databaseValue
        }
    }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> SampleIdentifier? {
        switch dbValue.storage {
        case let .int64(value): return .integer(value)
        case let .string(value): return .text(value)
        default: return nil
        }
    }
}

/// One row of a selection: rank (0 = first), pool row, sample id, score and optional class label.
public struct SelectedSample: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "selections"
    public var runID: Int64
    public var rank: Int
    public var rowIndex: Int
    public var sampleID: SampleIdentifier
    public var score: Double
    public var label: Int64?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", rank, rowIndex = "row_index", sampleID = "sample_id", score, label
    }

    public init(runID: Int64, rank: Int, rowIndex: Int, sampleID: SampleIdentifier, score: Double, label: Int64?) {
        self.runID = runID
        self.rank = rank
        self.rowIndex = rowIndex
        self.sampleID = sampleID
        self.score = score
        self.label = label
    }
}

/// A sample a run's `dedup` left out of its candidates: a row of `dropped_duplicates`.
public struct DroppedDuplicate: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "dropped_duplicates"
    public var runID: Int64
    public var rowIndex: Int
    public var sampleID: SampleIdentifier
    public var representativeRow: Int
    public var representativeID: SampleIdentifier
    public var similarity: Double

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", rowIndex = "row_index", sampleID = "sample_id", representativeRow = "representative_row"
        case representativeID = "representative_id", similarity
    }

    public init(runID: Int64, rowIndex: Int, sampleID: SampleIdentifier, representativeRow: Int,
                representativeID: SampleIdentifier, similarity: Double) {
        self.runID = runID
        self.rowIndex = rowIndex
        self.sampleID = sampleID
        self.representativeRow = representativeRow
        self.representativeID = representativeID
        self.similarity = similarity
    }
}

extension SampleIdentifier: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int64.self) { self = .integer(value) } else {
            self = .text(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .integer(value): try container.encode(value)
        case let .text(value): try container.encode(value)
        }
    }
}

/// One point of a run's curve (`run_metrics`): e.g. name "loss", step 0 the loss before any update.
public struct RunMetric: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "run_metrics"
    public var runID: Int64
    public var step: Int
    public var name: String
    public var value: Double

    enum CodingKeys: String, CodingKey { case runID = "run_id", step, name, value }

    public init(runID: Int64, step: Int, name: String, value: Double) {
        self.runID = runID
        self.step = step
        self.name = name
        self.value = value
    }
}

/// A run's final state.
public enum RunStatus: String, Sendable, Codable {
    case running, succeeded, failed, cancelled, crashed
}

/// A `runs` row as read back.
public struct RunRecord: Sendable, Equatable, Codable, FetchableRecord {
    public var id: Int64
    public var job: String
    public var jobPath: String
    public var jobSHA256: String
    public var featuresPath: String
    public var featuresFingerprint: String
    public var method: String
    public var paramsJSON: String
    public var n: Int
    public var d: Int
    public var budget: Int
    public var seed: Int64
    public var status: RunStatus
    public var startedAt: Date
    public var finishedAt: Date?
    public var durationS: Double?
    public var toolVersion: String
    public var error: String?
    public var round: Int
    public var labelledCount: Int
    public var labelledFingerprint: String?
    /// The method's notes on its selection (`runs.notes_json`), nil when it had none.
    public var notesJSON: String?

    public init(id: Int64, job: String, jobPath: String, jobSHA256: String, featuresPath: String,
                featuresFingerprint: String, method: String, paramsJSON: String, n: Int, d: Int, budget: Int,
                seed: Int64, status: RunStatus, startedAt: Date, finishedAt: Date?, durationS: Double?,
                toolVersion: String, error: String?, round: Int = 1, labelledCount: Int = 0,
                labelledFingerprint: String? = nil, notesJSON: String? = nil) {
        self.notesJSON = notesJSON
        self.round = round
        self.labelledCount = labelledCount
        self.labelledFingerprint = labelledFingerprint
        self.id = id
        self.job = job
        self.jobPath = jobPath
        self.jobSHA256 = jobSHA256
        self.featuresPath = featuresPath
        self.featuresFingerprint = featuresFingerprint
        self.method = method
        self.paramsJSON = paramsJSON
        self.n = n
        self.d = d
        self.budget = budget
        self.seed = seed
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.durationS = durationS
        self.toolVersion = toolVersion
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case id, job, jobPath = "job_path", jobSHA256 = "job_sha256", featuresPath = "features_path"
        case featuresFingerprint = "features_fingerprint", method, paramsJSON = "params_json", n, d, budget, seed
        case status, startedAt = "started_at", finishedAt = "finished_at", durationS = "duration_s"
        case toolVersion = "tool_version", error, round, labelledCount = "labelled_count"
        case labelledFingerprint = "labelled_fingerprint", notesJSON = "notes_json"
    }
}

/// An `evaluations` row: what `selectjob evaluate` measured of a run's selection on one test set
/// with one set of evaluation parameters (both as JSON the caller defines).
public struct EvaluationRecord: Sendable, Equatable, Codable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "evaluations"
    public var id: Int64?
    public var runID: Int64
    public var testFingerprint: String
    public var paramsJSON: String
    public var resultsJSON: String
    public var createdAt: Date
    public var toolVersion: String

    enum CodingKeys: String, CodingKey {
        case id, runID = "run_id", testFingerprint = "test_fingerprint", paramsJSON = "params_json"
        case resultsJSON = "results_json", createdAt = "created_at", toolVersion = "tool_version"
    }

    public init(runID: Int64, testFingerprint: String, paramsJSON: String, resultsJSON: String, createdAt: Date,
                toolVersion: String) {
        self.runID = runID
        self.testFingerprint = testFingerprint
        self.paramsJSON = paramsJSON
        self.resultsJSON = resultsJSON
        self.createdAt = createdAt
        self.toolVersion = toolVersion
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
