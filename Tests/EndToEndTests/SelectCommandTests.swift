import Foundation
import GRDB
import Testing
import TestSupport

/// `selectjob select`: a selection without a job file, checked and recorded as a job file would be.
@Suite struct SelectCommandTests {
    let workspace: Workspace

    init() throws {
        workspace = try Workspace()
        try workspace.writeFeatures("data/pool.h5", rows: 400, dimensions: 8)
    }

    func select(_ arguments: [String]) throws -> Outcome {
        try selectjob(["select"] + arguments, in: workspace.url, timeout: 120)
    }

    /// `--dedup`, `--balance` and `--alpha` become the job's `dedup` and `balance`: the printed job says
    /// so, the run records and shows them, and the quotas are met; a malformed `--filter` is exit 64.
    @Test func curationOptionsBecomeTheJobsKeys() throws {
        let job = try select(["data/pool.h5", "--method", "random", "--budget", "25", "--labels", "labels",
                              "--dedup", "0.999", "--balance", "labels", "--alpha", "0", "--print-job"])
        #expect(job.status == 0, "\(job.stderr)")
        #expect(job.stdout.contains(#""dedup": {"#) && job.stdout.contains(#""threshold": 0.999"#), "\(job.stdout)")
        #expect(job.stdout.contains(#""by": "labels""#) && job.stdout.contains(#""alpha": 0"#), "\(job.stdout)")
        let outcome = try select(["data/pool.h5", "--method", "random", "--budget", "25", "--labels", "labels",
                                  "--dedup", "0.999", "--balance", "labels", "--alpha", "0", "--db", "data/sel.sqlite", "--quiet"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("balance by labels (alpha 0): 0 5/"), "\(outcome.stdout)")
        let perClass = try workspace.database().read { db in
            try Int.fetchAll(db, sql: "SELECT COUNT(*) FROM selections GROUP BY label")
        }
        #expect(perClass == [5, 5, 5, 5, 5])
        let bad = try select(["data/pool.h5", "--method", "random", "--budget", "25", "--filter", "split"])
        #expect(bad.status == 64 && bad.stderr.contains(#"--filter: expected DATASET=VALUE[,VALUE…], got "split""#), "\(bad.stderr)")
    }

    @Test func selectsRecordsAndExportsUnderADerivedName() throws {
        let outcome = try select(["data/pool.h5", "--method", "kmeans", "--budget", "5%", "--ids", "ids", "--labels", "labels",
                                  "--set", "max_iterations=50", "--db", "data/sel.sqlite", "-o", "data/subset.json", "--quiet"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stderr.isEmpty, "--quiet leaves only warnings and errors: \(outcome.stderr)")
        #expect(outcome.stdout.contains("job       pool-kmeans-5pct"), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("selected  K=20"))
        // k-means' last value is its inertia; a whole-number final value prints as an integer.
        #expect(outcome.stdout.contains("final     inertia "), "\(outcome.stdout)")
        let subset = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: workspace.path("data/subset.json")))) as? [Int]
        #expect(subset?.count == 20 && subset == subset?.sorted())
        try workspace.database().read { db in
            let params = try String.fetchOne(db, sql: "SELECT params_json FROM runs WHERE job = 'pool-kmeans-5pct'") ?? ""
            #expect(params.contains(#""max_iterations":50"#), "\(params)")
            let ids = try Int.fetchAll(db, sql: "SELECT sample_id FROM latest_selections WHERE job = 'pool-kmeans-5pct'")
            #expect(ids.allSatisfy { $0 >= 1_000_000 })
        }
        // The same selection again is skipped as unchanged, like a job file; --force runs it.
        let again = try select(["data/pool.h5", "--method", "kmeans", "--budget", "5%", "--ids", "ids", "--labels", "labels",
                                "--set", "max_iterations=50", "--db", "data/sel.sqlite", "--quiet"])
        #expect(again.status == 0 && again.stdout.contains("unchanged since run 1"), "\(again.stdout)")
    }

    /// --print-job writes the job file select stands for: `run` on it is the same job, unchanged.
    @Test func printJobIsTheEquivalentJobFile() throws {
        let arguments = ["data/pool.h5:features", "--method", "activeft", "--budget", "12", "--set", "iterations=5",
                         "--set", "init=kmeans++", "--db", "data/sel.sqlite", "--quiet"]
        #expect(try select(arguments).status == 0)
        let printed = try select(arguments + ["--print-job"])
        #expect(printed.status == 0)
        #expect(printed.stdout.contains(#""init": "kmeans++""#) && printed.stdout.contains(#""count": 12"#), "\(printed.stdout)")
        try Data(printed.stdout.utf8).write(to: URL(fileURLWithPath: workspace.path("jobs/printed.json")))
        let run = try selectjob(["run", "--quiet", "jobs/printed.json"], in: workspace.url, timeout: 120)
        #expect(run.status == 0)
        #expect(run.stdout.contains("job pool-activeft-12: unchanged since run 1"), "\(run.stdout)")
    }

    @Test func mistakesGetTheJobFilesMessagesAndCodes() throws {
        let unknown = try select(["data/pool.h5", "--method", "kmedians", "--budget", "5%", "--db", "data/sel.sqlite"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("selectjob select: method.name:"), "\(unknown.stderr)")
        let badParameter = try select(["data/pool.h5", "--method", "kmeans", "--budget", "5%", "--set", "restarts=0",
                                       "--db", "data/sel.sqlite"])
        #expect(badParameter.status == 64)
        #expect(badParameter.stderr.contains("method.restarts: expected an integer in 1...1000, got 0"), "\(badParameter.stderr)")
        let budget = try select(["data/pool.h5", "--method", "kmeans", "--budget", "5 percent", "--db", "data/sel.sqlite"])
        #expect(budget.status == 64)
        #expect(budget.stderr.contains(#"--budget: expected a percentage like 1% or a count like 500, got "5 percent""#))
        let dataset = try select(["data/pool.h5:embeddings", "--method", "kmeans", "--budget", "5%", "--db", "data/sel.sqlite"])
        #expect(dataset.status == 65)
        #expect(dataset.stderr.contains("embeddings"), "\(dataset.stderr)")
        #expect(!FileManager.default.fileExists(atPath: workspace.path("data/sel.sqlite")))
    }

    /// `init` writes a job file with every parameter at its default, which `validate` accepts.
    @Test func initWritesAValidJobWithTheDefaultsSpelledOut() throws {
        let written = try selectjob(["init", "data/pool.h5", "--method", "activeft", "--budget", "2%", "--ids", "ids",
                                     "--set", "iterations=20", "-o", "jobs/init.json"], in: workspace.url, timeout: 60)
        #expect(written.status == 0, "\(written.stderr)")
        let text = try String(contentsOfFile: workspace.path("jobs/init.json"), encoding: .utf8)
        for member in [#""temperature": 0.07"#, #""iterations": 20"#, #""learning_rate": 0.001"#, #""init": "random""#,
                       #""percent": 2.0"#, #""ids": "ids""#] {
            #expect(text.contains(member), "\(member) in \(text)")
        }
        let validated = try selectjob(["validate", "--db", "data/sel.sqlite", "jobs/init.json"], in: workspace.url, timeout: 60)
        #expect(validated.status == 0, "\(validated.stderr)")
        #expect(validated.stdout.contains("activeft, N=400, d=8, K=8"), "\(validated.stdout)")
        let again = try selectjob(["init", "data/pool.h5", "--method", "activeft", "--budget", "2%", "-o", "jobs/init.json"],
                                  in: workspace.url, timeout: 60)
        #expect(again.status == 64 && again.stderr.contains("jobs/init.json: exists; --force replaces it"))
        let unknown = try selectjob(["init", "data/pool.h5", "--method", "kmedians", "--budget", "2%"], in: workspace.url, timeout: 60)
        #expect(unknown.status == 64 && unknown.stderr.contains("method.name:"), "\(unknown.stderr)")
    }
}
