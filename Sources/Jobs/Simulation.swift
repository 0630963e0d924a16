import FeatureIO
import Foundation
import Logging
import Selection
import Store

/// What `selectjob simulate` replays: rounds of a labelling campaign on a pool whose labels play the
/// annotator, each round a real run, scored after each round by the probe on a test set.
public struct SimulationOptions: Sendable {
    /// Rounds per seed (the first chosen by `first`, the others by the job's method).
    public var rounds: Int
    /// Samples per round.
    public var perRound: JobSpec.Budget
    /// The method of the first round (nothing is labelled yet), with its defaults.
    public var first: String
    public var seeds: [UInt64]
    /// The test set: an HDF5 file's features dataset and its labels; no round selects from it.
    public var testPath: String
    public var testDataset: String
    public var testLabels: String
    /// C of the probe that scores each round.
    public var probeC: Double

    public init(rounds: Int, perRound: JobSpec.Budget, first: String, seeds: [UInt64], testPath: String,
                testDataset: String, testLabels: String, probeC: Double) {
        self.rounds = rounds
        self.perRound = perRound
        self.first = first
        self.seeds = seeds
        self.testPath = testPath
        self.testDataset = testDataset
        self.testLabels = testLabels
        self.probeC = probeC
    }
}

extension JobRunner {
    /// Replays a labelling campaign for the job at `jobPath`: for each seed, round 1 selects with
    /// `options.first`, each later round with the job's method given every sample selected so far as
    /// `labelled` with the pool's labels (`"labels": "pool"`) — each round a run recorded like any
    /// other (named `JOB-simulate-sSEED-rROUND`, so simulating again reuses unchanged rounds). After
    /// each round the probe (a logistic regression with C = `probeC` on the unit features of every
    /// sample labelled so far) is scored on the test set and recorded in `simulations`. Deterministic
    /// under the seeds. O(seeds · rounds · (a run + the probe)).
    public func simulate(jobPath: String, options: SimulationOptions, logger: Logger,
                         stopSignal: () -> Int32? = { nil }) throws(RunError) -> [SimulationRecord] {
        let contents: Data, spec: JobSpec
        do { (spec, contents) = try JobSpec.load(path: jobPath) } catch { throw .job(error) }
        guard case var .object(members, _) = try? JSONValue.parse(contents) else {
            throw .job(.invalid(file: jobPath, path: "$", problem: "expected a job object"))
        }
        let pool: FeatureTable
        do { pool = try FeatureTable.load(spec.features) } catch { throw .input(error) }
        guard let poolLabels = pool.labels else {
            throw .job(.invalid(file: jobPath, path: "features.labels",
                                problem: "a simulation needs the pool's labels (they play the annotator); give features.labels"))
        }
        let test: FeatureTable
        do {
            test = try FeatureTable.load(FeatureSource(path: options.testPath, dataset: options.testDataset,
                                                       labels: options.testLabels))
        } catch { throw .input(error) }
        guard test.columns == pool.columns else {
            throw .job(.invalid(file: options.testPath, path: options.testDataset,
                                problem: "the test set has \(test.columns) columns, the pool \(pool.columns)"))
        }
        let unit = FeatureMatrix(rows: pool.rows, columns: pool.columns, values: pool.values).normalizedRows()
        let testSet = LabelledTestSet(features: FeatureMatrix(rows: test.rows, columns: test.columns, values: test.values)
                                        .normalizedRows(), labels: test.labels!)
        let strategy = "\(options.first) → \(spec.method.name)"
        let folder = URL(fileURLWithPath: jobPath).deletingLastPathComponent()
        var records: [SimulationRecord] = []
        for seed in options.seeds {
            var earlierRuns: [Int64] = []
            var labelled: [Int] = []
            for round in 1...options.rounds {
                members["name"] = .string("\(spec.name)-simulate-s\(seed)-r\(round)")
                members["seed"] = .integer(Int64(seed))
                switch options.perRound {
                case let .percent(p): members["budget"] = ["percent": .number(p)]
                case let .count(k): members["budget"] = ["count": .integer(Int64(k))]
                }
                if round == 1 {
                    members["method"] = ["name": .string(options.first)]
                    members["labelled"] = nil
                } else {
                    members["method"] = try? JSONValue.parse(contents).member("method")
                    members["labelled"] = .array(earlierRuns.map { ["run": .integer($0), "labels": "pool"] })
                }
                let text = ParameterValue.object(members).json(pretty: true) + "\n"
                let outcome = try run(.inline(name: "\(jobPath) (simulate)", contents: Data(text.utf8), folder: folder),
                                      logger: logger, stopSignal: stopSignal)
                let (runID, database) = switch outcome {
                case let .completed(summary): (summary.runID, summary.database)
                case let .unchanged(_, id, database): (id, database)
                }
                let opened: SelectionStore
                do { opened = try SelectionStore(path: database, busyTimeout: busyTimeout) } catch { throw .store(error) }
                let picks: [SelectedSample]
                do { picks = try opened.selection(runID: runID) } catch { throw .store(error) }
                labelled += picks.map(\.rowIndex)
                earlierRuns.append(runID)
                let score = SubsetEvaluation.linearProbe(train: unit.selecting(rows: labelled), labels: labelled.map { poolLabels[$0] },
                                                         test: testSet, probeC: options.probeC, threads: threads)
                let record = SimulationRecord(simulation: spec.name, strategy: strategy, seed: Int64(seed), round: round,
                                              runID: runID, labelledCount: labelled.count, accuracy: score.accuracy,
                                              macroF1: score.macroF1, testFingerprint: test.fingerprint, createdAt: Date())
                do { try opened.saveSimulationRound(record) } catch { throw .store(error) }
                logger.info("simulated round", metadata: ["seed": "\(seed)", "round": "\(round)", "labelled": "\(labelled.count)",
                                                          "accuracy": "\(String(format: "%.4f", score.accuracy))"])
                records.append(record)
            }
        }
        return records
    }
}

extension ParameterValue {
    /// The member `key` of an object, nil otherwise.
    func member(_ key: String) -> ParameterValue? {
        if case let .object(members, _) = self { return members[key] }
        return nil
    }
}
