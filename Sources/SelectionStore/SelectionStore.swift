import Foundation
import GRDB

/// Why the result store failed; each case names the database file.
public enum StoreError: Error, Equatable, Sendable {
    /// Another process holds the database past the busy timeout. Worth retrying later.
    case busy(database: String)
    /// The database cannot be opened or created (missing folder, permissions, not SQLite).
    case cannotOpen(database: String, reason: String)
    /// The database was written by a newer selectjob: it has migrations this version does not know.
    case newerSchema(database: String, unknownMigrations: [String])
    /// The database or its folder is read-only.
    case readOnly(database: String)
    /// The disk is full.
    case diskFull(database: String)
    /// Any other SQLite failure.
    case sqlite(database: String, reason: String)
    /// No run with that id.
    case unknownRun(database: String, id: Int64)
}

extension StoreError: LocalizedError {
    public var errorDescription: String? {
        switch self {
        case let .busy(database): return "\(database): database is locked by another process (busy timeout exceeded)"
        case let .cannotOpen(database, reason): return "\(database): cannot open database (\(reason))"
        case let .newerSchema(database, unknown):
            return "\(database): written by a newer selectjob (unknown migrations: \(unknown.joined(separator: ", ")))"
        case let .readOnly(database): return "\(database): database or its folder is read-only"
        case let .diskFull(database): return "\(database): disk full while writing"
        case let .sqlite(database, reason): return "\(database): \(reason)"
        case let .unknownRun(database, id): return "\(database): no run with id \(id)"
        }
    }
}

/// The SQLite database of runs and selections (GRDB, WAL mode, busy timeout).
///
/// Writes happen in short transactions at the start and the end of a run; a run's selection, its
/// curve and its 'succeeded' status are committed together, so no reader ever sees half a selection.
/// The store knows nothing of how selections are computed.
public final class SelectionStore: Sendable {
    /// Path of the database file.
    public let path: String
    private let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// - Parameter busyTimeout: how long a write waits for another process's lock before ``StoreError/busy(database:)``.
    public init(path: String, busyTimeout: TimeInterval = 30) throws(StoreError) {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "selectjob"
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .cannotOpen(database: path, reason: "folder \(folder) does not exist")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            let migrator = Schema.migrator
            let unknown = try pool.read { db in
                try migrator.appliedIdentifiers(db).subtracting(migrator.migrations)
            }
            guard unknown.isEmpty else { throw StoreError.newerSchema(database: path, unknownMigrations: unknown.sorted()) }
            try migrator.migrate(pool)
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.translate(error, database: path)
        }
    }

    /// Maps a GRDB/SQLite failure to a ``StoreError`` naming `database`.
    static func translate(_ error: any Error, database: String) -> StoreError {
        guard let error = error as? DatabaseError else {
            return .sqlite(database: database, reason: String(describing: error))
        }
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: return .busy(database: database)
        case .SQLITE_READONLY: return .readOnly(database: database)
        case .SQLITE_FULL: return .diskFull(database: database)
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_NOTADB, .SQLITE_AUTH:
            return .cannotOpen(database: database, reason: error.message ?? "\(error.resultCode)")
        default: return .sqlite(database: database, reason: error.message ?? "\(error.resultCode)")
        }
    }

    private func write<T>(_ updates: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.write(updates) } catch { throw Self.translate(error, database: path) }
    }

    private func read<T>(_ value: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.read(value) } catch { throw Self.translate(error, database: path) }
    }

    /// Inserts a 'running' row for a run about to compute, and returns its id.
    public func beginRun(_ run: NewRun) throws(StoreError) -> Int64 {
        try write { db in
            try db.execute(sql: """
                INSERT INTO runs (job, job_path, job_json, job_sha256, features_path, features_fingerprint, method,
                                  params_json, n, d, budget, seed, status, started_at, tool_version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)
                """, arguments: [run.job, run.jobPath, run.jobJSON, run.jobSHA256, run.featuresPath,
                                 run.featuresFingerprint, run.method, run.paramsJSON, run.n, run.d, run.budget,
                                 run.seed, run.startedAt, run.toolVersion])
            return db.lastInsertedRowID
        }
    }

    /// Records a run's selection and curve and marks it 'succeeded', all in one transaction.
    public func completeRun(id: Int64, selection: [SelectedSample], metrics: [RunMetric], paramsJSON: String,
                            finishedAt: Date, durationSeconds: Double) throws(StoreError) {
        try write { db in
            for sample in selection { try sample.insert(db) }
            for metric in metrics { try metric.insert(db) }
            try db.execute(sql: """
                UPDATE runs SET status = 'succeeded', params_json = ?, finished_at = ?, duration_s = ?, error = NULL
                WHERE id = ?
                """, arguments: [paramsJSON, finishedAt, durationSeconds, id])
        }
    }

    /// Marks a run as ended without a selection: 'failed', 'cancelled' or 'crashed', with the reason.
    public func endRun(id: Int64, status: RunStatus, error: String, finishedAt: Date,
                       durationSeconds: Double?) throws(StoreError) {
        try write { db in
            try db.execute(sql: """
                UPDATE runs SET status = ?, error = ?, finished_at = ?, duration_s = ? WHERE id = ?
                """, arguments: [status.rawValue, error, finishedAt, durationSeconds, id])
        }
    }

    /// The run with `id`.
    public func run(id: Int64) throws(StoreError) -> RunRecord {
        guard let run = try read({ db in try RunRecord.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]) })
        else { throw .unknownRun(database: path, id: id) }
        return run
    }

    /// Runs, newest first, optionally of one job.
    public func runs(job: String? = nil) throws(StoreError) -> [RunRecord] {
        try read { db in
            if let job {
                return try RunRecord.fetchAll(db, sql: "SELECT * FROM runs WHERE job = ? ORDER BY id DESC", arguments: [job])
            }
            return try RunRecord.fetchAll(db, sql: "SELECT * FROM runs ORDER BY id DESC")
        }
    }

    /// A run's selection in rank order.
    public func selection(runID: Int64) throws(StoreError) -> [SelectedSample] {
        try read { db in
            try SelectedSample.fetchAll(db, sql: "SELECT * FROM selections WHERE run_id = ? ORDER BY rank", arguments: [runID])
        }
    }

    /// A run's curve points in step order.
    public func metrics(runID: Int64) throws(StoreError) -> [RunMetric] {
        try read { db in
            try RunMetric.fetchAll(db, sql: "SELECT * FROM run_metrics WHERE run_id = ? ORDER BY name, step",
                                   arguments: [runID])
        }
    }

    /// Identifiers of the migrations applied to this database, in order.
    public func appliedMigrations() throws(StoreError) -> [String] {
        try read { db in try Schema.migrator.appliedMigrations(db) }
    }
}
