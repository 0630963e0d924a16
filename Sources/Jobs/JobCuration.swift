import Crypto
import FeatureIO
import Foundation
import Selection

/// What a job asks around its method, as written: `filter`, `dedup` and `balance` (docs/job-file.md).
public struct JobCuration: Sendable, Equatable {
    /// A per-sample value beside the features: a file (default: the features file) and the dataset,
    /// `.npz` array or CSV column in it (``MetadataColumn``).
    public struct Column: Sendable, Equatable {
        public var path: String
        public var dataset: String
        /// The features' row range applies (the column is the features file's own).
        public var rows: Range<Int>?
    }

    /// Only samples whose `column` value is one of `values` may be picked.
    public struct Filter: Sendable, Equatable {
        public var column: Column
        public var values: [String]
    }

    /// What balance groups samples by.
    public enum Grouping: Sendable, Equatable {
        /// The pool's `features.labels`.
        case poolLabels
        /// The class the probe predicts (needs labelled samples with labels).
        case predicted
        case metadata(Column)
    }

    public struct Balance: Sendable, Equatable {
        public var by: Grouping
        public var alpha: Double
        public var probeC: Double
    }

    public var filter: Filter?
    /// Cosine similarity at or above which samples are near-duplicates.
    public var dedupThreshold: Double?
    public var balance: Balance?

    public init() {}

    public var isEmpty: Bool { filter == nil && dedupThreshold == nil && balance == nil }
}

extension JobReader {
    /// Reads the top-level `filter`, `dedup` and `balance` members of a job against `features`.
    func curation(_ members: [String: JSONValue], features: FeatureSource) throws(JobError) -> JobCuration {
        var curation = JobCuration()
        func column(_ members: [String: JSONValue], at path: String) throws(JobError) -> JobCuration.Column {
            guard let datasetValue = members["dataset"] else { throw fail("\(path).dataset", "required key is missing") }
            let dataset = try string(datasetValue, at: "\(path).dataset")
            if let v = members["path"] { return .init(path: resolve(try string(v, at: "\(path).path")), dataset: dataset) }
            guard features.shards.count <= 1, features.format == .hdf5 || features.format == .npz else {
                throw fail("\(path).path", "required key is missing: the features are \(features.shards.count > 1 ? "in shards" : "a .npy array"), so the values need a file of their own (CSV, .npy, .txt or HDF5)")
            }
            return .init(path: features.path, dataset: dataset, rows: features.rows)
        }
        if let value = members["filter"] {
            let filter = try object(value, at: "filter", allowed: JobSpec.acceptedKeys["filter"]!, required: ["dataset", "values"])
            guard case let .array(items) = filter["values"]!, !items.isEmpty else {
                throw fail("filter.values", "expected a non-empty list of strings or integers, got \(filter["values"]!.described)")
            }
            var values: [String] = []
            for (index, item) in items.enumerated() {
                switch item {
                case let .integer(i): values.append(String(i))
                case .string: values.append(try string(item, at: "filter.values[\(index)]"))
                default: throw fail("filter.values[\(index)]", "expected a string or an integer, got \(item.described)")
                }
            }
            curation.filter = .init(column: try column(filter, at: "filter"), values: values)
        }
        if let value = members["dedup"] {
            let dedup = try object(value, at: "dedup", allowed: JobSpec.acceptedKeys["dedup"]!, required: ["threshold"])
            let threshold = try number(dedup["threshold"]!, at: "dedup.threshold")
            guard threshold > 0, threshold < 1 else {
                throw fail("dedup.threshold", "expected a cosine similarity in (0, 1), got \(dedup["threshold"]!.quoted)")
            }
            curation.dedupThreshold = threshold
        }
        if let value = members["balance"] {
            let balance = try object(value, at: "balance", allowed: JobSpec.acceptedKeys["balance"]!, required: ["by"])
            let by = try string(balance["by"]!, at: "balance.by")
            let grouping: JobCuration.Grouping
            switch by {
            case "labels":
                guard features.labels != nil || features.format == .activeftDump else {
                    throw fail("balance.by", "\"labels\" groups by the pool's labels, but the job's features give no \"labels\"")
                }
                grouping = .poolLabels
            case "predicted": grouping = .predicted
            case "metadata": grouping = .metadata(try column(balance, at: "balance"))
            default: throw fail("balance.by", "expected \"labels\", \"predicted\" or \"metadata\", got \(balance["by"]!.quoted)")
            }
            if by != "metadata" {
                for key in ["path", "dataset"] where balance[key] != nil {
                    throw fail("balance.\(key)", "only with \"by\": \"metadata\"")
                }
            }
            let alpha = try balance["alpha"].map { v throws(JobError) -> Double in
                let x = try number(v, at: "balance.alpha")
                guard x >= 0, x <= 4 else { throw fail("balance.alpha", "expected a number in [0, 4], got \(v.quoted)") }
                return x
            } ?? 1
            let probeC = try balance["probe_c"].map { v throws(JobError) -> Double in
                guard by == "predicted" else { throw fail("balance.probe_c", "only with \"by\": \"predicted\"") }
                let c = try positiveNumber(v, at: "balance.probe_c")
                guard c <= 1e6 else { throw fail("balance.probe_c", "expected a number in (0, 1e6], got \(v.quoted)") }
                return c
            } ?? 10
            curation.balance = .init(by: grouping, alpha: alpha, probeC: probeC)
        }
        return curation
    }
}

/// A job's curation with its per-sample values read: what the run hands the math module.
struct LoadedCuration: Sendable {
    let spec: JobCuration
    let curation: Curation
    /// "sha256:" + SHA-256 of every value read (filter, then balance), nil when none was read.
    let fingerprint: String?
    /// Samples the filter keeps.
    let filterKept: Int?

    /// Reads the values `spec` names for a pool of `features`. Values that match nothing, or a filter
    /// that keeps no sample, are errors naming the file and dataset. O(N).
    static func load(_ spec: JobCuration, features: FeatureTable, jobPath: String) throws(RunError) -> LoadedCuration {
        var hasher = SHA256()
        var hashed = false
        func read(_ column: JobCuration.Column) throws(RunError) -> [String] {
            let values: [String]
            do { values = try MetadataColumn.load(path: column.path, name: column.dataset, count: features.rows, rows: column.rows) }
            catch { throw .input(error) }
            for value in values { hasher.update(data: Array(value.utf8) + [0]) }
            hashed = true
            return values
        }
        var curation = Curation(dedupThreshold: spec.dedupThreshold)
        var kept: Int?
        if let filter = spec.filter {
            let values = try read(filter.column)
            let wanted = Set(filter.values)
            let candidates = values.map { wanted.contains($0) }
            kept = candidates.count { $0 }
            guard kept! > 0 else {
                let seen = Array(Set(values)).sorted().prefix(8).map { "\"\($0)\"" }.joined(separator: ", ")
                throw .job(.invalid(file: jobPath, path: "filter.values",
                                    problem: "no sample of \(filter.column.path):\(filter.column.dataset) has one of these values; it holds \(seen)\(Set(values).count > 8 ? ", …" : "")"))
            }
            curation.candidates = candidates
        }
        if let balance = spec.balance {
            let groups: Curation.Groups
            switch balance.by {
            case .predicted: groups = .predicted(probeC: balance.probeC)
            case .poolLabels:
                guard let labels = features.labels else {
                    throw .job(.invalid(file: jobPath, path: "balance.by", problem: "\"labels\": the features have no labels"))
                }
                groups = Self.grouping(labels.map { String($0) }, numeric: true)
            case let .metadata(column): groups = Self.grouping(try read(column), numeric: false)
            }
            curation.balance = .init(groups: groups, alpha: balance.alpha)
        }
        let fingerprint = hashed ? "sha256:" + hasher.finalize().map { String(format: "%02x", $0) }.joined() : nil
        return LoadedCuration(spec: spec, curation: curation, fingerprint: fingerprint, filterKept: kept)
    }

    /// Group indices for `values`, the groups in sorted order (numerically for labels).
    private static func grouping(_ values: [String], numeric: Bool) -> Curation.Groups {
        let names = Array(Set(values)).sorted { numeric ? (Int64($0) ?? 0, $0) < (Int64($1) ?? 0, $1) : $0 < $1 }
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        return .given(index: values.map { index[$0]! }, names: names)
    }

    /// What `params_json` records of the curation (`curation`), with what the run did once known.
    func recorded(_ outcome: CuratedSelection?) -> JSONValue {
        var members: [String: JSONValue] = [:]
        if let filter = spec.filter {
            var recorded: [String: JSONValue] = ["path": .string(filter.column.path), "dataset": .string(filter.column.dataset),
                                                 "values": .array(filter.values.map { .string($0) })]
            if let filterKept { recorded["kept"] = .integer(Int64(filterKept)) }
            members["filter"] = .object(recorded)
        }
        if let threshold = spec.dedupThreshold {
            var recorded: [String: JSONValue] = ["threshold": .number(threshold)]
            if let dropped = outcome?.duplicates?.dropped.count { recorded["dropped"] = .integer(Int64(dropped)) }
            members["dedup"] = .object(recorded)
        }
        if let balance = spec.balance {
            var recorded: [String: JSONValue] = ["alpha": .number(balance.alpha)]
            switch balance.by {
            case .poolLabels: recorded["by"] = .string("labels")
            case .predicted: recorded["by"] = .string("predicted"); recorded["probe_c"] = .number(balance.probeC)
            case let .metadata(column):
                recorded["by"] = .string("metadata")
                recorded["path"] = .string(column.path)
                recorded["dataset"] = .string(column.dataset)
            }
            if let quotas = outcome?.quotas {
                recorded["quotas"] = .object(Dictionary(uniqueKeysWithValues: quotas.map { ($0.name, .integer(Int64($0.quota))) }),
                                             keys: quotas.map(\.name))
                recorded["available"] = .object(Dictionary(uniqueKeysWithValues: quotas.map { ($0.name, .integer(Int64($0.available))) }),
                                                keys: quotas.map(\.name))
            }
            members["balance"] = .object(recorded)
        }
        if let outcome { members["candidates"] = .integer(Int64(outcome.candidateCount)) }
        if let fingerprint { members["fingerprint"] = .string(fingerprint) }
        return .object(members)
    }
}
