import ArgumentParser
import HDF5
import SyntheticData

/// Writes a labelled synthetic feature file in the layout h5py writes, for the demo job and benchmarks.
@main
struct DemoFeatures: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-features",
        abstract: "Write synthetic labelled features (a Gaussian mixture) to an HDF5 file.",
        discussion: """
            Datasets: features (float, rows × dimensions, chunked and gzip-compressed), labels (int64), \
            ids (int64, 1,000,000 + row).
            """
    )

    @Option(help: "Output HDF5 file (replaced if it exists).") var output: String
    @Option(help: "Number of samples.") var rows = 5000
    @Option(help: "Feature dimension.") var dimensions = 64
    @Option(help: "Number of classes.") var classes = 10
    @Option(help: "Sub-clusters per class.") var subclusters = 4
    @Option(help: "Seed of the generator.") var seed: UInt64 = 0
    @Option(help: "Stored float type: float16, float32 or float64.") var storage = "float32"

    func validate() throws {
        guard rows > 0, dimensions > 0, classes > 0, subclusters > 0 else {
            throw ValidationError("rows, dimensions, classes and subclusters must be positive")
        }
        guard HDF5FloatStorage(rawValue: storage) != nil else {
            throw ValidationError("--storage must be float16, float32 or float64, got '\(storage)'")
        }
    }

    func run() throws {
        let mixture = GaussianMixture(rows: rows, dimensions: dimensions, classes: classes, subclustersPerClass: subclusters)
        let (features, labels) = mixture.generate(seed: seed)
        let file = try HDF5File.create(at: output)
        try file.write(floats: features, shape: [rows, dimensions], to: "features",
                       storage: HDF5FloatStorage(rawValue: storage)!, chunkRows: 1024, gzipLevel: 4)
        try file.write(int64s: labels, to: "labels")
        try file.write(int64s: (0..<rows).map { 1_000_000 + Int64($0) }, to: "ids")
        print("wrote \(output): features \(rows)×\(dimensions) \(storage), labels, ids")
    }
}
