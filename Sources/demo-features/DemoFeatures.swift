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
    @Option(help: "Spread of samples around their sub-cluster centre (larger: classes overlap more).") var spread: Float = 0.35
    @Option(help: "Also write this many more samples of the same mixture to --test-output, with their labels.") var testRows = 0
    @Option(help: "The test file (features, labels) for --test-rows.") var testOutput: String?

    func validate() throws {
        guard rows > 0, dimensions > 0, classes > 0, subclusters > 0 else {
            throw ValidationError("rows, dimensions, classes and subclusters must be positive")
        }
        guard spread > 0, spread.isFinite else { throw ValidationError("--spread must be a positive number, got \(spread)") }
        guard testRows >= 0, (testRows == 0) == (testOutput == nil) else {
            throw ValidationError("--test-rows and --test-output go together")
        }
        guard HDF5FloatStorage(rawValue: storage) != nil else {
            throw ValidationError("--storage must be float16, float32 or float64, got '\(storage)'")
        }
    }

    func run() throws {
        // The test rows come after the pool's in one draw, so the pool is the same with or without them.
        var mixture = GaussianMixture(rows: rows + testRows, dimensions: dimensions, classes: classes,
                                      subclustersPerClass: subclusters)
        mixture.sampleSpread = spread
        let (all, allLabels) = mixture.generate(seed: seed)
        let features = Array(all[0..<(rows * dimensions)]), labels = Array(allLabels[0..<rows])
        let file = try HDF5File.create(at: output)
        try file.write(floats: features, shape: [rows, dimensions], to: "features",
                       storage: HDF5FloatStorage(rawValue: storage)!, chunkRows: 1024, gzipLevel: 4)
        try file.write(int64s: labels, to: "labels")
        if let testOutput {
            let test = try HDF5File.create(at: testOutput)
            try test.write(floats: Array(all[(rows * dimensions)...]), shape: [testRows, dimensions], to: "features")
            try test.write(int64s: Array(allLabels[rows...]), to: "labels")
            print("wrote \(testOutput): features \(testRows)×\(dimensions), labels (test set of the same mixture)")
        }
        try file.write(int64s: (0..<rows).map { 1_000_000 + Int64($0) }, to: "ids")
        print("wrote \(output): features \(rows)×\(dimensions) \(storage), labels, ids")
    }
}
