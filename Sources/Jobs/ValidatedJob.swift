import FeatureIO
import Foundation
import Selection
import Store

extension JobRunner {
    /// Checks an already parsed job against the data it names (features, the method's inputs, budget).
    func validate(_ spec: JobSpec, jobPath: String) throws(RunError) -> ValidatedJob {
        let features: FeatureTable
        do { features = try FeatureTable.load(spec.features) } catch { throw .input(error) }
        let budget = spec.budget.count(poolSize: features.rows)
        if budget < 1, case let .percent(p) = spec.budget {
            throw .job(.invalid(file: jobPath, path: "budget.percent",
                                problem: "\(ParameterValue.number(p).quoted) % of \(features.rows) samples is K = 0 (percent is a percentage, not a fraction: {\"percent\": 1} is 1 %)"))
        }
        var inputs: [String: FeatureTable] = [:]
        var outcomes: [String: [Bool]] = [:]
        for (name, source) in spec.method.inputs.sorted(by: { $0.key < $1.key }) {
            do throws(FeatureInputError) {
                let table = try FeatureTable.load(source)
                if let kind = spec.method.predictionKinds[name] {
                    inputs[name] = try table.aligned(toPool: features.ids, poolRows: features.rows)
                        .classProbabilities(kind, poolRows: features.rows)
                } else {
                    inputs[name] = table
                }
                if let predictedName = spec.method.predictedDatasets[name], let truth = table.labels {
                    let predicted = try FeatureTable.loadPredictedClasses(path: source.path, dataset: predictedName,
                                                                          count: table.rows)
                    let correct = zip(truth, predicted).map { $0 == $1 }
                    guard correct.contains(true), correct.contains(false) else {
                        throw FeatureInputError.oneSidedValidation(
                            file: source.path, dataset: predictedName,
                            problem: "the model is \(correct.contains(true) ? "right" : "wrong") on all \(correct.count) validation samples; Active Transfer Learning needs both right and wrong ones")
                    }
                    outcomes[name] = correct
                }
            } catch { throw .input(error) }
        }
        let shape = ProblemShape(poolSize: features.rows, width: features.columns, budget: budget,
                                 inputs: inputs.mapValues { (rows: $0.rows, columns: $0.columns) })
        // With labelled samples the shape is checked once they are resolved (they change what is left).
        if spec.labelled.isEmpty {
            do { try spec.method.configured.validate(shape) } catch { throw .parameters(file: jobPath, error) }
        }
        var job = ValidatedJob(spec: spec, features: features, inputs: inputs, outcomes: outcomes, budget: budget)
        if !spec.curation.isEmpty {
            if let parameter = spec.method.configured.poolRowParameter {
                throw .job(.invalid(file: jobPath, path: "method.\(parameter)",
                                    problem: "names pool rows, which \"filter\", \"dedup\" and \"balance\" renumber; leave one of them out"))
            }
            job.curation = try LoadedCuration.load(spec.curation, features: features, jobPath: jobPath)
        }
        job.warnings = Self.warnings(spec, features: features, budget: budget)
        return job
    }

    /// What is probably a mistake in a job that is otherwise valid: features stored transposed, a
    /// percentage meant as a fraction, a budget too small to learn from, an ActiveFT dump read as a
    /// plain array. `run` logs each; `validate` prints each, and `--strict` makes them exit 64. O(N·d).
    static func warnings(_ spec: JobSpec, features: FeatureTable, budget: Int) -> [String] {
        var warnings: [String] = []
        let file = features.source.path
        if features.columns > features.rows {
            warnings.append("\(file): the features have more columns (d = \(features.columns)) than rows (N = \(features.rows)): is the dataset transposed? It should be N × d")
        }
        if case let .percent(p) = spec.budget, p < 0.1 {
            let meant = p * 100 <= 100 ? " — did you mean {\"percent\": \(ParameterValue.number(p * 100).quoted)}?" : ""
            warnings.append("budget: {\"percent\": \(ParameterValue.number(p).quoted)} selects K = \(budget) of \(features.rows) (percent is a percentage, not a fraction)\(meant)")
        } else if budget < 10 {
            warnings.append("budget: K = \(budget) samples is very few to fine-tune on")
        }
        if features.source.format == .npy, features.source.labels == nil, features.lastColumnLooksLikeLabels {
            warnings.append("\(file): the last column holds only whole numbers 0–1000 while the others do not: if this is ActiveFT's dump (features, then the label), give \"layout\": \"activeft\"; it is read as \(features.columns) feature columns")
        }
        return warnings
    }
}

/// A job checked against its data and ready to run.
public struct ValidatedJob: Sendable {
    public let spec: JobSpec
    public private(set) var features: FeatureTable
    /// The method's named inputs, read and checked.
    public let inputs: [String: FeatureTable]
    /// For validation inputs: whether the model predicted each row correctly.
    public let outcomes: [String: [Bool]]
    /// K, the number of samples to select.
    public let budget: Int
    /// The samples already labelled (resolved against the database by ``resolveLabelled(store:database:jobPath:)``).
    public private(set) var labelled = LabelledSet.none
    /// What is probably a mistake in the job, though it can run (see ``JobRunner/warnings(_:features:budget:)``).
    public internal(set) var warnings: [String] = []
    /// The job's filter, dedup and balance with their values read; nil when it asks none.
    var curation: LoadedCuration?

    init(spec: JobSpec, features: FeatureTable, inputs: [String: FeatureTable], outcomes: [String: [Bool]], budget: Int) {
        self.spec = spec
        self.features = features
        self.inputs = inputs
        self.outcomes = outcomes
        self.budget = budget
    }

    /// Moves the pool's values out of ``features`` (which keeps its ids, labels, shape and
    /// fingerprint), so that the caller holds the only copy.
    mutating func takePoolValues() -> [Float] { features.takeValues() }

    /// Resolves the job's labelled samples and checks the budget against the samples left.
    mutating func resolveLabelled(store: SelectionStore?, database: String, jobPath: String) throws(RunError) {
        labelled = try LabelledSet.resolve(spec.labelled, labels: spec.labelledLabels, job: spec.name, features: features,
                                           store: store, database: database)
        let shape = ProblemShape(poolSize: features.rows, width: features.columns, budget: budget,
                                 inputs: inputs.mapValues { (rows: $0.rows, columns: $0.columns) },
                                 labelledCount: labelled.rows.count, labelledClassesKnown: labelled.classes != nil)
        do { try spec.method.configured.validate(shape) } catch { throw .parameters(file: jobPath, error) }
        // The filter's candidates are known before the run starts: too few is refused before it is recorded.
        if let candidates = curation?.curation.candidates {
            let labelledRows = Set(labelled.rows)
            let left = candidates.indices.count { candidates[$0] && !labelledRows.contains($0) }
            if left < budget {
                throw .parameters(file: jobPath, .fewerCandidatesThanBudget(
                    budget: budget, candidates: left, after: labelledRows.isEmpty ? "the filter" : "the filter and the labelled samples"))
            }
        }
    }

    /// The effective parameters of a run, as stored in `runs.params_json`: the method's name, the
    /// budget, the seed, every parameter with its default filled in, each named input with its
    /// fingerprint, and the rows the method started from (`init_rows`) once known.
    func recordedParameters(initialRows: [Int], curated: CuratedSelection? = nil) -> JSONValue {
        var members = spec.method.configured.effective
        members["name"] = .string(spec.method.name)
        members["seed"] = .integer(Int64(spec.seed))
        var recordedBudget: [String: JSONValue] = ["count": .integer(Int64(budget))]
        if case let .percent(p) = spec.budget { recordedBudget["percent"] = .number(p) }
        members["budget"] = .object(recordedBudget)
        if !inputs.isEmpty {
            members["inputs"] = .object(inputs.mapValues { table in
                var input: [String: JSONValue] = [
                    "path": .string(table.source.path), "dataset": .string(table.source.dataset),
                    "m": .integer(Int64(table.rows)), "fingerprint": .string(table.fingerprint),
                ]
                if let rows = table.source.rows {
                    input["rows"] = .array([.integer(Int64(rows.lowerBound)), .integer(Int64(rows.upperBound))])
                }
                return .object(input)
            })
        }
        if let curation { members["curation"] = curation.recorded(curated) }
        if !initialRows.isEmpty { members["init_rows"] = .array(initialRows.map { .integer(Int64($0)) }) }
        if !spec.labelled.isEmpty {
            members["labelled"] = .object([
                "sources": .array(spec.labelled.map { .string($0.description) }),
                "runs": .array(labelled.runIDs.map { .integer($0) }),
                "count": .integer(Int64(labelled.rows.count)), "round": .integer(Int64(labelled.round)),
                "with_labels": .bool(labelled.classes != nil),
                "fingerprint": labelled.fingerprint.map { .string($0) } ?? .null,
            ])
        }
        return .object(members)
    }

    /// The fingerprint of each named input, by name.
    var inputFingerprints: [String: String] { inputs.mapValues(\.fingerprint) }

    /// Whether `previous` ran this very job file, on the same features and inputs, with this version
    /// of selectjob, so that running again would give the same selection.
    func isUnchanged(since previous: RunRecord, jobSHA256: String) -> Bool {
        guard previous.jobSHA256 == jobSHA256, previous.featuresFingerprint == features.fingerprint,
              previous.toolVersion == selectjobVersion, previous.labelledFingerprint == labelled.fingerprint
        else { return false }
        guard let recorded = try? JSONValue.parse(Data(previous.paramsJSON.utf8)), case let .object(members, _) = recorded
        else { return false }
        var fingerprints: [String: String] = [:]
        if case let .object(inputs, _)? = members["inputs"] {
            for (name, input) in inputs {
                guard case let .object(fields, _) = input, case let .string(fingerprint)? = fields["fingerprint"] else { return false }
                fingerprints[name] = fingerprint
            }
        }
        var curationFingerprint: String?
        if case let .object(curation, _)? = members["curation"], case let .string(fingerprint)? = curation["fingerprint"] {
            curationFingerprint = fingerprint
        }
        return fingerprints == inputFingerprints && curationFingerprint == curation?.fingerprint
    }
}

extension FeatureTable {
    /// The features as the math module's matrix.
    var matrix: FeatureMatrix { FeatureMatrix(rows: rows, columns: columns, values: values) }
}

extension SelectionResult {
    /// The method's notes as `runs.notes_json` stores them (keys sorted), nil without notes.
    var notesJSON: String? {
        guard !notes.isEmpty else { return nil }
        let keys = notes.keys.sorted()
        return JSONValue.object(notes.mapValues { .number($0) }, keys: keys).json()
    }
}
