import Foundation
import GRDB
import HDF5
import Testing
import TestSupport

/// Labelling rounds and predictions, through the binary: what cron sees.
@Suite struct RoundTests {
    let workspace: Workspace
    init() throws {
        workspace = try Workspace()
        try workspace.writeFeatures()
    }

    func sampleIDs(runID: Int64) throws -> [Int64] {
        try workspace.database().read { db in
            try Int64.fetchAll(db, sql: "SELECT sample_id FROM selections WHERE run_id = ? ORDER BY rank", arguments: [runID])
        }
    }

    func latestRun(_ job: String) throws -> Row {
        try workspace.database().read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE job = ? ORDER BY id DESC LIMIT 1", arguments: [job])!
        }
    }

    func runCount() throws -> Int {
        guard FileManager.default.fileExists(atPath: workspace.path("data/sel.sqlite")) else { return 0 }
        return try workspace.database().read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM runs")! }
    }

    /// Writes `data/NAME.h5` with a 1-D int64 `ids` dataset.
    func writeIDs(_ name: String, _ ids: [Int64]) throws {
        let file = try HDF5File.create(at: workspace.path("data/\(name).h5"))
        try file.write(int64s: ids, to: "ids")
    }

    /// VTL round 1 (12) then round 2 (18, labelled = round 1) picks exactly what one run of 30 picks,
    /// in the same order; round 2 never repeats round 1; rounds are recorded and shown.
    @Test func secondVTLRoundContinuesTheFirstExactly() throws {
        let method = #"{"name": "vtl", "normalize": true}"#
        try workspace.writeJob("round1", method: method, budget: #"{"count": 12}"#)
        try workspace.writeJob("round2", method: method, budget: #"{"count": 18}"#,
                               extra: #", "database": "../data/sel.sqlite", "labelled": {"job": "round1"}"#)
        try workspace.writeJob("whole", method: method, budget: #"{"count": 30}"#)
        // Round 2 before round 1 has anything to build on: exit 64, nothing written.
        let early = try selectjob(["run", "jobs/round2.json"], in: workspace.url)
        #expect(early.status == 64)
        #expect(early.stderr.contains("labelled: job 'round1' has no succeeded run"), "\(early.stderr)")
        #expect(try runCount() == 0)

        for job in ["round1", "round2", "whole"] {
            let outcome = try selectjob(["run", "--quiet", "jobs/\(job).json"], in: workspace.url)
            #expect(outcome.status == 0, "\(job): \(outcome.stderr)")
        }
        let first = try sampleIDs(runID: latestRun("round1")["id"])
        let second = try sampleIDs(runID: latestRun("round2")["id"])
        let whole = try sampleIDs(runID: latestRun("whole")["id"])
        #expect(Set(first).isDisjoint(with: second))
        #expect(first + second == whole)

        let round2 = try latestRun("round2")
        #expect(round2["round"] as Int == 2)
        #expect(round2["labelled_count"] as Int == 12)
        #expect((round2["labelled_fingerprint"] as String?)?.hasPrefix("sha256:") == true)
        #expect(try latestRun("round1")["round"] as Int == 1)
        let byRound = try workspace.database().read { db in
            try Row.fetchAll(db, sql: "SELECT round, COUNT(*) AS n FROM round_selections WHERE job IN ('round1', 'round2') GROUP BY round ORDER BY round")
        }
        #expect(byRound.map { [$0["round"] as Int, $0["n"] as Int] } == [[1, 12], [2, 18]])
        let runs = try selectjob(["runs", "--db", "data/sel.sqlite", "--job", "round2"], in: workspace.url)
        #expect(runs.stdout.contains("round"))
        let show = try selectjob(["show", "--db", "data/sel.sqlite", String(round2["id"] as Int64)], in: workspace.url)
        #expect(show.stdout.contains("round      2 (12 samples labelled before)"), "\(show.stdout)")

        // Unchanged job, data and labelled set: skipped.
        let again = try selectjob(["run", "jobs/round2.json"], in: workspace.url)
        #expect(again.status == 0)
        #expect(again.stdout.contains("unchanged"), "\(again.stdout)")
    }

    /// A job that names itself as labelled picks new samples each night; its round counts up.
    @Test func nightlyJobNamingItselfNeverRepeats() throws {
        try workspace.writeJob("nightly", method: #"{"name": "kcenter"}"#, budget: #"{"count": 10}"#,
                               extra: #", "database": "../data/sel.sqlite", "labelled": {"job": "nightly"}"#)
        var seen = Set<Int64>()
        for night in 1...3 {
            let outcome = try selectjob(["run", "--quiet", "jobs/nightly.json"], in: workspace.url)
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let run = try latestRun("nightly")
            #expect(run["round"] as Int == night)
            #expect(run["labelled_count"] as Int == 10 * (night - 1))
            let picks = try sampleIDs(runID: run["id"])
            #expect(picks.count == 10 && seen.isDisjoint(with: picks))
            seen.formUnion(picks)
        }
    }

    /// Labelled ids from a file: excluded, and the run counts as round 2.
    @Test func labelledIDsFromAFile() throws {
        let labelled = (0..<50).map { 1_000_000 + Int64($0 * 7) }
        try writeIDs("labelled", labelled)
        try workspace.writeJob("from-file", method: #"{"name": "kmeans"}"#, budget: #"{"count": 20}"#,
                               extra: #", "database": "../data/sel.sqlite", "labelled": {"path": "../data/labelled.h5"}"#)
        let outcome = try selectjob(["run", "--quiet", "jobs/from-file.json"], in: workspace.url)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let run = try latestRun("from-file")
        #expect(run["round"] as Int == 2)
        #expect(Set(try sampleIDs(runID: run["id"])).isDisjoint(with: labelled))
    }

    /// Bad labelled sets: an id not in the pool (65), a budget above what is left (64), a run that
    /// does not exist (64) — each named, and nothing written.
    @Test func badLabelledSetsAreRefusedBeforeAnythingIsWritten() throws {
        try writeIDs("unknown", [1_000_003, 42])
        try workspace.writeJob("unknown-id", method: #"{"name": "random"}"#, budget: #"{"count": 5}"#,
                               extra: #", "database": "../data/sel.sqlite", "labelled": {"path": "../data/unknown.h5"}"#)
        let unknown = try selectjob(["run", "jobs/unknown-id.json"], in: workspace.url)
        #expect(unknown.status == 65)
        #expect(unknown.stderr.contains("sample id 42 (from \(workspace.path("data/unknown.h5"))) is not in the pool"), "\(unknown.stderr)")

        try writeIDs("most", (0..<595).map { 1_000_000 + Int64($0) })
        try workspace.writeJob("too-many", method: #"{"name": "random"}"#, budget: #"{"count": 10}"#,
                               extra: #", "database": "../data/sel.sqlite", "labelled": {"path": "../data/most.h5"}"#)
        let tooMany = try selectjob(["run", "jobs/too-many.json"], in: workspace.url)
        #expect(tooMany.status == 64)
        #expect(tooMany.stderr.contains("budget 10 is more than the 5 samples not yet labelled"), "\(tooMany.stderr)")
        let validate = try selectjob(["validate", "jobs/too-many.json"], in: workspace.url)
        #expect(validate.status == 64)

        try workspace.writeJob("no-run", method: #"{"name": "random"}"#, budget: #"{"count": 10}"#,
                               extra: #", "database": "../data/sel.sqlite", "labelled": {"run": 99}"#)
        #expect(try selectjob(["run", "jobs/no-run.json"], in: workspace.url).status == 64)
        #expect(try runCount() == 0)
    }

    /// ATL through the binary: the model is wrong on one class of the validation set (written from the
    /// pool's own mixture), and the picks come from that class; a validation set with no wrong
    /// prediction is exit 65.
    @Test func atlSelectsWhereTheModelIsWrong() throws {
        let pool = try HDF5File.open(readingAt: workspace.path("data/features.h5"))
        let features = try pool.dataset("features").readFloats()
        let labels = try pool.dataset("labels").readInt64s()
        let validationRows = Array(0..<200)
        let truth = validationRows.map { labels[$0] }
        let wrongClass = truth[0]
        let predicted = truth.map { $0 == wrongClass ? ($0 + 1) % 5 : $0 }
        do {
            let file = try HDF5File.create(at: workspace.path("data/validation.h5"))
            try file.write(floats: Array(features[0..<(200 * 16)]), shape: [200, 16], to: "features")
            try file.write(int64s: truth, to: "labels")
            try file.write(int64s: predicted, to: "predicted")
            try file.write(int64s: truth, to: "perfect")
        }
        try workspace.writeJob("atl", method: #"{"name": "atl_uncertainty", "validation": {"path": "../data/validation.h5"}}"#,
                               budget: #"{"count": 20}"#)
        let outcome = try selectjob(["run", "--quiet", "jobs/atl.json"], in: workspace.url)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let picked = try workspace.database().read { db in
            try Int64.fetchAll(db, sql: "SELECT label FROM selections WHERE run_id = ? ORDER BY rank", arguments: [try latestRun("atl")["id"] as Int64])
        }
        #expect(picked.count == 20 && picked.allSatisfy { $0 == wrongClass }, "\(picked)")

        try workspace.writeJob("perfect", method: #"{"name": "atl_uncertainty", "validation": {"path": "../data/validation.h5", "predicted": "perfect"}}"#,
                               budget: #"{"count": 20}"#)
        let perfect = try selectjob(["run", "jobs/perfect.json"], in: workspace.url)
        #expect(perfect.status == 65)
        #expect(perfect.stderr.contains("the model is right on all 200 validation samples"), "\(perfect.stderr)")
    }

    /// Predictions drive the uncertainty methods; bad predictions are exit 65 naming the row.
    @Test func uncertaintyFromPredictions() throws {
        let rows = 600
        var probabilities: [Float] = []
        for row in 0..<rows {
            // Rows 100..<110 are the most uncertain (uniform); the rest confident.
            let p: [Float] = (100..<110).contains(row) ? [1 / 3, 1 / 3, 1 / 3] : [0.9 - Float(row % 7) * 0.01, 0.05, 0.05 + Float(row % 7) * 0.01]
            probabilities += p
        }
        do {  // closed at the end of the block, before selectjob reads it
            let file = try HDF5File.create(at: workspace.path("data/predictions.h5"))
            try file.write(floats: probabilities, shape: [rows, 3], to: "predictions")
            var bad = probabilities
            bad[3 * 250] = 0.5
            try file.write(floats: bad, shape: [rows, 3], to: "bad")
            try file.write(floats: Array(probabilities.prefix(3 * 599)), shape: [599, 3], to: "short")
            try file.write(floats: [Float](repeating: 0, count: rows * 3), shape: [rows, 3], to: "zero_logits")
            // The same predictions in reverse order with their ids, plus one row for a sample not in the pool.
            var reversed: [Float] = []
            for row in (0..<rows).reversed() { reversed += probabilities[(row * 3)..<(row * 3 + 3)] }
            try file.write(floats: reversed + [0.2, 0.3, 0.5], shape: [rows + 1, 3], to: "by_id")
            try file.write(int64s: (0..<rows).reversed().map { 1_000_000 + Int64($0) } + [42], to: "by_id_ids")
            try file.write(int64s: (1..<rows).reversed().map { 1_000_000 + Int64($0) } + [42], to: "missing_ids")
            try file.write(floats: Array(reversed[3...]) + [0.2, 0.3, 0.5], shape: [rows, 3], to: "missing")
        }

        try workspace.writeJob("margin", method: #"{"name": "margin", "predictions": {"path": "../data/predictions.h5"}}"#,
                               budget: #"{"count": 10}"#)
        let outcome = try selectjob(["run", "--quiet", "jobs/margin.json"], in: workspace.url)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(Set(try sampleIDs(runID: latestRun("margin")["id"])) == Set((100..<110).map { 1_000_000 + Int64($0) }))

        // Matched by id: the same selection.
        try workspace.writeJob("by-id", method: #"{"name": "margin", "predictions": {"path": "../data/predictions.h5", "dataset": "by_id", "ids": "by_id_ids"}}"#,
                               budget: #"{"count": 10}"#)
        #expect(try selectjob(["run", "--quiet", "jobs/by-id.json"], in: workspace.url).status == 0)
        #expect(try sampleIDs(runID: latestRun("by-id")["id"]) == sampleIDs(runID: latestRun("margin")["id"]))
        try workspace.writeJob("missing", method: #"{"name": "margin", "predictions": {"path": "../data/predictions.h5", "dataset": "missing", "ids": "missing_ids"}}"#,
                               budget: #"{"count": 10}"#)
        let missing = try selectjob(["run", "jobs/missing.json"], in: workspace.url)
        #expect(missing.status == 65)
        #expect(missing.stderr.contains("dataset 'missing_ids' has no row for the pool's sample id 1000000"), "\(missing.stderr)")

        try workspace.writeJob("bad", method: #"{"name": "entropy", "predictions": {"path": "../data/predictions.h5", "dataset": "bad"}}"#,
                               budget: #"{"count": 10}"#)
        let badRun = try selectjob(["run", "jobs/bad.json"], in: workspace.url)
        #expect(badRun.status == 65)
        #expect(badRun.stderr.contains("dataset 'bad' row 250 sums to"), "\(badRun.stderr)")
        try workspace.writeJob("short", method: #"{"name": "entropy", "predictions": {"path": "../data/predictions.h5", "dataset": "short"}}"#,
                               budget: #"{"count": 10}"#)
        let short = try selectjob(["run", "jobs/short.json"], in: workspace.url)
        #expect(short.status == 65)
        #expect(short.stderr.contains("dataset 'short' has 599 entries but the features have 600 rows"), "\(short.stderr)")
        // Logits may be all zero (a uniform prediction): accepted.
        try workspace.writeJob("logits", method: #"{"name": "least_confidence", "predictions": {"path": "../data/predictions.h5", "dataset": "zero_logits", "kind": "logits"}}"#,
                               budget: #"{"count": 10}"#)
        #expect(try selectjob(["run", "--quiet", "jobs/logits.json"], in: workspace.url).status == 0)
        #expect(try workspace.database().read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM runs WHERE job IN ('bad', 'short')")! } == 0)
    }

    /// prune keeps the earlier rounds a self-labelled job builds on (it deleted them: the next round said
    /// "20 samples labelled before" when 30 were, and picked labelled samples again), and says why.
    @Test func pruneKeepsTheRoundsAJobCountsAsLabelled() throws {
        try workspace.writeJob("nightly", method: #"{"name": "kcenter"}"#, budget: #"{"count": 10}"#,
                               extra: #", "database": "../data/sel.sqlite", "labelled": {"job": "nightly"}"#)
        try workspace.writeJob("other", method: #"{"name": "random"}"#, budget: #"{"count": 10}"#)
        for _ in 1...3 { #expect(try selectjob(["run", "--quiet", "jobs/nightly.json"], in: workspace.url).status == 0) }
        for _ in 1...2 { #expect(try selectjob(["run", "--quiet", "--force", "jobs/other.json"], in: workspace.url).status == 0) }
        let prune = try selectjob(["prune", "--db", "data/sel.sqlite", "--older-than", "0"], in: workspace.url)
        #expect(prune.status == 0, "\(prune.stderr)")
        #expect(prune.stdout.contains("kept: run 1 (nightly): job nightly counts its picks as labelled"), "\(prune.stdout)")
        #expect(prune.stdout.contains("deleted 1 run: 4"), "\(prune.stdout)")
        let outcome = try selectjob(["run", "--quiet", "jobs/nightly.json"], in: workspace.url)
        #expect(outcome.status == 0)
        #expect(try latestRun("nightly")["labelled_count"] as Int == 30)
    }

    /// A labelled run that is gone says it came from `labelled`; a string id against an integer-id
    /// pool says the kinds differ.
    @Test func labelledSourcesThatCannotResolveSayWhy() throws {
        try workspace.writeJob("gone", method: #"{"name": "random"}"#, budget: #"{"count": 10}"#,
                               extra: #", "database": "../data/sel.sqlite", "labelled": {"run": 42}"#)
        let first = try workspace.writeJob("first", method: #"{"name": "random"}"#, budget: #"{"count": 5}"#)
        #expect(try selectjob(["run", "--quiet", first], in: workspace.url).status == 0)
        let gone = try selectjob(["run", "--quiet", "jobs/gone.json"], in: workspace.url)
        #expect(gone.status == 64)
        #expect(gone.stderr.contains("labelled: run 42 is not in"), "\(gone.stderr)")
        #expect(gone.stderr.contains("pruned"), "\(gone.stderr)")

        do {
            let file = try HDF5File.create(at: workspace.path("data/names.h5"))
            try file.write(strings: ["3"], to: "ids")
        }
        try workspace.writeJob("kinds", method: #"{"name": "random"}"#, budget: #"{"count": 10}"#,
                               extra: #", "database": "../data/sel.sqlite", "labelled": {"path": "../data/names.h5"}"#)
        let kinds = try selectjob(["run", "--quiet", "jobs/kinds.json"], in: workspace.url)
        #expect(kinds.status == 65)
        #expect(kinds.stderr.contains("the pool's ids are integers, this id is a string"), "\(kinds.stderr)")
    }
}
