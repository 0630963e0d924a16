import Crypto
import Foundation
import HDF5

/// The file format of a feature file.
public enum FeatureFormat: String, Sendable, Equatable {
    /// HDF5, with named datasets.
    case hdf5
    /// A plain N × d `.npy` array (what `np.save(path, features)` writes); ids and labels, when
    /// given, are sibling files: `.npy` integer arrays, or `.txt` string ids one a line.
    case npy
    /// ActiveFT's `.npy` dump: N × (d+1), the label in the last column; the row index is the id.
    case activeftDump = "activeft"
    /// A `.npz` archive (`np.savez`): the features, ids and labels are arrays named in it.
    case npz

    /// The format a path implies: `.npy` is a plain array, `.npz` an archive, anything else HDF5.
    public static func implied(by path: String) -> FeatureFormat {
        let lowered = path.lowercased()
        return lowered.hasSuffix(".npy") ? .npy : lowered.hasSuffix(".npz") ? .npz : .hdf5
    }
}

/// Where a job's features live: an HDF5 file, the 2-D dataset in it, and optional 1-D ids and labels;
/// or a `.npy` array with optional sibling id and label files; or an ActiveFT `.npy` dump.
public struct FeatureSource: Sendable, Equatable {
    /// Path of the HDF5 file (already resolved against the job's folder).
    public var path: String
    /// Path of the N×d dataset inside the file, e.g. "features" or "/train/features".
    public var dataset: String
    /// Optional 1-D dataset of sample ids (integers or strings), N long (for `.npy`: a file's path).
    public var ids: String?
    /// Optional 1-D dataset of integer class labels, N long (for `.npy`: a file's path).
    public var labels: String?
    /// Optional [start, end) range of rows to read instead of all of them.
    public var rows: Range<Int>?
    public var format: FeatureFormat
    /// The files of a pool written in shards, concatenated in this order (each an HDF5 file with the
    /// same datasets); empty for one file. `path` is then the first shard, and `pattern` what the job
    /// gave (a glob, or a list).
    public var shards: [String] = []
    public var pattern: String?
    /// The whole pool's name in messages and records: the pattern of a sharded pool, else the path.
    public var displayPath: String { shards.count > 1 ? (pattern ?? "\(path) and \(shards.count - 1) more shards") : path }
    /// Whether the job left `dataset` at its default ("features"): a file without that dataset but
    /// with exactly one 2-D float dataset then has that one read (``FeatureTable/source`` names it).
    public var datasetIsDefault = false
    /// Whether an all-zero row is refused (features: it has no direction); predictions given as
    /// logits may legitimately be all zero.
    public var refusesZeroRows = true

    public init(path: String, dataset: String, ids: String? = nil, labels: String? = nil, rows: Range<Int>? = nil,
                format: FeatureFormat = .hdf5) {
        self.path = path
        self.dataset = dataset
        self.ids = ids
        self.labels = labels
        self.rows = rows
        self.format = format
    }
}

/// The identifiers of a pool's samples.
public enum SampleIDs: Sendable, Equatable {
    /// No ids dataset: a sample's id is its 0-based row.
    case rowIndices
    case integers([Int64])
    case strings([String])
}

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

    /// Throws ``FeatureInputError/duplicateID(file:dataset:id:rows:)`` for the first id that
    /// appears twice in `ids` (a distributed run checks the whole pool's ids at rank 0). O(N).
    public static func checkUniqueIDs(_ ids: SampleIDs, file: String, dataset: String) throws(FeatureInputError) {
        switch ids {
        case .rowIndices: return
        case let .integers(values): try checkUnique(values, file: file, dataset: dataset, firstRow: 0)
        case let .strings(values): try checkUnique(values, file: file, dataset: dataset, firstRow: 0)
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

    private static func checkOneDimensional(_ dataset: HDF5Dataset, expectedCount: Int,
                                            file: String) throws(FeatureInputError) {
        guard dataset.shape.count == 1 else {
            throw .wrongRank(file: file, dataset: dataset.name, shape: dataset.shape, expected: 1)
        }
        guard dataset.shape[0] == expectedCount else {
            throw .lengthMismatch(file: file, dataset: dataset.name, count: dataset.shape[0], expected: expectedCount)
        }
    }

    static func gibibytes(_ bytes: Double) -> String { String(format: "%.1f GiB", bytes / 1_073_741_824) }

    /// The rows of an integer dataset as Int64, exactly: unsigned 64-bit values above Int64.max are
    /// refused (never clamped). O(rows).
    private static func readIntegers(_ dataset: HDF5Dataset, file: String, name: String, rowRange: Range<Int>) throws -> [Int64] {
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

    private static func readIDs(_ file: HDF5File, name: String, expectedCount: Int,
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

    private static func checkUnique<ID: Hashable & CustomStringConvertible>(
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

    /// The fingerprint earlier versions recorded: the SHA-256 of the shape, values, ids and labels in
    /// one stream. Computed on demand (O(N·d)), so runs recorded before the block fingerprints can
    /// still be evaluated and reported.
    public var wholeDataFingerprint: String {
        var hasher = SHA256()
        withUnsafeBytes(of: (Int64(rows).littleEndian, Int64(columns).littleEndian)) { hasher.update(bufferPointer: $0) }
        values.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        hasher.update(data: Array(Self.idsTag(ids).utf8))
        Self.hash(ids: ids, labels: nil, rows: 0..<rows, into: &hasher)
        if labels != nil { hasher.update(data: Array("labels".utf8)) }
        Self.hash(ids: .rowIndices, labels: labels, rows: 0..<rows, into: &hasher)
        return "sha256:" + hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// How a fingerprint names the kind of ids.
    private static func idsTag(_ ids: SampleIDs) -> String {
        switch ids {
        case .rowIndices: return "ids:rows"
        case .integers: return "ids:int64"
        case .strings: return "ids:string"
        }
    }

    /// Feeds the ids and labels of `rows` to `hasher` (row indices add nothing; strings end in NUL).
    private static func hash(ids: SampleIDs, labels: [Int64]?, rows: Range<Int>, into hasher: inout SHA256) {
        switch ids {
        case .rowIndices: break
        case let .integers(values): values[rows].withUnsafeBytes { hasher.update(bufferPointer: $0) }
        case let .strings(values): for value in values[rows] { hasher.update(data: Array(value.utf8) + [0]) }
        }
        if let labels { labels[rows].withUnsafeBytes { hasher.update(bufferPointer: $0) } }
    }

    /// Rows per block of the fingerprint: the same as a distributed run's partition granularity
    /// (`RowPartition.blockRows`), so each process hashes whole blocks of its own rows.
    public static let fingerprintBlockRows = 1024

    /// "sha256:" + SHA-256 of the shape, the kinds of ids and labels, and the SHA-256 of each block of
    /// ``fingerprintBlockRows`` rows (its values as float32, ids and labels) in row order. O(N·d).
    static func fingerprint(rows: Int, columns: Int, values: [Float], ids: SampleIDs, labels: [Int64]?) -> String {
        fingerprint(rows: rows, columns: columns, ids: ids, hasLabels: labels != nil,
                    blockDigests: blockDigests(columns: columns, values: values, ids: ids, labels: labels))
    }

    /// The fingerprint of a whole pool from its blocks' digests (``blockDigests(columns:values:ids:labels:)``
    /// of each part, in row order): what a distributed run records. O(blocks).
    public static func fingerprint(rows: Int, columns: Int, ids: SampleIDs, hasLabels: Bool,
                                   blockDigests: [[UInt8]]) -> String {
        var hasher = SHA256()
        withUnsafeBytes(of: (Int64(rows).littleEndian, Int64(columns).littleEndian)) { hasher.update(bufferPointer: $0) }
        hasher.update(data: Array(idsTag(ids).utf8))
        if hasLabels { hasher.update(data: Array("labels".utf8)) }
        for digest in blockDigests { hasher.update(data: digest) }
        return "sha256:" + hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The SHA-256 of each block of ``fingerprintBlockRows`` rows of a table whose first row starts a
    /// block. O(rows·d).
    public static func blockDigests(columns: Int, values: [Float], ids: SampleIDs, labels: [Int64]?) -> [[UInt8]] {
        let rows = columns == 0 ? 0 : values.count / columns
        return stride(from: 0, to: rows, by: fingerprintBlockRows).map { first in
            let range = first..<min(rows, first + fingerprintBlockRows)
            var hasher = SHA256()
            values[(range.lowerBound * columns)..<(range.upperBound * columns)].withUnsafeBytes { hasher.update(bufferPointer: $0) }
            hash(ids: ids, labels: labels, rows: range, into: &hasher)
            return Array(hasher.finalize())
        }
    }
}
