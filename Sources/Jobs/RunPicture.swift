import FeatureIO
import Foundation
import Selection
import Store

/// What `selectjob report` draws: a pool in the plane of its two leading principal components, and
/// for each run over it the selection, the distance from every pool sample to it, and what the run
/// built on.
public struct PoolPicture: Sendable {
    /// The pool file as the runs' job named it, and its shape.
    public let featuresPath: String
    public let rows: Int
    public let columns: Int
    /// The plane (fitted on the L2-normalised rows, as the methods see them) and every row's coordinates.
    public let plane: PrincipalPlane
    public let x: [Float]
    public let y: [Float]
    /// The pool's labels, when its job names a labels dataset.
    public let labels: [Int64]?
    /// One entry per run, in the order asked.
    public let runs: [RunPicture]
}

/// One run's part of a ``PoolPicture``.
public struct RunPicture: Sendable {
    public let run: RunRecord
    /// Selected pool rows in rank order.
    public let selectedRows: [Int]
    /// Distance from each pool row to its nearest selected row (unit rows; the covering radius is the max).
    public let nearestDistances: [Double]
    /// Rows labelled before the run (its earlier rounds), reconstructed from its job and the database;
    /// nil when they can no longer be (a run they came from was pruned, or a labelled file changed).
    public let labelledRows: [Int]?
    /// The earlier runs whose picks were labelled before this one, oldest first.
    public let earlierRuns: [RunRecord]
    /// The run's latest stored evaluation and a description of its test set.
    public let evaluation: (result: EvaluationResult, test: String)?
}

extension JobRunner {
    /// Reads the pool of succeeded runs `runIDs` (they must share it) and computes what the report draws.
    ///
    /// Cost: O(N·d) to read and normalise, O(N·d²) for the plane, O(N·K·d) per run for the distances
    /// (``NearestTargetSearch``, much less when the selection is clustered); memory: the pool once
    /// (normalised in place) plus O(N) per run.
    public static func picture(runIDs: [Int64], store: SelectionStore, threads: Int) throws(EvaluateFailure) -> PoolPicture {
        precondition(!runIDs.isEmpty, "no runs to draw")
        let (first, _, features) = try loadPool(runID: runIDs[0], store: store)
        var runs: [(RunRecord, JobSpec)] = []
        for id in runIDs {
            let run = try stored { () throws(StoreError) in try store.run(id: id) }
            guard run.featuresFingerprint == first.featuresFingerprint else {
                throw .evaluation(.differentPools(run: id, features: run.featuresPath, firstRun: first.id,
                                                  firstFeatures: first.featuresPath))
            }
            let jobText = try stored { () throws(StoreError) in try store.jobJSON(runID: id) }
            do {
                runs.append((run, try JobSpec.parse(Data(jobText.utf8), file: run.jobPath,
                                                    folder: URL(fileURLWithPath: run.jobPath).deletingLastPathComponent())))
            } catch { throw .run(.job(error)) }
        }
        // What needs the table (ids, labels, fingerprint) first; then its values become the unit pool
        // in place, so the pool is held once.
        var earlierWork: [(selected: [Int], labelledRows: [Int]?, earlier: [RunRecord],
                           evaluation: (EvaluationResult, String)?)] = []
        for (run, spec) in runs {
            let selected = try stored { () throws(StoreError) in try store.selection(runID: run.id) }.map(\.rowIndex)
            var labelledRows: [Int]?
            var earlier: [RunRecord] = []
            if let labelled = try? LabelledSet.resolve(spec.labelled, job: spec.name, features: features, store: store,
                                                      database: "", before: run.id),
                labelled.fingerprint == run.labelledFingerprint {
                labelledRows = labelled.rows
                for id in labelled.runIDs {
                    earlier.append(try stored { () throws(StoreError) in try store.run(id: id) })
                }
            }
            let records = try stored { () throws(StoreError) in try store.evaluations(runID: run.id) }
            let evaluation = records.last.flatMap { record -> (EvaluationResult, String)? in
                guard let result = try? JSONDecoder().decode(EvaluationResult.self, from: Data(record.resultsJSON.utf8))
                else { return nil }
                return (result, evaluationTestDescription(paramsJSON: record.paramsJSON))
            }
            earlierWork.append((selected, labelledRows, earlier, evaluation))
        }
        let path = features.source.displayPath, labels = features.labels, rows = features.rows, columns = features.columns
        var unit = FeatureMatrix(rows: rows, columns: columns, values: (consume features).values)
        unit.normalizeRows(threads: threads)
        let plane = PrincipalPlane.fit(unit, threads: threads)
        let (x, y) = plane.project(unit, threads: threads)
        var pictures: [RunPicture] = []
        for ((run, _), work) in zip(runs, earlierWork) {
            let distances = SubsetEvaluation.nearestDistances(pool: unit, subset: unit.selecting(rows: work.selected),
                                                              threads: threads)
            pictures.append(RunPicture(run: run, selectedRows: work.selected, nearestDistances: distances,
                                       labelledRows: work.labelledRows, earlierRuns: work.earlier,
                                       evaluation: work.evaluation))
        }
        return PoolPicture(featuresPath: path, rows: rows, columns: columns, plane: plane,
                           x: x, y: y, labels: labels, runs: pictures)
    }

    /// How a stored evaluation's test set reads, from its `params_json` (as `evaluate` prints it).
    static func evaluationTestDescription(paramsJSON: String) -> String {
        guard case let .object(members, _)? = try? JSONValue.parse(Data(paramsJSON.utf8)) else { return "unknown" }
        let seed = members["seed"].flatMap { value -> Int64? in if case let .integer(s) = value { return s }; return nil } ?? 0
        switch members["test"] {
        case let .object(test, _)?:
            if case let .string(path)? = test["path"], case let .string(dataset)? = test["dataset"],
               case let .string(labels)? = test["labels"] {
                return "\(path):\(dataset) (labels \(labels))"
            }
            if case let .number(fraction)? = test["holdout"] {
                return String(format: "%g %% of the pool held out (seed %lld)", fraction * 100, seed)
            }
            return "unknown"
        default:
            return "none (no linear probe)"
        }
    }
}
