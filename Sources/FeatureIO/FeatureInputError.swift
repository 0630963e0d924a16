import Foundation
import HDF5

/// Why a feature file was rejected. Every case names the file, and the dataset where there is one.
public enum FeatureInputError: Error, Equatable, Sendable {
    case fileNotFound(file: String)
    /// A symbolic link whose target does not exist.
    case danglingLink(file: String, target: String)
    case isDirectory(file: String)
    case unreadable(file: String)
    /// Not HDF5, truncated, or otherwise unopenable; `reason` is HDF5's own description.
    case notHDF5(file: String, reason: String)
    /// Not a readable `.npy` file of the expected layout.
    case notNpy(file: String, reason: String)
    case missingDataset(file: String, dataset: String)
    /// A shard of a pool that does not fit the others (another width, another kind of ids).
    case shardMismatch(file: String, problem: String)
    /// A file that should hold a list of samples and does not (`expected` says what it should be).
    case notAList(file: String, expected: String)
    /// A dataset the file lacks, with what it holds ("'name' (shape type)") and the closest name.
    case datasetNotFound(file: String, dataset: String, holds: [String], closest: String?)
    case notADataset(file: String, dataset: String)
    case wrongRank(file: String, dataset: String, shape: [Int], expected: Int)
    case wrongType(file: String, dataset: String, found: String, expected: String)
    case noRows(file: String, dataset: String)
    case noColumns(file: String, dataset: String)
    case rowsOutOfRange(file: String, dataset: String, rows: Range<Int>, available: Int)
    case lengthMismatch(file: String, dataset: String, count: Int, expected: Int)
    case duplicateID(file: String, dataset: String, id: String, rows: (Int, Int))
    case nonFinite(file: String, dataset: String, row: Int, column: Int, value: Float)
    case zeroRow(file: String, dataset: String, row: Int)
    /// A row whose squared norm is outside what float32 arithmetic handles (subnormal values whose
    /// direction is lost, or values whose squares overflow).
    case unusableScale(file: String, dataset: String, row: Int, squaredNorm: Double)
    /// A string id that no output format can carry: a line break or NUL, or bytes that are not UTF-8.
    case badStringID(file: String, dataset: String, row: Int, problem: String)
    /// An unsigned 64-bit id or label above 2⁶³ − 1, which the database's integers cannot hold.
    case integerTooLarge(file: String, dataset: String, row: Int, value: UInt64)
    /// HDF5 failed while reading the data (a truncated file or a damaged chunk, typically).
    case readFailed(file: String, dataset: String, reason: String)
    /// Another process is writing the file: temporary, worth retrying.
    case lockedByWriter(file: String)
    /// The dataset is larger than this machine's memory (a huge or virtual extent in a small file).
    case tooLarge(file: String, dataset: String, shape: [Int], bytes: String, memory: String)
    /// A model's predictions that are not class probabilities (or usable logits).
    case invalidPredictions(file: String, dataset: String, row: Int, problem: String)
    /// A per-sample input aligned by id that has no row for one of the pool's samples.
    case missingRow(file: String, dataset: String, id: String)
    /// A validation set the model is right on everywhere, or wrong on everywhere.
    case oneSidedValidation(file: String, dataset: String, problem: String)

    /// Whether retrying later may succeed (the file is being written).
    public var isTemporary: Bool {
        if case .lockedByWriter = self { return true }
        return false
    }

    init(_ error: HDF5Error) {
        switch error {
        case let .cannotOpen(file, reason), let .cannotCreate(file, reason):
            self = .notHDF5(file: file, reason: reason)
        case let .missingObject(file, name): self = .missingDataset(file: file, dataset: name)
        case let .notADataset(file, name): self = .notADataset(file: file, dataset: name)
        case let .unsupportedType(file, dataset, found, wanted):
            self = .wrongType(file: file, dataset: dataset, found: found, expected: wanted)
        case let .readFailed(file, dataset, reason), let .writeFailed(file, dataset, reason):
            self = .readFailed(file: file, dataset: dataset, reason: reason)
        case let .lockedByWriter(file): self = .lockedByWriter(file: file)
        case let .invalidUTF8(file, dataset, row):
            self = .badStringID(file: file, dataset: dataset, row: row, problem: "is not valid UTF-8 (ids must be UTF-8 text)")
        }
    }

    public static func == (lhs: FeatureInputError, rhs: FeatureInputError) -> Bool {
        lhs.errorDescription == rhs.errorDescription
    }
}

extension FeatureInputError: LocalizedError {
    public var errorDescription: String? {
        switch self {
        case let .fileNotFound(file): return "\(file): no such file"
        case let .danglingLink(file, target): return "\(file): a symbolic link to \(target), which does not exist"
        case let .isDirectory(file): return "\(file): is a directory, not a feature file"
        case let .unreadable(file): return "\(file): cannot be read (permission denied?)"
        case let .notHDF5(file, reason): return "\(file): not a readable HDF5 file (\(reason))"
        case let .notNpy(file, reason): return "\(file): not a usable .npy feature file (\(reason))"
        case let .missingDataset(file, dataset): return "\(file): no dataset '\(dataset)'"
        case let .notAList(file, expected): return "\(file): expected \(expected)"
        case let .shardMismatch(file, problem): return "\(file): this shard does not fit the pool: \(problem)"
        case let .datasetNotFound(file, dataset, holds, closest):
            let contents = holds.isEmpty ? "it holds no dataset" : "it holds \(holds.joined(separator: ", "))"
            return "\(file): no dataset '\(dataset)'; \(contents)" + (closest.map { " — did you mean '\($0)'?" } ?? "")
        case let .notADataset(file, dataset): return "\(file): '\(dataset)' is a group, not a dataset"
        case let .wrongRank(file, dataset, shape, expected):
            return "\(file): dataset '\(dataset)' has shape \(shape) (rank \(shape.count)), expected rank \(expected)"
        case let .wrongType(file, dataset, found, expected):
            return "\(file): dataset '\(dataset)' holds \(found), expected \(expected)"
        case let .lockedByWriter(file):
            return "\(file): another process has the file open for writing (HDF5 file lock); try again when it is done"
        case let .tooLarge(file, dataset, shape, bytes, memory):
            return "\(file): dataset '\(dataset)' has shape \(shape) (\(bytes) as float32), more than this machine's memory (\(memory))"
        case let .integerTooLarge(file, dataset, row, value):
            return "\(file): dataset '\(dataset)' row \(row) holds \(value), above the largest integer selectjob stores "
                + "(2^63 − 1 = \(Int64.max)); store such ids as strings"
        case let .noRows(file, dataset): return "\(file): dataset '\(dataset)' has zero rows"
        case let .noColumns(file, dataset): return "\(file): dataset '\(dataset)' has zero columns"
        case let .rowsOutOfRange(file, dataset, rows, available):
            return "\(file): rows [\(rows.lowerBound), \(rows.upperBound)) are not a non-empty range within the \(available) rows of dataset '\(dataset)'"
        case let .lengthMismatch(file, dataset, count, expected):
            return "\(file): dataset '\(dataset)' has \(count) entries but the features have \(expected) rows"
        case let .duplicateID(file, dataset, id, rows):
            return "\(file): dataset '\(dataset)' repeats id \(id) (rows \(rows.0) and \(rows.1))"
        case let .nonFinite(file, dataset, row, column, value):
            return "\(file): dataset '\(dataset)' has \(value) at row \(row), column \(column)"
        case let .zeroRow(file, dataset, row):
            return "\(file): dataset '\(dataset)' row \(row) is all zeros (it has no direction to normalise)"
        case let .unusableScale(file, dataset, row, squaredNorm):
            return "\(file): dataset '\(dataset)' row \(row) has squared norm \(squaredNorm), outside "
                + "[\(FeatureTable.usableSquaredNorms.lowerBound), \(FeatureTable.usableSquaredNorms.upperBound)] where float32 "
                + "arithmetic keeps its direction and distances finite; rescale the features"
        case let .badStringID(file, dataset, row, problem):
            return "\(file): dataset '\(dataset)' row \(row): the id \(problem)"
        case let .invalidPredictions(file, dataset, row, problem):
            return "\(file): dataset '\(dataset)' row \(row) \(problem)"
        case let .missingRow(file, dataset, id):
            return "\(file): dataset '\(dataset)' has no row for the pool's sample id \(id)"
        case let .oneSidedValidation(file, dataset, problem):
            return "\(file): dataset '\(dataset)': \(problem)"
        case let .readFailed(file, dataset, reason):
            return "\(file): reading dataset '\(dataset)' failed (\(reason)); is the file truncated?"
        }
    }
}
