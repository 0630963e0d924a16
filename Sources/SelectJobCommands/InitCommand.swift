import ArgumentParser
import Foundation
import Jobs

/// `selectjob init`: a job file written from the command line, every method parameter spelled out
/// at its default, checked as `run` checks a job file.
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a job file: the features, a method with every parameter at its default, a budget.",
        discussion: """
            Example: selectjob init feats.h5 --method activeft --budget 1% -o jobs/feats.json. The file is \
            checked as `run` checks a job file (unknown keys and bad values are exit 64); paths in it are \
            absolute. `selectjob validate` then checks it against the data.
            """
    )

    @OptionGroup var job: JobOptions

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the job file here (default: standard output).", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("The job's database (default: the runner's: --db, $SELECTJOB_DB or ./selections.sqlite).",
                               valueName: "path"))
    var db: String?

    @Flag(help: "Replace the output file if it exists.")
    var force = false

    func run() throws {
        let text = try job.text(database: db, spellingOutDefaults: true) + "\n"
        do {
            _ = try JobInput.inline(name: output ?? "selectjob init", contents: Data(text.utf8),
                                    folder: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).load()
        } catch {
            printError(error.errorDescription ?? "\(error)")
            throw ExitCode(ExitStatus.badJob.rawValue)
        }
        guard let output, output != "-" else { return try emit(text, terminator: "") }
        if FileManager.default.fileExists(atPath: output), !force {
            printError("\(output): exists; --force replaces it")
            throw ExitCode(ExitStatus.badJob.rawValue)
        }
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
            printError("\(output): cannot write it (\(error.localizedDescription))")
            throw ExitCode(ExitStatus.ioError.rawValue)
        }
    }
}

/// `selectjob schema`: the job file's JSON Schema, for editors and for machines without the repository.
struct Schema: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the JSON Schema of job files (schemas/job.schema.json).")

    func run() throws {
        try emit(jobSchemaText)
    }
}
