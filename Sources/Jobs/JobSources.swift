import FeatureIO
import Foundation
import Selection

/// Where a job's data come from: the features (one file, shards, NumPy files), the samples already
/// labelled, and the method's inputs — read from the job's JSON with the JSON path in every message.
extension JobReader {
    /// `"labelled"`: one source object or a non-empty array of them, each with exactly one of
    /// `job`, `run` or `path` (a file listing samples, with `dataset` and `as`: ``IdentifierList``).
    func labelled(_ value: JSONValue) throws(JobError) -> [(source: LabelledSource, labels: LabelSource?)] {
        let items: [(JSONValue, String)]
        if case let .array(values) = value {
            guard !values.isEmpty else { throw fail("labelled", "expected a source object or a non-empty array of them, got []") }
            items = values.enumerated().map { ($1, "labelled[\($0)]") }
        } else {
            items = [(value, "labelled")]
        }
        var sources: [(source: LabelledSource, labels: LabelSource?)] = []
        for (item, path) in items {
            let members = try object(item, at: path, allowed: JobSpec.acceptedKeys["labelled"]!, required: [])
            let given = ["job", "run", "path"].filter { members[$0] != nil }
            guard given.count == 1 else {
                throw fail(path, "expected exactly one of \"job\", \"run\" or \"path\", got \(given.isEmpty ? "none" : given.joined(separator: " and "))")
            }
            for key in ["dataset", "as"] where members[key] != nil && members["path"] == nil {
                throw fail("\(path).\(key)", "only used with \"path\"")
            }
            // "labels": "pool" (the pool's labels), or for a file, the column or dataset beside its ids.
            let labels = try members["labels"].map { v throws(JobError) -> LabelSource in
                let name = try string(v, at: "\(path).labels")
                if name == "pool" { return .pool }
                guard members["path"] != nil else {
                    throw fail("\(path).labels", "expected \"pool\" (the pool's labels); a column or dataset name only goes with \"path\"")
                }
                return .column(name)
            }
            if let v = members["job"] {
                sources.append((.job(try string(v, at: "\(path).job")), labels))
            } else if let v = members["run"] {
                sources.append((.run(Int64(try integer(v, at: "\(path).run", in: 1...Int64.max))), labels))
            } else {
                let file = resolve(try string(members["path"]!, at: "\(path).path"))
                let dataset = try members["dataset"].map { v throws(JobError) in try string(v, at: "\(path).dataset") }
                let rows = try members["as"].map { v throws(JobError) -> Bool in
                    guard case let .string(kind) = v, ["rows", "ids"].contains(kind) else {
                        throw fail("\(path).as", "expected \"rows\" (0-based row indices) or \"ids\" (sample ids), got \(v.described)")
                    }
                    return kind == "rows"
                }
                sources.append((.file(path: file, dataset: dataset, rows: rows), labels))
            }
        }
        return sources
    }

    func features(_ value: JSONValue) throws(JobError) -> FeatureSource {
        let members = try object(value, at: "features", allowed: JobSpec.acceptedKeys["features"]!,
                                 required: ["path"])
        // A pool in shards: a list of files, or a glob; read as one pool, in sorted (or list) order.
        let shards = try shardPaths(members["path"]!)
        let path = shards[0]
        var format = FeatureFormat.implied(by: path)
        if let v = members["format"] {
            guard case let .string(name) = v, ["hdf5", "npy", "npz"].contains(name), let named = FeatureFormat(rawValue: name) else {
                throw fail("features.format", "expected \"hdf5\", \"npy\" or \"npz\", got \(v.described)")
            }
            format = named
        }
        let layout = try members["layout"].map { v throws(JobError) -> String in
            guard case let .string(name) = v, ["plain", "activeft"].contains(name) else {
                throw fail("features.layout", "expected \"plain\" or \"activeft\", got \(v.described)")
            }
            guard format == .npy else {
                throw fail("features.layout", "only for .npy features (HDF5 and .npz name their arrays)")
            }
            return name
        }
        if format == .npy {
            if members["dataset"] != nil {
                throw fail("features.dataset", "not used with .npy features: the file holds one array")
            }
            if layout == "activeft" {
                for key in ["ids", "labels"] where members[key] != nil {
                    throw fail("features.\(key)", "not used with \"layout\": \"activeft\" (N × (d+1), the label in the last column; the row is the id)")
                }
                return FeatureSource(path: resolve(path), dataset: "(npy array)", format: .activeftDump)
            }
            // Plain N × d: ids and labels are files beside it (.npy integers, or .txt ids one a line).
            let ids = try members["ids"].map { v throws(JobError) in resolve(try string(v, at: "features.ids")) }
            let labels = try members["labels"].map { v throws(JobError) in resolve(try string(v, at: "features.labels")) }
            return FeatureSource(path: resolve(path), dataset: "(npy array)", ids: ids, labels: labels, format: .npy)
        }
        let dataset = try members["dataset"].map { v throws(JobError) in try string(v, at: "features.dataset") } ?? "features"
        let ids = try members["ids"].map { v throws(JobError) in try string(v, at: "features.ids") }
        let labels = try members["labels"].map { v throws(JobError) in try string(v, at: "features.labels") }
        var source = FeatureSource(path: resolve(path), dataset: dataset, ids: ids, labels: labels,
                                   format: format == .npz ? .npz : .hdf5)
        source.datasetIsDefault = members["dataset"] == nil
        if shards.count > 1 {
            source.shards = shards
            if case let .string(pattern) = members["path"]! { source.pattern = resolve(pattern) }
        }
        return source
    }

    /// The files `features.path` names: one path; a glob (`*`, `?`, `[`), its matches in sorted order;
    /// or an array of paths, in its order. Each resolved against the job's folder. A pool in several
    /// files must be HDF5.
    func shardPaths(_ value: JSONValue) throws(JobError) -> [String] {
        var paths: [String]
        switch value {
        case let .string(text) where text.contains(where: { "*?[".contains($0) }):
            let pattern = resolve(text)
            var found = glob_t()
            defer { globfree(&found) }
            guard glob(pattern, 0, nil, &found) == 0, found.gl_pathc > 0 else {
                throw fail("features.path", "no file matches \(value.quoted) (in \(folder.path))")
            }
            paths = (0..<Int(found.gl_pathc)).compactMap { found.gl_pathv[$0].map { String(cString: $0) } }.sorted()
        case .string:
            return [try string(value, at: "features.path")]
        case let .array(items):
            guard !items.isEmpty else { throw fail("features.path", "expected a file, a glob or a non-empty list of files, got []") }
            paths = []
            for (i, item) in items.enumerated() { paths.append(resolve(try string(item, at: "features.path[\(i)]"))) }
            guard Set(paths).count == paths.count else { throw fail("features.path", "lists a file twice") }
        default:
            throw fail("features.path", "expected a file, a glob or a list of files, got \(value.described)")
        }
        if paths.count > 1, let npy = paths.first(where: { FeatureFormat.implied(by: $0) != .hdf5 }) {
            throw fail("features.path", "a pool in several files must be HDF5, got \(npy)")
        }
        return paths
    }

    /// A method's input of predictions: `{"path": F, "dataset": D, "kind": "probabilities" | "logits",
    /// "ids": I}`, one row per pool sample, in the pool's row order or, with `ids`, matched by id.
    func predictionsInput(_ value: JSONValue, at: String) throws(JobError) -> (FeatureSource, PredictionKind) {
        let members = try object(value, at: at, allowed: JobSpec.acceptedKeys["predictions input"]!, required: ["path"])
        let path = try string(members["path"]!, at: "\(at).path")
        let dataset = try members["dataset"].map { v throws(JobError) in try string(v, at: "\(at).dataset") }
            ?? "predictions"
        var kind = PredictionKind.probabilities
        if let v = members["kind"] {
            guard case let .string(text) = v, let named = PredictionKind(rawValue: text) else {
                throw fail("\(at).kind", "expected \"probabilities\" or \"logits\", got \(v.described)")
            }
            kind = named
        }
        let format = FeatureFormat.implied(by: path)
        // With .npy predictions, ids name a file beside them (as the pool's do).
        let ids = try members["ids"].map { v throws(JobError) in
            let name = try string(v, at: "\(at).ids")
            return format == .npy ? resolve(name) : name
        }
        var source = FeatureSource(path: resolve(path), dataset: dataset, ids: ids, format: format)
        source.refusesZeroRows = false
        return (source, kind)
    }

    /// A validation input: `{"path": F, "dataset": D, "labels": L, "predicted": P}` — features, true
    /// labels, and the model's predicted labels (1-D integers) or probabilities (2-D) in one HDF5 file.
    func validationInput(_ value: JSONValue, at: String) throws(JobError) -> (FeatureSource, String) {
        let members = try object(value, at: at, allowed: JobSpec.acceptedKeys["validation input"]!, required: ["path"])
        let path = try string(members["path"]!, at: "\(at).path")
        func name(_ key: String, _ fallback: String) throws(JobError) -> String {
            try members[key].map { v throws(JobError) in try string(v, at: "\(at).\(key)") } ?? fallback
        }
        let source = FeatureSource(path: resolve(path), dataset: try name("dataset", "features"),
                                   labels: try name("labels", "labels"))
        return (source, try name("predicted", "predicted"))
    }

    /// A method's input of features: `{"path": F, "dataset": D, "rows": [start, end]}` at `at`.
    func featureInput(_ value: JSONValue, at: String) throws(JobError) -> FeatureSource {
        let members = try object(value, at: at, allowed: JobSpec.acceptedKeys["method input"]!, required: ["path"])
        let path = try string(members["path"]!, at: "\(at).path")
        let dataset = try members["dataset"].map { v throws(JobError) in try string(v, at: "\(at).dataset") }
            ?? "features"
        var rows: Range<Int>?
        if let v = members["rows"] {
            guard case let .array(bounds) = v, bounds.count == 2 else {
                throw fail("\(at).rows", "expected [start, end], got \(v.described)")
            }
            let start = try integer(bounds[0], at: "\(at).rows[0]", in: 0...Int64(Int32.max))
            let end = try integer(bounds[1], at: "\(at).rows[1]", in: 1...Int64(Int32.max))
            guard start < end else { throw fail("\(at).rows", "expected start < end, got \(v.quoted)") }
            rows = start..<end
        }
        return FeatureSource(path: resolve(path), dataset: dataset, rows: rows, format: FeatureFormat.implied(by: path))
    }
}
