import ArgumentParser
import Foundation
import Jobs
import Reporting
import Selection
import Store

/// `selectjob simulate`: the multi-round benchmark a team runs before choosing how to label.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a labelling campaign on a labelled pool: rounds of a job's method, scored after each round.",
        discussion: """
            The pool's labels play the annotator. For each seed, round 1 selects with --first, each later round \
            with the job's method given every sample selected so far and their labels; each round is a run \
            recorded like any other (JOB-simulate-sSEED-rROUND; simulating again reuses unchanged rounds). \
            After each round a linear probe on every labelled sample is scored on the test set (which no round \
            selects from); the scores go to the simulations table and the learning curve is printed.
            """
    )

    @Argument(help: "The job whose method the later rounds use (its features must have labels).",
              completion: .file(extensions: ["json"]))
    var job: String

    @Option(help: "Rounds per seed.") var rounds = 3
    @Option(help: ArgumentHelp("Samples per round: a percentage of the pool (0.5%) or a count (100).", valueName: "budget"))
    var perRound: String
    @Option(help: "The first round's method (nothing is labelled yet), with its defaults.") var first = "kmeans"
    @Option(help: ArgumentHelp("Seeds, comma-separated: the curve is the mean ± std over them.", valueName: "seeds"))
    var seeds = "0"
    @Option(help: ArgumentHelp("The labelled test file: PATH:DATASET (its features).", valueName: "path:dataset"))
    var test: String
    @Option(name: .customLong("test-labels"), help: ArgumentHelp("The test file's 1-D integer labels dataset.", valueName: "dataset"))
    var testLabels = "labels"
    @Option(name: .customLong("probe-c"), help: "C of the probe that scores each round.") var probeC = 10.0
    @Flag(help: "The rounds as JSON (one object per seed and round) instead of the table.") var json = false
    @Flag(help: "No info log lines (warnings and errors only).") var quiet = false
    @Option(help: ArgumentHelp("Threads to compute with (the results are identical for every count).", valueName: "n"))
    var threads: Int = ParallelChunks.processorCount

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...100).contains(rounds) else { throw ValidationError("--rounds must be in 1...100, got \(rounds)") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard probeC > 0, probeC <= 1e6 else { throw ValidationError("--probe-c must be in (0, 1e6], got \(probeC)") }
        guard test.contains(":") else { throw ValidationError("--test: expected PATH:DATASET, got \"\(test)\"") }
        _ = try budget()
        _ = try seedList()
    }

    func budget() throws -> JobSpec.Budget {
        let text = perRound.trimmingCharacters(in: .whitespaces)
        if text.hasSuffix("%"), let p = Double(text.dropLast()), p > 0, p <= 100 { return .percent(p) }
        if let k = Int(text), k >= 1 { return .count(k) }
        throw ValidationError("--per-round: expected a percentage like 0.5% or a count like 100, got \"\(perRound)\"")
    }

    func seedList() throws -> [UInt64] {
        let seeds = self.seeds.split(separator: ",").map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        guard !seeds.isEmpty, seeds.allSatisfy({ $0 != nil }) else {
            throw ValidationError("--seeds: expected integers separated by commas, got \"\(self.seeds)\"")
        }
        return seeds.map { $0! }
    }

    func run() throws {
        let logger = logging.bootstrap(quiet: quiet)
        let runner = database.runner(threads: threads)
        let split = test.lastIndex(of: ":")!
        let options = SimulationOptions(rounds: rounds, perRound: try budget(), first: first, seeds: try seedList(),
                                        testPath: URL(fileURLWithPath: String(test[..<split])).standardizedFileURL.path,
                                        testDataset: String(test[test.index(after: split)...]), testLabels: testLabels,
                                        probeC: probeC)
        let signals = StopSignals()
        let records: [SimulationRecord]
        do {
            records = try runner.simulate(jobPath: job, options: options, logger: logger, stopSignal: { signals.current })
        } catch {
            printError(error.errorDescription ?? "\(error)")
            throw ExitCode(error.exitStatus.rawValue)
        }
        if json {
            for record in records {
                try emit(jsonLine(["simulation": record.simulation, "strategy": record.strategy, "seed": record.seed,
                                   "round": record.round, "run": record.runID, "labelled": record.labelledCount,
                                   "accuracy": record.accuracy, "macro_f1": record.macroF1]))
            }
        } else {
            try emit(Reports.learningCurve(records))
        }
    }
}
