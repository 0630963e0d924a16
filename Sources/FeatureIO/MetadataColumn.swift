import Foundation

/// One value per pool sample beside the features — a split, a source, a class — read as text to group
/// or filter samples by.
///
/// By the file's kind: a CSV's column `name` (header line, RFC 4180 quoting); a `.txt` file, one value
/// a line (`name` unused); a `.npy` 1-D integer or `<U` string array (`name` unused); a `.npz` array
/// `name`; otherwise an HDF5 1-D integer or string dataset `name`. `rows`, when given, takes that
/// range of the values (a pool read from a range of rows of the same file). O(length).
public enum MetadataColumn {
    public static func load(path: String, name: String, count: Int, rows: Range<Int>? = nil)
        throws(FeatureInputError) -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { throw .fileNotFound(file: path) }
        let lowered = path.lowercased()
        var values: [String]
        var described = name
        if lowered.hasSuffix(".csv") {
            values = try csvColumn(path: path, name: name)
        } else if lowered.hasSuffix(".txt") || lowered.hasSuffix(".npy") {
            described = lowered.hasSuffix(".txt") ? "(text file, one value a line)" : "(npy array)"
            let length = try lineOrArrayLength(path: path, fallback: count)
            values = try texts(try NpyFeatures.ids(path: path, expectedCount: length))
        } else if lowered.hasSuffix(".npz") {
            let archive = try NpzArchive(path: path)
            guard archive.members[name] != nil else {
                throw .datasetNotFound(file: path, dataset: name, holds: archive.members.keys.sorted().map { "'\($0)'" }, closest: nil)
            }
            let data = try archive.array(name)
            let header = try NpyFeatures.header(data, file: "\(path):\(name)")
            guard header.shape.count == 1 else {
                throw .wrongRank(file: path, dataset: name, shape: header.shape, expected: 1)
            }
            values = try texts(try NpyFeatures.ids(data: data, file: "\(path):\(name)", expectedCount: header.shape[0]))
        } else {
            values = try texts(try FeatureTable.loadIdentifiers(path: path, dataset: name, unique: false))
        }
        if let rows {
            guard rows.upperBound <= values.count else {
                throw .rowsOutOfRange(file: path, dataset: described, rows: rows, available: values.count)
            }
            values = Array(values[rows])
        }
        guard values.count == count else {
            throw .lengthMismatch(file: path, dataset: described, count: values.count, expected: count)
        }
        return values
    }

    private static func texts(_ ids: SampleIDs) throws(FeatureInputError) -> [String] {
        switch ids {
        case .rowIndices: return []
        case let .integers(values): return values.map { String($0) }
        case let .strings(values): return values
        }
    }

    /// The number of values a `.txt` (lines) or `.npy` (shape) file holds, so that a wrong count is
    /// reported as such rather than as a parse failure.
    private static func lineOrArrayLength(path: String, fallback: Int) throws(FeatureInputError) -> Int {
        let data = try NpyFeatures.contents(path)
        if path.lowercased().hasSuffix(".npy") {
            return try NpyFeatures.header(data, file: path).shape.first ?? fallback
        }
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        return lines.count
    }

    private static func csvColumn(path: String, name: String) throws(FeatureInputError) -> [String] {
        guard let text = FileManager.default.contents(atPath: path).flatMap({ String(data: $0, encoding: .utf8) }) else {
            throw .unreadable(file: path)
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        if lines.last == "" { lines.removeLast() }
        let header = lines.first.map(IdentifierList.fields) ?? []
        guard let column = header.firstIndex(of: name) else {
            throw .datasetNotFound(file: path, dataset: name, holds: header.map { "'\($0)'" }, closest: nil)
        }
        return try lines.dropFirst().enumerated().map { (row, line) throws(FeatureInputError) -> String in
            let fields = IdentifierList.fields(line)
            guard column < fields.count else {
                throw .badStringID(file: path, dataset: "\(name) column", row: row, problem: "the line has no \(name) field")
            }
            return fields[column]
        }
    }
}
