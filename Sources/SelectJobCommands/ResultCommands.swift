import ArgumentParser
import Foundation
import Jobs
import Reporting
import Store

/// The database a reading command opens: `--db`, else $SELECTJOB_DB, else ./selections.sqlite.
struct ReadDatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Database to read (default: $SELECTJOB_DB, else ./selections.sqlite).", valueName: "path"))
    var db: String?

    func validate() throws { try checkDatabasePaths(db) }

    var path: String { db ?? ProcessInfo.processInfo.environment["SELECTJOB_DB"] ?? "selections.sqlite" }

    /// Opens the database read-only (it must exist; nothing is created or written); failures are
    /// printed and become the exit code.
    func open() throws -> SelectionStore {
        do { return try SelectionStore(readingAt: path) } catch { throw fail(error) }
    }
}

/// Prints a store failure as selectjob's error line and returns the exit code to throw.
func fail(_ error: StoreError) -> ExitCode {
    printError(error.userMessage)
    return ExitCode(error.exitStatus.rawValue)
}

/// A run that has a selection to read: one that succeeded. Any other status is exit 64, naming the run.
func requireSelection(_ run: RunRecord) throws {
    guard run.status != .succeeded else { return }
    printError("run \(run.id) (job \(run.job)) is \(run.status.rawValue)"
               + (run.error.map { " (\($0))" } ?? "") + ": it has no selection")
    throw ExitCode(ExitStatus.badJob.rawValue)
}

/// Runs a store query, turning its failure into the error line and exit code.
@discardableResult
func query<T>(_ body: () throws(StoreError) -> T) throws -> T {
    do { return try body() } catch { throw fail(error) }
}

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List runs, newest first.")

    @OptionGroup var database: ReadDatabaseOptions
    @Option(help: "Only runs of this job.") var job: String?
    @Option(help: "Only runs with this status: running, succeeded, failed, cancelled or crashed.") var status: RunStatus?
    @Option(help: "At most this many runs.") var limit: Int?
    @Flag(help: "JSON instead of a table.") var json = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
    }

    func run() throws {
        let store = try database.open()
        // Runs still marked 'running' whose job lock is free lost their process: mark them 'crashed'.
        try query { () throws(StoreError) in try JobRunner.markCrashedRuns(in: store) }
        let runs = try query { () throws(StoreError) in try store.runs(job: job, status: status, limit: limit) }
        try emit(json ? Reports.runJSON(runs) : Reports.runTable(runs))
    }
}

extension RunStatus: ExpressibleByArgument {}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a run: parameters, inputs, timing, curve, first selected samples, class balance.")

    @OptionGroup var database: ReadDatabaseOptions
    @Argument(help: "Run id.") var runID: Int64
    @Option(help: "Selected samples to list.") var rows = 10
    @Flag(help: "JSON instead of text: the run, its parameters, curves, first selected samples and classes.") var json = false

    func run() throws {
        let store = try database.open()
        let record = try query { () throws(StoreError) in try store.run(id: runID) }
        let selection = try query { () throws(StoreError) in try store.selection(runID: runID) }
        let metrics = try query { () throws(StoreError) in try store.metrics(runID: runID) }
        let labels = try query { () throws(StoreError) in try store.poolLabels(runID: runID) }
        try emit(json ? Reports.runReportJSON(run: record, selection: selection, metrics: metrics, poolLabels: labels,
                                              firstRows: max(0, rows))
                      : Reports.runReport(run: record, selection: selection, metrics: metrics, poolLabels: labels,
                                          firstRows: max(0, rows)))
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a selection for the fine-tuning stage.",
        discussion: """
            json: the sorted row indices (ActiveFT's DeiT fine-tuning reads them with --subset_ids). \
            csv: rank,row_index,sample_id,score (and label, for a pool with labels) with a header. txt: one sample id per line. hdf5: \
            datasets row_indices, sample_ids, ranks and scores. Files are written atomically; without \
            -o (or with -o -), text formats go to stdout. Only a succeeded run has a selection: any other \
            is exit 64. A failed write is exit 74.
            """
    )

    @OptionGroup var database: ReadDatabaseOptions
    @Argument(help: "Run id (or give --job).") var runID: Int64?
    @Option(help: "The latest succeeded run of this job.") var job: String?
    @Option(help: "json, csv, txt or hdf5.") var format: ExportFormat
    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Output file: a regular file is replaced atomically keeping its permissions, a symlink's target likewise, a device or FIFO is written through, - is standard output.",
        valueName: "file")) var output: String?

    func validate() throws {
        guard (runID == nil) != (job == nil) else { throw ValidationError("give either a run id or --job NAME") }
        if format == .hdf5, output == nil { throw ValidationError(ExportError.needsOutputFile(format: "hdf5").errorDescription!) }
    }

    func run() throws {
        let store = try database.open()
        let record: RunRecord
        if let runID { record = try query { () throws(StoreError) in try store.run(id: runID) } } else {
            record = try query { () throws(StoreError) in try store.latestSucceededRun(job: job!) }
        }
        try requireSelection(record)
        let id = record.id
        let selection = try query { () throws(StoreError) in try store.selection(runID: id) }
        guard let output, output != "-" || format == .hdf5 else {
            try emit(SelectionExport.text(selection, format: format), terminator: "")
            return
        }
        let protected = ProtectedFiles(ProtectedFiles.database(database.path) + JobRunner.inputFiles(of: record, store: store))
        do {
            try SelectionExport.write(selection, format: format, to: output, provenance: ExportProvenance(run: record),
                                      protecting: protected)
        } catch {
            printError(error.errorDescription ?? "\(error)")
            throw ExitCode((error.isUsage ? ExitStatus.badJob : ExitStatus.ioError).rawValue)
        }
    }
}

extension ExportFormat: ExpressibleByArgument {}

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two selections by sample id: shared, only in A, only in B, Jaccard index.")

    @OptionGroup var database: ReadDatabaseOptions
    @Argument(help: "Run A.") var runA: Int64
    @Argument(help: "Run B.") var runB: Int64
    @Flag(help: "The comparison as one JSON object, with the ids only each run selected.") var json = false
    @Flag(help: "The differing ids, one a line: `A id` for those only A selected, then `B id`.") var ids = false

    func validate() throws {
        if json && ids { throw ValidationError("give --json or --ids, not both") }
    }

    func run() throws {
        let store = try database.open()
        let a = try query { () throws(StoreError) in try store.run(id: runA) }
        let b = try query { () throws(StoreError) in try store.run(id: runB) }
        try requireSelection(a)
        try requireSelection(b)
        let selectionA = try query { () throws(StoreError) in try store.selection(runID: runA) }
        let selectionB = try query { () throws(StoreError) in try store.selection(runID: runB) }
        if json {
            try emit(Reports.diffJSON(a: a, selectionA: selectionA, b: b, selectionB: selectionB))
        } else if ids {
            let text = Reports.diffIDs(selectionA: selectionA, selectionB: selectionB)
            if !text.isEmpty { try emit(text) }
        } else {
            try emit(Reports.diff(a: a, selectionA: selectionA, b: b, selectionB: selectionB))
        }
    }
}
