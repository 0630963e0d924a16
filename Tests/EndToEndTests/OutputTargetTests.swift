import Foundation
import GRDB
import Testing
import TestSupport

/// Where `export` and `report` may write: never over the database, its WAL, or a file the run read;
/// never through a loop of links.
@Suite struct OutputTargetTests {
    let workspace: Workspace
    let db: [String]

    init() throws {
        workspace = try Workspace()
        try workspace.writeFeatures()
        try workspace.writeJob("k", method: #"{"name": "kmeans"}"#, budget: #"{"count": 10}"#)
        db = ["--db", workspace.path("data/sel.sqlite")]
        #expect(try selectjob(["run", "--quiet", "jobs/k.json"], in: workspace.url).status == 0)
    }

    func runCount() throws -> Int {
        try workspace.database().read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM runs")! }
    }

    /// -o naming the database (by another spelling or a hard link too), the features or the job file
    /// is exit 64 and leaves every one of them as it was.
    @Test func outputsNeverReplaceTheDatabaseOrTheRunsInputs() throws {
        let features = try Data(contentsOf: URL(fileURLWithPath: workspace.path("data/features.h5")))
        #expect(link(workspace.path("data/features.h5"), workspace.path("data/features-link.h5")) == 0)
        let targets = ["data/sel.sqlite", "./data/../data/sel.sqlite", "data/features.h5", "data/features-link.h5", "jobs/k.json"]
        for target in targets {
            for command in [["export", "1", "--format", "csv"], ["report", "1"]] {
                let outcome = try selectjob(command + ["-o", target] + db, in: workspace.url)
                #expect(outcome.status == 64, "\(command) -o \(target): \(outcome.status) \(outcome.stderr)")
                #expect(outcome.stderr.contains("refusing to write there"), "\(outcome.stderr)")
            }
        }
        #expect(try runCount() == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: workspace.path("data/features.h5"))) == features)
        #expect(try String(contentsOfFile: workspace.path("jobs/k.json"), encoding: .utf8).contains("kmeans"))
        // Any other file is written as before.
        #expect(try selectjob(["export", "1", "--format", "csv", "-o", "data/out.csv"] + db, in: workspace.url).status == 0)
    }

    /// -o at a loop of symbolic links is refused (it replaced the link), and the links stay.
    @Test func aLoopOfSymbolicLinksIsRefused() throws {
        let a = workspace.path("data/a.csv"), b = workspace.path("data/b.csv")
        try FileManager.default.createSymbolicLink(atPath: a, withDestinationPath: "b.csv")
        try FileManager.default.createSymbolicLink(atPath: b, withDestinationPath: "a.csv")
        let outcome = try selectjob(["export", "1", "--format", "csv", "-o", a] + db, in: workspace.url)
        #expect(outcome.status == 74)
        #expect(outcome.stderr.contains("too many levels of symbolic links"), "\(outcome.stderr)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: a) == "b.csv")
    }

    /// crontab's lines create the log folder they append to (cron failed silently without it).
    @Test func crontabLinesCreateTheLogFolder() throws {
        var text = try String(contentsOfFile: workspace.path("jobs/k.json"), encoding: .utf8)
        text = text.replacingOccurrences(of: #""seed": 7"#, with: #""seed": 7, "schedule": "0 3 * * *""#)
        try text.write(toFile: workspace.path("jobs/k.json"), atomically: true, encoding: .utf8)
        let outcome = try selectjob(["crontab", "jobs/k.json"], in: workspace.url)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let line = try #require(outcome.stdout.split(separator: "\n").first { $0.hasPrefix("0 3 * * *") })
        let logs = workspace.url.appendingPathComponent("logs").standardizedFileURL.path
        #expect(line.contains("mkdir -p \(logs) && "), "\(line)")
        #expect(outcome.stdout.contains("creates it if missing"))
    }
}
