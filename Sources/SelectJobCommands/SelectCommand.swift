import ArgumentParser
import Foundation
import Jobs
import Reporting
import Selection
import Store

/// `selectjob select`: a selection without a job file. It builds the job in memory and runs it
/// exactly as `run` runs a job file (same checks, messages and exit codes), records it under a name
/// derived from the features, the method and the budget, and with `--print-job` writes the job file
/// instead, for cron.
struct Select: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Select a subset without a job file: features, a method and a budget.",
        discussion: """
            Example: selectjob select feats.h5 --method kmeans --budget 1% -o subset.json. The run is \
            recorded like a job's (job name FEATURES-METHOD-BUDGET unless --name gives one) and is \
            skipped when nothing changed since its last run, as `run` skips (--force runs it anyway). \
            --print-job prints the equivalent job file instead of running, for `selectjob run` and cron.
            """
    )

    @OptionGroup var job: JobOptions

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Also write the selection's sorted row indices as a JSON list to this file (as `export --format json`).", valueName: "file"))
    var output: String?

    @Flag(help: "Print the equivalent job file (pretty JSON) and stop, without running.")
    var printJob = false

    @Flag(help: "One JSON object on stdout (as `run --json`), instead of the summary.")
    var json = false

    @Flag(help: "Run even if the same selection was recorded and its data are unchanged.")
    var force = false

    @Flag(help: "No progress bar, no info log lines (warnings and errors only).")
    var quiet = false

    @Option(help: ArgumentHelp("Threads to compute with (the selection is identical for every count).", valueName: "n"))
    var threads: Int = ParallelChunks.processorCount

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        let text = try job.text(database: database.db)
        if printJob { return try emit(text) }
        let logger = logging.bootstrap(quiet: quiet)
        var runner = database.runner(threads: threads)
        runner.force = force
        let signals = StopSignals()
        let reporter = ProgressReporter(job: "selectjob select", logger: logger, enabled: !quiet)
        let folder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let outcome: RunOutcome
        do {
            // The bytes --print-job prints, final line break included: the printed file is this very job.
            outcome = try runner.run(.inline(name: "selectjob select", contents: Data((text + "\n").utf8), folder: folder),
                                     logger: logger, stopSignal: { signals.current }, progress: reporter.report)
        } catch {
            reporter.finish()
            let message = error.errorDescription ?? "\(error)"
            printError(message)
            if json {
                try emit(jsonLine(["job_file": "selectjob select", "outcome": "failed", "error": message,
                                   "exit_code": Int(error.exitStatus.rawValue)]))
            }
            throw ExitCode(error.exitStatus.rawValue)
        }
        reporter.finish()
        if let output { try export(outcome, to: output) }
        try emit(describe(outcome, jobFile: "selectjob select", json: json))
    }

    /// Writes the run's sorted row indices to `path` as `export --format json` does.
    func export(_ outcome: RunOutcome, to path: String) throws {
        let (runID, databasePath): (Int64, String)
        switch outcome {
        case let .completed(summary): (runID, databasePath) = (summary.runID, summary.database)
        case let .unchanged(_, id, database): (runID, databasePath) = (id, database)
        }
        let store: SelectionStore, record: RunRecord, selection: [SelectedSample]
        do {
            store = try SelectionStore(readingAt: databasePath)
            record = try store.run(id: runID)
            selection = try store.selection(runID: runID)
        } catch {
            throw fail(error)
        }
        let protected = ProtectedFiles(ProtectedFiles.database(databasePath) + JobRunner.inputFiles(of: record, store: store))
        do {
            try SelectionExport.write(selection, format: .json, to: path, provenance: ExportProvenance(run: record),
                                      protecting: protected)
        } catch {
            printError(error.errorDescription ?? "\(error)")
            throw ExitCode((error.isUsage ? ExitStatus.badJob : ExitStatus.ioError).rawValue)
        }
    }
}

/// What a job is made of, given on the command line: `select` runs it, `init` writes it.
struct JobOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The features: an HDF5 file, FILE:DATASET for a dataset other than 'features', or an N × d .npy array.",
                                 valueName: "features"))
    var features: String

    @Option(help: "The method (`selectjob methods` lists them).")
    var method: String

    @Option(help: ArgumentHelp("How many samples: a percentage of the pool (1%) or a count (500).", valueName: "budget"))
    var budget: String

    @Option(name: .customLong("set"), help: ArgumentHelp(
        "A method parameter or input, key=value: the value as JSON when it is JSON (0.07, true, {\"rows\": [1, 2]}), else as text (kmeans++). Repeatable.",
        valueName: "key=value"))
    var settings: [String] = []

    @Option(help: ArgumentHelp("The sample ids: an HDF5 dataset, or for .npy features a file beside them (.npy integers, .txt one id a line).",
                               valueName: "name"))
    var ids: String?

    @Option(help: ArgumentHelp("The class labels: an HDF5 dataset, or for .npy features a .npy file of integers.", valueName: "name"))
    var labels: String?

    @Option(help: "The seed of the method's randomness.")
    var seed: Int64 = 0

    @Option(help: ArgumentHelp("Only samples whose value in a dataset of the features file is one of these: DATASET=VALUE[,VALUE…].",
                               valueName: "dataset=values"))
    var filter: String?

    @Option(help: ArgumentHelp("Drop near-duplicates (cosine similarity ≥ threshold) before selecting.", valueName: "threshold"))
    var dedup: Double?

    @Option(help: ArgumentHelp("Quotas per group: labels (the pool's), predicted (the probe's class), or a dataset of the features file.",
                               valueName: "groups"))
    var balance: String?

    @Option(help: ArgumentHelp("With --balance: quotas ∝ group size^alpha (1 proportional, 0 equal).", valueName: "alpha"))
    var alpha: Double?

    @Option(help: ArgumentHelp("The job's name in the database (default: FEATURES-METHOD-BUDGET).", valueName: "name"))
    var name: String?

    func validate() throws {
        _ = try parsedBudget()
        _ = try parsedSettings()
        _ = try curation()
        if alpha != nil, balance == nil { throw ValidationError("--alpha goes with --balance") }
    }

    /// `--filter`, `--dedup` and `--balance` as the job's top-level members.
    func curation() throws -> [String: ParameterValue] {
        var members: [String: ParameterValue] = [:]
        if let filter {
            guard let equals = filter.firstIndex(of: "="), equals != filter.startIndex, filter.index(after: equals) != filter.endIndex else {
                throw ValidationError("--filter: expected DATASET=VALUE[,VALUE…], got \"\(filter)\"")
            }
            let values = filter[filter.index(after: equals)...].split(separator: ",").map { ParameterValue.string(String($0)) }
            members["filter"] = ["dataset": .string(String(filter[..<equals])), "values": .array(values)]
        }
        if let dedup { members["dedup"] = ["threshold": .number(dedup)] }
        if let balance {
            var object: [String: ParameterValue] = ["labels", "predicted"].contains(balance)
                ? ["by": .string(balance)] : ["by": "metadata", "dataset": .string(balance)]
            if let alpha { object["alpha"] = .number(alpha) }
            members["balance"] = .object(object)
        }
        return members
    }

    /// The job file these options stand for, as pretty JSON: absolute paths, the method's settings (and
    /// with `spellingOutDefaults` every other parameter at its default), the database when given.
    func text(database db: String?, spellingOutDefaults: Bool = false) throws -> String {
        var path = features, dataset: String?
        if !FileManager.default.fileExists(atPath: features), let colon = features.lastIndex(of: ":") {
            path = String(features[..<colon])
            dataset = String(features[features.index(after: colon)...])
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let isNpy = path.lowercased().hasSuffix(".npy")
        if isNpy, dataset != nil {
            throw ValidationError("\(features): a .npy file holds one array; give no :DATASET")
        }
        var source: [String: ParameterValue] = ["path": .string(absolute)]
        if let dataset { source["dataset"] = .string(dataset) }
        // For .npy features, ids and labels are files: made absolute like the features.
        func named(_ value: String) -> ParameterValue {
            .string(isNpy ? URL(fileURLWithPath: value).standardizedFileURL.path : value)
        }
        if let ids { source["ids"] = named(ids) }
        if let labels { source["labels"] = named(labels) }
        var methodObject = try parsedSettings()
        if spellingOutDefaults, let known = MethodRegistry.method(named: method),
           let configured = try? known.configure(methodObject) {
            methodObject.merge(configured.effective) { given, _ in given }
        }
        methodObject["name"] = .string(method)
        let budgetObject = try parsedBudget()
        var job: [String: ParameterValue] = [
            "name": .string(name ?? derivedName(path: path, budget: budgetObject)),
            "features": .object(source), "method": .object(methodObject), "budget": budgetObject, "seed": .integer(seed),
        ]
        if let db { job["database"] = .string(URL(fileURLWithPath: db).standardizedFileURL.path) }
        job.merge(try curation()) { given, _ in given }
        return ParameterValue.object(job).json(pretty: true)
    }

    /// `--budget`: `1%` → {"percent": 1}, `500` → {"count": 500}.
    func parsedBudget() throws -> ParameterValue {
        let text = budget.trimmingCharacters(in: .whitespaces)
        if text.hasSuffix("%"), let percent = Double(text.dropLast()), percent.isFinite {
            return ["percent": .number(percent)]
        }
        if let count = Int64(text) { return ["count": .integer(count)] }
        throw ValidationError("--budget: expected a percentage like 1% or a count like 500, got \"\(budget)\"")
    }

    /// `--set key=value` pairs as the method object's members.
    func parsedSettings() throws -> [String: ParameterValue] {
        var members: [String: ParameterValue] = [:]
        for setting in settings {
            guard let equals = setting.firstIndex(of: "="), equals != setting.startIndex else {
                throw ValidationError("--set: expected key=value, got \"\(setting)\"")
            }
            let key = String(setting[..<equals])
            guard key != "name" else { throw ValidationError("--set: the method's name is --method") }
            guard members[key] == nil else { throw ValidationError("--set: \(key) is given twice") }
            members[key] = JobSpec.settingValue(String(setting[setting.index(after: equals)...]))
        }
        return members
    }

    /// FEATURES-METHOD-BUDGET from the file's name, in the characters job names allow.
    func derivedName(path: String, budget: ParameterValue) -> String {
        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        var size = ""
        if case let .object(members, _) = budget {
            if case let .number(p)? = members["percent"] { size = (p == p.rounded() ? String(Int64(p)) : String(p)) + "pct" }
            if case let .integer(k)? = members["count"] { size = String(k) }
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        let raw = "\(stem)-\(method)-\(size)"
        return String(String(raw.map { allowed.contains($0) ? $0 : "_" }).prefix(128))
    }
}
