import FeatureIO
import Foundation
import Selection

/// A validated job file: what to read, how to select, how many, and where to record it.
///
/// The accepted format is exactly `schemas/job.schema.json`; a test keeps the two in step.
public struct JobSpec: Sendable {
    /// The job's name, the key under which its runs are recorded.
    public var name: String
    /// The features to select from, paths resolved against the job file's folder.
    public var features: FeatureSource
    public var method: JobMethod
    public var budget: Budget
    public var seed: UInt64
    /// The database named by the job, resolved against its folder; `nil` when the job names none.
    public var database: String?
    /// When cron should run the job (`selectjob crontab` prints the line); `nil` when unscheduled.
    public var schedule: CronSchedule?
    /// The samples already labelled, never to be selected again (empty: none).
    public var labelled: [LabelledSource] = []
    /// Where the class labels the annotators gave each `labelled` source's samples come from, one per
    /// source (nil: that source gives none); what round methods fit their probe on.
    public var labelledLabels: [LabelSource?] = []
    /// Which samples may be picked, near-duplicates dropped first, and quotas per group.
    public var curation = JobCuration()

    /// How many samples to select.
    public enum Budget: Sendable, Equatable {
        /// A percentage of the pool: K = floor(N·p/100), as the reference computes it.
        case percent(Double)
        /// An exact count.
        case count(Int)

        /// The number of samples this budget asks of a pool of `poolSize`.
        public func count(poolSize: Int) -> Int {
            switch self {
            case let .percent(p): return Int((Double(poolSize) * p / 100).rounded(.down))
            case let .count(k): return k
            }
        }
    }
}

/// Where the labels of labelled samples come from.
public enum LabelSource: Sendable, Equatable {
    /// The pool's own `labels` (a pool labelled in full, as in a simulation of rounds).
    case pool
    /// A column (CSV) or dataset (HDF5) of the labelled file itself, aligned with the ids it lists.
    case column(String)
}

/// Where a job finds the samples already labelled.
public enum LabelledSource: Sendable, Equatable {
    /// Every sample selected by the succeeded runs of this job (in the same database), oldest run first.
    case job(String)
    /// The samples selected by this succeeded run.
    case run(Int64)
    /// A file listing samples (``IdentifierList``): sample ids in HDF5 (`dataset`, default `ids`),
    /// `.txt`, `.csv`, `.npy` or `.json`, or row indices in selectjob's JSON export; `rows` says
    /// which a JSON list of integers is (nil: decided by the file). Without an ids dataset on the
    /// pool, ids are 0-based rows.
    case file(path: String, dataset: String? = nil, rows: Bool? = nil)

    /// How the source reads in messages and in `params_json`.
    public var description: String {
        switch self {
        case let .job(name): return "job \(name)"
        case let .run(id): return "run \(id)"
        case let .file(path, dataset, _): return dataset.map { "\(path):\($0)" } ?? path
        }
    }
}

/// A job's selection method: the registry's method with its parameters read, and the named inputs
/// the job gives it (read from their files when the job is validated).
public struct JobMethod: Sendable {
    public let configured: ConfiguredMethod
    /// The named inputs given, by name (e.g. VTL's "targets").
    public let inputs: [String: FeatureSource]
    /// For inputs of predictions, how they are given, by input name.
    public let predictionKinds: [String: PredictionKind]
    /// For validation inputs, the dataset of the model's predicted labels or probabilities, by input name
    /// (the true labels are the source's `labels`).
    public let predictedDatasets: [String: String]

    public init(configured: ConfiguredMethod, inputs: [String: FeatureSource] = [:],
                predictionKinds: [String: PredictionKind] = [:], predictedDatasets: [String: String] = [:]) {
        self.configured = configured
        self.inputs = inputs
        self.predictionKinds = predictionKinds
        self.predictedDatasets = predictedDatasets
    }

    /// The method's name as written in jobs and recorded in `runs.method`.
    public var name: String { configured.name }
}

/// A job that cannot be read or does not follow the schema. Messages name the file, the JSON path
/// and the bad value.
public enum JobError: Error, Equatable, Sendable {
    case unreadable(file: String, reason: String)
    case malformedJSON(file: String, reason: String)
    /// `path` is a JSON path like `method.temperature`; `problem` says what was expected and what was found.
    case invalid(file: String, path: String, problem: String)
}

extension JobError: LocalizedError {
    public var errorDescription: String? {
        switch self {
        case let .unreadable(file, reason): return "\(file): cannot read job file (\(reason))"
        case let .malformedJSON(file, reason): return "\(file): not valid JSON (\(reason))"
        case let .invalid(file, path, problem): return "\(file): \(path): \(problem)"
        }
    }
}

extension JobSpec {
    /// The keys accepted in each object of a job outside the method, by JSON path ("method input":
    /// an input of features a method names); `schemas/job.schema.json` lists the same. A method's own
    /// keys are "name", its parameters and its inputs (``methodKeys(_:)``).
    public static let acceptedKeys: [String: [String]] = [
        "$": ["name", "features", "method", "budget", "seed", "database", "schedule", "labelled", "filter", "dedup", "balance"],
        "features": ["path", "format", "layout", "dataset", "ids", "labels"],
        "method input": ["path", "dataset", "rows"],
        "predictions input": ["path", "dataset", "kind", "ids"],
        "validation input": ["path", "dataset", "labels", "predicted"],
        "labelled": ["job", "run", "path", "dataset", "as", "labels"],
        "budget": ["percent", "count"],
        "filter": ["path", "dataset", "values"],
        "dedup": ["threshold"],
        "balance": ["by", "path", "dataset", "alpha", "probe_c"],
    ]

    /// The keys a method's object accepts: "name", its parameters, then its inputs.
    public static func methodKeys(_ method: any SelectionMethod.Type) -> [String] {
        ["name"] + method.parameterFields.map(\.name) + method.inputs.map(\.name)
    }

    /// A `key=value` setting's value as `selectjob select --set` reads it: JSON when the text is JSON
    /// (`0.07`, `true`, `{"rows": [1, 2]}`), else the text itself as a string (`kmeans++`).
    public static func settingValue(_ text: String) -> ParameterValue {
        (try? ParameterValue.parse(Data(text.utf8))) ?? .string(text)
    }

    /// The largest seed accepted: 2⁵³ − 1, the largest integer every JSON reader keeps exact.
    public static let maximumSeed: Int64 = 9_007_199_254_740_991

    /// Reads and validates the job file at `path`. Relative paths inside resolve against its folder.
    public static func load(path: String) throws(JobError) -> (spec: JobSpec, contents: Data) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadable(file: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw .unreadable(file: path, reason: "is a directory") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(file: path, reason: "permission denied")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        return (try parse(data, file: path, folder: folder), data)
    }

    /// Validates job JSON `data` (from `file`, used in messages), resolving paths against `folder`.
    public static func parse(_ data: Data, file: String, folder: URL) throws(JobError) -> JobSpec {
        let root: JSONValue
        do { root = try JSONValue.parse(data) } catch {
            switch error {
            case let .syntax(line, column, problem):
                throw .malformedJSON(file: file, reason: "line \(line), column \(column): \(problem)")
            case let .duplicateKey(path, key):
                throw .invalid(file: file, path: path == "$" ? key : "\(path).\(key)", problem: "key appears more than once")
            }
        }
        let reader = JobReader(file: file, folder: folder)
        return try reader.job(root)
    }

}

/// What a run reads its job from: a job file, or a job built in memory (`selectjob select`), whose
/// relative paths resolve against `folder` and whose messages name it `name`.
public enum JobInput: Sendable {
    case file(String)
    case inline(name: String, contents: Data, folder: URL)

    /// The name messages give the job: the file's path as given, or the inline job's name.
    public var name: String {
        switch self {
        case let .file(path): path
        case let .inline(name, _, _): name
        }
    }

    /// What `runs.job_path` records: the file's absolute path, or the inline job's name.
    var recordedPath: String {
        switch self {
        case let .file(path): URL(fileURLWithPath: path).standardizedFileURL.path
        case let .inline(name, _, _): name
        }
    }

    /// The job, checked, and the exact bytes it was read from.
    public func load() throws(JobError) -> (spec: JobSpec, contents: Data) {
        switch self {
        case let .file(path): return try JobSpec.load(path: path)
        case let .inline(name, contents, folder): return (try JobSpec.parse(contents, file: name, folder: folder), contents)
        }
    }
}

/// Walks a job's JSON tree, checking each member against the schema and tracking the JSON path.
struct JobReader {
    let file: String
    let folder: URL

    func fail(_ path: String, _ problem: String) -> JobError { .invalid(file: file, path: path, problem: problem) }

    func object(_ value: JSONValue, at path: String, allowed: [String], required: [String]) throws(JobError)
        -> [String: JSONValue] {
        guard case let .object(members, keys) = value else {
            throw fail(path, "expected an object, got \(value.described)")
        }
        for key in keys where !allowed.contains(key) {
            throw fail(path == "$" ? key : "\(path).\(key)",
                       "unknown key; expected one of \(allowed.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        for key in required where members[key] == nil {
            throw fail(path == "$" ? key : "\(path).\(key)", "required key is missing")
        }
        return members
    }

    func string(_ value: JSONValue, at path: String) throws(JobError) -> String {
        guard case let .string(text) = value else { throw fail(path, "expected a string, got \(value.described)") }
        guard !text.isEmpty else { throw fail(path, "expected a non-empty string, got \"\"") }
        // A NUL would cut a path or dataset name short in the C libraries (a different file, silently).
        guard !text.unicodeScalars.contains("\0") else { throw fail(path, "the string holds a NUL character (\\u0000)") }
        return text
    }

    func number(_ value: JSONValue, at path: String) throws(JobError) -> Double {
        switch value {
        case let .integer(i): return Double(i)
        case let .number(x): return x
        default: throw fail(path, "expected a number, got \(value.described)")
        }
    }

    func integer(_ value: JSONValue, at path: String) throws(JobError) -> Int64 {
        switch value {
        case let .integer(i): return i
        case let .number(x) where x == x.rounded() && abs(x) < 9.2e18: return Int64(x)
        default: throw fail(path, "expected an integer, got \(value.described)")
        }
    }

    func positiveNumber(_ value: JSONValue, at path: String) throws(JobError) -> Double {
        let x = try number(value, at: path)
        guard x > 0, x.isFinite else { throw fail(path, "expected a number > 0, got \(value.quoted)") }
        return x
    }

    func integer(_ value: JSONValue, at path: String, in range: ClosedRange<Int64>) throws(JobError) -> Int {
        let i = try integer(value, at: path)
        guard range.contains(i) else {
            let bound = range.upperBound == Int64.max ? "≥ \(range.lowerBound)" : "in \(range.lowerBound)...\(range.upperBound)"
            throw fail(path, "expected an integer \(bound), got \(value.quoted)")
        }
        return Int(i)
    }

    func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : folder.appendingPathComponent(path).standardizedFileURL.path
    }

    func job(_ root: JSONValue) throws(JobError) -> JobSpec {
        let members = try object(root, at: "$", allowed: JobSpec.acceptedKeys["$"]!,
                                 required: ["name", "features", "method", "budget"])
        let name = try string(members["name"]!, at: "name")
        guard name.count <= 128, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
        else {
            throw fail("name", "expected 1 to 128 letters, digits, '.', '_' or '-', got \(members["name"]!.quoted)")
        }
        let seed = try members["seed"].map { v throws(JobError) in try integer(v, at: "seed", in: 0...JobSpec.maximumSeed) } ?? 0
        let database = try members["database"].map { v throws(JobError) in resolve(try string(v, at: "database")) }
        var schedule: CronSchedule?
        if let v = members["schedule"] {
            let text = try string(v, at: "schedule")
            do { schedule = try CronSchedule(text) } catch { throw fail("schedule", "\(error.description), got \(v.quoted)") }
        }
        let labelled = try members["labelled"].map { v throws(JobError) in try self.labelled(v) } ?? []
        let features = try features(members["features"]!)
        return JobSpec(name: name, features: features,
                       method: try method(members["method"]!), budget: try budget(members["budget"]!),
                       seed: UInt64(seed), database: database, schedule: schedule,
                       labelled: labelled.map(\.source), labelledLabels: labelled.map(\.labels),
                       curation: try curation(members, features: features))
    }

    func budget(_ value: JSONValue) throws(JobError) -> JobSpec.Budget {
        let members = try object(value, at: "budget", allowed: JobSpec.acceptedKeys["budget"]!, required: [])
        switch (members["percent"], members["count"]) {
        case let (percent?, nil):
            let p = try number(percent, at: "budget.percent")
            guard p > 0, p <= 100 else { throw fail("budget.percent", "expected a number in (0, 100], got \(percent.quoted)") }
            return .percent(p)
        case let (nil, count?):
            return .count(try integer(count, at: "budget.count", in: 1...Int64.max))
        case (nil, nil):
            throw fail("budget", "expected exactly one of \"percent\" or \"count\", got neither")
        case (.some, .some):
            throw fail("budget", "expected exactly one of \"percent\" or \"count\", got both")
        }
    }

    func method(_ value: JSONValue) throws(JobError) -> JobMethod {
        guard case let .object(members, _) = value else {
            throw fail("method", "expected an object, got \(value.described)")
        }
        guard let nameValue = members["name"] else { throw fail("method.name", "required key is missing") }
        let name = try string(nameValue, at: "method.name")
        guard let method = MethodRegistry.method(named: name) else {
            throw fail("method.name", "expected one of \(MethodRegistry.names.map { "\"\($0)\"" }.joined(separator: ", ")), got \(nameValue.quoted)")
        }
        _ = try object(value, at: "method", allowed: JobSpec.methodKeys(method), required: ["name"])
        var inputs: [String: FeatureSource] = [:]
        var kinds: [String: PredictionKind] = [:]
        var predicted: [String: String] = [:]
        for input in method.inputs {
            if let v = members[input.name] {
                switch input.kind {
                case .features:
                    inputs[input.name] = try featureInput(v, at: "method.\(input.name)")
                case .predictions:
                    (inputs[input.name], kinds[input.name]) = try predictionsInput(v, at: "method.\(input.name)")
                case .validation:
                    (inputs[input.name], predicted[input.name]) = try validationInput(v, at: "method.\(input.name)")
                }
            } else if input.required {
                throw fail("method.\(input.name)", "required key is missing")
            }
        }
        var parameters = members
        for key in ["name"] + method.inputs.map(\.name) { parameters[key] = nil }
        do {
            return JobMethod(configured: try method.configure(parameters), inputs: inputs, predictionKinds: kinds,
                             predictedDatasets: predicted)
        } catch {
            throw fail("method.\(error.path)", error.problem)
        }
    }
}
