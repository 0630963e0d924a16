import Foundation

/// Reads 2-D `.npy` arrays of float32 (or float64) in C order: plain N × d arrays, or ActiveFT's own
/// feature dumps (N × (d+1), features in the first d columns and the class label in the last, as the
/// reference's `extract_feature.py` writes them); and the 1-D integer arrays or text files of ids and
/// labels beside them. Format: NumPy's NEP 1 (.npy versions 1–3).
enum NpyFeatures {
    struct Header {
        let descr: String
        let fortranOrder: Bool
        let shape: [Int]
        let dataOffset: Int
    }

    /// Parses the header of `data` (the whole file). O(header length).
    static func header(_ data: Data, file: String) throws(FeatureInputError) -> Header {
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw .notNpy(file: file, reason: "no .npy magic number")
        }
        let major = bytes[6]
        let lengthBytes = major == 1 ? 2 : 4
        guard [1, 2, 3].contains(major), bytes.count >= 8 + lengthBytes else {
            throw .notNpy(file: file, reason: "unsupported .npy version \(major)")
        }
        var length = 0
        for i in (0..<lengthBytes).reversed() { length = length << 8 | Int(bytes[8 + i]) }
        let start = 8 + lengthBytes
        guard data.count >= start + length,
              let text = String(data: data.subdata(in: start..<(start + length)), encoding: major == 3 ? .utf8 : .isoLatin1)
        else { throw .notNpy(file: file, reason: "truncated header") }
        func value(of key: String) -> String? {
            guard let keyRange = text.range(of: "'\(key)':") else { return nil }
            let rest = text[keyRange.upperBound...].trimmingCharacters(in: .whitespaces)
            if rest.hasPrefix("(") { return rest.firstIndex(of: ")").map { String(rest[...$0]) } }
            if rest.hasPrefix("'") { return String(rest.dropFirst().prefix { $0 != "'" }) }
            return String(rest.prefix { $0 != "," && $0 != "}" }).trimmingCharacters(in: .whitespaces)
        }
        guard let descr = value(of: "descr"), let order = value(of: "fortran_order"), let shapeText = value(of: "shape")
        else { throw .notNpy(file: file, reason: "header lacks descr, fortran_order or shape") }
        let shape = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()"))
            .split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        return Header(descr: descr, fortranOrder: order == "True", shape: shape, dataOffset: start + length)
    }

    /// Reads and checks the whole file: values as `Float`, and with `labelColumn` the last column as
    /// integer labels (ActiveFT's dump); without, every column is a value.
    static func load(_ source: FeatureSource, labelColumn: Bool) throws(FeatureInputError)
        -> (rows: Int, columns: Int, values: [Float], labels: [Int64]?, storedType: String) {
        try load(data: try contents(source.path), file: source.path, labelColumn: labelColumn)
    }

    /// As ``load(_:labelColumn:)``, from the bytes of a `.npy` (a file, or a `.npz` member).
    static func load(data: Data, file: String, labelColumn: Bool) throws(FeatureInputError)
        -> (rows: Int, columns: Int, values: [Float], labels: [Int64]?, storedType: String) {
        let header = try header(data, file: file)
        let dataset = "(npy array)"
        guard header.shape.count == 2 else {
            throw .wrongRank(file: file, dataset: dataset, shape: header.shape, expected: 2)
        }
        guard !header.fortranOrder else { throw .notNpy(file: file, reason: "Fortran-ordered arrays are not supported") }
        let width: Int
        switch header.descr {
        case "<f4": width = 4
        case "<f8": width = 8
        default:
            throw .wrongType(file: file, dataset: dataset, found: header.descr, expected: "little-endian float32 or float64")
        }
        let rows = header.shape[0], total = header.shape[1], columns = labelColumn ? total - 1 : total
        guard rows > 0 else { throw .noRows(file: file, dataset: dataset) }
        guard columns > 0 else {
            throw .notNpy(file: file, reason: labelColumn ? "expected N × (d+1) columns, features then label, got \(total) column"
                          : "the array has no columns")
        }
        // The header's shape is checked against the file's size before anything is multiplied out or allocated.
        let (elements, elementsOverflow) = rows.multipliedReportingOverflow(by: total)
        let (bytes, bytesOverflow) = elements.multipliedReportingOverflow(by: width)
        guard !elementsOverflow, !bytesOverflow, data.count - header.dataOffset >= bytes else {
            throw .readFailed(file: file, dataset: dataset, reason: "file holds fewer values than its shape \(header.shape)")
        }
        var values = [Float](repeating: 0, count: rows * columns)
        var labels = [Int64](repeating: 0, count: labelColumn ? rows : 0)
        var bad: FeatureInputError?
        data.withUnsafeBytes { raw in
            let base = raw.baseAddress! + header.dataOffset
            func element(_ i: Int) -> Double {
                width == 4 ? Double(base.loadUnaligned(fromByteOffset: i * 4, as: Float.self))
                    : base.loadUnaligned(fromByteOffset: i * 8, as: Double.self)
            }
            for r in 0..<rows where bad == nil {
                for c in 0..<columns { values[r * columns + c] = Float(element(r * total + c)) }
                guard labelColumn else { continue }
                let label = element(r * total + columns)
                guard label.isFinite, label == label.rounded(), abs(label) < 9e18 else {
                    bad = .notNpy(file: file, reason: "row \(r): label column holds \(label), not an integer")
                    break
                }
                labels[r] = Int64(label)
            }
        }
        if let bad { throw bad }
        return (rows, columns, values, labelColumn ? labels : nil, width == 4 ? "float32" : "float64")
    }

    /// The whole file at `path`, mapped, or why it cannot be read.
    static func contents(_ path: String) throws(FeatureInputError) -> Data {
        guard FileManager.default.fileExists(atPath: path) else { throw .fileNotFound(file: path) }
        do { return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw .unreadable(file: path)
        }
    }

    /// A 1-D `.npy` array of integers (int8 … int64, uint8 … uint32), `expectedCount` long when given. O(N).
    static func integers(path: String, expectedCount: Int?) throws(FeatureInputError) -> [Int64] {
        try integers(data: try contents(path), file: path, expectedCount: expectedCount)
    }

    /// As ``integers(path:expectedCount:)``, from the bytes of a `.npy` (`file` names it in messages).
    static func integers(data: Data, file path: String, expectedCount: Int?) throws(FeatureInputError) -> [Int64] {
        let header = try header(data, file: path)
        let dataset = "(npy array)"
        guard header.shape.count == 1 else { throw .wrongRank(file: path, dataset: dataset, shape: header.shape, expected: 1) }
        let widths: [String: Int] = ["<i8": 8, "<i4": 4, "<i2": 2, "|i1": 1, "<u4": -4, "<u2": -2, "|u1": -1]
        guard let signedWidth = widths[header.descr] else {
            throw .wrongType(file: path, dataset: dataset, found: header.descr, expected: "a little-endian integer type (int8 … int64, uint8 … uint32)")
        }
        let count = header.shape[0], width = abs(signedWidth)
        if let expectedCount, count != expectedCount {
            throw .lengthMismatch(file: path, dataset: dataset, count: count, expected: expectedCount)
        }
        guard data.count - header.dataOffset >= count * width else {
            throw .readFailed(file: path, dataset: dataset, reason: "file holds fewer values than its shape \(header.shape)")
        }
        return data.withUnsafeBytes { raw in
            let base = raw.baseAddress! + header.dataOffset
            return (0..<count).map { i -> Int64 in
                switch signedWidth {
                case 8: Int64(littleEndian: base.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))
                case 4: Int64(Int32(littleEndian: base.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
                case 2: Int64(Int16(littleEndian: base.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)))
                case 1: Int64(base.loadUnaligned(fromByteOffset: i, as: Int8.self))
                case -4: Int64(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                case -2: Int64(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                default: Int64(base.loadUnaligned(fromByteOffset: i, as: UInt8.self))
                }
            }
        }
    }

    /// Ids from the bytes of a `.npy` (a `.npz` member): integers, or NumPy's fixed-width unicode
    /// strings (`<U n`, UTF-32, trailing NULs dropped), `expectedCount` of them. O(N).
    static func ids(data: Data, file: String, expectedCount: Int) throws(FeatureInputError) -> SampleIDs {
        let header = try header(data, file: file)
        guard header.descr.hasPrefix("<U"), let width = Int(header.descr.dropFirst(2)) else {
            return .integers(try integers(data: data, file: file, expectedCount: expectedCount))
        }
        let dataset = "(npy array)"
        guard header.shape == [expectedCount] else {
            throw .lengthMismatch(file: file, dataset: dataset, count: header.shape.first ?? 0, expected: expectedCount)
        }
        guard data.count - header.dataOffset >= expectedCount * width * 4 else {
            throw .readFailed(file: file, dataset: dataset, reason: "file holds fewer values than its shape \(header.shape)")
        }
        var strings: [String] = []
        strings.reserveCapacity(expectedCount)
        data.withUnsafeBytes { raw in
            for row in 0..<expectedCount {
                var scalars = String.UnicodeScalarView()
                for c in 0..<width {
                    let code = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: header.dataOffset + (row * width + c) * 4, as: UInt32.self))
                    guard code != 0 else { break }
                    scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                }
                strings.append(String(scalars))
            }
        }
        return .strings(strings)
    }

    /// Sample ids beside a `.npy` pool: a `.txt` file of UTF-8 strings, one a line (a final line
    /// break optional), or a `.npy` integer array; `expectedCount` of them. O(N).
    static func ids(path: String, expectedCount: Int) throws(FeatureInputError) -> SampleIDs {
        guard path.lowercased().hasSuffix(".txt") else { return .integers(try integers(path: path, expectedCount: expectedCount)) }
        let data = try contents(path)
        guard let text = String(data: data, encoding: .utf8) else {
            throw .badStringID(file: path, dataset: "(text file)", row: 0, problem: "the file is not UTF-8")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) }
        if lines.last == "" { lines.removeLast() }
        guard lines.count == expectedCount else {
            throw .lengthMismatch(file: path, dataset: "(text file, one id a line)", count: lines.count, expected: expectedCount)
        }
        for (row, line) in lines.enumerated() where line.isEmpty || line.contains("\0") || line.contains("\r") {
            throw .badStringID(file: path, dataset: "(text file)", row: row, problem: line.isEmpty ? "an empty line" : "a NUL or carriage return")
        }
        return .strings(lines)
    }
}
