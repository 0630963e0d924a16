import FeatureIO
import Foundation
import HDF5
import Selection
import SyntheticData

/// `dedup` through the binary: the real text embeddings (20,000 × 384) at three thresholds, and a
/// million-row synthetic pool (1,000 classes, samples spread 1.0 around their sub-cluster centres,
/// 1 % of rows planted as near-copies of another row) at 0.95 — each a `random` selection of K = N/100
/// with `dedup`, as a whole `selectjob run`. In-process, the share of row pairs the grouped search
/// compared (the dense scan compares all). Returns the sentence under the table.
func dedupRows(folder: String, millionRows: Int, repetitions: Int, threads: Int, selectjob: String,
               row: (String, (Double, Double, Int)) -> Void) throws -> String {
    let dedupFolder = folder + "/dedup"
    try FileManager.default.createDirectory(atPath: dedupFolder, withIntermediateDirectories: true)
    var shares: [String] = []
    func measure(_ name: String, path: String, rows: Int, threshold: Double, label: String, repetitions: Int) throws {
        let job = dedupFolder + "/\(name).json"
        try Data("""
            {"name": "\(name)", "features": {"path": "\(path)", "labels": "labels"}, "method": {"name": "random"},
             "budget": {"count": \(rows / 100)}, "dedup": {"threshold": \(threshold)}, "database": "dedup.sqlite"}
            """.utf8).write(to: URL(fileURLWithPath: job))
        row("`dedup` \(threshold), \(label)", try timeCommand(selectjob, repetitions: repetitions) { _ in
            ["run", "--quiet", "--force", "--log-level", "error", "--threads", String(threads), job]
        })
    }
    func share(path: String, threshold: Double, label: String) throws {
        let table = try FeatureTable.load(FeatureSource(path: path, dataset: "features"))
        let pool = FeatureMatrix(rows: table.rows, columns: table.columns, values: table.values)
        let found = NearDuplicates.find(in: pool, rows: Array(0..<pool.rows), labelled: [], threshold: threshold, threads: threads)
        let pairs = Double(pool.rows) * Double(pool.rows - 1) / 2
        shares.append(String(format: "%@ at %g: %.1f %% of pairs compared, %d dropped", label, threshold,
                             100 * Double(found.comparisons) / pairs, found.dropped.count))
    }
    let real = try ReferenceData.realEmbeddings()
    for threshold in [0.99, 0.95, 0.9] {
        try measure("real-\(threshold)", path: real.path, rows: real.rows, threshold: threshold,
                    label: "\(real.name), \(real.rows) × 384", repetitions: repetitions)
        try share(path: real.path, threshold: threshold, label: "real")
    }
    if millionRows > 0 {
        emit("generating \(millionRows) × 384 features with 1 % near-copies for the dedup rows")
        let path = dedupFolder + "/pool.h5"
        do {
            var mixture = GaussianMixture(rows: millionRows, dimensions: 384, classes: 1000, subclustersPerClass: 2)
            mixture.sampleSpread = 1
            var (features, labels) = mixture.generate(seed: 5)
            var generator = SeededGenerator(seed: 6)
            for copy in stride(from: 0, to: millionRows, by: 100) {
                let source = Int.random(in: 0..<millionRows, using: &generator)
                for j in 0..<384 { features[copy * 384 + j] = features[source * 384 + j] * (1 + 0.01 * generator.nextGaussian()) }
            }
            let file = try HDF5File.create(at: path)
            try file.write(floats: features, shape: [millionRows, 384], to: "features", chunkRows: 4096, gzipLevel: 0)
            try file.write(int64s: labels, to: "labels")
        }
        try measure("million-0.95", path: path, rows: millionRows, threshold: 0.95,
                    label: "synthetic, \(millionRows) × 384, 1 % planted copies", repetitions: min(repetitions, 3))
        try share(path: path, threshold: 0.95, label: "synthetic")
    }
    return "Pairs compared by the grouped search (the rest ruled out by angular bounds): "
        + shares.joined(separator: "; ") + "."
}
