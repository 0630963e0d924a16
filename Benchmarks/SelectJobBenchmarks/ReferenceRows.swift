import OpenBLAS
import FeatureIO
import Foundation
import HDF5
import Reporting
import Selection
import Store
import SyntheticData

/// A features file the reference part runs both sides on: HDF5 with datasets `features`, `ids` and
/// `labels`, N rows, and a name for the rows and sentences.
struct ReferenceData {
    let name: String
    let path: String
    let rows: Int

    /// The real text embeddings `make quality` uses (20,000 × 384 float16), kept in the repository.
    static func realEmbeddings() throws -> ReferenceData {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("quality/debian_dev20k.h5").path
        let rows = try FeatureTable.rowCount(FeatureSource(path: path, dataset: "features"))
        return ReferenceData(name: "the real text embeddings", path: path, rows: rows)
    }
}

/// The PyTorch reference (`Benchmarks/reference/activeft_reference.py`) on `data`, K = N/100, with 10
/// and with 30 iterations, as whole processes, through `python` (a Python with torch, h5py and numpy;
/// `make bench` installs one in a venv): its time per iteration is (t₃₀ − t₁₀)/20 and 300 iterations
/// are t₁₀ + 290 per iteration. Returns (projected seconds for 300, sentence), or nil with why it was
/// skipped.
func referenceRows(data: ReferenceData, python: String?, referenceDir: String?, repetitions: Int,
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
        let arguments = [script, data.path, String(data.rows / 100), String(iterations), "--threads", String(threads)]
            + (referenceDir.map { ["--reference-dir", $0] } ?? [])
        var seconds: [Double] = [], peaks: [Double] = []
        for _ in 0..<min(repetitions, 3) {
            let child = try runChild(python, arguments)
            guard child.status == 0, let line = child.stdout.split(separator: "\n").last.map({ Data($0.utf8) }),
                  let answer = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
                throw NSError(domain: "bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "the reference failed (exit \(child.status)): \(child.stdout)"])
            }
            source = answer["source"] as? String ?? ""
            seconds.append(child.seconds)
            peaks.append(Double(child.peakBytes) / 1_048_576)
        }
        measured[iterations] = median(seconds)
        row("PyTorch reference (\(source)) on \(data.name), ActiveFT 1 %, \(iterations) iterations, whole process",
            (median(seconds), median(peaks), seconds.count))
    }
    let perIteration = (measured[30]! - measured[10]!) / 20
    let projected = measured[10]! + 290 * perIteration
    return (projected, String(format: "%.3f s per iteration ((t₃₀ − t₁₀)/20), so its 300 iterations ≈ %.1f s (t₁₀ + 290 iterations).",
                              perIteration, projected))
}

let endToEndLabel = "`selectjob run`, ActiveFT 1 %, 300 iterations: load, select, commit"

/// The selectjob binary on an ActiveFT 1 % job over `features` (the suite's pool by default), load to
/// commit, `repetitions` times (--force: every repetition computes, instead of being skipped as
/// unchanged since the first); with `iterations`, a job of its own with that many iterations (0: the
/// set-up and final step).
func endToEndRun(folder: String, features: String = "pool.h5", name: String = "bench-activeft-1pct", repetitions: Int,
                 threads: Int, selectjob: String, iterations: Int? = nil) throws -> (Double, Double, Int) {
    let name = iterations.map { "\(name)-\($0)-iterations" } ?? name
    let job = folder + "/\(name).json"
    let method = iterations.map { #"{"name": "activeft", "iterations": \#($0)}"# } ?? #"{"name": "activeft"}"#
    try Data("""
        {"name": "\(name)", "features": {"path": "\(features)", "ids": "ids", "labels": "labels"},
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
    return String(format: " The whole `selectjob run` (%.2f s, median) is %.1f× faster, measured in the same run.",
                  ours, reference / ours)
}
