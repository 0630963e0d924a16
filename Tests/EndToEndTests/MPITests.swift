import Foundation
import GRDB
import HDF5
import Testing
import TestSupport

/// `selectjob-mpi`, built next to `selectjob`.
let selectjobMPIBinary = selectjobBinary.deletingLastPathComponent().appendingPathComponent("selectjob-mpi")

/// Open MPI's launcher (the Makefile installs openmpi-bin).
let mpirunBinary = URL(fileURLWithPath: "/usr/bin/mpirun")

/// The launcher's arguments for `processes` ranks of `selectjob-mpi` (root allowed, more ranks than cores).
func mpirunArguments(_ processes: Int, _ arguments: [String]) -> [String] {
    ["--allow-run-as-root", "--oversubscribe", "-np", "\(processes)", selectjobMPIBinary.path] + arguments
}

/// One run's record: each pick as rank, row, sample id and the score's bits, and the curve's bits.
struct RecordedRun: Equatable, CustomStringConvertible {
    let picks: [String]
    let curve: [UInt64]
    let fingerprint: String

    init(_ database: DatabaseQueue) throws {
        (picks, curve, fingerprint) = try database.read { db in
            let picks = try Row.fetchAll(db, sql: "SELECT rank, row_index, sample_id, score FROM selections ORDER BY rank")
                .map { row -> String in
                    let score: Double = row["score"]
                    let rank: Int = row["rank"], index: Int = row["row_index"], id: DatabaseValue = row["sample_id"]
                    return "\(rank):\(index):\(id):\(score.bitPattern)"
                }
            let curve = try Double.fetchAll(db, sql: "SELECT value FROM run_metrics ORDER BY step").map(\.bitPattern)
            let fingerprint = try String.fetchOne(db, sql: "SELECT features_fingerprint FROM runs") ?? ""
            return (picks, curve, fingerprint)
        }
    }

    var description: String { "\(picks.count) picks, first \(picks.prefix(3)), \(curve.count) curve values" }
}

/// The same job under `mpirun -np 1...4` gives the selection `selectjob run` gives, to the last bit,
/// and rank 0 alone writes the database; a rank's failure stops every rank with its exit status;
/// a killed rank leaves nothing committed.
@Suite(.serialized) struct MPITests {
    let workspace: Workspace

    init() throws {
        #expect(FileManager.default.isExecutableFile(atPath: mpirunBinary.path),
                "Open MPI's mpirun is missing: `make test` installs openmpi-bin")
        #expect(FileManager.default.isExecutableFile(atPath: selectjobMPIBinary.path), "selectjob-mpi is not built")
        workspace = try Workspace()
        // The demo's shape (5,000 × 64, as `make run` generates) and a pool whose 4,500 rows divide
        // by none of 2, 3, 4 nor into whole 1,024-row blocks.
        try workspace.writeFeatures("data/demo.h5", rows: 5000, dimensions: 64)
        try workspace.writeFeatures("data/odd.h5", rows: 4500, dimensions: 16)
    }

    static let jobs: [(name: String, features: String, method: String)] = [
        ("activeft-demo", "demo", #"{"name": "activeft", "iterations": 30}"#),
        ("activeft-odd", "odd", #"{"name": "activeft", "iterations": 30}"#),
        ("activeft-batches", "odd", #"{"name": "activeft", "iterations": 20, "batch_size": 1500}"#),
        ("vtl-undirected", "odd", #"{"name": "vtl"}"#),
        ("vtl-targets", "odd", #"{"name": "vtl", "targets": {"path": "../data/odd.h5", "dataset": "features", "rows": [0, 40]}}"#),
        ("kmeans", "odd", #"{"name": "kmeans", "max_iterations": 40}"#),
    ]

    @Test("identical selection for 1, 2, 3 and 4 ranks", arguments: MPITests.jobs.map(\.name))
    func identicalSelection(job name: String) throws {
        let spec = Self.jobs.first { $0.name == name }!
        let features = spec.features == "demo" ? "../data/demo.h5" : "../data/odd.h5"
        let job = try workspace.writeJob(name, method: spec.method, budget: #"{"count": 45}"#, features: features, extra: "")
        let single = try selectjob(["run", "--quiet", "--threads", "1", "--db", workspace.path("data/one-\(name).sqlite"), job],
                                   in: workspace.url)
        #expect(single.status == 0, "\(single.stderr)")
        let expected = try RecordedRun(workspace.database("data/one-\(name).sqlite"))
        #expect(expected.picks.count == 45)
        for processes in 1...4 {
            let database = "data/p\(processes)-\(name).sqlite"
            let run = try selectjob(mpirunArguments(processes, ["run", "--quiet", "--threads", "2", "--db", workspace.path(database), job]),
                                    in: workspace.url, executable: mpirunBinary)
            #expect(run.status == 0, "\(processes) ranks: \(run.stderr)")
            #expect(run.stdout.components(separatedBy: "job       \(name)").count == 2, "only rank 0 prints: \(run.stdout)")
            let recorded = try RecordedRun(workspace.database(database))
            #expect(recorded == expected, "\(processes) ranks")
            let runs = try workspace.database(database).read { db in
                try Row.fetchAll(db, sql: "SELECT status, n FROM runs").map { "\($0["status"] as String) \($0["n"] as Int)" }
            }
            #expect(runs == ["succeeded \(spec.features == "demo" ? 5000 : 4500)"], "\(processes) ranks: one run, by rank 0")
        }
    }

    /// The pool written in three shards whose boundaries fall inside 1,024-row blocks is the same
    /// pool: the same picks, curve and fingerprint as one file, in one process and across ranks.
    @Test func aPoolInShardsIsTheSamePool() throws {
        let whole = try HDF5File.open(readingAt: workspace.path("data/odd.h5"))
        let values = try whole.dataset("features").readFloats(), ids = try whole.dataset("ids").readInt64s()
        let labels = try whole.dataset("labels").readInt64s()
        try FileManager.default.createDirectory(atPath: workspace.path("data/shards"), withIntermediateDirectories: true)
        for (index, rows) in [0..<1500, 1500..<3200, 3200..<4500].enumerated() {
            let shard = try HDF5File.create(at: workspace.path("data/shards/odd_00\(index).h5"))
            try shard.write(floats: Array(values[(rows.lowerBound * 16)..<(rows.upperBound * 16)]), shape: [rows.count, 16],
                            to: "features", chunkRows: 256, gzipLevel: 4)
            try shard.write(int64s: Array(ids[rows]), to: "ids")
            try shard.write(int64s: Array(labels[rows]), to: "labels")
        }
        let method = #"{"name": "kmeans", "max_iterations": 40}"#
        let one = try workspace.writeJob("one-file", method: method, budget: #"{"count": 45}"#, features: "../data/odd.h5", extra: "")
        let sharded = try workspace.writeJob("shards", method: method, budget: #"{"count": 45}"#,
                                             features: "../data/shards/odd_*.h5", extra: "")
        #expect(try selectjob(["run", "--quiet", "--db", workspace.path("data/whole.sqlite"), one], in: workspace.url).status == 0)
        let expected = try RecordedRun(workspace.database("data/whole.sqlite"))
        let single = try selectjob(["run", "--quiet", "--db", workspace.path("data/shards-1.sqlite"), sharded], in: workspace.url)
        #expect(single.status == 0, "\(single.stderr)")
        #expect(try RecordedRun(workspace.database("data/shards-1.sqlite")) == expected)
        for processes in [2, 3] {
            let database = workspace.path("data/shards-p\(processes).sqlite")
            let run = try selectjob(mpirunArguments(processes, ["run", "--quiet", "--db", database, sharded]),
                                    in: workspace.url, executable: mpirunBinary)
            #expect(run.status == 0, "\(processes) ranks: \(run.stderr)")
            #expect(try RecordedRun(workspace.database("data/shards-p\(processes).sqlite")) == expected, "\(processes) ranks")
        }
    }

    @Test func aMethodThatCannotRunDistributedExits64AndWritesNothing() throws {
        let job = try workspace.writeJob("probcover", method: #"{"name": "probcover"}"#, features: "../data/odd.h5", extra: "")
        let run = try selectjob(mpirunArguments(2, ["run", "--quiet", "--db", workspace.path("data/none.sqlite"), job]),
                                in: workspace.url, executable: mpirunBinary)
        #expect(run.status == 64)
        #expect(run.stderr.contains("method 'probcover' cannot run on 2 processes"), "\(run.stderr)")
        #expect(run.stderr.contains("run it in one process (without mpirun)"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: workspace.path("data/none.sqlite")))
        // ActiveFT's farthest-point seeding reads the whole pool: refused too, naming the parameter.
        let fps = try workspace.writeJob("fps", method: #"{"name": "activeft", "init": "fps"}"#, features: "../data/odd.h5", extra: "")
        let seeded = try selectjob(mpirunArguments(3, ["run", "--quiet", "--db", workspace.path("data/none.sqlite"), fps]),
                                   in: workspace.url, executable: mpirunBinary)
        #expect(seeded.status == 64)
        #expect(seeded.stderr.contains("\"init\""), "\(seeded.stderr)")
    }

    @Test func badDataInOneRanksBlockStopsEveryRankNamingTheRank() throws {
        // Row 3,000 lies in rank 1's block (rows 2,048..<4,500 of 2 ranks) only.
        try workspace.writeFeatures("data/nan.h5", rows: 4500, dimensions: 16) { $0[3000 * 16 + 5] = .nan }
        let job = try workspace.writeJob("nan", features: "../data/nan.h5", extra: "")
        let run = try selectjob(mpirunArguments(2, ["run", "--quiet", "--db", workspace.path("data/nan.sqlite"), job]),
                                in: workspace.url, executable: mpirunBinary)
        #expect(run.status == 65)
        #expect(run.stderr.contains("rank 1:") && run.stderr.contains("3000"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: workspace.path("data/nan.sqlite")))
    }

    @Test func killingOneRankMidRunCommitsNothingAndTheRunIsMarkedCrashed() throws {
        let launcher = try startEndlessRun("killed", processes: 2)
        kill(try #require(rankProcess(1, launcher: launcher.processIdentifier)), SIGKILL)
        launcher.waitUntilExit()
        #expect(launcher.terminationStatus != 0)
        // Nothing committed; the next reader finds the job's lock free and marks the run crashed.
        let listing = try selectjob(["runs", "--db", workspace.path("data/killed.sqlite")], in: workspace.url)
        #expect(listing.status == 0, "\(listing.stderr)")
        let (status, picks) = try statusAndPicks("killed")
        #expect(["crashed", "failed", "cancelled"].contains(status), "status \(status)")
        #expect(picks == 0)
    }

    @Test func sigtermToOneRankCancelsEveryRankAndRankZeroRecordsIt() throws {
        let launcher = try startEndlessRun("stopped", processes: 3)
        // As a scheduler's stop reaches one node first: SIGTERM to rank 1 alone stops every rank at
        // the same step (the stop test is collective), and rank 0 records the run.
        kill(try #require(rankProcess(1, launcher: launcher.processIdentifier)), SIGTERM)
        launcher.waitUntilExit()
        #expect(launcher.terminationStatus != 0)
        let (status, picks) = try statusAndPicks("stopped")
        #expect(status == "cancelled")
        #expect(picks == 0)
    }

    /// Starts an ActiveFT job of a million iterations named `name` (database data/NAME.sqlite) under
    /// mpirun and returns once rank 0 has recorded it as 'running'.
    private func startEndlessRun(_ name: String, processes: Int) throws -> Process {
        let job = try workspace.writeJob(name, method: #"{"name": "activeft", "iterations": 1000000}"#,
                                         features: "../data/odd.h5", extra: "")
        let launcher = prepareProcess(mpirunBinary, mpirunArguments(processes, ["run", "--quiet", "--db",
                                                                                workspace.path("data/\(name).sqlite"), job]),
                                      in: workspace.url)
        launcher.standardOutput = FileHandle.nullDevice
        launcher.standardError = FileHandle.nullDevice
        try launcher.run()
        let started = eventually(seconds: 60) { (try? statusAndPicks(name).status) == "running" }
        #expect(started)
        return launcher
    }

    /// The status of the one run in data/NAME.sqlite and how many selections it holds.
    private func statusAndPicks(_ name: String) throws -> (status: String, picks: Int) {
        try workspace.database("data/\(name).sqlite").read { db in
            (try String.fetchOne(db, sql: "SELECT status FROM runs") ?? "", try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM selections") ?? -1)
        }
    }

    /// The pid of `selectjob-mpi`'s rank `rank` under the launcher `launcher` (Open MPI sets
    /// OMPI_COMM_WORLD_RANK in each rank's environment).
    private func rankProcess(_ rank: Int, launcher: Int32) -> Int32? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[1]) == launcher,
                  let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            let variables = environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if variables.contains("OMPI_COMM_WORLD_RANK=\(rank)") { return pid }
        }
        return nil
    }
}
