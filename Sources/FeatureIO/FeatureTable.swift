import Foundation
import HDF5

/// Features read and checked: finite, no all-zero rows, ids unique, lengths consistent.
public struct FeatureTable: Sendable {
    public let source: FeatureSource
    /// Number of samples (rows).
    public let rows: Int
    /// Feature dimension.
    public let columns: Int
    /// `rows × columns` features, row-major, converted to `Float`.
    public private(set) var values: [Float]
    public let ids: SampleIDs
    public let labels: [Int64]?
    /// The element type as stored in the file, e.g. "float16".
    public let storedType: String
    /// "sha256:" + SHA-256 of what was read (shape, values as float32, ids, labels): identifies the data.
    public let fingerprint: String

    /// Moves the values out, leaving the table without them (`values` is empty afterwards; every other
    /// property stays), so that their new owner holds the only reference and can change them in place.
    public mutating func takeValues() -> [Float] {
        defer { values = [] }
        return values
    }
}

extension FeatureTable {
    /// Reads and validates `source`. O(N·d) time; the features are held once in memory.
    ///
    /// Every failure names the file, the dataset and the bad value (see ``FeatureInputError``).
    public static func load(_ source: FeatureSource) throws(FeatureInputError) -> FeatureTable {
        if source.shards.count > 1 { return try loadShards(source) }
        let path = source.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                throw .danglingLink(file: path, target: target)
            }
            throw .fileNotFound(file: path)
        }
        guard !isDirectory.boolValue else { throw .isDirectory(file: path) }
        guard FileManager.default.isReadableFile(atPath: path) else { throw .unreadable(file: path) }
        if source.format != .hdf5 { return try loadNpy(source) }

        return try mappingErrors(file: path) {
            let file = try HDF5File.open(readingAt: path)
            var source = source
            try resolveDatasets(&source, in: file)
            let features = try file.dataset(source.dataset)
            guard features.shape.count == 2 else {
                throw FeatureInputError.wrongRank(file: path, dataset: source.dataset, shape: features.shape, expected: 2)
            }
            guard case let .float(bits) = features.elementKind, [16, 32, 64].contains(bits) else {
                throw FeatureInputError.wrongType(file: path, dataset: source.dataset,
                                                  found: features.elementKind.description,
                                                  expected: "float16, float32 or float64")
            }
            let totalRows = features.shape[0], columns = features.shape[1]
            if let range = source.rows, range.lowerBound < 0 || range.upperBound > totalRows || range.isEmpty {
                throw FeatureInputError.rowsOutOfRange(file: path, dataset: source.dataset,
                                                       rows: range, available: totalRows)
            }
            let rowRange = source.rows ?? 0..<totalRows
            guard rowRange.count > 0 else { throw FeatureInputError.noRows(file: path, dataset: source.dataset) }
            // A huge extent (a virtual or sparse chunked dataset) in a small file must not reach the allocator.
            let memory = ProcessInfo.processInfo.physicalMemory
            let (elements, overflow) = rowRange.count.multipliedReportingOverflow(by: max(columns, 1))
            if overflow || UInt64(elements) > memory / 4 {
                throw FeatureInputError.tooLarge(file: path, dataset: source.dataset, shape: features.shape,
                                                 bytes: overflow ? "more than 2^63 values" : Self.gibibytes(Double(elements) * 4),
                                                 memory: Self.gibibytes(Double(memory)))
            }
            guard columns > 0 else { throw FeatureInputError.noColumns(file: path, dataset: source.dataset) }
            let values = try features.readFloats(rows: source.rows)
            try checkValues(values, columns: columns, firstRow: rowRange.lowerBound, file: path, dataset: source.dataset,
                            refusesZeroRows: source.refusesZeroRows)

            for name in [source.ids, source.labels].compactMap({ $0 }) where !file.contains(name) {
                throw missing(name, in: file)
            }
            var ids = SampleIDs.rowIndices
            if let name = source.ids {
                ids = try readIDs(file, name: name, expectedCount: totalRows, rowRange: rowRange)
            }
            var labels: [Int64]?
            if let name = source.labels {
                let dataset = try file.dataset(name)
                try checkOneDimensional(dataset, expectedCount: totalRows, file: path)
                labels = try readIntegers(dataset, file: path, name: name, rowRange: rowRange)
            }
            return FeatureTable(source: source, rows: rowRange.count, columns: columns, values: values, ids: ids,
                                labels: labels, storedType: "float\(bits)",
                                fingerprint: fingerprint(rows: rowRange.count, columns: columns, values: values,
                                                         ids: ids, labels: labels))
        }
    }

    /// Checks that `file` holds the features dataset `source` names — a missing one is an error listing
    /// what the file holds — and, when the job left it at its default and the file has no `features`
    /// but exactly one 2-D float dataset, names that one instead.
    static func resolveDatasets(_ source: inout FeatureSource, in file: HDF5File) throws(FeatureInputError) {
        if !file.contains(source.dataset) {
            let matrices = datasetSummaries(file).filter { $0.shape.count == 2 && $0.kind.isFloat }
            guard source.datasetIsDefault, matrices.count == 1 else { throw missing(source.dataset, in: file) }
            source.dataset = matrices[0].path
        }
    }

    /// Every dataset of `file`: its path, shape and element kind. O(datasets).
    static func datasetSummaries(_ file: HDF5File) -> [(path: String, shape: [Int], kind: HDF5ElementKind)] {
        file.datasetPaths().compactMap { path in
            (try? file.dataset(path)).map { (path, $0.shape, $0.elementKind) }
        }
    }

    /// The error for a dataset `name` that `file` lacks: what the file holds, and the closest name.
    static func missing(_ name: String, in file: HDF5File) -> FeatureInputError {
        let summaries = datasetSummaries(file)
        let holds = summaries.map { "'\($0.path)' (\($0.shape.map(String.init).joined(separator: " × ")) \($0.kind))" }
        let closest = summaries.map(\.path).min { editDistance($0, name) < editDistance($1, name) }
            .flatMap { editDistance($0, name) <= max(2, name.count / 3) ? $0 : nil }
        return .datasetNotFound(file: file.path, dataset: name, holds: holds, closest: closest)
    }

    /// Levenshtein distance between `a` and `b`, case-insensitive. O(|a|·|b|).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased()), b = Array(b.lowercased())
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }

    /// The number of rows of the features `source` names (an HDF5 2-D dataset, or the sum over its
    /// shards), read from the datasets' shapes alone: what a distributed run partitions before each
    /// process reads its rows.
    public static func rowCount(_ source: FeatureSource) throws(FeatureInputError) -> Int {
        if source.shards.count > 1 {
            var total = 0
            for path in source.shards {
                var one = source
                one.path = path
                one.shards = []
                total += try rowCount(one)
            }
            return total
        }
        guard FileManager.default.fileExists(atPath: source.path) else { throw .fileNotFound(file: source.path) }
        return try mappingErrors(file: source.path) {
            let file = try HDF5File.open(readingAt: source.path)
            var source = source
            try resolveDatasets(&source, in: file)
            let features = try file.dataset(source.dataset)
            guard features.shape.count == 2 else {
                throw FeatureInputError.wrongRank(file: source.path, dataset: source.dataset, shape: features.shape, expected: 2)
            }
            return features.shape[0]
        }
    }

    /// Runs `body`, passing ``FeatureInputError``s on and mapping HDF5's errors (any other error:
    /// the file is unreadable).
    static func mappingErrors<T>(file: String, _ body: () throws -> T) throws(FeatureInputError) -> T {
        do {
            return try body()
        } catch let error as FeatureInputError {
            throw error
        } catch let error as HDF5Error {
            throw FeatureInputError(error)
        } catch {
            throw .unreadable(file: file)
        }
    }

    /// This table's description stretched to the whole pool it is one block of: `totalRows` rows
    /// with the pool's ids, labels and fingerprint, and no values. What rank 0 of a distributed
    /// run records and maps picks through.
    public func describingWholePool(totalRows: Int, ids: SampleIDs, labels: [Int64]?, fingerprint: String) -> FeatureTable {
        var whole = source
        whole.rows = nil
        return FeatureTable(source: whole, rows: totalRows, columns: columns, values: [], ids: ids, labels: labels,
                            storedType: storedType, fingerprint: fingerprint)
    }

    /// The squared row norms a feature row may have. Below, float32 squares underflow (subnormal rows
    /// normalise to inf or NaN); above, a squared distance between two rows (at most 4 × the larger
    /// squared norm) could overflow float32. Exactness bounds, not tuning.
    public static let usableSquaredNorms: ClosedRange<Double> = 1e-30...(Double(Float.greatestFiniteMagnitude) / 8)

    /// Every value finite; for features (`refusesZeroRows`), every row's squared norm (in double) non-zero
    /// and within ``usableSquaredNorms``. O(N·d).
    static func checkValues(_ values: [Float], columns: Int, firstRow: Int, file: String,
                                    dataset: String, refusesZeroRows: Bool = true) throws(FeatureInputError) {
        let rows = values.count / columns
        for r in 0..<rows {
            var squaredNorm = 0.0
            for c in 0..<columns {
                let v = values[r * columns + c]
                guard v.isFinite else {
                    throw .nonFinite(file: file, dataset: dataset, row: firstRow + r, column: c, value: v)
                }
                squaredNorm += Double(v) * Double(v)
            }
            guard refusesZeroRows else { continue }
            if squaredNorm == 0 { throw .zeroRow(file: file, dataset: dataset, row: firstRow + r) }
            guard usableSquaredNorms.contains(squaredNorm) else {
                throw .unusableScale(file: file, dataset: dataset, row: firstRow + r, squaredNorm: squaredNorm)
            }
        }
    }

    static func gibibytes(_ bytes: Double) -> String { String(format: "%.1f GiB", bytes / 1_073_741_824) }
}
