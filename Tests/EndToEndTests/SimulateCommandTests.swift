import Foundation
import GRDB
import HDF5
import SyntheticData
import Testing
import TestSupport

/// `selectjob simulate`: rounds recorded as runs, scored on a test set, reused when simulated again.
@Suite struct SimulateCommandTests {
    let workspace: Workspace

    init() throws {
        workspace = try Workspace()
        // One mixture: the first 600 rows are the pool, the other 300 the test set.
        let (features, labels) = GaussianMixture(rows: 900, dimensions: 16, classes: 5, subclustersPerClass: 2).generate(seed: 6)
        let pool = try HDF5File.create(at: workspace.path("data/pool.h5"))
        try pool.write(floats: Array(features[0..<(600 * 16)]), shape: [600, 16], to: "features")
        try pool.write(int64s: Array(labels[0..<600]), to: "labels")
        let test = try HDF5File.create(at: workspace.path("data/test.h5"))
        try test.write(floats: Array(features[(600 * 16)...]), shape: [300, 16], to: "features")
        try test.write(int64s: Array(labels[600...]), to: "labels")
        try Data(#"""
            {"name": "campaign", "features": {"path": "../data/pool.h5", "labels": "labels"},
             "method": {"name": "dropquery"}, "budget": {"count": 10}, "database": "../data/sel.sqlite"}
            """#.utf8).write(to: workspace.url.appendingPathComponent("jobs/campaign.json"))
    }

    func simulate(_ extra: [String] = []) throws -> Outcome {
        try selectjob(["simulate", "jobs/campaign.json", "--rounds", "3", "--per-round", "15", "--seeds", "0,1",
                       "--test", "data/test.h5:features", "--quiet"] + extra, in: workspace.url, timeout: 300)
    }

    @Test func roundsAreRunsScoredOnTheTestSet() throws {
        let outcome = try simulate()
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("campaign: kmeans → dropquery, seeds 0, 1"), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("round  labelled"))
        try workspace.database().read { db in
            let runs = try Row.fetchAll(db, sql: "SELECT job, method, round, labelled_count FROM runs ORDER BY id")
            #expect(runs.count == 6)
            #expect(runs.map { $0["round"] as Int } == [1, 2, 3, 1, 2, 3])
            #expect(runs.map { $0["labelled_count"] as Int } == [0, 15, 30, 0, 15, 30])
            #expect(runs.map { $0["method"] as String } == ["kmeans", "dropquery", "dropquery", "kmeans", "dropquery", "dropquery"])
            #expect(runs[0]["job"] as String == "campaign-simulate-s0-r1")
            let rounds = try Row.fetchAll(db, sql: "SELECT seed, round, labelled_count, accuracy FROM simulations ORDER BY seed, round")
            #expect(rounds.map { $0["labelled_count"] as Int } == [15, 30, 45, 15, 30, 45])
            #expect(rounds.allSatisfy { (0...1).contains($0["accuracy"] as Double) })
            // No round selected a sample twice.
            let picked = try Int.fetchAll(db, sql: "SELECT row_index FROM selections JOIN runs ON runs.id = run_id WHERE runs.job LIKE 'campaign-simulate-s0-%'")
            #expect(picked.count == 45 && Set(picked).count == 45)
        }
        // Simulated again: the same curve, from the same runs.
        let again = try simulate(["--json"])
        #expect(again.status == 0)
        let lines = again.stdout.split(separator: "\n")
        #expect(lines.count == 6)
        let counts = try workspace.database().read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM runs"), try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM simulations"))
        }
        #expect(counts.0 == 6 && counts.1 == 6)
        // The report draws the learning curve.
        let page = try selectjob(["report", "--db", "data/sel.sqlite", "--simulation", "campaign", "-o", "sim.html"],
                                 in: workspace.url, timeout: 60)
        #expect(page.status == 0, "\(page.stderr)")
        let html = try String(contentsOfFile: workspace.path("sim.html"), encoding: .utf8)
        #expect(html.contains("data-figure=\"simulation-accuracy\"") && html.contains("campaign: kmeans → dropquery"))
        #expect(html.contains("15, 30, 45 labelled after rounds 1–3"))
        let unknown = try selectjob(["report", "--db", "data/sel.sqlite", "--simulation", "nothing", "-o", "x.html"],
                                    in: workspace.url, timeout: 60)
        #expect(unknown.status == 64 && unknown.stderr.contains("no simulation 'nothing'"))
    }

    @Test func aPoolWithoutLabelsOrABadRoundSizeIsRefused() throws {
        try Data(#"""
            {"name": "nolabels", "features": {"path": "../data/pool.h5"}, "method": {"name": "dropquery"},
             "budget": {"count": 10}, "database": "../data/sel.sqlite"}
            """#.utf8).write(to: workspace.url.appendingPathComponent("jobs/nolabels.json"))
        let unlabelled = try selectjob(["simulate", "jobs/nolabels.json", "--per-round", "10", "--test", "data/test.h5:features"],
                                       in: workspace.url, timeout: 60)
        #expect(unlabelled.status == 64)
        #expect(unlabelled.stderr.contains("features.labels: a simulation needs the pool's labels"), "\(unlabelled.stderr)")
        let size = try selectjob(["simulate", "jobs/campaign.json", "--per-round", "ten", "--test", "data/test.h5:features"],
                                 in: workspace.url, timeout: 60)
        #expect(size.status == 64 && size.stderr.contains("--per-round: expected a percentage like 0.5% or a count like 100"))
        #expect(!FileManager.default.fileExists(atPath: workspace.path("data/sel.sqlite")))
    }
}
