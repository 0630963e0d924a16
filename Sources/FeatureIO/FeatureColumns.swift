import Foundation
import HDF5

/// The 1-D columns beside the features: sample ids (integers or strings, checked unique) and integer
/// labels, read from HDF5 exactly.
extension FeatureTable {
    /// A 1-D integer dataset of `expectedCount` values (labels beside a list of ids). O(count).
    static func loadIntegers(path: String, dataset name: String, expectedCount: Int) throws(FeatureInputError) -> [Int64] {
        guard FileManager.default.fileExists(atPath: path) else { throw .fileNotFound(file: path) }
        return try mappingErrors(file: path) {
            let file = try HDF5File.open(readingAt: path)
            guard file.contains(name) else { throw missing(name, in: file) }
            let dataset = try file.dataset(name)
            try checkOneDimensional(dataset, expectedCount: expectedCount, file: path)
            return try readIntegers(dataset, file: path, name: name, rowRange: 0..<expectedCount)
        }
    }

    /// A 1-D dataset of exactly `expectedCount` values, or the error naming its shape or length.
    static func checkOneDimensional(_ dataset: HDF5Dataset, expectedCount: Int,
                                            file: String) throws(FeatureInputError) {
        guard dataset.shape.count == 1 else {
            throw .wrongRank(file: file, dataset: dataset.name, shape: dataset.shape, expected: 1)
        }
        guard dataset.shape[0] == expectedCount else {
            throw .lengthMismatch(file: file, dataset: dataset.name, count: dataset.shape[0], expected: expectedCount)
        }
    }

    /// Throws ``FeatureInputError/duplicateID(file:dataset:id:rows:)`` for the first id that
    /// appears twice in `ids` (a distributed run checks the whole pool's ids at rank 0). O(N).
    public static func checkUniqueIDs(_ ids: SampleIDs, file: String, dataset: String) throws(FeatureInputError) {
        switch ids {
        case .rowIndices: return
        case let .integers(values): try checkUnique(values, file: file, dataset: dataset, firstRow: 0)
        case let .strings(values): try checkUnique(values, file: file, dataset: dataset, firstRow: 0)
        }
    }

    /// The rows of an integer dataset as Int64, exactly: unsigned 64-bit values above Int64.max are
    /// refused (never clamped). O(rows).
    static func readIntegers(_ dataset: HDF5Dataset, file: String, name: String, rowRange: Range<Int>) throws -> [Int64] {
        guard case .integer(bits: 64, signed: false) = dataset.elementKind else {
            return Array(try dataset.readInt64s()[rowRange])
        }
        let values = Array(try dataset.readUInt64s()[rowRange])
        if let row = values.firstIndex(where: { $0 > UInt64(Int64.max) }) {
            throw FeatureInputError.integerTooLarge(file: file, dataset: name, row: rowRange.lowerBound + row, value: values[row])
        }
        return values.map { Int64($0) }
    }

    /// Reads a 1-D dataset of sample ids (integers or strings, distinct; it may be empty): a list of
    /// samples such as those already labelled. O(count).
    public static func loadIdentifiers(path: String, dataset name: String, unique: Bool = true) throws(FeatureInputError) -> SampleIDs {
        guard FileManager.default.fileExists(atPath: path) else { throw .fileNotFound(file: path) }
        guard FileManager.default.isReadableFile(atPath: path) else { throw .unreadable(file: path) }
        let file: HDF5File
        let dataset: HDF5Dataset
        do {
            file = try HDF5File.open(readingAt: path)
            dataset = try file.dataset(name)
        } catch { throw FeatureInputError(error) }
        guard dataset.shape.count == 1 else {
            throw .wrongRank(file: path, dataset: name, shape: dataset.shape, expected: 1)
        }
        if dataset.shape[0] == 0 { return .integers([]) }
        return try readIDs(file, name: name, expectedCount: dataset.shape[0], rowRange: 0..<dataset.shape[0], unique: unique)
    }

    static func readIDs(_ file: HDF5File, name: String, expectedCount: Int,
                                rowRange: Range<Int>, unique: Bool = true) throws(FeatureInputError) -> SampleIDs {
        let dataset: HDF5Dataset
        do { dataset = try file.dataset(name) } catch { throw FeatureInputError(error) }
        try checkOneDimensional(dataset, expectedCount: expectedCount, file: file.path)
        return try mappingErrors(file: file.path) {
            switch dataset.elementKind {
            case .integer:
                let ids = try readIntegers(dataset, file: file.path, name: name, rowRange: rowRange)
                if unique { try checkUnique(ids, file: file.path, dataset: name, firstRow: rowRange.lowerBound) }
                return .integers(ids)
            case .string:
                let ids = Array(try dataset.readStrings()[rowRange])
                // A line break would split the id across lines of a txt export and of the logs.
                if let row = ids.firstIndex(where: { $0.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" || $0 == "\0" }) }) {
                    throw FeatureInputError.badStringID(file: file.path, dataset: name, row: rowRange.lowerBound + row,
                                                        problem: "\(ids[row].debugDescription) holds a line break or NUL, which no export format can carry")
                }
                if unique { try checkUnique(ids, file: file.path, dataset: name, firstRow: rowRange.lowerBound) }
                return .strings(ids)
            default:
                throw FeatureInputError.wrongType(file: file.path, dataset: name, found: dataset.elementKind.description,
                                                  expected: "integers or strings")
            }
        }
    }

    static func checkUnique<ID: Hashable & CustomStringConvertible>(
        _ ids: [ID], file: String, dataset: String, firstRow: Int
    ) throws(FeatureInputError) {
        var firstSeen: [ID: Int] = [:]
        firstSeen.reserveCapacity(ids.count)
        for (row, id) in ids.enumerated() {
            if let earlier = firstSeen.updateValue(row, forKey: id) {
                throw .duplicateID(file: file, dataset: dataset, id: id.description,
                                   rows: (firstRow + earlier, firstRow + row))
            }
        }
    }
}
