import OpenBLAS
import Foundation
import GRDB
import HDF5
import Selection
import Testing
import TestSupport

/// The committed guard for "same bits": a fixed set of small jobs through the binary — every
/// registered method, ActiveFT and k-means on both sides of the large-K search threshold, batches,
/// labelled rounds and one MPI run — each reduced to a digest of its ranked rows, score bits and curve
/// bits, compared with the digests committed in `Tests/Fixtures/same-bits/digests.json`.
///
/// A change that moves a pick, a score or a loss value fails here until the digests are updated in the
/// same commit (`SELECTJOB_RECORD_DIGESTS=1 swift test --filter SameBitsGuardTests` rewrites them),
/// with a CHANGELOG line saying why. BLAS kernels round differently on different CPUs, so digests are
/// kept per OpenBLAS kernel family (``BLAS/kernels``); a family with none recorded fails with the
/// instruction to record them on an unchanged main.
@Suite(.serialized) struct SameBitsGuardTests {
    static let digestsFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/same-bits/digests.json")

    /// Job name, features file, method, budget and extra top-level keys.
    static let jobs: [(name: String, features: String, method: String, budget: Int, extra: String)] = [
        ("random", "pool", #"{"name": "random"}"#, 30, ""),
        ("kcenter", "pool", #"{"name": "kcenter"}"#, 30, ""),
        ("kcenter-euclidean", "pool", #"{"name": "kcenter", "metric": "euclidean", "first_row": 0}"#, 30, ""),
        ("kmeans", "pool", #"{"name": "kmeans"}"#, 30, ""),
        ("typiclust", "pool", #"{"name": "typiclust"}"#, 30, ""),
        ("probcover", "pool", #"{"name": "probcover"}"#, 30, ""),
        ("herding", "pool", #"{"name": "herding"}"#, 30, ""),
        ("activeft", "pool", #"{"name": "activeft", "iterations": 40}"#, 30, ""),
        ("activeft-kmeanspp", "pool", #"{"name": "activeft", "iterations": 40, "init": "kmeans++"}"#, 30, ""),
        ("activeft-batches", "pool", #"{"name": "activeft", "iterations": 30, "batch_size": 200}"#, 30, ""),
        ("vtl", "pool", #"{"name": "vtl", "normalize": true}"#, 30, ""),
        ("vtl-targets", "pool", #"{"name": "vtl", "targets": {"path": "../data/pool.h5", "dataset": "features", "rows": [0, 50]}}"#, 30, ""),
        ("itl", "pool", #"{"name": "itl", "normalize": true}"#, 30, ""),
        ("ctl", "pool", #"{"name": "ctl", "targets": {"path": "../data/pool.h5", "dataset": "features", "rows": [0, 50]}}"#, 30, ""),
        ("cosine", "pool", #"{"name": "cosine", "targets": {"path": "../data/pool.h5", "dataset": "features", "rows": [0, 50]}}"#, 30, ""),
        ("least_confidence", "pool", #"{"name": "least_confidence", "predictions": {"path": "../data/inputs.h5"}}"#, 30, ""),
        ("margin", "pool", #"{"name": "margin", "predictions": {"path": "../data/inputs.h5"}}"#, 30, ""),
        ("ratio", "pool", #"{"name": "ratio", "predictions": {"path": "../data/inputs.h5"}}"#, 30, ""),
        ("entropy", "pool", #"{"name": "entropy", "predictions": {"path": "../data/inputs.h5", "dataset": "logits", "kind": "logits"}}"#, 30, ""),
        ("information_density", "pool", #"{"name": "information_density", "predictions": {"path": "../data/inputs.h5"}, "targets": {"path": "../data/pool.h5", "dataset": "features", "rows": [0, 50]}}"#, 30, ""),
        ("atl_uncertainty", "pool", #"{"name": "atl_uncertainty", "validation": {"path": "../data/inputs.h5"}}"#, 30, ""),
        ("atlas", "pool", #"{"name": "atlas", "validation": {"path": "../data/inputs.h5"}, "per_iteration": 10}"#, 30, ""),
        ("adaptive_representative", "pool", #"{"name": "adaptive_representative", "per_iteration": 10}"#, 30,
         #", "labelled": {"job": "random"}"#),
        ("dropquery", "pool", #"{"name": "dropquery"}"#, 30, #", "labelled": {"job": "kmeans", "labels": "pool"}"#),
        ("cluster_margin", "pool", #"{"name": "cluster_margin"}"#, 30, #", "labelled": {"job": "kmeans", "labels": "pool"}"#),
        ("badge", "pool", #"{"name": "badge"}"#, 30, #", "labelled": {"job": "kmeans", "labels": "pool"}"#),
        ("typiclust_switch", "pool", #"{"name": "typiclust_switch"}"#, 30, #", "labelled": {"job": "kmeans", "labels": "pool"}"#),
        ("vtl-round1", "pool", #"{"name": "vtl", "normalize": true}"#, 12, ""),
        ("vtl-round2", "pool", #"{"name": "vtl", "normalize": true}"#, 18, #", "labelled": {"job": "vtl-round1"}"#),
        ("kmeans-round2", "pool", #"{"name": "kmeans"}"#, 20, #", "labelled": {"job": "kmeans"}"#),
        // A pool of more than one 1,024-row block: the job the MPI run repeats on 2 ranks.
        ("activeft-3000", "large", #"{"name": "activeft", "iterations": 20}"#, 60, ""),
        // K above the grouped search's threshold (2,048): the target search over the centroids.
        ("activeft-large-k", "large", #"{"name": "activeft", "iterations": 5}"#, 2100, ""),
        ("kmeans-large-k", "large", #"{"name": "kmeans", "max_iterations": 8}"#, 2100, ""),
    ]

    /// Every registered method is guarded by at least one job.
    @Test func everyRegisteredMethodHasAGuardedJob() {
        let guarded = Set(Self.jobs.compactMap { $0.method.firstMatch(of: /"name": "([a-z_]+)"/).map { String($0.1) } })
        for name in MethodRegistry.names {
            #expect(guarded.contains(name), "no same-bits job runs \(name): add one to SameBitsGuardTests.jobs")
        }
    }

    /// The MPI run (2 ranks) of this job must give the single-process digest, recorded as its own name too.
    static let distributedJob = "activeft-3000"

    let workspace: Workspace

    init() throws {
        workspace = try Workspace()
        try workspace.writeFeatures("data/pool.h5", rows: 600, dimensions: 16)
        try workspace.writeFeatures("data/large.h5", rows: 3000, dimensions: 16)
        let pool = try HDF5File.open(readingAt: workspace.path("data/pool.h5"))
        let features = try pool.dataset("features").readFloats()
        let labels = try pool.dataset("labels").readInt64s()
        let file = try HDF5File.create(at: workspace.path("data/inputs.h5"))
        // Class probabilities over 3 classes that vary smoothly with the row; logits of another pattern.
        let probabilities = (0..<600).flatMap { row -> [Float] in
            let a = Float(row % 17) / 40, b = Float(row % 11) / 40
            return [1 - a - b, a, b]
        }
        try file.write(floats: probabilities, shape: [600, 3], to: "predictions")
        try file.write(floats: (0..<1800).map { Float(($0 * 37) % 23) / 7 }, shape: [600, 3], to: "logits")
        // A validation set: rows 0..<150 of the pool, the model wrong on every third.
        try file.write(floats: Array(features[0..<(150 * 16)]), shape: [150, 16], to: "features")
        try file.write(int64s: Array(labels[0..<150]), to: "labels")
        try file.write(int64s: (0..<150).map { $0 % 3 == 0 ? (labels[$0] + 1) % 5 : labels[$0] }, to: "predicted")
    }

    /// FNV-1a over the run's ranked rows with their scores' bits, then its curve's names, steps and bits.
    func digest(job: String, database: String = "data/guard.sqlite") throws -> String {
        try workspace.database(database).read { db in
            let run = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM runs WHERE job = ? AND status = 'succeeded'",
                                         arguments: [job])
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            func feed(_ text: String) { for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 } }
            for row in try Row.fetchAll(db, sql: "SELECT row_index, score FROM selections WHERE run_id = ? ORDER BY rank",
                                        arguments: [run]) {
                feed("\(row["row_index"] as Int):\((row["score"] as Double).bitPattern);")
            }
            for row in try Row.fetchAll(db, sql: "SELECT name, step, value FROM run_metrics WHERE run_id = ? ORDER BY name, step",
                                        arguments: [run]) {
                feed("\(row["name"] as String):\(row["step"] as Int):\((row["value"] as Double).bitPattern);")
            }
            return String(format: "%016llx", hash)
        }
    }

    @Test func everyGuardedJobKeepsItsBits() throws {
        var measured: [String: String] = [:]
        for job in Self.jobs {
            let path = try workspace.writeJob(job.name, method: job.method, budget: #"{"count": \#(job.budget)}"#,
                                              features: "../data/\(job.features).h5",
                                              extra: #", "database": "../data/guard.sqlite""# + job.extra)
            let outcome = try selectjob(["run", "--quiet", path], in: workspace.url, timeout: 600)
            try #require(outcome.status == 0, "\(job.name): \(outcome.stderr)")
            measured[job.name] = try digest(job: job.name)
        }
        let mpi = try selectjob(mpirunArguments(2, ["run", "--quiet", "--db", workspace.path("data/mpi.sqlite"),
                                                    "jobs/\(Self.distributedJob).json"]),
                                in: workspace.url, executable: mpirunBinary, timeout: 600)
        try #require(mpi.status == 0, "mpirun: \(mpi.stderr)")
        measured["\(Self.distributedJob) (2 ranks)"] = try digest(job: Self.distributedJob, database: "data/mpi.sqlite")
        #expect(measured["\(Self.distributedJob) (2 ranks)"] == measured[Self.distributedJob],
                "the distributed run must give the single-process bits")

        var recorded = try Self.recordedDigests()
        let kernels = BLAS.kernels
        if ProcessInfo.processInfo.environment["SELECTJOB_RECORD_DIGESTS"] == "1" {
            recorded[kernels] = measured
            try Self.write(recorded)
            print("recorded \(measured.count) digests for BLAS kernels \(kernels) in \(Self.digestsFile.path)")
            return
        }
        let expected = try #require(recorded[kernels], """
            no digests recorded for OpenBLAS kernels \(kernels) (recorded: \(recorded.keys.sorted().joined(separator: ", "))); \
            on an unchanged main run SELECTJOB_RECORD_DIGESTS=1 swift test --filter SameBitsGuardTests and commit the file
            """)
        let moved = measured.keys.sorted().filter { measured[$0] != expected[$0] }
        #expect(moved.isEmpty, """
            these jobs changed their picks, scores or curve bits: \(moved.joined(separator: ", ")). If that is intended, \
            record the new digests (SELECTJOB_RECORD_DIGESTS=1 swift test --filter SameBitsGuardTests) in the same commit, \
            with a CHANGELOG line saying why
            """)
        #expect(Set(expected.keys) == Set(measured.keys), "the guarded jobs changed: record the digests again")
    }

    static func recordedDigests() throws -> [String: [String: String]] {
        guard FileManager.default.fileExists(atPath: digestsFile.path) else { return [:] }
        return try JSONDecoder().decode([String: [String: String]].self, from: Data(contentsOf: digestsFile))
    }

    static func write(_ digests: [String: [String: String]]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileManager.default.createDirectory(at: digestsFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        try (encoder.encode(digests) + Data("\n".utf8)).write(to: digestsFile)
    }
}
