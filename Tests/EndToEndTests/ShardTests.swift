import Foundation
import GRDB
import HDF5
import SyntheticData
import Testing
import TestSupport

/// Features written in shards (`feats_000.h5 …`): a glob or a list of files is one pool. (The same
/// pool across MPI ranks: `MPITests.aPoolInShardsIsTheSamePool`.)
@Suite struct ShardTests {
    let workspace: Workspace

    /// A 300 × 8 mixture the shards are cut from.
    static let pool = GaussianMixture(rows: 300, dimensions: 8, classes: 4, subclustersPerClass: 2).generate(seed: 3).features

    init() throws {
        workspace = try Workspace()
        try writeShard("a", rows: 0..<100)
        try writeShard("b", rows: 100..<250)
    }

    /// A shard of `rows` of the pool (its first `columns` columns), ids 1,000 + row.
    func writeShard(_ name: String, rows: Range<Int>, columns: Int = 8, ids: [Int64]? = nil) throws {
        let file = try HDF5File.create(at: workspace.path("data/part_\(name).h5"))
        try file.write(floats: rows.flatMap { r in (0..<columns).map { Self.pool[r * 8 + $0] } },
                       shape: [rows.count, columns], to: "features")
        try file.write(int64s: ids ?? rows.map { 1_000 + Int64($0) }, to: "ids")
    }

    func run(_ name: String, path: String) throws -> Outcome {
        try Data("""
            {"name": "\(name)", "features": {"path": \(path), "ids": "ids"}, "method": {"name": "kcenter", "first_row": 0},
             "budget": {"count": 10}, "database": "../data/sel.sqlite"}
            """.utf8).write(to: workspace.url.appendingPathComponent("jobs/\(name).json"))
        return try selectjob(["run", "--quiet", "jobs/\(name).json"], in: workspace.url, timeout: 120)
    }

    @Test func aGlobOrAListIsOnePoolInOrder() throws {
        let glob = try run("glob", path: #""../data/part_*.h5""#)
        #expect(glob.status == 0, "\(glob.stderr)")
        #expect(glob.stdout.contains("pool      N=250, d=8"))
        let list = try run("list", path: #"["../data/part_a.h5", "../data/part_b.h5"]"#)
        #expect(list.status == 0, "\(list.stderr)")
        try workspace.database().read { db in
            let runs = try Row.fetchAll(db, sql: "SELECT features_path, features_fingerprint FROM runs ORDER BY id")
            #expect(runs[0]["features_fingerprint"] as String == runs[1]["features_fingerprint"] as String)
            #expect((runs[0]["features_path"] as String).hasSuffix("data/part_*.h5"), "the glob is recorded")
            // The picks are pool rows across both shards, with each shard's ids.
            let picks = try Row.fetchAll(db, sql: "SELECT row_index, sample_id FROM selections WHERE run_id = 1")
            #expect(picks.allSatisfy { ($0["sample_id"] as Int) == 1_000 + ($0["row_index"] as Int) })
            #expect(picks.contains { ($0["row_index"] as Int) >= 100 })
        }
    }

    @Test func shardsThatDoNotFitArePointedOut() throws {
        try writeShard("c", rows: 250..<300, ids: (0..<50).map { 1_000 + Int64($0) })
        let duplicate = try run("duplicate", path: #""../data/part_*.h5""#)
        #expect(duplicate.status == 65)
        #expect(duplicate.stderr.contains("part_*.h5") && duplicate.stderr.contains("1000"), "\(duplicate.stderr)")
        try FileManager.default.removeItem(atPath: workspace.path("data/part_c.h5"))
        try writeShard("c", rows: 250..<300, columns: 6)
        let width = try run("width", path: #""../data/part_*.h5""#)
        #expect(width.status == 65)
        #expect(width.stderr.contains("part_c.h5: this shard does not fit the pool: 6 columns, where"), "\(width.stderr)")
        let none = try run("none", path: #""../data/feats_*.h5""#)
        #expect(none.status == 64)
        #expect(none.stderr.contains(#"features.path: no file matches "../data/feats_*.h5""#), "\(none.stderr)")
        #expect(!FileManager.default.fileExists(atPath: workspace.path("data/sel.sqlite")))
    }
}
