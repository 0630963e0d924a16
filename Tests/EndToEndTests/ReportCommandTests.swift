import Foundation
import HDF5
import Testing
import TestSupport

/// `selectjob report` through the binary: what the page holds, and its errors and exit codes.
@Suite struct ReportCommandTests {
    let workspace: Workspace
    init() throws {
        workspace = try Workspace()
        try workspace.writeFeatures()
        try workspace.writeJob("kmeans", method: #"{"name": "kmeans"}"#, budget: #"{"count": 30}"#)
        try workspace.writeJob("activeft", budget: #"{"count": 30}"#)
        for job in ["kmeans", "activeft"] {
            let outcome = try selectjob(["run", "--quiet", "jobs/\(job).json"], in: workspace.url)
            precondition(outcome.status == 0, outcome.stderr)
        }
    }

    func report(_ arguments: [String]) throws -> Outcome {
        try selectjob(["report", "--db", "data/sel.sqlite"] + arguments, in: workspace.url)
    }

    func page(_ relative: String) throws -> String {
        String(decoding: try Data(contentsOf: workspace.url.appendingPathComponent(relative)), as: UTF8.self)
    }

    /// A run's page: every figure, the curve, and — once evaluated — the evaluation instead of the hint.
    @Test func pageShowsTheRunAndItsEvaluation() throws {
        let before = try report(["--job", "activeft", "-o", "report.html"])
        #expect(before.status == 0, "\(before.stderr)")
        #expect(before.stderr.hasPrefix("wrote report.html ("), "the report says where it wrote: \(before.stderr)")
        var html = try page("report.html")
        for figure in ["curve-loss", "map", "classes", "distances"] { #expect(html.contains("data-figure=\"\(figure)\""), "\(figure)") }
        #expect(html.contains("has not been evaluated"))
        #expect(try selectjob(["evaluate", "--db", "data/sel.sqlite", "--job", "activeft", "--holdout", "0.25"], in: workspace.url).status == 0)
        #expect(try report(["--job", "activeft", "-o", "report.html"]).status == 0)
        html = try page("report.html")
        #expect(!html.contains("has not been evaluated"))
        #expect(html.contains("25 % of the pool held out (seed 0)"))
        #expect(html.contains("random, same K"))
        // Standard output gets the same page.
        let stdout = try report(["--job", "activeft", "-o", "-"])
        #expect(stdout.status == 0 && stdout.stdout.hasPrefix("<!DOCTYPE html>") && stdout.stdout.contains("data-figure=\"map\""))
        #expect(!stdout.stderr.contains("wrote"))
    }

    /// Several runs need --compare; with it, one map per run and both in the job table.
    @Test func comparisonNeedsTheFlagAndShowsEveryRun() throws {
        let refused = try report(["1", "2", "-o", "both.html"])
        #expect(refused.status == 64 && refused.stderr.contains("add --compare"))
        #expect(!FileManager.default.fileExists(atPath: workspace.path("both.html")))
        let outcome = try report(["--compare", "1", "2", "-o", "both.html"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let html = try page("both.html")
        #expect(html.components(separatedBy: "data-figure=\"map\"").count == 3)
        #expect(html.contains("run 1 · kmeans") && html.contains("run 2 · activeft"))
    }

    /// Runs over different pools are exit 64 naming both; a pool changed since the run is exit 65; an
    /// unwritable output is exit 74; nothing is written in any of these cases.
    @Test func badInputIsRefusedAndNothingIsWritten() throws {
        try workspace.writeFeatures("data/other.h5", rows: 500)
        try workspace.writeJob("other", method: #"{"name": "kmeans"}"#, budget: #"{"count": 10}"#, features: "../data/other.h5")
        #expect(try selectjob(["run", "--quiet", "jobs/other.json"], in: workspace.url).status == 0)
        let mixed = try report(["--compare", "1", "3", "-o", "mixed.html"])
        #expect(mixed.status == 64)
        #expect(mixed.stderr.contains("run 3 selected from") && mixed.stderr.contains("must share their pool"))
        #expect(!FileManager.default.fileExists(atPath: workspace.path("mixed.html")))

        let folder = try report(["1", "-o", "data"])
        #expect(folder.status == 74 && folder.stderr.contains("data: cannot write (is a directory)"))

        try FileManager.default.removeItem(atPath: workspace.path("data/other.h5"))
        try workspace.writeFeatures("data/other.h5", rows: 501)
        let changed = try report(["3", "-o", "changed.html"])
        #expect(changed.status == 65 && changed.stderr.contains("no longer holds the data the run selected from"))
        #expect(!FileManager.default.fileExists(atPath: workspace.path("changed.html")))

        let missing = try report(["99", "-o", "missing.html"])
        #expect(missing.status == 64, "\(missing.stderr)")
        #expect(try report(["-o", "x.html"]).status == 64)
    }

    /// A pool without labels still gets a page: the map and distances, a note instead of the label figures.
    @Test func poolWithoutLabelsGetsANote() throws {
        try workspace.writeJob("unlabelled", method: #"{"name": "kcenter"}"#, budget: #"{"count": 12}"#,
                               extra: #", "database": "../data/sel.sqlite""#)
        // The same file, with no labels dataset named.
        let path = workspace.url.appendingPathComponent("jobs/unlabelled.json")
        let text = try String(contentsOf: path, encoding: .utf8).replacingOccurrences(of: #", "labels": "labels""#, with: "")
        try Data(text.utf8).write(to: path)
        #expect(try selectjob(["run", "--quiet", "jobs/unlabelled.json"], in: workspace.url).status == 0)
        let outcome = try report(["--job", "unlabelled", "-o", "unlabelled.html"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let html = try page("unlabelled.html")
        #expect(html.contains("id=\"no-labels\"") && html.contains("data-figure=\"map\"") && !html.contains("data-figure=\"classes\""))
    }

    /// A second round shows the rounds it built on and the samples labelled before it.
    @Test func roundsAreShown() throws {
        try workspace.writeJob("round2", method: #"{"name": "vtl"}"#, budget: #"{"count": 20}"#,
                               extra: #", "database": "../data/sel.sqlite", "labelled": {"job": "kmeans"}"#)
        let run = try selectjob(["run", "--quiet", "jobs/round2.json"], in: workspace.url)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try report(["--job", "round2", "-o", "round2.html"]).status == 0)
        let html = try page("round2.html")
        #expect(html.contains("id=\"rounds\""))
        #expect(html.contains("black: 30 samples labelled before"))
        #expect(html.contains("<td>kmeans</td><td class=\"num\">1</td>"))
    }
}
