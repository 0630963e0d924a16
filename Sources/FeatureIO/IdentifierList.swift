import Foundation
import HDF5

/// A list of samples in a file — what a labelling tool hands back, or what selectjob exported — read
/// by the file's kind: selectjob's exports (JSON row indices, txt ids, CSV with a `sample_id` column,
/// HDF5 `sample_ids`) and plain lists of ids in `.txt`, `.csv`, `.json` or `.npy`.
public enum IdentifierList: Sendable, Equatable {
    /// Sample ids, to be found among the pool's (never `.rowIndices`).
    case ids(SampleIDs)
    /// 0-based pool rows (selectjob's JSON export).
    case rows([Int])

    /// The class labels listed beside the ids of `path`: a CSV's `column`, or a 1-D integer HDF5
    /// dataset `column`, one per listed sample (`count`). O(length).
    public static func labels(path: String, column: String, count: Int) throws(FeatureInputError) -> [Int64] {
        let lowered = path.lowercased()
        if lowered.hasSuffix(".csv") {
            guard let text = FileManager.default.contents(atPath: path).flatMap({ String(data: $0, encoding: .utf8) }) else {
                throw .unreadable(file: path)
            }
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
            if lines.last == "" { lines.removeLast() }
            guard let header = lines.first, let index = fields(header).firstIndex(of: column) else {
                throw .datasetNotFound(file: path, dataset: column, holds: lines.first.map { fields($0).map { "'\($0)'" } } ?? [],
                                       closest: nil)
            }
            var labels: [Int64] = []
            for (row, line) in lines.dropFirst().enumerated() {
                let values = fields(line)
                guard index < values.count, let label = Int64(values[index].trimmingCharacters(in: .whitespaces)) else {
                    throw .badStringID(file: path, dataset: "\(column) column", row: row,
                                       problem: "expected an integer class label, got \"\(index < values.count ? values[index] : "")\"")
                }
                labels.append(label)
            }
            guard labels.count == count else { throw .lengthMismatch(file: path, dataset: column, count: labels.count, expected: count) }
            return labels
        }
        guard !(lowered.hasSuffix(".json") || lowered.hasSuffix(".txt") || lowered.hasSuffix(".npy")) else {
            throw .notAList(file: path, expected: "a CSV or HDF5 file to hold a labels column beside the ids (a .json, .txt or .npy list holds ids only)")
        }
        return try FeatureTable.loadIntegers(path: path, dataset: column, expectedCount: count)
    }

    /// Reads `path`. `dataset`: the HDF5 dataset (nil: `ids`, else `sample_ids`, selectjob's export).
    /// `rows`: whether a JSON list of integers holds row indices — nil decides by the file: rows when
    /// selectjob's export provenance (`PATH.provenance.json`) sits beside it, ids otherwise. O(length).
    public static func load(path: String, dataset: String?, rows: Bool?) throws(FeatureInputError) -> IdentifierList {
        guard FileManager.default.fileExists(atPath: path) else { throw .fileNotFound(file: path) }
        let lowered = path.lowercased()
        if lowered.hasSuffix(".npy") { return .ids(.integers(try NpyFeatures.integers(path: path, expectedCount: nil))) }
        guard lowered.hasSuffix(".json") || lowered.hasSuffix(".txt") || lowered.hasSuffix(".csv") else {
            return try hdf5(path: path, dataset: dataset)
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(file: path) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .badStringID(file: path, dataset: "(text file)", row: 0, problem: "the file is not UTF-8")
        }
        if lowered.hasSuffix(".json") {
            return try json(text, path: path,
                            rows: rows ?? FileManager.default.fileExists(atPath: path + ".provenance.json"))
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        if lines.last == "" { lines.removeLast() }
        if lowered.hasSuffix(".csv") { lines = try csvColumn(lines, path: path) }
        for (row, line) in lines.enumerated() where line.isEmpty {
            throw .badStringID(file: path, dataset: "(text file)", row: row, problem: "an empty id")
        }
        return .ids(identifiers(lines))
    }

    /// Integers when every id is one (as selectjob's txt export of integer ids), else strings.
    static func identifiers(_ texts: [String]) -> SampleIDs {
        let integers = texts.compactMap { Int64($0) }
        return integers.count == texts.count ? .integers(integers) : .strings(texts)
    }

    /// A JSON array of integers (rows, or integer ids) or of strings (ids).
    static func json(_ text: String, path: String, rows: Bool) throws(FeatureInputError) -> IdentifierList {
        guard let array = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Any] else {
            throw .notAList(file: path, expected: "a JSON array of row indices or sample ids")
        }
        if let strings = array as? [String] { return .ids(.strings(strings)) }
        let integers = array.compactMap { ($0 as? NSNumber).flatMap { n in Double(truncating: n) == n.doubleValue.rounded() ? n.int64Value : nil } }
        guard integers.count == array.count, !(array.contains { $0 is String }) else {
            throw .notAList(file: path, expected: "a JSON array of integers (row indices or ids) or of strings (ids)")
        }
        return rows ? .rows(integers.map { Int($0) }) : .ids(.integers(integers))
    }

    /// The ids of a CSV: the `sample_id` column when the header names one (selectjob's export), else
    /// the first column of every line. Quoted fields are unquoted.
    static func csvColumn(_ lines: [String], path: String) throws(FeatureInputError) -> [String] {
        guard let header = lines.first else { return [] }
        let names = fields(header)
        if let column = names.firstIndex(of: "sample_id") {
            return try lines.dropFirst().enumerated().map { (index, line) throws(FeatureInputError) -> String in
                let values = fields(line)
                guard column < values.count else {
                    throw .badStringID(file: path, dataset: "sample_id column", row: index, problem: "the line has no sample_id field")
                }
                return values[column]
            }
        }
        return lines.map { fields($0).first ?? "" }
    }

    /// The fields of one CSV line (RFC 4180 quoting).
    static func fields(_ line: String) -> [String] {
        var fields: [String] = [], field = "", quoted = false
        var characters = line.makeIterator()
        while let c = characters.next() {
            if quoted {
                if c == "\"" {
                    if let next = characters.next() {
                        if next == "\"" { field.append("\"") } else {
                            quoted = false
                            if next == "," { fields.append(field); field = "" } else { field.append(next) }
                        }
                    } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" && field.isEmpty {
                quoted = true
            } else if c == "," {
                fields.append(field)
                field = ""
            } else {
                field.append(c)
            }
        }
        fields.append(field)
        return fields
    }

    /// A 1-D dataset of ids in an HDF5 file: `dataset`, else `ids`, else `sample_ids` (selectjob's export).
    static func hdf5(path: String, dataset: String?) throws(FeatureInputError) -> IdentifierList {
        var name = dataset ?? "ids"
        if dataset == nil, let file = try? HDF5File.open(readingAt: path), !file.contains("ids"), file.contains("sample_ids") {
            name = "sample_ids"
        }
        return .ids(try FeatureTable.loadIdentifiers(path: path, dataset: name))
    }
}
