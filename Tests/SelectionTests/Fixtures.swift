import FeatureIO
import Foundation
import Selection

/// The repository's copy of the reference runs (Tests/Fixtures, copied from shared/fixtures).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func url(_ relative: String) -> URL { directory.appendingPathComponent(relative) }

    /// Features of a fixture file as stored (not normalised), optionally a [start, end) row range.
    static func features(_ relative: String, rows: Range<Int>? = nil) throws -> FeatureMatrix {
        let table = try FeatureTable.load(FeatureSource(path: url(relative).path, dataset: "features", rows: rows))
        return FeatureMatrix(rows: table.rows, columns: table.columns, values: table.values)
    }

    static func json<T: Decodable>(_ relative: String, as type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: url(relative)))
    }
}

/// A recorded run of the ActiveFT reference (`ActiveFT_CIFAR.py`).
struct ActiveFTReference: Decodable {
    let n: Int
    let d: Int
    let k: Int
    let iters: Int
    let temperature: Double
    let lr: Double
    let balance: Double
    let init_ids: [Int]
    let losses: [Double]
    let selected_ids: [Int]
}

/// Maximum over `i` of |a[i] − b[i]| / |b[i]|.
func maxRelativeError(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { abs($0 - $1) / max(abs($1), 1e-300) }.max() ?? 0
}
