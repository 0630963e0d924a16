import ArgumentParser
import FeatureIO
import Foundation
import Jobs
import Logging
import Reporting
import Selection
import Store

/// `selectjob run`; `selectjob-mpi run` parses the same options and passes its MPI process group.
public struct Run: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        abstract: "Run jobs: read features, select the budget, record the selection.",
        discussion: """
            Jobs run one after another. Each prints a summary on stdout; failures are reported on \
            stderr and the remaining jobs still run. The exit code is that of the first failure.
            """
    )

    @Argument(help: "Job files (JSON; `selectjob schema` prints their schema, `selectjob init` writes one).", completion: .file(extensions: ["json"]))
    var jobs: [String]

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    @Flag(name: .long, help: "No progress bar, no info log lines (warnings and errors only).")
    var quiet = false

    @Flag(name: .long, help: "One JSON object per job on stdout (completed, unchanged or failed), instead of the summary.")
    var json = false

    @Option(name: .long, help: ArgumentHelp(
        "Seconds to wait for another process's database lock before failing with exit 75.", valueName: "seconds"))
    var busyTimeout: Double = 30

    @Option(name: .long, help: ArgumentHelp(
        "Threads to compute with (the selection is identical for every count).", valueName: "n"))
    var threads: Int = ParallelChunks.processorCount

    @Flag(name: .long, help: "Run even if the job file and its data are unchanged since its latest succeeded run.")
    var force = false

    @Option(name: .long, help: ArgumentHelp(
        "Seconds to wait for another run of the same job to finish (default: exit 75 at once).", valueName: "seconds"))
    var wait: Double = 0

    public func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard wait >= 0, wait.isFinite else { throw ValidationError("--wait must be a number of seconds ≥ 0, got \(wait)") }
        guard busyTimeout >= 0, busyTimeout <= SelectionStore.maximumBusyTimeout else {
            throw ValidationError("--busy-timeout must be a number of seconds in 0 ... \(Int(SelectionStore.maximumBusyTimeout)) (SQLite's limit), got \(busyTimeout)")
        }
    }

    public func run() throws {
        try execute(group: SingleProcess())
    }

    /// Runs the jobs on `group`: every process computes, only rank 0 logs, prints and writes.
    public func execute(group: any ProcessGroup) throws {
        let isRoot = group.rank == 0
        let logger = logging.bootstrap(level: isRoot ? nil : .critical, quiet: quiet)
        var runner = database.runner(busyTimeout: busyTimeout, threads: threads)
        runner.force = force
        runner.lockWait = wait
        runner.group = group
        let signals = StopSignals()
        var firstFailure: ExitStatus?
        // A reader that went away (`run a b c | head -1`) fails the output, not the jobs: every job
        // still runs and is recorded, and the command ends with exit 74 (emit names the failure once).
        var outputFailed = false
        func output(_ text: String) {
            guard !outputFailed else { return }
            do { try emit(text) } catch {
                outputFailed = true
                firstFailure = firstFailure ?? .ioError
            }
        }
        for job in jobs {
            let reporter = ProgressReporter(job: job, logger: logger, enabled: !quiet && isRoot)
            let outcome: RunOutcome
            do {
                outcome = try runner.run(jobPath: job, logger: logger, stopSignal: { signals.current },
                                         progress: reporter.report)
            } catch {
                reporter.finish()
                // With several jobs, every error names the job file it belongs to.
                let message = error.errorDescription ?? "\(error)"
                if isRoot { printError(jobs.count > 1 && !message.hasPrefix(job) ? "\(job): \(message)" : message) }
                if json && isRoot {
                    output(jsonLine(["job_file": job, "outcome": "failed", "error": message,
                                       "exit_code": Int(error.exitStatus.rawValue)]))
                }
                if case .cancelled = error { throw ExitCode(error.exitStatus.rawValue) }
                firstFailure = firstFailure ?? error.exitStatus
                continue
            }
            reporter.finish()
            guard isRoot else { continue }
            output(describe(outcome, jobFile: job, json: json))
        }
        if let firstFailure { throw ExitCode(firstFailure.rawValue) }
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check jobs, the feature files they name and the database, without computing or writing anything."
    )

    @Argument(help: "Job files to check.", completion: .file(extensions: ["json"]))
    var jobs: [String]

    @OptionGroup var database: DatabaseOptions

    @Flag(name: .long, help: "Treat warnings (transposed features, a tiny budget, ...) as errors: exit 64.")
    var strict = false

    func run() throws {
        let runner = database.runner()
        var firstFailure: ExitStatus?
        for job in jobs {
            let checked: ValidatedJob
            do {
                checked = try runner.validate(jobPath: job)
            } catch {
                printError(error.errorDescription ?? "\(error)")
                firstFailure = firstFailure ?? error.exitStatus
                continue
            }
            for warning in checked.warnings { printError("warning: \(job): \(warning)") }
            if strict, !checked.warnings.isEmpty {
                printError("\(job): \(checked.warnings.count) warning\(checked.warnings.count == 1 ? "" : "s") with --strict")
                firstFailure = firstFailure ?? .badJob
                continue
            }
            let targets = checked.inputs.sorted { $0.key < $1.key }.map { ", \($0.value.rows) \($0.key)" }.joined()
            let source = checked.features.source
            let chosen = source.datasetIsDefault && source.format == .hdf5 && source.dataset != checked.spec.features.dataset
                ? ", dataset '\(source.dataset)' (the file's only 2-D float dataset)" : ""
            try emit("\(job): ok (job \(checked.spec.name), \(checked.spec.method.name), N=\(checked.features.rows), "
                     + "d=\(checked.features.columns), K=\(checked.budget)\(targets)\(chosen), "
                     + "database \(runner.databasePath(for: checked.spec)))")
        }
        if let firstFailure { throw ExitCode(firstFailure.rawValue) }
    }
}

/// One compact JSON object, keys sorted, on one line.
func jsonLine(_ object: [String: Any]) -> String { JSONText.encode(object) }

/// How `run` and `select` report a job that did not fail: the summary, or one JSON object.
func describe(_ outcome: RunOutcome, jobFile: String, json: Bool) -> String {
    switch outcome {
    case let .completed(summary) where json:
        var object: [String: Any] = [
            "job_file": jobFile, "outcome": "completed", "job": summary.job, "run": summary.runID,
            "method": summary.method, "n": summary.n, "d": summary.d, "budget": summary.budget,
            "seconds": summary.seconds, "database": summary.database, "exit_code": 0,
            "round": summary.round, "labelled_count": summary.labelledCount,
        ]
        if let value = summary.finalValue { object["final"] = value }
        if !summary.curveName.isEmpty { object["curve"] = summary.curveName }
        let notes = Reports.notes(summary.notesJSON)
        if !notes.isEmpty { object["notes"] = notes }
        return jsonLine(object)
    case let .completed(summary):
        return summary.formatted
    case let .unchanged(name, runID, database) where json:
        return jsonLine(["job_file": jobFile, "outcome": "unchanged", "job": name, "run": runID,
                         "database": database, "exit_code": 0])
    case let .unchanged(name, runID, database):
        return "job \(name): unchanged since run \(runID) in \(database) (--force runs it anyway)"
    }
}

extension RunSummary {
    var formatted: String {
        var lines = [
            "job       \(job)",
            "run       \(runID)",
            "method    \(method)",
            "pool      N=\(n), d=\(d)",
            "selected  K=\(budget)",
        ]
        if round > 1 || labelledCount > 0 { lines.append("round     \(round) (\(labelledCount) samples labelled before)") }
        if let finalValue {
            // Whole numbers (a cluster size, a count of covered samples) print as integers.
            let value = finalValue == finalValue.rounded() && abs(finalValue) < 1e15 ? String(Int64(finalValue))
                : String(format: "%.6g", finalValue)
            lines.append("final     \(curveName.isEmpty ? "" : curveName.replacingOccurrences(of: "_", with: " ") + " ")\(value)")
        }
        if let notes = Reports.notesLine(notesJSON, budget: budget) { lines.append("notes     \(notes)") }
        if let curation = Reports.curationLine(paramsJSON: paramsJSON, poolSize: n) { lines.append("curation  \(curation)") }
        lines.append("seconds   \(String(format: "%.2f", seconds))")
        lines.append("database  \(database)")
        return lines.joined(separator: "\n")
    }
}
