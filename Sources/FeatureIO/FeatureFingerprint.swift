import Crypto
import Foundation

/// What identifies the data a run read: SHA-256 over the shape, the values as float32, the ids and the
/// labels, hashed in blocks of rows so that a distributed run's processes can each hash their own.
extension FeatureTable {
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
    static func idsTag(_ ids: SampleIDs) -> String {
        switch ids {
        case .rowIndices: return "ids:rows"
        case .integers: return "ids:int64"
        case .strings: return "ids:string"
        }
    }

    /// Feeds the ids and labels of `rows` to `hasher` (row indices add nothing; strings end in NUL).
    static func hash(ids: SampleIDs, labels: [Int64]?, rows: Range<Int>, into hasher: inout SHA256) {
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
