import OpenBLAS
import FeatureIO
import Foundation
import HDF5
import Reporting
import Selection
import Store
import SyntheticData

// selectjob's benchmark suite (`make bench`): CIFAR-scale synthetic features, each case run several
// times in a child process of its own (so its peak memory is its own), medians written to
// BENCHMARKS.md. Not a test: nothing here passes or fails on the machine's speed. Each part of the
// suite rewrites only its own section of the file (between `MarkedSections` comments), with its date
// and machine; the hand-written conclusions and every other section are kept.
//
//   selectjob-bench [--output BENCHMARKS.md] [--part core,reference,large,imagenet,mpi,scale] (default: all)
//                   [--repetitions 5] [--threads N] [--rows 50000] [--dimensions 384]
//                   [--large-rows 1000000]   (the `large` part's pool; 0 leaves it out)
//                   [--imagenet-rows 1281167] (the `imagenet` and `mpi` parts' pool; 0 leaves them out)
//                   [--reference-python PATH] [--reference-dir DIR]  (the `reference` part; see referenceRows)
//                   [--load-rows 1281167] [--vtl-rows 1000000]  (the `scale` part's rows; 0 leaves each out)
//                   [--no-cost-model]        (leaves ActiveFT's cost model out of the `scale` part)
//   selectjob-bench case NAME DATA_FOLDER THREADS      (internal: one measurement, JSON on stdout)

struct Case {
    let name: String
    let what: String
    /// Steps per run (iterations or picks), for the per-step column; 0 when it does not apply.
    let steps: Int
    /// Floating-point operations per run of a dense computation, for GFLOP/s; 0 when it does not apply.
    let flops: Double
    let stepName: String
}

let pool = 50_000, width = 384, targetCount = 1_000

/// Parameters that differ from a method's defaults in its `method-…` case, and why.
/// ProbCover's default δ = 0.6 joins ~5,000 neighbours per sample on this tight synthetic mixture,
/// over its `max_edges` guard; δ = 0.3 keeps the graph near the size the method is meant for.
let benchOverrides: [String: [String: ParameterValue]] = ["probcover": ["delta": .number(0.3)]]

/// Methods that need labelled samples get the pool's first this many rows as labelled.
let benchLabelledRows = 500

/// The labelled rows a method's case gets: none, unless it cannot run without them.
func benchLabelled(_ method: any SelectionMethod.Type) -> [Int] {
    if case .required = method.labelledUse { return Array(0..<benchLabelledRows) }
    return []
}

func cases(rows n: Int, dimensions d: Int) -> [Case] {
    let N = Double(n), D = Double(d)
    return [
        Case(name: "hdf5-load", what: "HDF5 load of \(n) × \(d) float32 (gzip chunks), ids, labels, checks",
             steps: 0, flops: 0, stepName: ""),
        Case(name: "activeft-k500", what: "ActiveFT, K = \(n / 100) (1 %), 300 iterations",
             steps: 300, flops: 300 * 2 * N * Double(n / 100) * D, stepName: "iteration"),
        Case(name: "activeft-k1000", what: "ActiveFT, K = \(n / 50) (2 %), 300 iterations",
             steps: 300, flops: 300 * 2 * N * Double(n / 50) * D, stepName: "iteration"),
        Case(name: "vtl", what: "VTL, \(targetCount) targets, 500 picks",
             steps: 500, flops: 500 * 4 * N * D, stepName: "pick"),
        Case(name: "undirected-vtl", what: "undirected VTL, 500 picks",
             steps: 500, flops: 500 * 4 * N * D, stepName: "pick"),
    ] + MethodRegistry.all.map { method in
        Case(name: "method-\(method.name)",
             what: "`\(method.name)`, K = 500, "
                + (benchOverrides[method.name].map { "defaults but " + $0.map { "\($0.key) \($0.value.quoted)" }.sorted().joined(separator: ", ") }
                   ?? "the registry's defaults")
                + (method.inputs.contains(where: { $0.required && $0.kind == .predictions }) ? ", 10-class predictions"
                   : method.inputs.contains(where: { $0.required && $0.kind == .validation }) ? ", \(targetCount) validation samples (1 in 4 wrong)"
                   : method.inputs.contains(where: \.required) ? ", \(targetCount) targets"
                   : method.inputs.isEmpty ? "" : ", no targets (undirected)")
                + (benchLabelled(method).isEmpty ? "" : ", \(benchLabelledRows) labelled"),
             steps: 0, flops: 0, stepName: "")
    } + [
        Case(name: "sqlite-write", what: "SQLite: record a run with a 500-sample selection and 300 curve points",
             steps: 0, flops: 0, stepName: ""),
    ]
}

// MARK: - One measurement (child process)

func loadPool(_ folder: String) throws -> FeatureTable {
    try FeatureTable.load(FeatureSource(path: folder + "/pool.h5", dataset: "features", ids: "ids", labels: "labels"))
}

func matrix(_ table: FeatureTable) -> FeatureMatrix {
    FeatureMatrix(rows: table.rows, columns: table.columns, values: table.values)
}

func measure(_ name: String, folder: String, threads: Int) throws -> Double {
    func timed(_ body: () throws -> Void) rethrows -> Double {
        let start = Date()
        try body()
        return Date().timeIntervalSince(start)
    }
    switch name {
    case "hdf5-load":
        return try timed { _ = try loadPool(folder) }
    case "activeft-k500", "activeft-k1000":
        // Handed over as `selectjob run` does (the only reference), so ActiveFT reorders the rows in
        // place rather than in a copy of its own.
        var features: FeatureMatrix? = matrix(try loadPool(folder))
        let budget = features!.rows / (name == "activeft-k500" ? 100 : 50)
        var generator = SeededGenerator(seed: 0)
        return try timed {
            _ = try ActiveFT.select(features: features.take()!, budget: budget, parameters: ActiveFTParameters(),
                                    generator: &generator, threads: threads)
        }
    case "vtl", "undirected-vtl":
        let features = matrix(try loadPool(folder))
        let targets = name == "vtl"
            ? matrix(try FeatureTable.load(FeatureSource(path: folder + "/targets.h5", dataset: "features"))) : nil
        return try timed {
            _ = try VTL.select(pool: features, targets: targets, budget: 500, parameters: VTLParameters(), threads: threads)
        }
    case let registered where registered.hasPrefix("method-"):
        guard let method = MethodRegistry.method(named: String(registered.dropFirst("method-".count))) else {
            throw NSError(domain: "bench", code: 64, userInfo: [NSLocalizedDescriptionKey: "unknown case \(name)"])
        }
        let features = matrix(try loadPool(folder))
        let configured = try method.configure(benchOverrides[method.name] ?? [:])
        // Required inputs: targets are the suite's 1,000 target rows, predictions a seeded softmax over
        // 10 classes per pool row; optional ones are left out.
        var inputs: [String: FeatureMatrix] = [:]
        var outcomes: [String: [Bool]] = [:]
        for input in method.inputs where input.required {
            switch input.kind {
            case .validation:
                let validation = matrix(try FeatureTable.load(FeatureSource(path: folder + "/targets.h5", dataset: "features")))
                inputs[input.name] = validation
                outcomes[input.name] = (0..<validation.rows).map { $0 % 4 != 0 }
            case .features:
                inputs[input.name] = matrix(try FeatureTable.load(FeatureSource(path: folder + "/targets.h5", dataset: "features")))
            case .predictions:
                var generator = SeededGenerator(seed: 7)
                var values = [Float](repeating: 0, count: features.rows * 10)
                for row in 0..<features.rows {
                    let logits = (0..<10).map { _ in Double(generator.next() >> 11) / Double(1 << 53) * 4 }
                    let total = logits.reduce(0) { $0 + exp($1) }
                    for c in 0..<10 { values[row * 10 + c] = Float(exp(logits[c]) / total) }
                }
                inputs[input.name] = FeatureMatrix(rows: features.rows, columns: 10, values: values)
            }
        }
        // Handed over with the only reference to the pool, as `selectjob run` does.
        var problem: SelectionProblem? = SelectionProblem(pool: consume features, budget: 500, inputs: inputs,
                                                          labelled: benchLabelled(method), outcomes: outcomes)
        var context = SelectionContext(seed: 0, threads: threads)
        return try timed { _ = try configured.select(problem.take()!, &context) }
    case "sqlite-write":
        let path = folder + "/write-\(UUID().uuidString).sqlite"
        defer { ["", "-wal", "-shm"].forEach { unlink(path + $0) } }
        let store = try SelectionStore(path: path)
        return try timed {
            let run = try store.beginRun(NewRun(
                job: "bench", jobPath: "/bench.json", jobJSON: "{}", jobSHA256: "0", featuresPath: "/pool.h5",
                featuresFingerprint: "sha256:0", method: "activeft", paramsJSON: "{}", n: pool, d: width, budget: 500,
                seed: 0, toolVersion: "bench", startedAt: Date()))
            let selection = (0..<500).map {
                SelectedSample(runID: run, rank: $0, rowIndex: $0 * 97, sampleID: .integer(1_000_000 + Int64($0 * 97)),
                               score: 0.9, label: Int64($0 % 10))
            }
            let metrics = (0..<300).map { RunMetric(runID: run, step: $0, name: "loss", value: 1 / Double($0 + 1)) }
            try store.completeRun(id: run, selection: selection, metrics: metrics, paramsJSON: "{}", finishedAt: Date(),
                                  durationSeconds: 1)
        }
    default:
        throw NSError(domain: "bench", code: 64, userInfo: [NSLocalizedDescriptionKey: "unknown case \(name)"])
    }
}

// MARK: - The suite (parent process)

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

/// The report at a million rows: a random selection of K = N/1,000 and of K = N/100, each reported
/// through the binary (at most 3 runs). Returns the sentence on the pages' sizes.
func largeReportRows(folder: String, rows largeRows: Int, dimensions: Int, repetitions: Int, threads: Int,
                     selectjob: String, row: (String, (Double, Double, Int)) -> Void) throws -> String {
    let largeFolder = folder + "/large"
    try FileManager.default.createDirectory(atPath: largeFolder, withIntermediateDirectories: true)
    emit("generating \(largeRows) × \(dimensions) features for the report rows")
    try writeLargePool(path: largeFolder + "/pool.h5", rows: largeRows, dimensions: dimensions)
    var sizes: [String] = []
    for (index, budget) in [largeRows / 1000, largeRows / 100].enumerated() {
        let name = "large-\(budget)"
        try Data("""
            {"name": "\(name)", "features": {"path": "pool.h5", "labels": "labels"},
             "method": {"name": "random"}, "budget": {"count": \(budget)}, "database": "large.sqlite"}
            """.utf8).write(to: URL(fileURLWithPath: largeFolder + "/\(name).json"))
        let run = try runChild(selectjob, ["run", "--quiet", "--log-level", "error", largeFolder + "/\(name).json"])
        guard run.status == 0 else {
            throw NSError(domain: "bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "large run failed: \(run.stdout)"])
        }
        row("`selectjob report`, \(largeRows) × \(dimensions), random K = \(budget)",
            try timeCommand(selectjob, repetitions: min(repetitions, 3)) { _ in
                ["report", "--db", largeFolder + "/large.sqlite", String(index + 1), "-o", largeFolder + "/\(name).html",
                 "--threads", String(threads)]
            })
        let bytes = (try? FileManager.default.attributesOfItem(atPath: largeFolder + "/\(name).html")[.size] as? Int) ?? 0
        sizes.append(String(format: "%.2f MB at K = %d", Double(bytes) / 1e6, budget))
    }
    return sizes.joined(separator: ", ") + " for \(largeRows) samples in 100 classes (limit: 2 MB)."
}

/// ActiveFT at ImageNet-1k scale through the binary: N × 384 features of a 1,000-cluster mixture
/// (uncompressed), K = N/100. Each variant — the full pool (300 iterations in the paper's setting)
/// and random batches of 100,000 (the reference's ImageNet script: 100 iterations) — runs with 0
/// and 5 iterations; the difference gives the time per iteration, the 0-iteration run the load,
/// set-up and final step. Returns the rows' explanation.
/// Which ImageNet-scale runs ``imagenetRows(folder:rows:threads:selectjob:including:row:)`` makes.
enum ImagenetRuns { case variants, mpi }

func imagenetRows(folder: String, rows: Int, threads: Int, selectjob: String, including runs: ImagenetRuns,
                  row: (String, (Double, Double, Int)) -> Void) throws -> String {
    let imagenetFolder = folder + "/imagenet"
    try FileManager.default.createDirectory(atPath: imagenetFolder, withIntermediateDirectories: true)
    emit("generating \(rows) × 384 features (1,000 clusters) for the ImageNet-scale rows")
    do {  // the file is closed and the features freed before the runs read them
        let (features, labels) = GaussianMixture(rows: rows, dimensions: 384, classes: 1000, subclustersPerClass: 2)
            .generate(seed: 3)
        let file = try HDF5File.create(at: imagenetFolder + "/pool.h5")
        try file.write(floats: features, shape: [rows, 384], to: "features", chunkRows: 4096, gzipLevel: 0)
        try file.write(int64s: labels, to: "labels")
    }
    let budget = rows / 100
    var sentences: [String] = []
    if runs == .mpi {
        return try mpiRows(folder: imagenetFolder, rows: rows, budget: budget, threads: threads, selectjob: selectjob, row: row)
    }
    for (variant, batch, planned) in [("full pool", nil, 300), ("batches of 100,000", Optional(100_000), 100)] {
        let batchMember = batch.map { ", \"batch_size\": \($0)" } ?? ""
        let measured = try zeroAndFiveIterations(
            folder: imagenetFolder, name: "imagenet-\(batch ?? 0)", method: batchMember, budget: budget,
            launch: { (selectjob, ["run", "--quiet", "--force", "--log-level", "error", "--threads", String(threads), $0]) },
            label: { "`selectjob run`, ActiveFT, \(rows) × 384, K = \(budget), \(variant), \($0) iterations" }, row: row)
        let perIteration = (measured[5]!.0 - measured[0]!.0) / 5
        let projected = measured[0]!.0 + perIteration * Double(planned)
        sentences.append(String(format: "%@: %.1f s per iteration, so %d iterations ≈ %.1f min (load, set-up and final step %.0f s)",
                                variant, perIteration, planned, projected / 60, measured[0]!.0))
    }
    return "ActiveFT at ImageNet-1k scale (one run each, so read them as estimates): " + sentences.joined(separator: "; ") + "."
}

/// Runs an ActiveFT job on `folder`/pool.h5 with 0 and with 5 iterations (`method`: more members of
/// its method object), each through `launch(jobPath)` in a child process, adding a row for each;
/// returns (seconds, peak MB) by iteration count.
func zeroAndFiveIterations(folder: String, name: String, method: String, budget: Int,
                           launch: (String) -> (String, [String]), label: (Int) -> String,
                           row: (String, (Double, Double, Int)) -> Void) throws -> [Int: (Double, Double)] {
    var measured: [Int: (Double, Double)] = [:]
    for iterations in [0, 5] {
        let job = "\(name)-\(iterations)"
        try Data("""
            {"name": "\(job)", "features": {"path": "pool.h5", "labels": "labels"},
             "method": {"name": "activeft", "iterations": \(iterations)\(method)},
             "budget": {"count": \(budget)}, "database": "\(name).sqlite"}
            """.utf8).write(to: URL(fileURLWithPath: folder + "/\(job).json"))
        let (executable, arguments) = launch(folder + "/\(job).json")
        let child = try runChild(executable, arguments)
        guard child.status == 0 else {
            throw NSError(domain: "bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(job) failed: \(child.stdout)"])
        }
        measured[iterations] = (child.seconds, Double(child.peakBytes) / 1_048_576)
        row(label(iterations), (child.seconds, Double(child.peakBytes) / 1_048_576, 1))
    }
    return measured
}

/// The same full-pool ImageNet-scale job under `mpirun -np P selectjob-mpi run` for P = 1 and 2 on
/// this machine's cores (threads per rank = cores / P), with 0 and 5 iterations: time per
/// iteration and the peak resident memory of the largest rank. Skipped, with the reason, when
/// Open MPI's mpirun is not installed.
func mpiRows(folder: String, rows: Int, budget: Int, threads: Int, selectjob: String,
             row: (String, (Double, Double, Int)) -> Void) throws -> String {
    let mpirun = "/usr/bin/mpirun"
    let binary = URL(fileURLWithPath: selectjob).deletingLastPathComponent().appendingPathComponent("selectjob-mpi").path
    guard FileManager.default.isExecutableFile(atPath: mpirun), FileManager.default.isExecutableFile(atPath: binary) else {
        return "MPI rows skipped: mpirun or selectjob-mpi is missing (make bench installs Open MPI and builds it)."
    }
    var sentences: [String] = []
    for processes in [1, 2] {
        let measured = try zeroAndFiveIterations(
            folder: folder, name: "mpi-\(processes)", method: "", budget: budget,
            launch: {
                // --bind-to none: Open MPI binds each rank to one core by default, which would leave a
                // 2-thread rank on one core (the rows dated 2026-11-23 were measured with that binding).
                (mpirun, ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", String(processes), binary,
                          "run", "--quiet", "--force", "--log-level", "error",
                          "--threads", String(max(1, threads / processes)), $0])
            },
            label: { "`mpirun -np \(processes) selectjob-mpi run`, ActiveFT, \(rows) × 384, K = \(budget), full pool, \($0) iterations (peak: largest rank)" },
            row: row)
        let perIteration = (measured[5]!.0 - measured[0]!.0) / 5
        sentences.append(String(format: "P = %d: %.1f s per iteration, load, set-up and final step %.0f s, largest rank %.0f MB",
                                processes, perIteration, measured[0]!.0, max(measured[0]!.1, measured[5]!.1)))
    }
    return "The same full-pool job under mpirun on this machine's 2 cores (one run each): " + sentences.joined(separator: "; ") + "."
}

/// The PyTorch reference (`Benchmarks/reference/activeft_reference.py`) on the suite's pool, K = N/100,
/// with 10 and with 30 iterations, through `python` (a Python with torch, h5py and numpy; `make bench`
/// installs one in a venv): its time per iteration is (t₃₀ − t₁₀)/20 and 300 iterations are
/// t₁₀ + 290 per iteration. Returns (projected seconds for 300, sentence), or nil with why it was skipped.
func referenceRows(folder: String, rows: Int, python: String?, referenceDir: String?, repetitions: Int,
                   threads: Int, row: (String, (Double, Double, Int)) -> Void) throws -> (seconds: Double?, sentence: String) {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("reference/activeft_reference.py").path
    guard let python, FileManager.default.isExecutableFile(atPath: python),
          (try? runChild(python, ["-c", "import torch, h5py"]))?.status == 0 else {
        return (nil, "Reference rows skipped: no Python with torch and h5py (`--reference-python`; `make bench` installs one in .build/reference-venv).")
    }
    var measured: [Int: Double] = [:]
    var source = ""
    for iterations in [10, 30] {
        let arguments = [script, folder + "/pool.h5", String(rows / 100), String(iterations), "--threads", String(threads)]
            + (referenceDir.map { ["--reference-dir", $0] } ?? [])
        var seconds: [Double] = [], peaks: [Double] = []
        for _ in 0..<min(repetitions, 3) {
            let child = try runChild(python, arguments)
            guard child.status == 0, let data = child.stdout.split(separator: "\n").last.map({ Data($0.utf8) }),
                  let answer = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw NSError(domain: "bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "the reference failed (exit \(child.status)): \(child.stdout)"])
            }
            source = answer["source"] as? String ?? ""
            seconds.append(child.seconds)
            peaks.append(Double(child.peakBytes) / 1_048_576)
        }
        measured[iterations] = median(seconds)
        row("PyTorch reference (\(source)), ActiveFT 1 %, \(iterations) iterations, whole process, \(threads) threads",
            (median(seconds), median(peaks), seconds.count))
    }
    let perIteration = (measured[30]! - measured[10]!) / 20
    let projected = measured[10]! + 290 * perIteration
    return (projected, String(format: "The reference: %.3f s per iteration ((t₃₀ − t₁₀)/20), so its 300 iterations ≈ %.1f s (t₁₀ + 290 iterations).",
                              perIteration, projected))
}

let endToEndLabel = "`selectjob run`, ActiveFT 1 %, 300 iterations: load, select, commit"

/// The selectjob binary on the suite's ActiveFT 1 % job, load to commit, `repetitions` times
/// (--force: every repetition computes, instead of being skipped as unchanged since the first);
/// with `iterations`, a job of its own with that many iterations (0: the set-up and final step).
func endToEndRun(folder: String, repetitions: Int, threads: Int, selectjob: String,
                 iterations: Int? = nil) throws -> (Double, Double, Int) {
    let name = iterations.map { "bench-activeft-1pct-\($0)-iterations" } ?? "bench-activeft-1pct"
    let job = folder + "/\(name).json"
    let method = iterations.map { #"{"name": "activeft", "iterations": \#($0)}"# } ?? #"{"name": "activeft"}"#
    try Data("""
        {"name": "\(name)", "features": {"path": "pool.h5", "ids": "ids", "labels": "labels"},
         "method": \(method), "budget": {"percent": 1}, "database": "bench.sqlite"}
        """.utf8).write(to: URL(fileURLWithPath: job))
    return try timeCommand(selectjob, repetitions: repetitions) { _ in
        ["run", "--quiet", "--force", "--log-level", "error", "--threads", String(threads), job]
    }
}

/// The floor of the 1 % job (``exactRunFloor``) beside the reference: how fast any exact run could be
/// here, and so the largest ratio to the reference this machine allows.
func floorSentence(folder: String, rows: Int, columns: Int, repetitions: Int, threads: Int, selectjob: String,
                   reference: Double?, row: (String, (Double, Double, Int)) -> Void) throws -> String {
    let setUp = try endToEndRun(folder: folder, repetitions: repetitions, threads: threads, selectjob: selectjob,
                                iterations: 0)
    row("`selectjob run`, ActiveFT 1 %, 0 iterations: load, set-up, final step, commit", setUp)
    let floor = exactRunFloor(rows: rows, columns: columns, centroids: rows / 100, iterations: 300, setUp: setUp.0,
                              threads: threads)
    var sentence = String(format: " The floor of an exact run here: %.2f s of set-up plus 300 × (%.2f ms to read the features once + %.2f ms for the centroid term's 1.5·K²·d multiply-adds at this machine's dgemm rate) = %.2f s",
                          setUp.0, floor.pass * 1000, floor.centroidTerm * 1000, floor.seconds)
    if let reference {
        sentence += String(format: ", %.1f× the reference at most.", reference / floor.seconds)
    } else {
        sentence += "."
    }
    return sentence
}

/// " selectjob took X s: R× faster than the reference's projection", both measured in this run.
func speedup(ours: Double, reference: Double?) -> String {
    guard let reference else { return "" }
    return String(format: " The whole `selectjob run` (%.2f s, median) is %.1f× faster than that, measured in the same run.",
                  ours, reference / ours)
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
}

func runSuite(arguments: [String]) throws {
    func option(_ name: String, _ fallback: String) -> String {
        guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return fallback }
        return arguments[i + 1]
    }
    let output = option("--output", "BENCHMARKS.md")
    let repetitions = Int(option("--repetitions", "5")) ?? 5
    let threads = Int(option("--threads", String(ParallelChunks.processorCount))) ?? 1
    let rows = Int(option("--rows", String(pool))) ?? pool
    let dimensions = Int(option("--dimensions", String(width))) ?? width
    let largeRows = Int(option("--large-rows", "1000000")) ?? 1_000_000
    let imagenetRowCount = Int(option("--imagenet-rows", "1281167")) ?? 1_281_167
    let costModel = !arguments.contains("--no-cost-model")
    let loadRowCount = Int(option("--load-rows", "1281167")) ?? 1_281_167
    let vtlRowCount = Int(option("--vtl-rows", "1000000")) ?? 1_000_000
    let referencePython = arguments.contains("--reference-python") ? option("--reference-python", "") : nil
    let referenceDir = arguments.contains("--reference-dir") ? option("--reference-dir", "") : nil
    // --part a,b (the Makefile's PART=…) measures and rewrites only those sections; default: all.
    var parts = BenchPart.allCases
    if arguments.contains("--part") {
        parts = try option("--part", "").split(separator: ",").map { name in
            guard let part = BenchPart(rawValue: String(name)) else {
                throw NSError(domain: "bench", code: 64, userInfo: [NSLocalizedDescriptionKey:
                    "--part: expected some of \(BenchPart.allCases.map(\.rawValue).joined(separator: ", ")), got \(name)"])
            }
            return part
        }
    }
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
        let whole = try ours ?? endToEndRun(folder: folder, repetitions: repetitions, threads: threads, selectjob: selectjob)
        row(endToEndLabel, whole)
        let reference = try referenceRows(folder: folder, rows: rows, python: referencePython, referenceDir: referenceDir,
                                          repetitions: repetitions, threads: threads, row: row)
        let floor = try floorSentence(folder: folder, rows: rows, columns: dimensions, repetitions: repetitions,
                                      threads: threads, selectjob: selectjob, reference: reference.seconds, row: row)
        try write(.reference, """
            The PyTorch reference: yichen928/ActiveFT's `ActiveFT_CIFAR.py` computation on the CPU
            (`Benchmarks/reference/activeft_reference.py`, in a venv with torch that `make bench` installs; the
            reference's own code with `ACTIVEFT_REFERENCE_DIR`) on the core table's pool with K = N/100, seeded
            `random.sample` initial rows, as whole processes like the `selectjob run` row.

            \(takeTable())

            \(reference.sentence)\(speedup(ours: whole.0, reference: reference.seconds))\(floor)
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
        let text = try imagenetRows(folder: folder, rows: imagenetRowCount, threads: threads, selectjob: selectjob,
                                    including: .variants, row: row)
        try write(.imagenet, "\(takeTable())\n\n\(text)")
    }
    if parts.contains(.mpi), imagenetRowCount > 0 {
        let text = try imagenetRows(folder: folder, rows: imagenetRowCount, threads: threads, selectjob: selectjob,
                                    including: .mpi, row: row)
        try write(.mpi, "\(takeTable())\n\n\(text)")
    }
    if parts.contains(.scale) {
        let text = try scaleSection(folder: folder, threads: threads, repetitions: repetitions, selectjob: selectjob,
                                    costModel: costModel, loadRowCount: loadRowCount, vtlRowCount: vtlRowCount, row: row)
        try write(.scale, "\(table.isEmpty ? "" : takeTable() + "\n\n")\(text)")
    }
}

/// Writes `line` to standard output at once (unbuffered, so a log file shows each row as it is measured).
func emit(_ line: Any) {
    FileHandle.standardOutput.write(Data("\(line)\n".utf8))
}

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    if arguments.first == "case", arguments.count == 4 {
        let seconds = try measure(arguments[1], folder: arguments[2], threads: Int(arguments[3]) ?? 1)
        emit(seconds)
    } else {
        try runSuite(arguments: arguments)
    }
} catch {
    FileHandle.standardError.write(Data("selectjob-bench: \(error.localizedDescription)\n".utf8))
    exit(1)
}
