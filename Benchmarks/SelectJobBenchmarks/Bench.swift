import ArgumentParser
import OpenBLAS
import FeatureIO
import Foundation
import HDF5
import Reporting
import Selection
import Store
import SyntheticData

/// selectjob's benchmark suite (`make bench`): CIFAR-scale synthetic features, each case run several
/// times in a child process of its own (so its peak memory is its own), medians written to
/// BENCHMARKS.md. Not a test: nothing here passes or fails on the machine's speed. Each part of the
/// suite rewrites only its own section of the file (between `MarkedSections` comments), with its date
/// and machine; the hand-written conclusions and every other section are kept.
@main
struct SelectJobBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selectjob-bench",
        abstract: "Measure selectjob and write BENCHMARKS.md's generated sections.",
        subcommands: [Suite.self, MeasureCase.self], defaultSubcommand: Suite.self)
}

/// The suite: the parts asked for, each measured and its section of the output rewritten.
struct Suite: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "suite", abstract: "Run the benchmark suite (the default).")

    @Option(help: "The file whose generated sections are rewritten.") var output = "BENCHMARKS.md"
    @Option(help: ArgumentHelp("Parts to measure, comma-separated: \(BenchPart.allCases.map(\.rawValue).joined(separator: ", ")) (default: all).",
                               valueName: "parts"))
    var part: String?
    @Option(help: "Runs per case (medians are reported).") var repetitions = 5
    @Option(help: "Threads for selectjob's loops and the reference.") var threads = ParallelChunks.processorCount
    @Option(help: "Rows of the core table's pool.") var rows = pool
    @Option(help: "Columns of the synthetic features.") var dimensions = width
    @Option(help: "Rows of the `large` part's pool (0 leaves it out).") var largeRows = 1_000_000
    @Option(help: "Rows of the `imagenet` and `mpi` parts' pool (0 leaves them out).") var imagenetRows = 1_281_167
    @Option(help: "Rows the `scale` part loads (0 leaves it out).") var loadRows = 1_281_167
    @Option(help: "Rows of the `scale` part's VTL run (0 leaves it out).") var vtlRows = 1_000_000
    @Option(help: "Rows of the `dedup` part's synthetic pool (0 leaves it out).") var dedupRows = 1_000_000
    @Flag(help: "Leave ActiveFT's cost model out of the `scale` part.") var noCostModel = false
    @Option(help: "A Python with torch, h5py and numpy for the reference rows.") var referencePython: String?
    @Option(help: "A checkout of yichen928/ActiveFT: the reference rows run its own code.") var referenceDir: String?

    /// The parts asked for, in suite order.
    var parts: [BenchPart] {
        get throws {
            guard let part else { return BenchPart.allCases }
            return try part.split(separator: ",").map { name in
                guard let part = BenchPart(rawValue: String(name)) else {
                    throw ValidationError("--part: expected some of \(BenchPart.allCases.map(\.rawValue).joined(separator: ", ")), got \(name)")
                }
                return part
            }
        }
    }

    func validate() throws {
        _ = try parts
        guard repetitions >= 1, threads >= 1, rows >= 100, dimensions >= 1 else {
            throw ValidationError("--repetitions and --threads must be at least 1, --rows at least 100")
        }
    }

    func run() throws {
        let parts = try self.parts
        let (largeRows, imagenetRowCount, loadRowCount, vtlRowCount, costModel) = (largeRows, imagenetRows, loadRows, vtlRows, !noCostModel)
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        let selectjob = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("selectjob").path

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("selectjob-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }

        // Each part's rows go into a table of its own.
        var table: [String] = []
        func row(_ what: String, _ measured: (Double, Double, Int)) {
            let runs = measured.2 < repetitions ? " (\(measured.2) run\(measured.2 == 1 ? "" : "s"))" : ""
            let line = "| \(what)\(runs) | \(String(format: "%.3f", measured.0)) | — | — | \(String(format: "%.0f", measured.1)) |"
            emit(line)
            table.append(line)
        }
        func takeTable() -> String {
            defer { table = [] }
            return "| case | wall s (median) | per step | GFLOP/s | peak MiB |\n|---|---:|---:|---:|---:|\n"
                + table.joined(separator: "\n")
        }
        /// Writes `part`'s section of the output file at once, so a part measured is never lost to a later one failing.
        func write(_ part: BenchPart, _ content: String) throws {
            let cpu = cpuDescription()
            let coretype = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].map { "`OPENBLAS_CORETYPE=\($0)`" }
                ?? "`\(BLAS.kernels)` (OPENBLAS_CORETYPE not set; see `BLAS.kernels`)"
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withFullDate]
            let stamp = "*Measured by `make bench PART=\(part.rawValue)` on \(formatter.string(from: Date())): "
                + "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpu.model); \(threads) threads; BLAS \(BLAS.configuration), "
                + "kernels \(coretype); \(repetitions) repetitions per case unless a row says otherwise.*"
            let existing = (try? String(contentsOfFile: output, encoding: .utf8)) ?? "# Benchmarks\n"
            let updated = MarkedSections.replacing(part.rawValue, with: stamp + "\n\n" + content, in: existing)
            try Data(updated.utf8).write(to: URL(fileURLWithPath: output + ".partial"))
            guard rename(output + ".partial", output) == 0 else {
                throw NSError(domain: "bench", code: 74, userInfo: [NSLocalizedDescriptionKey: "cannot write \(output)"])
            }
            emit("wrote part \(part.rawValue) of \(output)")
        }

        if parts.contains(.core) || parts.contains(.reference) {
            emit("generating \(rows) × \(dimensions) features and \(targetCount) targets in \(folder)")
            try writeData(folder: folder, rows: rows, dimensions: dimensions)
        }
        var ours: (Double, Double, Int)?
        if parts.contains(.core) {
            for benchmark in cases(rows: rows, dimensions: dimensions) {
                var seconds: [Double] = [], peaks: [Double] = []
                var planned = repetitions
                var repetition = 0
                while repetition < planned {
                    repetition += 1
                    let child = try runChild(me, ["case", benchmark.name, folder, String(threads)])
                    guard child.status == 0, let value = Double(child.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                        throw NSError(domain: "bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "case \(benchmark.name) failed: \(child.stdout)"])
                    }
                    seconds.append(value)
                    peaks.append(Double(child.peakBytes) / 1_048_576)
                    // A case over a minute is repeated 3 times at most, one over three minutes runs once, so
                    // the suite stays within the hour.
                    if repetition == 1, value > 60 { planned = min(planned, value > 180 ? 1 : 3) }
                }
                let wall = median(seconds)
                let perStep = benchmark.steps > 0 ? String(format: "%.2f ms / %@", wall / Double(benchmark.steps) * 1000, benchmark.stepName) : "—"
                let gflops = benchmark.flops > 0 ? String(format: "%.0f", benchmark.flops / wall / 1e9) : "—"
                let line = "| \(benchmark.what)\(seconds.count < repetitions ? " (\(seconds.count) run\(seconds.count == 1 ? "" : "s"))" : "") | \(String(format: "%.3f", wall)) | \(perStep) | \(gflops) | \(String(format: "%.0f", median(peaks))) |"
                emit(line)
                table.append(line)
            }
            let whole = try endToEndRun(folder: folder, repetitions: repetitions, threads: threads, selectjob: selectjob)
            ours = whole
            row(endToEndLabel, whole)
            // Evaluate and report through the binary, on run 1 of that job. Each evaluation gets another
            // seed, so none is read back from the database.
            let database = folder + "/bench.sqlite"
            row("`selectjob evaluate`, ActiveFT 1 % (K = \(rows / 100)), \(testCount)-sample test file, 5 random baselines",
                try timeCommand(selectjob, repetitions: repetitions) {
                    ["evaluate", "--db", database, "1", "--test", folder + "/test.h5:features", "--test-labels", "labels",
                     "--seed", String($0 + 1), "--threads", String(threads)]
                })
            row("`selectjob report`, ActiveFT 1 % (K = \(rows / 100)), \(rows) × \(dimensions)",
                try timeCommand(selectjob, repetitions: repetitions) {
                    ["report", "--db", database, "1", "-o", folder + "/report-\($0).html", "--threads", String(threads)]
                })
            let reportBytes = (try? FileManager.default.attributesOfItem(atPath: folder + "/report-0.html")[.size] as? Int) ?? 0
            try write(.core, """
                Data: \(rows) × \(dimensions) float32 features, a 10-class Gaussian mixture with 5 sub-clusters per
                class (`SyntheticData.GaussianMixture`, seed 1), and \(targetCount) targets from the same mixture. Each case
                ran in a child process of its own; the table gives the median wall time and the median of each
                run's peak resident memory (from `wait4`, including the feature data it loaded).

                \(takeTable())

                GFLOP/s counts the dense work the method stands for (ActiveFT: 2·N·K·d per iteration for the
                similarities; VTL: 4·N·d per pick for its two products with the pool), divided by the wall
                time; ActiveFT's pruned search skips most of that work, so its figure is the dense-equivalent
                rate, not the machine's arithmetic rate. The `method …` rows run every method of the registry
                (`MethodRegistry.all`) with its default parameters (except where the row says) through the same
                entry point as `selectjob run`; methods with optional targets run without them (undirected),
                those that need targets get the suite's 1,000. Uncertainty methods get seeded 10-class softmax
                predictions for the pool; the ATL methods get the 1,000 targets as validation samples with every
                fourth one "wrong"; `adaptive_representative` gets the pool's first 500 rows as labelled. The
                selection cases exclude loading; `hdf5-load` measures it alone, and the `selectjob run` row
                measures everything together. The `evaluate` and `report` rows run the binary on run 1 of the
                `selectjob run` row's job (the ActiveFT 1 % selection), loading the pool included: evaluate
                trains the linear probe on the selection and on 5 random subsets of the same size and scores each
                on the \(testCount)-sample test file; report projects the pool on its two principal components,
                measures every sample's distance to the selection and writes the page (\(String(format: "%.2f MB", Double(reportBytes) / 1e6))).
                `herding` (facility location, lazy greedy) is slow at this size: every stale candidate it
                re-scores costs a pass over the pool. `probcover` runs with δ = 0.3 because its default δ = 0.6
                puts more edges in the ball graph of this mixture than `max_edges` allows.
                """)
        }
        if parts.contains(.reference) {
            // Both sides as whole processes on each data set: the synthetic pool, and real embeddings,
            // where pruning works differently (the run's time depends on the data).
            let data = [ReferenceData(name: "the synthetic mixture", path: folder + "/pool.h5", rows: rows),
                        try ReferenceData.realEmbeddings()]
            var sentences: [String] = []
            var syntheticReference: Double?
            for (index, set) in data.enumerated() {
                let whole = index == 0 && ours != nil ? ours!
                    : try endToEndRun(folder: folder, features: set.path, name: "bench-reference-\(index)", repetitions: repetitions,
                                      threads: threads, selectjob: selectjob)
                row("`selectjob run` on \(set.name) (N = \(set.rows)), ActiveFT 1 %, 300 iterations: load, select, commit", whole)
                let reference = try referenceRows(data: set, python: referencePython, referenceDir: referenceDir,
                                                  repetitions: repetitions, threads: threads, row: row)
                if index == 0 { syntheticReference = reference.seconds }
                sentences.append("On \(set.name), the reference: \(reference.sentence)\(speedup(ours: whole.0, reference: reference.seconds))")
            }
            let floor = try floorSentence(folder: folder, rows: rows, columns: dimensions, repetitions: repetitions,
                                          threads: threads, selectjob: selectjob, reference: syntheticReference, row: row)
            try write(.reference, """
                The PyTorch reference: yichen928/ActiveFT's `ActiveFT_CIFAR.py` on the CPU — its own code with
                `ACTIVEFT_REFERENCE_DIR` (a checkout of the repository; `.cuda()` made the identity), else the same
                torch operations restated (`Benchmarks/reference/activeft_reference.py`), in a venv with torch that
                `make bench` installs — with K = N/100 and seeded `random.sample` initial rows, timed as whole
                processes like `selectjob run`, on two data sets: the core table's synthetic pool and the real text
                embeddings of `make quality` (`quality/debian_dev20k.h5`, 20,000 × 384 float16).

                \(takeTable())

                \(sentences.joined(separator: " "))\(floor)
                """)
        }
        if parts.contains(.large), largeRows > 0 {
            let sizes = try largeReportRows(folder: folder, rows: largeRows, dimensions: dimensions, repetitions: repetitions,
                                            threads: threads, selectjob: selectjob, row: row)
            try write(.large, """
                `selectjob report` on a \(largeRows)-row pool: a 100-class mixture (10 sub-clusters each), stored
                uncompressed.

                \(takeTable())

                The report's HTML: \(sizes)
                """)
        }
        if parts.contains(.imagenet), imagenetRowCount > 0 {
            let text = try SelectJobBenchmarks.imagenetRows(folder: folder, rows: imagenetRowCount, threads: threads, selectjob: selectjob,
                                        including: .variants, row: row)
            try write(.imagenet, "\(takeTable())\n\n\(text)")
        }
        if parts.contains(.mpi), imagenetRowCount > 0 {
            let text = try SelectJobBenchmarks.imagenetRows(folder: folder, rows: imagenetRowCount, threads: threads, selectjob: selectjob,
                                        including: .mpi, row: row)
            try write(.mpi, "\(takeTable())\n\n\(text)")
        }
        if parts.contains(.dedup) {
            let text = try SelectJobBenchmarks.dedupRows(folder: folder, millionRows: dedupRows, repetitions: repetitions,
                                                         threads: threads, selectjob: selectjob, row: row)
            try write(.dedup, "\(takeTable())\n\n\(text)")
        }
        if parts.contains(.scale) {
            let text = try scaleSection(folder: folder, threads: threads, repetitions: repetitions, selectjob: selectjob,
                                        costModel: costModel, loadRowCount: loadRowCount, vtlRowCount: vtlRowCount, row: row)
            try write(.scale, "\(table.isEmpty ? "" : takeTable() + "\n\n")\(text)")
        }
    }
}

/// One measurement in a child process of its own: prints the case's seconds.
struct MeasureCase: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "case", abstract: "Measure one case (internal).",
                                                    shouldDisplay: false)

    @Argument var name: String
    @Argument var folder: String
    @Argument var threads: Int

    func run() throws {
        emit(try measure(name, folder: folder, threads: threads))
    }
}

/// The sections of BENCHMARKS.md, each measured and rewritten on its own (`make bench PART=…`).
enum BenchPart: String, CaseIterable {
    /// The 50,000 × 384 table: every method, loading, the whole `selectjob run`, evaluate and report.
    case core
    /// The PyTorch reference beside the whole `selectjob run`, and the floor of an exact run.
    case reference
    /// `selectjob report` on a million-row pool.
    case large
    /// ActiveFT at ImageNet-1k scale (full pool and batches).
    case imagenet
    /// ActiveFT at ImageNet-1k scale across 1 and 2 MPI ranks.
    case mpi
    /// The cost model, loading 1.28 M rows, VTL at a million rows.
    case scale
    /// `dedup` on the real embeddings and on a million synthetic rows.
    case dedup
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// Labelled test samples for the `evaluate` row (from the pool's mixture, not in the pool).
let testCount = 10_000

func writeData(folder: String, rows: Int, dimensions: Int) throws {
    let mixture = GaussianMixture(rows: rows + targetCount + testCount, dimensions: dimensions, classes: 10, subclustersPerClass: 5)
    let (features, labels) = mixture.generate(seed: 1)
    let poolFile = try HDF5File.create(at: folder + "/pool.h5")
    try poolFile.write(floats: Array(features[0..<(rows * dimensions)]), shape: [rows, dimensions], to: "features",
                       chunkRows: 1024, gzipLevel: 4)
    try poolFile.write(int64s: Array(labels[0..<rows]), to: "labels")
    try poolFile.write(int64s: (0..<rows).map { 1_000_000 + Int64($0) }, to: "ids")
    let targetFile = try HDF5File.create(at: folder + "/targets.h5")
    try targetFile.write(floats: Array(features[(rows * dimensions)..<((rows + targetCount) * dimensions)]),
                         shape: [targetCount, dimensions], to: "features")
    let testFile = try HDF5File.create(at: folder + "/test.h5")
    try testFile.write(floats: Array(features[((rows + targetCount) * dimensions)...]), shape: [testCount, dimensions],
                       to: "features")
    try testFile.write(int64s: Array(labels[(rows + targetCount)...]), to: "labels")
}

/// The report row's pool: `rows × dimensions` from a 100-class mixture with 10 sub-clusters each,
/// float32 in uncompressed 4,096-row chunks (the gzip load is the `hdf5-load` row's subject).
func writeLargePool(path: String, rows: Int, dimensions: Int) throws {
    let (features, labels) = GaussianMixture(rows: rows, dimensions: dimensions, classes: 100, subclustersPerClass: 10)
        .generate(seed: 2)
    let file = try HDF5File.create(at: path)
    try file.write(floats: features, shape: [rows, dimensions], to: "features", chunkRows: 4096, gzipLevel: 0)
    try file.write(int64s: labels, to: "labels")
}

/// Runs the selectjob binary `repetitions` times with arguments from `arguments(repetition)`:
/// (median seconds, median peak MiB, runs).
func timeCommand(_ selectjob: String, repetitions: Int, _ arguments: (Int) -> [String]) throws -> (Double, Double, Int) {
    var seconds: [Double] = [], peaks: [Double] = []
    for repetition in 0..<repetitions {
        let child = try runChild(selectjob, arguments(repetition))
        guard child.status == 0 else {
            throw NSError(domain: "bench", code: 1, userInfo: [NSLocalizedDescriptionKey:
                "selectjob \(arguments(repetition).joined(separator: " ")) failed (exit \(child.status)): \(child.stdout)"])
        }
        seconds.append(child.seconds)
        peaks.append(Double(child.peakBytes) / 1_048_576)
    }
    return (median(seconds), median(peaks), seconds.count)
}

func cpuDescription() -> (model: String, flags: String) {
    let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let lines = info.split(separator: "\n")
    let model = lines.first { $0.hasPrefix("model name") }?.split(separator: ":").last?
        .trimmingCharacters(in: .whitespaces) ?? "unknown"
    let flags = Set(lines.first { $0.hasPrefix("flags") }?.split(separator: ":").last?.split(separator: " ").map(String.init) ?? [])
    let interesting = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16"].filter(flags.contains)
    return (model, interesting.joined(separator: " "))
}

/// Writes `line` to standard output at once (unbuffered, so a log file shows each row as it is measured).
func emit(_ line: Any) {
    FileHandle.standardOutput.write(Data("\(line)\n".utf8))
}
