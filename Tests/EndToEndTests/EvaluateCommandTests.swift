import Foundation
import GRDB
import HDF5
import Testing
import TestSupport

/// `selectjob evaluate` and `selectjob compare` through the binary.
@Suite struct EvaluateCommandTests {
    let workspace: Workspace
    init() throws {
        workspace = try Workspace()
        try workspace.writeFeatures()
        try workspace.writeJob("kmeans", method: #"{"name": "kmeans"}"#, budget: #"{"count": 30}"#)
        try workspace.writeJob("random", method: #"{"name": "random"}"#, budget: #"{"count": 30}"#)
        for job in ["kmeans", "random"] {
            let outcome = try selectjob(["run", "--quiet", "jobs/\(job).json"], in: workspace.url)
            precondition(outcome.status == 0, outcome.stderr)
        }
    }

    func evaluate(_ arguments: [String]) throws -> Outcome {
        try selectjob(["evaluate", "--db", "data/sel.sqlite"] + arguments, in: workspace.url)
    }

    func storedEvaluations() throws -> Int {
        try workspace.database().read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM evaluations")! }
    }

    /// A hold-out evaluation prints every measure beside the random baseline, is recorded once, and is
    /// read back the second time; --json gives the same numbers.
    @Test func holdoutEvaluationIsRecordedAndReadBack() throws {
        let first = try evaluate(["--job", "kmeans", "--holdout", "0.25", "--seed", "3"])
        #expect(first.status == 0, "\(first.stderr)")
        for measure in ["accuracy", "macro-F1", "classes selected", "smallest class share", "covering radius", "mean distance", "MMD"] {
            #expect(first.stdout.contains(measure), "\(measure)")
        }
        #expect(first.stdout.contains("random (5 draws, mean ± std)"))
        // Counts print as counts: "5 of 5", the baseline's mean of counts without four decimals.
        let classes = first.stdout.split(separator: "\n").first { $0.hasPrefix("classes selected") }.map(String.init) ?? ""
        #expect(classes.contains(" of ") && !classes.contains(".0000"), "\(classes)")
        #expect(!first.stdout.contains("read back"))
        #expect(try storedEvaluations() == 1)
        let second = try evaluate(["--job", "kmeans", "--holdout", "0.25", "--seed", "3"])
        #expect(second.stdout.contains("read back from the database"))
        #expect(try storedEvaluations() == 1)
        // Another seed is another evaluation.
        #expect(try evaluate(["--job", "kmeans", "--holdout", "0.25", "--seed", "4"]).status == 0)
        #expect(try storedEvaluations() == 2)

        let json = try evaluate(["--job", "kmeans", "--holdout", "0.25", "--seed", "3", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        let selection = object["selection"] as! [String: Any]
        #expect((selection["accuracy"] as! Double) > 0.2)
        #expect(selection["classes_in_pool"] as? Int == 5)
        #expect(((object["baseline"] as! [String: Any])["draws"] as! [Any]).count == 5)
        #expect(object["reused"] as? Bool == true)
        #expect((object["train_size"] as! Int) + (object["held_out_selected"] as! Int) == 30)
    }

    /// A separate labelled test file; one of another width is exit 65 naming it.
    @Test func testFileIsUsedAndItsWidthChecked() throws {
        let pool = try HDF5File.open(readingAt: workspace.path("data/features.h5"))
        let features = try pool.dataset("features").readFloats()
        let labels = try pool.dataset("labels").readInt64s()
        do {
            let file = try HDF5File.create(at: workspace.path("data/test.h5"))
            try file.write(floats: Array(features[0..<(200 * 16)]), shape: [200, 16], to: "features")
            try file.write(int64s: Array(labels[0..<200]), to: "labels")
            try file.write(floats: Array(features[0..<(200 * 8)]), shape: [200, 8], to: "narrow")
        }
        let outcome = try evaluate(["1", "--test", "data/test.h5:features", "--test-labels", "labels"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("200 test samples"))
        let narrow = try evaluate(["1", "--test", "data/test.h5:narrow", "--test-labels", "labels"])
        #expect(narrow.status == 65)
        #expect(narrow.stderr.contains("dataset 'narrow' has 8 features per row but the pool has 16"), "\(narrow.stderr)")
    }

    /// Two runs side by side, the best of each column marked.
    @Test func compareMarksTheBest() throws {
        let outcome = try selectjob(["compare", "--db", "data/sel.sqlite", "--job", "kmeans", "--job", "random", "--holdout", "0.25"],
                                    in: workspace.url)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let lines = outcome.stdout.split(separator: "\n")
        #expect(lines.contains { $0.contains("kmeans") } && lines.contains { $0.contains(" random ") })
        #expect(outcome.stdout.contains("*"))
        #expect(lines.filter { $0.contains("random, same size") }.count == 2)
        #expect(lines.first { $0.hasPrefix("run ") }?.contains("trained") == true)
        #expect(outcome.stdout.contains("label-budget curve"))
        #expect(outcome.stdout.contains("probe: logistic regression, C = 10"))
    }

    /// The evaluation's seed cannot bias it: a random run and its evaluation with the same seed used to
    /// hold out exactly the run's picks (exit 64, nothing to train on); now the share held out is what
    /// chance gives, and the training size is printed and recorded.
    @Test func anEvaluationSeededLikeTheRunIsIndependentOfIt() throws {
        for seed in [0, 7] {
            try workspace.writeJob("random\(seed)", method: #"{"name": "random"}"#, budget: #"{"count": 60}"#,
                                   extra: #", "database": "../data/sel.sqlite""#)
            var text = try String(contentsOfFile: workspace.path("jobs/random\(seed).json"), encoding: .utf8)
            text = text.replacingOccurrences(of: #""seed": 7"#, with: "\"seed\": \(seed)")
            try text.write(toFile: workspace.path("jobs/random\(seed).json"), atomically: true, encoding: .utf8)
            #expect(try selectjob(["run", "--quiet", "jobs/random\(seed).json"], in: workspace.url).status == 0)
            let outcome = try evaluate(["--job", "random\(seed)", "--holdout", "0.2", "--seed", String(seed), "--json"])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            #expect(!outcome.stderr.contains("warning"), "\(outcome.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as! [String: Any]
            let held = object["held_out_selected"] as! Int
            // 60 picks, 120 of 600 rows held out: 12 ± 2.8 by chance; the old shared stream held out 60.
            #expect((3...21).contains(held), "held out \(held)")
            #expect(object["train_size"] as? Int == 60 - held)
            #expect(object["held_out_expected"] as? Double == 12)
            let stored = try workspace.database().read { db in
                try String.fetchOne(db, sql: "SELECT results_json FROM evaluations ORDER BY id DESC LIMIT 1")!
            }
            #expect(stored.contains("\"train_size\":\(60 - held)"), "\(stored)")
        }
    }

    /// A hold-out fraction that holds out no row is exit 64 and stores nothing (it stored accuracy 0).
    @Test func anEmptyTestSetIsRefused() throws {
        let outcome = try evaluate(["--job", "kmeans", "--holdout", "1e-9"])
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("--holdout 1e-09 holds out no sample of the 600-sample pool"), "\(outcome.stderr)")
        #expect(try storedEvaluations() == 0)
    }

    /// --seed past a job seed's range and a --probe-c out of range are exit 64 with a message, not a trap.
    @Test func outOfRangeOptionsAreUsageErrors() throws {
        let seed = try evaluate(["--job", "kmeans", "--seed", "9223372036854775808"])
        #expect(seed.status == 64)
        #expect(seed.stderr.contains("--seed: expected 0 ... 9007199254740991"), "\(seed.stderr)")
        for bad in ["0", "-1", "nan", "1e300"] {
            let probe = try evaluate(["--job", "kmeans", "--probe-c=\(bad)"])
            #expect(probe.status == 64, "\(bad)")
        }
        #expect(try storedEvaluations() == 0)
    }

    /// --probe-c is the probe's C: recorded with the evaluation, another C is another evaluation, and
    /// the label-budget curve (25 / 50 / 100 % of the picks) is printed, recorded and ends at the
    /// selection's accuracy.
    @Test func probeCIsRecordedAndTheBudgetCurveShown() throws {
        let first = try evaluate(["--job", "kmeans", "--holdout", "0.25", "--probe-c", "3", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as! [String: Any]
        #expect(object["probe_c"] as? Double == 3)
        let curve = object["budget_curve"] as! [[String: Any]]
        let trained = object["train_size"] as! Int
        #expect(curve.map { $0["train_size"] as! Int } == [(trained + 3) / 4, (trained + 1) / 2, trained])
        #expect(curve.last?["accuracy"] as? Double == (object["selection"] as! [String: Any])["accuracy"] as? Double)
        #expect(curve.allSatisfy { ($0["baseline_accuracy"] as! [Double]).count == 5 })
        let params = try workspace.database().read { db in try String.fetchOne(db, sql: "SELECT params_json FROM evaluations")! }
        #expect(params.contains("\"probe_c\":3.0"), "\(params)")
        let text = try evaluate(["--job", "kmeans", "--holdout", "0.25"])
        #expect(text.stdout.contains("label-budget curve"))
        #expect(text.stdout.contains("C = 10"))
        #expect(try storedEvaluations() == 2)
    }

    /// A pool without labels is exit 64; features changed since the run are exit 65; bad usage is exit 64.
    @Test func badEvaluationsAreRefused() throws {
        try workspace.writeJob("unlabelled", method: #"{"name": "random"}"#, budget: #"{"count": 10}"#,
                               extra: #", "database": "../data/sel.sqlite""#)
        var text = try String(contentsOfFile: workspace.path("jobs/unlabelled.json"), encoding: .utf8)
        text = text.replacingOccurrences(of: #", "labels": "labels""#, with: "")
        try text.write(toFile: workspace.path("jobs/unlabelled.json"), atomically: true, encoding: .utf8)
        #expect(try selectjob(["run", "--quiet", "jobs/unlabelled.json"], in: workspace.url).status == 0)
        let noLabels = try evaluate(["--job", "unlabelled"])
        #expect(noLabels.status == 64)
        #expect(noLabels.stderr.contains("has no labels dataset"), "\(noLabels.stderr)")

        #expect(try evaluate(["1", "--test", "data/test.h5:features"]).status == 64)
        #expect(try evaluate(["1", "--holdout", "1.5"]).status == 64)
        #expect(try evaluate([]).status == 64)

        try workspace.writeFeatures(transform: { values in values[0] += 1 })
        let changed = try evaluate(["1"])
        #expect(changed.status == 65)
        #expect(changed.stderr.contains("no longer holds the data the run selected from"), "\(changed.stderr)")
    }
}
