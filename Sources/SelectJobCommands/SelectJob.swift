import ArgumentParser
import Foundation
import Jobs
import Logging
import Selection

/// The `selectjob` command line: every subcommand, parsed by swift-argument-parser.
public struct SelectJob: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "selectjob",
        abstract: "Select the most useful samples of a feature pool to label, and record them in SQLite.",
        discussion: """
            Exit codes: 0 ok (or unchanged), 1 other failure, 64 bad job or usage, 65 bad input \
            data, 73 database unusable, 74 I/O error while writing, 75 temporary failure (job \
            running elsewhere, database locked, feature file being written), 130 SIGINT, 143 SIGTERM.
            """,
        version: selectjobVersion,
        subcommands: [Run.self, Select.self, Init.self, Validate.self, Methods.self, Schema.self, Runs.self, Show.self, Export.self, Diff.self, Evaluate.self,
                      Compare.self, Simulate.self, Report.self, Prune.self, Crontab.self]
    )
}

/// Options every command that touches the database shares.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Database to write, overriding the job's \"database\".",
        discussion: "Without it: the job's \"database\", else $SELECTJOB_DB, else ./selections.sqlite.",
        valueName: "path"))
    var db: String?

    func validate() throws { try checkDatabasePaths(db) }

    func runner(busyTimeout: Double = 30, threads: Int = ParallelChunks.processorCount) -> JobRunner {
        JobRunner(databaseOverride: db,
                  defaultDatabase: ProcessInfo.processInfo.environment["SELECTJOB_DB"] ?? "selections.sqlite",
                  busyTimeout: busyTimeout, threads: threads)
    }
}

/// An empty `--db` or `SELECTJOB_DB` names no database: a usage error (exit 64) naming which.
func checkDatabasePaths(_ db: String?) throws {
    if db?.isEmpty == true { throw ValidationError("--db: the database path is empty") }
    if ProcessInfo.processInfo.environment["SELECTJOB_DB"]?.isEmpty == true {
        throw ValidationError("SELECTJOB_DB is set but empty; unset it or give it a database path")
    }
}

/// Log verbosity, shared by every command.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: "Log level of the lines written to stderr (default info; warning with --quiet).")
    var logLevel: Logger.Level?

    /// Installs the stderr log handler at `level` when given, else `--log-level`, else info — or
    /// warning when `quiet` (a `--log-level` given explicitly wins).
    func bootstrap(level override: Logger.Level? = nil, quiet: Bool = false) -> Logger {
        let level = override ?? logLevel ?? (quiet ? .warning : .info)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "selectjob")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Prints `message` as selectjob's error line on stderr.
func printError(_ message: String) {
    FileHandle.standardError.write(Data("selectjob: error: \(message)\n".utf8))
}
