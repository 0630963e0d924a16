import FeatureIO
import Foundation
import Selection
import Store

/// What `selectjob evaluate` measures a run's selection against.
public enum EvaluationTest: Sendable, Equatable {
    /// No test set: class coverage, covering radius and MMD only.
    case none
    /// A labelled test file: features (the pool's width) and a labels dataset.
    case file(path: String, dataset: String, labels: String)
    /// A seeded fraction of the labelled pool, held out: no selection may train on it.
    case holdout(fraction: Double)
}

/// Options of an evaluation. Its randomness (hold-out split, MMD subsample, random subsets) comes
/// from `seed` through three generator streams of its own (``SeededGenerator/Stream``), none of them
/// a selection's: an evaluation seeded like the run it measures is still independent of it.
public struct EvaluationOptions: Sendable, Equatable {
    public var test: EvaluationTest
    public var seed: UInt64
    /// Random subsets of the same size measured as the baseline.
    public var baselineDraws: Int
    /// The linear probe's C (inverse L2 regularisation strength).
    public var probeC: Double
    public var threads: Int

    public init(test: EvaluationTest = .none, seed: UInt64 = 0, baselineDraws: Int = 5,
                probeC: Double = SubsetEvaluation.defaultProbeC, threads: Int = ParallelChunks.processorCount) {
        self.test = test
        self.seed = seed
        self.baselineDraws = baselineDraws
        self.probeC = probeC
        self.threads = threads
    }
}

/// Why a run could not be evaluated.
public enum EvaluationError: Error, Equatable, Sendable {
    /// The run's pool has no labels dataset, and the measures need labels (exit 64).
    case noLabels(run: Int64, features: String)
    /// The feature file no longer holds what the run selected from (exit 65).
    case featuresChanged(run: Int64, features: String)
    /// The test set's width differs from the pool's (exit 65).
    case testWidth(file: String, dataset: String, width: Int, poolWidth: Int)
    /// The held-out part takes every selected sample: nothing is left to train on (exit 64).
    case holdoutTooLarge(fraction: Double, poolSize: Int, selected: Int)
    /// The hold-out fraction rounds to no row: there is no test set (exit 64).
    case emptyTestSet(fraction: Double, poolSize: Int)
    /// Runs drawn together selected from different pools (exit 64).
    case differentPools(run: Int64, features: String, firstRun: Int64, firstFeatures: String)

    public var exitStatus: ExitStatus {
        switch self {
        case .noLabels, .holdoutTooLarge, .emptyTestSet, .differentPools: return .badJob
        case .featuresChanged, .testWidth: return .badData
        }
    }

    public var message: String {
        switch self {
        case let .noLabels(run, features):
            return "run \(run): the pool \(features) has no labels dataset (the job's features.labels); evaluate needs the pool's labels"
        case let .featuresChanged(run, features):
            return "run \(run): \(features) no longer holds the data the run selected from (its fingerprint changed)"
        case let .testWidth(file, dataset, width, poolWidth):
            return "\(file): dataset '\(dataset)' has \(width) features per row but the pool has \(poolWidth)"
        case let .holdoutTooLarge(fraction, poolSize, selected):
            return "--holdout \(fraction) leaves no selected sample to train on (\(selected) of \(poolSize) pool samples selected)"
        case let .emptyTestSet(fraction, poolSize):
            return "--holdout \(fraction) holds out no sample of the \(poolSize)-sample pool: there is nothing to test on (give a larger fraction)"
        case let .differentPools(run, features, firstRun, firstFeatures):
            return "run \(run) selected from \(features), run \(firstRun) from \(firstFeatures) (another fingerprint): runs compared in one report must share their pool"
        }
    }
}

/// Why `evaluate`, `compare` or `report` failed: an evaluation error, or the job, data or store failing underneath.
public enum EvaluateFailure: Error, Sendable {
    case evaluation(EvaluationError)
    case run(RunError)

    public var exitStatus: ExitStatus {
        switch self {
        case let .evaluation(error): return error.exitStatus
        case let .run(error): return error.exitStatus
        }
    }

    public var message: String {
        switch self {
        case let .evaluation(error): return error.message
        case let .run(error): return error.errorDescription ?? "\(error)"
        }
    }
}

/// Runs a store call, its failure becoming an ``EvaluateFailure``.
func stored<T>(_ body: () throws(StoreError) -> T) throws(EvaluateFailure) -> T {
    do { return try body() } catch { throw .run(.store(error)) }
}

extension JobRunner {
    /// Evaluates the selection of succeeded run `runID`, or reads the stored evaluation with the same
    /// test set and options. Returns the run, the evaluation and whether it was read back.
    ///
    /// The pool is re-read as the run's job file named it and must still have the run's fingerprint.
    /// Cost: see ``SubsetEvaluation/measure(pool:labels:selected:test:mmdRows:bandwidth:threads:)``,
    /// once for the selection and once per baseline draw.
    public static func evaluate(runID: Int64, store: SelectionStore, options: EvaluationOptions)
        throws(EvaluateFailure) -> (run: RunRecord, evaluation: EvaluationResult, reused: Bool) {
        let (run, _, features) = try loadPool(runID: runID, store: store)
        guard let labels = features.labels else { throw .evaluation(.noLabels(run: runID, features: features.source.path)) }

        var testTable: FeatureTable?
        var testFingerprint = "none"
        if case let .file(path, dataset, labelsName) = options.test {
            do { testTable = try FeatureTable.load(FeatureSource(path: path, dataset: dataset, labels: labelsName)) } catch {
                throw .run(.input(error))
            }
            guard testTable!.columns == features.columns else {
                throw .evaluation(.testWidth(file: path, dataset: dataset, width: testTable!.columns, poolWidth: features.columns))
            }
            testFingerprint = testTable!.fingerprint
        } else if case .holdout = options.test {
            // The held-out part is decided by the pool (fingerprinted with the run), the fraction and the seed.
            testFingerprint = "holdout"
        }
        let parameters = evaluationParameters(options)
        if let existing = try stored({ () throws(StoreError) in
            try store.evaluation(runID: runID, testFingerprint: testFingerprint, paramsJSON: parameters)
        }), let decoded = try? JSONDecoder().decode(EvaluationResult.self, from: Data(existing.resultsJSON.utf8)) {
            return (run, decoded, true)
        }

        let selection = try stored { () throws(StoreError) in try store.selection(runID: runID) }.map(\.rowIndex)
        let unit = FeatureMatrix(rows: features.rows, columns: features.columns, values: features.values).normalizedRows()
        // Each draw has a stream of its own, none of them the selection's: the seed that picked a run's
        // samples can never decide which of them are held out, measured against or compared with.
        var candidates = Array(0..<features.rows)
        var test: LabelledTestSet?
        var train = selection
        var heldOutExpectation: (mean: Double, deviation: Double)?
        if case let .holdout(fraction) = options.test {
            let heldCount = Int((Double(features.rows) * fraction).rounded())
            guard heldCount > 0 else {
                throw .evaluation(.emptyTestSet(fraction: fraction, poolSize: features.rows))
            }
            var holdoutGenerator = SeededGenerator(seed: options.seed, stream: .evaluationHoldout)
            let held = holdoutGenerator.distinctIndices(count: heldCount, from: features.rows)
            var isHeld = [Bool](repeating: false, count: features.rows)
            for row in held { isHeld[row] = true }
            let heldRows = held.sorted()
            test = LabelledTestSet(features: unit.selecting(rows: heldRows), labels: heldRows.map { labels[$0] })
            train = selection.filter { !isHeld[$0] }
            candidates = candidates.filter { !isHeld[$0] }
            guard !train.isEmpty else {
                throw .evaluation(.holdoutTooLarge(fraction: fraction, poolSize: features.rows, selected: selection.count))
            }
            heldOutExpectation = Self.hypergeometric(population: features.rows, successes: heldCount, draws: selection.count)
        } else if let testTable {
            test = LabelledTestSet(features: FeatureMatrix(rows: testTable.rows, columns: testTable.columns,
                                                           values: testTable.values).normalizedRows(),
                                   labels: testTable.labels ?? [])
        }
        var mmdGenerator = SeededGenerator(seed: options.seed, stream: .evaluationMMD)
        let mmdRows = mmdGenerator.distinctIndices(count: min(SubsetEvaluation.mmdPoolSample, features.rows),
                                                   from: features.rows).sorted()
        let bandwidth = SubsetEvaluation.medianDistance(unit.selecting(rows: mmdRows), threads: options.threads)
        var baselineGenerator = SeededGenerator(seed: options.seed, stream: .evaluationBaseline)
        let subsets = SubsetEvaluation.randomSubsets(count: train.count, candidates: candidates, draws: options.baselineDraws,
                                                     generator: &baselineGenerator)
        func measure(_ rows: [Int]) -> SubsetQuality {
            SubsetEvaluation.measure(pool: unit, labels: labels, selected: rows, test: test, mmdRows: mmdRows,
                                     bandwidth: bandwidth, probeC: options.probeC, threads: options.threads)
        }
        let selectionQuality = measure(train), baselineQualities = subsets.map(measure)
        let curve = test.map {
            SubsetEvaluation.budgetCurve(pool: unit, labels: labels, ranked: train, baselines: subsets, test: $0,
                                         probeC: options.probeC,
                                         whole: BudgetPoint(trainSize: train.count, accuracy: selectionQuality.accuracy ?? 0,
                                                            baselineAccuracy: baselineQualities.map { $0.accuracy ?? 0 }),
                                         threads: options.threads)
        }
        let evaluation = EvaluationResult(selection: selectionQuality, baseline: baselineQualities,
                                          heldOutSelected: selection.count - train.count, trainSize: train.count,
                                          testSize: test?.labels.count ?? 0, bandwidth: bandwidth, probeC: options.probeC,
                                          budgetCurve: curve, heldOutExpected: heldOutExpectation?.mean,
                                          heldOutDeviation: heldOutExpectation?.deviation)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let results = String(decoding: (try? encoder.encode(evaluation)) ?? Data(), as: UTF8.self)
        _ = try stored { () throws(StoreError) in
            try store.saveEvaluation(EvaluationRecord(runID: runID, testFingerprint: testFingerprint, paramsJSON: parameters,
                                                      resultsJSON: results, createdAt: Date(), toolVersion: selectjobVersion))
        }
        return (run, evaluation, false)
    }

    /// Succeeded run `runID`, its job as recorded, and its pool re-read as the job named it (which must
    /// still have the run's fingerprint). O(N·d) to read the pool.
    static func loadPool(runID: Int64, store: SelectionStore) throws(EvaluateFailure) -> (RunRecord, JobSpec, FeatureTable) {
        let run = try stored { () throws(StoreError) in try store.run(id: runID) }
        let jobText = try stored { () throws(StoreError) in try store.jobJSON(runID: runID) }
        let spec: JobSpec
        do {
            spec = try JobSpec.parse(Data(jobText.utf8), file: run.jobPath,
                                     folder: URL(fileURLWithPath: run.jobPath).deletingLastPathComponent())
        } catch { throw .run(.job(error)) }
        let features: FeatureTable
        do { features = try FeatureTable.load(spec.features) } catch { throw .run(.input(error)) }
        // Runs recorded before 0.2's block fingerprints carry the whole-data SHA-256.
        guard features.fingerprint == run.featuresFingerprint || features.wholeDataFingerprint == run.featuresFingerprint else {
            throw .evaluation(.featuresChanged(run: runID, features: features.source.displayPath))
        }
        return (run, spec, features)
    }

    /// The mean and standard deviation of how many of `draws` rows drawn without replacement from
    /// `population` rows fall among `successes` marked ones (the hypergeometric distribution). O(1).
    static func hypergeometric(population: Int, successes: Int, draws: Int) -> (mean: Double, deviation: Double) {
        let n = Double(population), p = Double(successes) / n, k = Double(draws)
        let variance = population > 1 ? k * p * (1 - p) * (n - k) / (n - 1) : 0
        return (k * p, max(0, variance).squareRoot())
    }

    /// The evaluation's parameters as stored (`evaluations.params_json`): what, besides the test set's
    /// data, decides the numbers.
    static func evaluationParameters(_ options: EvaluationOptions) -> String {
        var members: [String: JSONValue] = [
            "seed": .integer(Int64(options.seed)), "baseline_draws": .integer(Int64(options.baselineDraws)),
            "probe_c": .number(options.probeC), "streams": .string("separate"),
            "mmd_pool_sample": .integer(Int64(SubsetEvaluation.mmdPoolSample)), "tool_version": .string(selectjobVersion),
        ]
        switch options.test {
        case .none: members["test"] = .string("none")
        case let .file(path, dataset, labels):
            members["test"] = .object(["path": .string(path), "dataset": .string(dataset), "labels": .string(labels)])
        case let .holdout(fraction): members["test"] = .object(["holdout": .number(fraction)])
        }
        return JSONValue.object(members).json()
    }
}
