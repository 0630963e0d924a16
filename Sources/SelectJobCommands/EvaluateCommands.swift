import ArgumentParser
import Foundation
import Jobs
import Reporting
import Selection
import Store

/// The runs to evaluate and how: shared by `evaluate` and `compare`.
struct EvaluationArguments: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Database to read and to record evaluations in (default: $SELECTJOB_DB, else ./selections.sqlite).", valueName: "path"))
    var db: String?
    @Argument(help: "Run ids (succeeded runs).") var runs: [Int64] = []
    @Option(help: "The latest succeeded run of this job; repeatable.") var job: [String] = []
    @Option(help: ArgumentHelp("A labelled test file for the linear probe: PATH:DATASET (its features), with --test-labels.",
                               valueName: "path:dataset"))
    var test: String?
    @Option(name: .customLong("test-labels"), help: ArgumentHelp("The test file's 1-D integer labels dataset.", valueName: "dataset"))
    var testLabels: String?
    @Option(help: ArgumentHelp("Hold out this seeded fraction of the labelled pool as the test set (0 < f < 1); selected samples in it are left out of training and reported.",
                               valueName: "fraction"))
    var holdout: Double?
    @Option(help: "Seed of the hold-out split, the MMD subsample and the random subsets (0 ... 2^53 − 1); each draws from a stream of its own, never a selection's.")
    var seed: UInt64 = 0
    @Option(name: .customLong("probe-c"), help: ArgumentHelp(
        "C of the linear probe (inverse L2 strength, > 0); the default was chosen by measurement (docs/evaluation.md).",
        valueName: "C"))
    var probeC: Double = SubsetEvaluation.defaultProbeC
    @Option(help: "The baseline every figure is read against: random (seeded subsets of the same size).") var baseline = "random"
    @Option(help: "Random subsets measured for the baseline.") var draws = 5
    @Option(help: "Threads for the measures; the numbers do not depend on it.") var threads: Int = ParallelChunks.processorCount
    @Flag(help: "JSON instead of text.") var json = false

    func validate() throws {
        try checkDatabasePaths(db)
        guard !runs.isEmpty || !job.isEmpty else { throw ValidationError("give at least one run id or --job NAME") }
        guard test == nil || holdout == nil else { throw ValidationError("give either --test or --holdout, not both") }
        if test != nil, testLabels == nil { throw ValidationError("--test needs --test-labels DATASET (the test labels)") }
        if testLabels != nil, test == nil { throw ValidationError("--test-labels needs --test PATH:DATASET") }
        if let test, !test.contains(":") { throw ValidationError("--test: expected PATH:DATASET, got \"\(test)\"") }
        if let holdout, !(holdout > 0 && holdout < 1) { throw ValidationError("--holdout: expected a fraction in (0, 1), got \(holdout)") }
        guard seed <= UInt64(JobSpec.maximumSeed) else {
            throw ValidationError("--seed: expected 0 ... \(JobSpec.maximumSeed) (as a job's seed), got \(seed)")
        }
        guard probeC > 0, probeC.isFinite, probeC <= 1e6 else {
            throw ValidationError("--probe-c: expected a number in (0, 1e6], got \(probeC)")
        }
        guard baseline == "random" else { throw ValidationError("--baseline: expected \"random\", got \"\(baseline)\"") }
        guard (1...100).contains(draws) else { throw ValidationError("--draws: expected 1...100, got \(draws)") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    var path: String { db ?? ProcessInfo.processInfo.environment["SELECTJOB_DB"] ?? "selections.sqlite" }

    var options: EvaluationOptions {
        var kind = EvaluationTest.none
        if let test, let split = test.lastIndex(of: ":"), let testLabels {
            kind = .file(path: URL(fileURLWithPath: String(test[..<split])).standardizedFileURL.path,
                         dataset: String(test[test.index(after: split)...]), labels: testLabels)
        } else if let holdout {
            kind = .holdout(fraction: holdout)
        }
        return EvaluationOptions(test: kind, seed: seed, baselineDraws: draws, probeC: probeC, threads: threads)
    }

    /// How the test set reads in the output.
    var testDescription: String {
        if let test, let testLabels { return "\(test) (labels \(testLabels))" }
        if let holdout { return String(format: "%g %% of the pool held out (seed %llu)", holdout * 100, seed) }
        return "none (no linear probe; give --test or --holdout)"
    }

    /// Evaluates every run named (reading stored evaluations back), in the order given: run ids, then jobs.
    func evaluateAll() throws -> [(run: RunRecord, result: EvaluationResult, reused: Bool)] {
        guard FileManager.default.fileExists(atPath: path) else { throw fail(.missingDatabase(database: path)) }
        let store: SelectionStore
        do { store = try SelectionStore(path: path) } catch { throw fail(error) }
        var ids = runs
        for name in job { ids.append(try query { () throws(StoreError) in try store.latestSucceededRun(job: name) }.id) }
        var out: [(run: RunRecord, result: EvaluationResult, reused: Bool)] = []
        for id in ids {
            try requireSelection(try query { () throws(StoreError) in try store.run(id: id) })
            do {
                let (run, result, reused) = try JobRunner.evaluate(runID: id, store: store, options: options)
                if let warning = result.heldOutWarning { printError("warning: run \(run.id): \(warning)") }
                out.append((run, result, reused))
            } catch {
                printError(error.message)
                throw ExitCode(error.exitStatus.rawValue)
            }
        }
        return out
    }
}

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure selections with your labels: linear probe, class coverage, covering radius, MMD — each beside random subsets of the same size.",
        discussion: """
            The probe is a multinomial L2 logistic regression (C = --probe-c) trained on the selected \
            samples' labels and scored on --test or a --holdout part of the pool; with a test set, the \
            label-budget curve probes the first 25 %, 50 % and 100 % of the ranked picks. The hold-out \
            split, the MMD subsample and the random subsets draw from streams of their own, never the \
            selection's, and a hold-out that takes an improbable share of the picks is warned about. \
            Results are recorded in the \
            evaluations table; the same run, test set and options are read back, not recomputed. The \
            pool needs labels (exit 64 without); a test file of another width is exit 65.
            """
    )

    @OptionGroup var arguments: EvaluationArguments

    func run() throws {
        let evaluations = try arguments.evaluateAll()
        if arguments.json {
            for entry in evaluations {
                try emit(jsonLine(Reports.evaluationJSON(run: entry.run, result: entry.result, test: arguments.testDescription,
                                                         reused: entry.reused)))
            }
        } else {
            try emit(evaluations.map {
                Reports.evaluation(run: $0.run, result: $0.result, test: arguments.testDescription, reused: $0.reused)
            }.joined(separator: "\n\n"))
        }
    }
}

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate runs and put them side by side, the best of each measure marked.",
        discussion: "Takes the same options as evaluate (and records the same evaluations)."
    )

    @OptionGroup var arguments: EvaluationArguments

    func run() throws {
        let evaluations = try arguments.evaluateAll()
        if arguments.json {
            try emit(jsonLine(["test": arguments.testDescription, "runs": evaluations.map {
                Reports.evaluationJSON(run: $0.run, result: $0.result, test: arguments.testDescription, reused: $0.reused)
            }]))
        } else {
            try emit("test: \(arguments.testDescription)\n" + Reports.comparison(evaluations.map { ($0.run, $0.result) }))
        }
    }
}
