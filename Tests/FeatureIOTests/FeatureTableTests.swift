import FeatureIO
import Foundation
import HDF5
import Testing
import TestSupport

/// Writes an HDF5 file with the given datasets, the way the tests need it.
func writeFile(_ path: String, _ body: (HDF5File) throws -> Void) throws {
    let file = try HDF5File.create(at: path)
    try body(file)
}

let smallFeatures: [Float] = [1, 0, 0, 0.5, 0.5, 0, -1, 2, 3, 0.25, 0, 4]  // 4 × 3

@Suite struct FeatureTableTests {
    let folder: TemporaryFolder
    init() throws { folder = try TemporaryFolder() }

    @Test(arguments: HDF5FloatStorage.allCases)
    func readsEachFloatWidthChunkedAndCompressed(storage: HDF5FloatStorage) throws {
        let path = folder.path("f.h5")
        try writeFile(path) { file in
            try file.write(floats: smallFeatures, shape: [4, 3], to: "features", storage: storage, chunkRows: 2, gzipLevel: 4)
        }
        let table = try FeatureTable.load(FeatureSource(path: path, dataset: "features"))
        #expect(table.rows == 4 && table.columns == 3)
        #expect(table.values == smallFeatures)  // every value is exact in float16
        #expect(table.storedType == storage.rawValue)
        #expect(table.ids == .rowIndices)
    }

    /// Deflate-compressed row chunks are inflated in parallel: the same values as HDF5's own serial
    /// read, for every thread count, with a partial last chunk; other layouts take HDF5's path.
    @Test(arguments: [(Optional(4), 128), (nil, 128), (4, 1)])
    func parallelInflateReadsWhatHDF5Reads(gzipLevel: Int?, chunkRows: Int) throws {
        let rows = 10_001, columns = 17
        let values = (0..<(rows * columns)).map { Float(($0 * 7919) % 10_007) / 97 - 40 }
        let path = folder.path("big.h5")
        try writeFile(path) { file in
            try file.write(floats: values, shape: [rows, columns], to: "features", chunkRows: chunkRows, gzipLevel: gzipLevel)
        }
        let dataset = try HDF5File.open(readingAt: path).dataset("features")
        let serial = try dataset.readFloats(threads: 1)
        #expect(serial == values)
        for threads in [2, 3] {
            #expect(try dataset.readFloats(threads: threads) == values)
        }
        #expect(try dataset.readFloats(rows: 5000..<5010, threads: 3) == Array(values[(5000 * columns)..<(5010 * columns)]))
        #expect(try dataset.readFloats(rows: 0..<rows, threads: 3) == values)
    }

    /// Half-precision chunks are inflated in parallel and converted chunk by chunk: bit for bit what
    /// HDF5's own conversion reads, subnormals, signed zeros and the largest halves included.
    @Test(arguments: [Optional(4), nil])
    func parallelInflateConvertsHalvesAsHDF5Does(gzipLevel: Int?) throws {
        let rows = 5_003, columns = 19
        // Halves, exactly: zeros, the largest, the smallest and largest subnormals, the smallest normal, ±∞.
        let special: [Float] = [0, -0.0, 65504, -65504, 0x1p-24, -0x1p-24, 0x1.ff8p-15, 0x1p-14, 0.333251953125, .infinity, -.infinity]
        let values = (0..<(rows * columns)).map { $0 < special.count ? special[$0] : Float(($0 * 7919) % 10_007) / 97 - 40 }
        let path = folder.path("half.h5")
        try writeFile(path) { file in
            try file.write(floats: values, shape: [rows, columns], to: "features", storage: .float16, chunkRows: 256,
                           gzipLevel: gzipLevel)
        }
        let dataset = try HDF5File.open(readingAt: path).dataset("features")
        let serial = try dataset.readFloats(threads: 1)  // HDF5's own read and conversion
        #expect(serial[0..<special.count].map(\.bitPattern) == special.map(\.bitPattern))
        for threads in [2, 3] {
            #expect(try dataset.readFloats(threads: threads).map(\.bitPattern) == serial.map(\.bitPattern))
        }
    }

    /// A damaged compressed chunk is an error naming the file, the dataset and the chunk's first row,
    /// in parallel as in HDF5's serial read — never wrong values.
    @Test func aDamagedChunkIsAnErrorNamingIt() throws {
        let rows = 10_001, columns = 17
        let values = (0..<(rows * columns)).map { Float(($0 * 7919) % 10_007) / 97 - 40 }
        let path = folder.path("damaged.h5")
        try writeFile(path) { file in
            try file.write(floats: values, shape: [rows, columns], to: "features", chunkRows: 128, gzipLevel: 4)
        }
        // Overwrite bytes in the middle of the file, where the compressed chunks lie.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let middle = bytes.count * 3 / 5
        for i in middle..<(middle + 64) { bytes[i] = UInt8(truncatingIfNeeded: i &* 31) }
        try bytes.write(to: URL(fileURLWithPath: path))
        let dataset = try HDF5File.open(readingAt: path).dataset("features")
        do {
            _ = try dataset.readFloats(threads: 3)
            Issue.record("a damaged chunk was read without an error")
        } catch {
            let message = "\(error)"
            #expect(message.contains(path) && message.contains("features") && message.contains("chunk at row"), "\(message)")
        }
        #expect(throws: HDF5Error.self) { _ = try dataset.readFloats(threads: 1) }
    }

    @Test func readsNestedDatasetPathsIntegerIdsAndLabels() throws {
        let path = folder.path("nested.h5")
        try writeFile(path) { file in
            try file.write(floats: smallFeatures, shape: [4, 3], to: "/train/features")
            try file.write(int64s: [10, 11, 12, 13], to: "/train/ids")
            try file.write(int64s: [0, 1, 1, 0], to: "/train/labels")
        }
        let table = try FeatureTable.load(FeatureSource(path: path, dataset: "/train/features", ids: "/train/ids",
                                                        labels: "train/labels"))
        #expect(table.ids == .integers([10, 11, 12, 13]))
        #expect(table.labels == [0, 1, 1, 0])
    }

    @Test func readsStringIdsAndARowRange() throws {
        let path = folder.path("strings.h5")
        try writeFile(path) { file in
            try file.write(floats: smallFeatures, shape: [4, 3], to: "features")
            try file.write(strings: ["img-a", "img-b", "ünïcode", "img-d"], to: "ids")
        }
        let table = try FeatureTable.load(FeatureSource(path: path, dataset: "features", ids: "ids", rows: 1..<3))
        #expect(table.rows == 2)
        #expect(table.values == Array(smallFeatures[3..<9]))
        #expect(table.ids == .strings(["img-b", "ünïcode"]))
    }

    /// Issue 10 item 21: fixed-length UTF-8 ids ("no appropriate function for conversion path" before).
    @Test func readsFixedLengthUTF8Ids() throws {
        let path = folder.path("fixed.h5")
        try writeFile(path) { file in
            try file.write(floats: smallFeatures, shape: [4, 3], to: "features")
            try file.write(fixedLengthStrings: ["ä-1", "é-2", "日本-3", "x"], width: 12, to: "ids")
        }
        let table = try FeatureTable.load(FeatureSource(path: path, dataset: "features", ids: "ids"))
        #expect(table.ids == .strings(["ä-1", "é-2", "日本-3", "x"]))
    }

    @Test func readsTheReferenceFixtureWrittenByH5py() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/activeft/mix2k.h5").path
        let table = try FeatureTable.load(FeatureSource(path: fixture, dataset: "features", ids: "ids", labels: "labels"))
        #expect(table.rows == 2000 && table.columns == 32)
        guard case let .integers(ids) = table.ids else { Issue.record("ids are not integers"); return }
        #expect(ids.first == 1_000_000 && ids.last == 1_001_999)
        #expect(table.labels?.count == 2000)
    }

    @Test func fingerprintIdentifiesTheDataNotTheFile() throws {
        let a = folder.path("a.h5"), b = folder.path("b.h5"), c = folder.path("c.h5")
        try writeFile(a) { try $0.write(floats: smallFeatures, shape: [4, 3], to: "features") }
        try writeFile(b) { try $0.write(floats: smallFeatures, shape: [4, 3], to: "features", chunkRows: 1, gzipLevel: 9) }
        var changed = smallFeatures
        changed[5] = 0.75
        try writeFile(c) { try $0.write(floats: changed, shape: [4, 3], to: "features") }
        let fingerprint = { (path: String) in try FeatureTable.load(FeatureSource(path: path, dataset: "features")).fingerprint }
        #expect(try fingerprint(a) == fingerprint(b))
        #expect(try fingerprint(a) != fingerprint(c))
        #expect(try fingerprint(a).hasPrefix("sha256:"))
    }
}

/// Every kind of bad feature file, each with the exact message users see.
@Suite struct BadFeatureFileTests {
    let folder: TemporaryFolder
    init() throws { folder = try TemporaryFolder() }

    func load(_ path: String, dataset: String = "features", ids: String? = nil, labels: String? = nil,
              rows: Range<Int>? = nil) -> String? {
        do {
            _ = try FeatureTable.load(FeatureSource(path: path, dataset: dataset, ids: ids, labels: labels, rows: rows))
            return nil
        } catch {
            return error.errorDescription
        }
    }

    @Test func missingFileAndDirectory() throws {
        let missing = folder.path("missing.h5")
        #expect(load(missing) == "\(missing): no such file")
        #expect(load(folder.url.path) == "\(folder.url.path): is a directory, not a feature file")
    }

    @Test func notHDF5AndTruncated() throws {
        let text = folder.path("text.h5")
        try Data("just text, not HDF5\n".utf8).write(to: URL(fileURLWithPath: text))
        #expect(load(text) == "\(text): not a readable HDF5 file (not an HDF5 file)")

        let whole = folder.path("whole.h5"), truncated = folder.path("truncated.h5")
        let values = (0..<(4000 * 16)).map { Float($0 % 97) + 1 }
        try writeFile(whole) { try $0.write(floats: values, shape: [4000, 16], to: "features") }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: whole))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        let message = try #require(load(truncated))
        #expect(message.hasPrefix("\(truncated): not a readable HDF5 file ("))
    }

    @Test func missingDatasetAndGroup() throws {
        let path = folder.path("f.h5")
        try writeFile(path) { try $0.write(floats: smallFeatures, shape: [4, 3], to: "/train/features") }
        #expect(load(path, dataset: "feats") == "\(path): no dataset 'feats'; it holds 'train/features' (4 × 3 float32)")
        #expect(load(path, dataset: "train") == "\(path): 'train' is a group, not a dataset")
        #expect(load(path, dataset: "train/features", ids: "train/ids")
            == "\(path): no dataset 'train/ids'; it holds 'train/features' (4 × 3 float32)")
    }

    @Test func wrongRankAndType() throws {
        let path = folder.path("f.h5")
        try writeFile(path) { file in
            try file.write(floats: [1, 2, 3], shape: [3], to: "vector")
            try file.write(floats: [Float](repeating: 1, count: 8), shape: [2, 2, 2], to: "cube")
            try file.write(int64s: [1, 2, 3, 4], to: "integers")
            try file.write(floats: smallFeatures, shape: [4, 3], to: "features")
            try file.write(floats: [1, 2, 3, 4], shape: [4], to: "float_ids")
            try file.write(floats: [1, 2, 3, 4], shape: [2, 2], to: "matrix_ids")
        }
        #expect(load(path, dataset: "vector") == "\(path): dataset 'vector' has shape [3] (rank 1), expected rank 2")
        #expect(load(path, dataset: "cube") == "\(path): dataset 'cube' has shape [2, 2, 2] (rank 3), expected rank 2")
        #expect(load(path, dataset: "integers")
            == "\(path): dataset 'integers' has shape [4] (rank 1), expected rank 2")
        #expect(load(path, ids: "float_ids") == "\(path): dataset 'float_ids' holds float32, expected integers or strings")
        #expect(load(path, ids: "matrix_ids") == "\(path): dataset 'matrix_ids' has shape [2, 2] (rank 2), expected rank 1")
        #expect(load(path, labels: "float_ids") == "\(path): dataset 'float_ids' holds float32, expected integer")
    }

    @Test func integerFeaturesAreRejected() throws {
        let path = folder.path("ints.h5")
        try writeFile(path) { try $0.write(int64s: [1, 2, 3, 4, 5, 6], shape: [3, 2], to: "features") }
        #expect(load(path) == "\(path): dataset 'features' holds int64, expected float16, float32 or float64")
    }

    @Test func zeroRowsAndColumns() throws {
        let path = folder.path("f.h5")
        try writeFile(path) { file in
            try file.write(floats: [], shape: [0, 3], to: "empty")
            try file.write(floats: [], shape: [3, 0], to: "narrow")
        }
        #expect(load(path, dataset: "empty") == "\(path): dataset 'empty' has zero rows")
        #expect(load(path, dataset: "narrow") == "\(path): dataset 'narrow' has zero columns")
    }

    @Test func lengthMismatchAndDuplicateIds() throws {
        let path = folder.path("f.h5")
        try writeFile(path) { file in
            try file.write(floats: smallFeatures, shape: [4, 3], to: "features")
            try file.write(int64s: [1, 2, 3], to: "short_ids")
            try file.write(int64s: [7, 8, 7, 9], to: "repeated_ids")
            try file.write(strings: ["a", "b", "c", "b"], to: "repeated_names")
            try file.write(int64s: [0, 1, 0, 1, 1], to: "long_labels")
        }
        #expect(load(path, ids: "short_ids") == "\(path): dataset 'short_ids' has 3 entries but the features have 4 rows")
        #expect(load(path, ids: "repeated_ids") == "\(path): dataset 'repeated_ids' repeats id 7 (rows 0 and 2)")
        #expect(load(path, ids: "repeated_names") == "\(path): dataset 'repeated_names' repeats id b (rows 1 and 3)")
        #expect(load(path, labels: "long_labels") == "\(path): dataset 'long_labels' has 5 entries but the features have 4 rows")
    }

    @Test func nonFiniteValuesAndZeroRows() throws {
        let path = folder.path("f.h5")
        var withNaN = smallFeatures, withInf = smallFeatures, withZeroRow = smallFeatures
        withNaN[4] = .nan
        withInf[11] = -.infinity
        withZeroRow.replaceSubrange(6..<9, with: [0, 0, 0])
        try writeFile(path) { file in
            try file.write(floats: withNaN, shape: [4, 3], to: "nan")
            try file.write(floats: withInf, shape: [4, 3], to: "inf")
            try file.write(floats: withZeroRow, shape: [4, 3], to: "zero")
        }
        #expect(load(path, dataset: "nan") == "\(path): dataset 'nan' has nan at row 1, column 1")
        #expect(load(path, dataset: "inf") == "\(path): dataset 'inf' has -inf at row 3, column 2")
        #expect(load(path, dataset: "zero")
            == "\(path): dataset 'zero' row 2 is all zeros (it has no direction to normalise)")
    }

    @Test func rowRangeOutsideTheDataset() throws {
        let path = folder.path("f.h5")
        try writeFile(path) { try $0.write(floats: smallFeatures, shape: [4, 3], to: "features") }
        #expect(load(path, rows: 2..<9)
            == "\(path): rows [2, 9) are not a non-empty range within the 4 rows of dataset 'features'")
    }
}
