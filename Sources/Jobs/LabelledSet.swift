import Crypto
import FeatureIO
import Foundation
import Store

/// The samples a job treats as already labelled, resolved to rows of its pool.
///
/// Sources are read in the job's order; a job source gives its succeeded runs oldest first, each in
/// rank order, so the rows keep the order in which earlier rounds picked them (VTL conditions on them
/// in that order). A sample named twice counts once, at its first place.
public struct LabelledSet: Sendable, Equatable {
    /// Pool rows, distinct, in the order described above.
    public let rows: [Int]
    /// 1 + the highest round among the runs named (a labelled file counts as round 1); 1 with none.
    public let round: Int
    /// "sha256:" + SHA-256 of the rows in order; nil when nothing is labelled.
    public let fingerprint: String?
    /// The runs whose picks are in the set, in the order read.
    public let runIDs: [Int64]
    /// The class label of each of `rows`, when every source gives labels (`"labels"`); nil otherwise.
    public var classes: [Int64]? = nil

    /// Nothing labelled: round 1.
    public static let none = LabelledSet(rows: [], round: 1, fingerprint: nil, runIDs: [])

    /// Resolves `sources` for the job `job` against its pool `features` and the database `store`
    /// (nil: no database yet, so no earlier runs).
    ///
    /// A job source with no succeeded run is an error unless it is the job itself (its first round).
    /// With `before`, a job source counts only runs with a smaller id: the set as run `before` saw it.
    /// O(labelled + N) time and memory.
    static func resolve(_ sources: [LabelledSource], labels: [LabelSource?] = [], job: String, features: FeatureTable,
                        store: SelectionStore?, database: String, before: Int64? = nil) throws(RunError) -> LabelledSet {
        guard !sources.isEmpty else { return .none }
        /// A labelled sample's class as its source gives it: none, the pool's, or a value read beside its id.
        enum Given { case none, pool, value(Int64) }
        var given: [Given] = []
        /// A labelled sample as a source names it: by id, or (selectjob's JSON export) by row.
        enum Entry { case id(SampleIdentifier), row(Int) }
        var identifiers: [(Entry, String)] = []
        var earlierRound = 0
        var runIDs: [Int64] = []
        func add(_ run: RunRecord, from store: SelectionStore, labels: LabelSource?) throws(RunError) {
            let selection = try Self.selection(of: run, in: store)
            identifiers += selection.map { (.id($0.sampleID), "run \(run.id) of job \(run.job)") }
            given += [Given](repeating: labels == nil ? .none : .pool, count: selection.count)
            earlierRound = max(earlierRound, run.round)
            runIDs.append(run.id)
        }
        for (index, source) in sources.enumerated() {
            let labelSource = index < labels.count ? labels[index] : nil
            switch source {
            case let .job(name):
                var runs: [RunRecord] = []
                if let store {
                    do { runs = try store.runs(job: name, status: .succeeded).reversed() } catch { throw .store(error) }
                    if let before { runs.removeAll { $0.id >= before } }
                }
                if runs.isEmpty, name != job { throw .labelled(.noSucceededRun(job: name, database: database)) }
                if let store { for run in runs { try add(run, from: store, labels: labelSource) } }
            case let .run(id):
                guard let store else { throw .store(.unknownRun(database: database, id: id)) }
                let run: RunRecord
                do { run = try store.run(id: id) } catch {
                    if case .unknownRun = error { throw .labelled(.unknownRun(id: id, database: database)) }
                    throw .store(error)
                }
                guard run.status == .succeeded else {
                    throw .labelled(.runNotSucceeded(id: id, status: run.status.rawValue, database: database))
                }
                try add(run, from: store, labels: labelSource)
            case let .file(path, dataset, asRows):
                let list: IdentifierList
                do { list = try IdentifierList.load(path: path, dataset: dataset, rows: asRows) } catch { throw .input(error) }
                let origin = source.description
                let before = identifiers.count
                switch list {
                case .ids(.rowIndices): break
                case let .ids(.integers(values)): identifiers += values.map { (.id(.integer($0)), origin) }
                case let .ids(.strings(values)): identifiers += values.map { (.id(.text($0)), origin) }
                case let .rows(values): identifiers += values.map { (.row($0), origin) }
                }
                let count = identifiers.count - before
                switch labelSource {
                case nil: given += [Given](repeating: .none, count: count)
                case .pool?: given += [Given](repeating: .pool, count: count)
                case let .column(name)?:
                    do { given += try IdentifierList.labels(path: path, column: name, count: count).map { .value($0) } }
                    catch { throw .input(error) }
                }
                earlierRound = max(earlierRound, 1)
            }
        }
        let rowOf = features.ids.rowLookup(count: features.rows)
        var seen = Set<Int>()
        var rows: [Int] = []
        var classOf: [Int: (label: Int64, origin: String)] = [:]
        var everyLabelled = true
        for ((entry, origin), label) in zip(identifiers, given) {
            let found: Int?
            switch entry {
            case let .id(identifier):
                found = rowOf(identifier)
                guard found != nil else {
                    throw .labelled(.unknownSample(id: identifier.description, source: origin, features: features.source.path,
                                                   note: features.ids.kindMismatch(identifier)))
                }
            case let .row(row):
                guard (0..<features.rows).contains(row) else {
                    throw .labelled(.unknownSample(id: "row \(row)", source: origin, features: features.source.path,
                                                   note: "the pool's rows are 0..<\(features.rows)"))
                }
                found = row
            }
            let row = found!
            if seen.insert(row).inserted { rows.append(row) }
            // The sample's class: the pool's, or the one its source gives; two different ones are refused.
            var value: Int64?
            switch label {
            case .none: everyLabelled = false
            case .pool:
                guard let poolLabels = features.labels else {
                    throw .labelled(.noPoolLabels(source: origin, features: features.source.displayPath))
                }
                value = poolLabels[row]
            case let .value(v): value = v
            }
            if let value {
                if let earlier = classOf[row], earlier.label != value {
                    throw .labelled(.conflictingLabels(row: row, first: earlier.label, firstSource: earlier.origin,
                                                       second: value, secondSource: origin))
                }
                if classOf[row] == nil { classOf[row] = (value, origin) }
            }
        }
        let classes = everyLabelled ? rows.map { classOf[$0]!.label } : nil
        // The rows in order, and with labels each row's label: labels that change make another set.
        let text = classes.map { zip(rows, $0).map { "\($0):\($1)" } } ?? rows.map(String.init)
        let digest = SHA256.hash(data: Data(text.joined(separator: ",").utf8))
        var set = LabelledSet(rows: rows, round: earlierRound + 1,
                              fingerprint: "sha256:" + digest.map { String(format: "%02x", $0) }.joined(), runIDs: runIDs)
        set.classes = classes
        return set
    }

    /// `run`'s selection from `store`, its error in run terms. O(selected).
    private static func selection(of run: RunRecord, in store: SelectionStore) throws(RunError) -> [SelectedSample] {
        do { return try store.selection(runID: run.id) } catch { throw .store(error) }
    }
}

/// Why a job's labelled samples could not be resolved.
public enum LabelledError: Error, Equatable, Sendable {
    /// `"labelled": {"job": NAME}` names another job with no succeeded run in the database.
    case noSucceededRun(job: String, database: String)
    /// `"labelled": {"run": N}` names a run that did not succeed.
    case runNotSucceeded(id: Int64, status: String, database: String)
    /// `"labelled": {"run": N}` names a run the database does not have (pruned, or another database).
    case unknownRun(id: Int64, database: String)
    /// A labelled id that is not a sample of the pool; `note` says why when the kinds differ.
    case unknownSample(id: String, source: String, features: String, note: String?)
    /// `"labels": "pool"` on a pool without labels.
    case noPoolLabels(source: String, features: String)
    /// One sample given two different labels.
    case conflictingLabels(row: Int, first: Int64, firstSource: String, second: Int64, secondSource: String)

    /// Naming a missing job or run is a job error (64); an id not in the pool is a data error (65).
    var exitStatus: ExitStatus {
        switch self {
        case .noSucceededRun, .runNotSucceeded, .unknownRun, .noPoolLabels: return .badJob
        case .unknownSample, .conflictingLabels: return .badData
        }
    }

    var message: String {
        switch self {
        case let .noSucceededRun(job, database):
            return "labelled: job '\(job)' has no succeeded run in \(database)"
        case let .runNotSucceeded(id, status, database):
            return "labelled: run \(id) in \(database) is \(status), not succeeded"
        case let .unknownRun(id, database):
            return "labelled: run \(id) is not in \(database) (pruned, or recorded in another database)"
        case let .unknownSample(id, source, features, note):
            return "labelled: sample id \(id) (from \(source)) is not in the pool \(features)" + (note.map { " (\($0))" } ?? "")
        case let .noPoolLabels(source, features):
            return "labelled: \(source) takes \"labels\": \"pool\", but the pool \(features) has no labels (give features.labels)"
        case let .conflictingLabels(row, first, firstSource, second, secondSource):
            return "labelled: pool row \(row) has label \(first) from \(firstSource) and \(second) from \(secondSource)"
        }
    }
}

extension SampleIDs {
    /// Why `identifier` cannot be one of these ids when its kind differs from theirs ("the pool's ids
    /// are integers, this id is a string"); nil when the kinds agree. O(1).
    func kindMismatch(_ identifier: SampleIdentifier) -> String? {
        switch (self, identifier) {
        case (.strings, .integer): return "the pool's ids are strings, this id is an integer"
        case (.integers, .text): return "the pool's ids are integers, this id is a string"
        case (.rowIndices, .text): return "the pool has no ids dataset, so its ids are 0-based row numbers; this id is a string"
        default: return nil
        }
    }

    /// A function from a stored identifier to its row in this pool, nil for an id not in it. O(N) to build.
    func rowLookup(count: Int) -> (SampleIdentifier) -> Int? {
        switch self {
        case .rowIndices:
            return { identifier in
                guard case let .integer(value) = identifier, value >= 0, value < Int64(count) else { return nil }
                return Int(value)
            }
        case let .integers(ids):
            let rows = Dictionary(ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
            return { identifier in
                guard case let .integer(value) = identifier else { return nil }
                return rows[value]
            }
        case let .strings(ids):
            let rows = Dictionary(ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
            return { identifier in
                guard case let .text(value) = identifier else { return nil }
                return rows[value]
            }
        }
    }
}
