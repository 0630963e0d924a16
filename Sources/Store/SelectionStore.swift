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
    /// The operating system reported an I/O error.
    case ioError(database: String, reason: String)
    /// Any other SQLite failure.
    case sqlite(database: String, reason: String)
    /// No run with that id.
    case unknownRun(database: String, id: Int64)
    /// No run of that job (with a selection, where one is needed).
    case unknownJob(database: String, job: String)
    /// The database file does not exist (commands that only read never create one).
    case missingDatabase(database: String)
    /// The file is an SQLite database of something else: tables but no selectjob migrations.
    case foreignSchema(database: String, tables: [String])
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
        case let .ioError(database, reason): return "\(database): I/O error (\(reason))"
        case let .sqlite(database, reason): return "\(database): \(reason)"
        case let .unknownRun(database, id): return "\(database): no run with id \(id)"
        case let .unknownJob(database, job): return "\(database): no succeeded run of job '\(job)'"
        case let .missingDatabase(database): return "\(database): no such database"
        case let .foreignSchema(database, tables):
            return "\(database): not a selectjob database (it has tables \(tables.prefix(5).joined(separator: ", "))"
                + "\(tables.count > 5 ? ", …" : "") but no selectjob schema); left untouched"
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
    /// Whether this store only reads (``init(readingAt:)``): it never writes, migrates or creates files.
    public let isReadOnly: Bool
    private let pool: any DatabaseWriter

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// The file is inspected read-only first: an SQLite file of another application (tables but no
    /// selectjob migrations) or of a newer selectjob is refused before anything is written to it.
    /// - Parameter busyTimeout: how long a write waits for another process's lock before ``StoreError/busy(database:)``.
    public init(path: String, busyTimeout: TimeInterval = 30) throws(StoreError) {
        self.path = path
        isReadOnly = false
        var configuration = Configuration()
        configuration.busyMode = .timeout(min(max(busyTimeout, 0), Self.maximumBusyTimeout))
        configuration.label = "selectjob"
        try Self.checkPlace(path)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Schema.migrator.migrate(pool)
        } catch {
            throw Self.translate(error, database: path)
        }
    }

    /// The longest busy timeout SQLite can take (its milliseconds are a 32-bit integer): about 24 days.
    public static let maximumBusyTimeout: TimeInterval = Double(Int32.max) / 1000

    /// The tables a selectjob database of this version has; one missing means the file was damaged.
    static let requiredTables = ["evaluations", "pool_labels", "run_metrics", "runs", "selections"]

    /// What opening `path` for writing would find, found without writing or creating anything (what
    /// `validate` reports): an existing file must be a selectjob database this version knows and be
    /// writable; a new one needs an existing, writable folder.
    public static func check(path: String) throws(StoreError) {
        try checkPlace(path)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let target = FileManager.default.fileExists(atPath: path) ? path : folder
        guard access(target, W_OK) == 0, access(folder, W_OK) == 0 else { throw .readOnly(database: path) }
    }

    /// The database's folder exists; what is at `path`, if anything, is a selectjob database this
    /// version knows (inspected read-only), not a directory or another application's file.
    private static func checkPlace(_ path: String) throws(StoreError) {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .cannotOpen(database: path, reason: "folder \(folder) does not exist")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else { throw .cannotOpen(database: path, reason: "is a directory") }
            try inspect(path)
        }
    }

    /// An existing database file must be one regular file with one name: a FIFO or device would block
    /// or swallow SQLite's writes, and SQLite keeps a database's journal and WAL by path, so a second
    /// hard link is a second, unsynchronised WAL (writes that succeeded are lost). O(1).
    static func checkFileKind(_ path: String) throws(StoreError) {
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG else {
            let name = kind == S_IFIFO ? "a FIFO" : kind == S_IFCHR ? "a character device" : kind == S_IFBLK ? "a block device"
                : kind == S_IFSOCK ? "a socket" : kind == S_IFDIR ? "a directory" : "not a regular file"
            throw .cannotOpen(database: path, reason: "is \(name), not a database file")
        }
        guard info.st_nlink == 1 else {
            throw .cannotOpen(database: path, reason: "the file has \(info.st_nlink) hard links; SQLite keeps its journal "
                              + "and WAL by path, so two names for one database lose writes: use one path (a symbolic link is fine)")
        }
    }

    /// Opens an existing database for reading only: nothing is written, migrated or created (no
    /// `-wal` or `-shm` file where none is), so it works on read-only media and immutable files.
    public init(readingAt path: String) throws(StoreError) {
        self.path = path
        isReadOnly = true
        guard FileManager.default.fileExists(atPath: path) else { throw .missingDatabase(database: path) }
        pool = try Self.inspect(path)
    }

    /// Opens `path` read-only and checks it is a selectjob database this version knows; an empty
    /// file (or one without tables) is fine. Falls back to SQLite's `immutable` mode where a WAL
    /// database cannot be opened normally (read-only folder without its `-shm`). Returns the open queue.
    @discardableResult
    public static func inspect(_ path: String) throws(StoreError) -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "selectjob (read-only)"
        try checkFileKind(path)
        func open(_ location: String) throws -> DatabaseQueue {
            let queue = try DatabaseQueue(path: location, configuration: configuration)
            try queue.read { db in _ = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master") }
            return queue
        }
        let queue: DatabaseQueue
        do {
            do { queue = try open(path) } catch {
                let uri = "file:" + (URL(fileURLWithPath: path).standardizedFileURL.path
                    .addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path) + "?immutable=1"
                queue = try open(uri)
            }
        } catch {
            throw translate(error, database: path)
        }
        do {
            let (tables, applied): ([String], Set<String>) = try queue.read { db in
                let tables = try String.fetchAll(db, sql: """
                    SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name
                    """)
                let applied = tables.contains("grdb_migrations")
                    ? Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")) : []
                return (tables, applied)
            }
            if !tables.isEmpty, !tables.contains("grdb_migrations") {
                throw StoreError.foreignSchema(database: path, tables: tables)
            }
            let unknown = applied.subtracting(Schema.migrator.migrations)
            guard unknown.isEmpty else { throw StoreError.newerSchema(database: path, unknownMigrations: unknown.sorted()) }
            // Every migration applied, yet a table gone: damaged, found before any computation.
            if applied.isSuperset(of: Schema.migrator.migrations),
               let missing = requiredTables.first(where: { !tables.contains($0) }) {
                throw StoreError.cannotOpen(database: path, reason: "the selectjob table '\(missing)' is missing (damaged database)")
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw translate(error, database: path)
        }
        return queue
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
        case .SQLITE_IOERR: return .ioError(database: database, reason: error.message ?? "\(error.resultCode)")
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_NOTADB, .SQLITE_AUTH, .SQLITE_CORRUPT:
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

    /// `write` and `read` for the store's other files (its records by subject).
    func writeTransaction<T>(_ updates: (Database) throws -> T) throws(StoreError) -> T { try write(updates) }
    func readTransaction<T>(_ value: (Database) throws -> T) throws(StoreError) -> T { try read(value) }

    /// Inserts a 'running' row for a run about to compute, and returns its id.
    public func beginRun(_ run: NewRun) throws(StoreError) -> Int64 {
        try write { db in
            try db.execute(sql: """
                INSERT INTO runs (job, job_path, job_json, job_sha256, features_path, features_fingerprint, method,
                                  params_json, n, d, budget, seed, status, started_at, tool_version,
                                  round, labelled_count, labelled_fingerprint)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)
                """, arguments: [run.job, run.jobPath, run.jobJSON, run.jobSHA256, run.featuresPath,
                                 run.featuresFingerprint, run.method, run.paramsJSON, run.n, run.d, run.budget,
                                 run.seed, run.startedAt, run.toolVersion, run.round, run.labelledCount,
                                 run.labelledFingerprint])
            return db.lastInsertedRowID
        }
    }

    /// Records a run's selection and curve and marks it 'succeeded', all in one transaction.
    public func completeRun(id: Int64, selection: [SelectedSample], metrics: [RunMetric], paramsJSON: String,
                            finishedAt: Date, durationSeconds: Double,
                            poolLabels: [Int64: Int] = [:], notesJSON: String? = nil,
                            droppedDuplicates: [DroppedDuplicate] = []) throws(StoreError) {
        try write { db in
            for sample in selection { try sample.insert(db) }
            for dropped in droppedDuplicates { try dropped.insert(db) }
            for metric in metrics { try metric.insert(db) }
            for (label, count) in poolLabels.sorted(by: { $0.key < $1.key }) {
                try db.execute(sql: "INSERT INTO pool_labels (run_id, label, count) VALUES (?, ?, ?)",
                               arguments: [id, label, count])
            }
            try db.execute(sql: """
                UPDATE runs SET status = 'succeeded', params_json = ?, finished_at = ?, duration_s = ?, error = NULL,
                       notes_json = ?
                WHERE id = ?
                """, arguments: [paramsJSON, finishedAt, durationSeconds, notesJSON, id])
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

    /// Marks the 'running' runs of `job` as 'crashed': the caller knows no process is running it.
    /// Returns how many were marked.
    @discardableResult
    public func markCrashed(job: String, finishedAt: Date) throws(StoreError) -> Int {
        try write { db in
            try db.execute(sql: """
                UPDATE runs SET status = 'crashed', finished_at = ?,
                       error = 'the process ended without finishing the run (killed or crashed)'
                WHERE job = ? AND status = 'running'
                """, arguments: [finishedAt, job])
            return db.changesCount
        }
    }

    /// Marks as 'crashed' those of the runs `ids` that are still 'running'. Returns how many it marked.
    @discardableResult
    public func markCrashed(runIDs ids: [Int64], finishedAt: Date) throws(StoreError) -> Int {
        guard !ids.isEmpty else { return 0 }
        let placeholders = ids.map { _ in "?" }.joined(separator: ",")
        return try write { db in
            try db.execute(sql: "UPDATE runs SET status = 'crashed', finished_at = ?, "
                + "error = 'the process ended without finishing the run (killed or crashed)' "
                + "WHERE status = 'running' AND id IN (\(placeholders))",
                arguments: StatementArguments([finishedAt.databaseValue] + ids.map(\.databaseValue)))
            return db.changesCount
        }
    }

    /// Marks run `runID` as 'failed' with `error` if it is still 'running' (its failure could not be
    /// recorded when it happened).
    public func markFailedIfRunning(runID: Int64, error: String) throws(StoreError) {
        try write { db in
            try db.execute(sql: "UPDATE runs SET status = 'failed', error = ? WHERE id = ? AND status = 'running'",
                           arguments: [error, runID])
        }
    }

    /// Deletes the runs `ids` with everything that belongs to them (selections, curves, pool labels:
    /// foreign keys cascade), in one transaction; optionally compacts the file after. Returns how many.
    @discardableResult
    public func deleteRuns(ids: [Int64], vacuum: Bool = false) throws(StoreError) -> Int {
        let deleted: Int = try write { db in
            guard !ids.isEmpty else { return 0 }
            let placeholders = ids.map { _ in "?" }.joined(separator: ",")
            try db.execute(sql: "DELETE FROM runs WHERE id IN (\(placeholders))", arguments: StatementArguments(ids))
            return db.changesCount
        }
        if vacuum {
            do { try pool.vacuum() } catch { throw Self.translate(error, database: path) }
        }
        return deleted
    }

    /// The runs marked 'running', by job: their ids.
    public func runningRunIDs() throws(StoreError) -> [String: [Int64]] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT job, id FROM runs WHERE status = 'running' ORDER BY id")
            return Dictionary(grouping: rows, by: { $0["job"] as String }).mapValues { $0.map { $0["id"] as Int64 } }
        }
    }


    /// The run with `id`.
    public func run(id: Int64) throws(StoreError) -> RunRecord {
        guard let run = try read({ db in try RunRecord.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]) })
        else { throw .unknownRun(database: path, id: id) }
        return run
    }

    /// Runs, newest first, optionally of one job and one status, at most `limit` of them.
    public func runs(job: String? = nil, status: RunStatus? = nil, limit: Int? = nil) throws(StoreError) -> [RunRecord] {
        try read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let job { conditions.append("job = ?"); arguments += [job] }
            if let status { conditions.append("status = ?"); arguments += [status.rawValue] }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let bound = limit.map { " LIMIT \($0)" } ?? ""
            return try RunRecord.fetchAll(db, sql: "SELECT * FROM runs \(filter) ORDER BY id DESC\(bound)",
                                          arguments: arguments)
        }
    }

    /// The latest succeeded run of `job`: the one `latest_selections` shows.
    public func latestSucceededRun(job: String) throws(StoreError) -> RunRecord {
        guard let run = try read({ db in
            try RunRecord.fetchOne(db, sql: "SELECT * FROM runs WHERE job = ? AND status = 'succeeded' ORDER BY id DESC LIMIT 1",
                                   arguments: [job])
        }) else { throw .unknownJob(database: path, job: job) }
        return run
    }

    /// The pool's sample count per class label for a run (empty when the pool had no labels).
    public func poolLabels(runID: Int64) throws(StoreError) -> [Int64: Int] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT label, count FROM pool_labels WHERE run_id = ?", arguments: [runID])
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["label"] as Int64, $0["count"] as Int) })
        }
    }

    /// The job file's text as the run recorded it.
    public func jobJSON(runID: Int64) throws(StoreError) -> String {
        guard let text = try read({ db in try String.fetchOne(db, sql: "SELECT job_json FROM runs WHERE id = ?", arguments: [runID]) })
        else { throw .unknownRun(database: path, id: runID) }
        return text
    }

    /// A run's selection in rank order.
    public func selection(runID: Int64) throws(StoreError) -> [SelectedSample] {
        try read { db in
            try SelectedSample.fetchAll(db, sql: "SELECT * FROM selections WHERE run_id = ? ORDER BY rank", arguments: [runID])
        }
    }

    /// The samples a run's `dedup` dropped, by row.
    public func droppedDuplicates(runID: Int64) throws(StoreError) -> [DroppedDuplicate] {
        try read { db in
            try DroppedDuplicate.fetchAll(db, sql: "SELECT * FROM dropped_duplicates WHERE run_id = ? ORDER BY row_index",
                                          arguments: [runID])
        }
    }

    /// A run's curve points in step order.
    public func metrics(runID: Int64) throws(StoreError) -> [RunMetric] {
        try read { db in
            try RunMetric.fetchAll(db, sql: "SELECT * FROM run_metrics WHERE run_id = ? ORDER BY name, step",
                                   arguments: [runID])
        }
    }

    /// The stored evaluation of run `runID` on this test set with these parameters, if any.
    public func evaluation(runID: Int64, testFingerprint: String, paramsJSON: String) throws(StoreError) -> EvaluationRecord? {
        try read { db in
            try EvaluationRecord.filter(Column("run_id") == runID && Column("test_fingerprint") == testFingerprint
                                        && Column("params_json") == paramsJSON).fetchOne(db)
        }
    }

    /// Every stored evaluation of run `runID`, oldest first.
    public func evaluations(runID: Int64) throws(StoreError) -> [EvaluationRecord] {
        try read { db in try EvaluationRecord.filter(Column("run_id") == runID).order(Column("id")).fetchAll(db) }
    }

    /// Stores an evaluation (one transaction) and returns it with its id. A row with the same run, test
    /// set and parameters already there is returned instead (another process stored it first).
    @discardableResult
    public func saveEvaluation(_ evaluation: EvaluationRecord) throws(StoreError) -> EvaluationRecord {
        try write { db in
            if let existing = try EvaluationRecord.filter(Column("run_id") == evaluation.runID
                                                          && Column("test_fingerprint") == evaluation.testFingerprint
                                                          && Column("params_json") == evaluation.paramsJSON).fetchOne(db) {
                return existing
            }
            var inserted = evaluation
            try inserted.insert(db)
            return inserted
        }
    }

    /// Identifiers of the migrations applied to this database, in order.
    public func appliedMigrations() throws(StoreError) -> [String] {
        try read { db in try Schema.migrator.appliedMigrations(db) }
    }
}
