import OpenBLAS
import FeatureIO
import Foundation
import HDF5
import Reporting
import Selection
import Store
import SyntheticData

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
