import Foundation
@testable import Reporting
import Selection
import Store
import Testing

/// The HTML report's page: self-contained, escaped, honest about what it leaves out, and small.
@Suite struct HTMLReportTests {
    static func run(_ id: Int64, job: String = "cifar", method: String = "activeft", budget: Int = 3, n: Int = 12,
                    labelledCount: Int = 0) -> RunRecord {
        RunRecord(id: id, job: job, jobPath: "/jobs/\(job).json", jobSHA256: "abcdef0123456789", featuresPath: "/f.h5",
                  featuresFingerprint: "sha256:00", method: method, paramsJSON: #"{"name":"activeft","temperature":0.07}"#,
                  n: n, d: 4, budget: budget, seed: 0, status: .succeeded, startedAt: Date(timeIntervalSince1970: 0),
                  finishedAt: Date(timeIntervalSince1970: 2), durationS: 2, toolVersion: "0.1.0", error: nil,
                  labelledCount: labelledCount)
    }

    /// A pool of `n` points on a line, labels cycling through `classes` (nil: no labels).
    static func pool(_ n: Int, classes: Int?) -> ReportPool {
        ReportPool(featuresPath: "/f.h5", rows: n, columns: 4, x: (0..<n).map { Float($0 % 97) / 97 },
                   y: (0..<n).map { Float(($0 * 31) % 89) / 89 }, labels: classes.map { c in (0..<n).map { Int64($0 % c) } },
                   explainedShare: [0.4, 0.2])
    }

    static func entry(_ record: RunRecord, rows: [Int], poolSize: Int) -> ReportRun {
        ReportRun(run: record, metrics: (0..<5).map { RunMetric(runID: record.id, step: $0, name: "loss", value: 2 - Double($0) * 0.1) },
                  selectedRows: rows, nearestDistances: (0..<poolSize).map { Double($0 % 10) / 10 }, labelledRows: [],
                  earlierRuns: [], evaluation: nil, evaluationTest: nil)
    }

    /// Every figure is inline SVG with a title; no script, no external resource; text is escaped.
    @Test func pageIsSelfContainedAndEscaped() {
        let record = Self.run(1, job: "a<b>&\"c\"")
        let html = Reports.html(pool: Self.pool(12, classes: 3), runs: [Self.entry(record, rows: [0, 4, 8], poolSize: 12)],
                                generatedAt: Date(timeIntervalSince1970: 0), toolVersion: "0.1.0")
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.lowercased().contains("<script"))
        #expect(!html.contains("src="))
        #expect(!html.contains("href="))
        #expect(!html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http"))
        #expect(!html.contains("a<b>"))
        #expect(html.contains("a&lt;b&gt;&amp;&quot;c&quot;"))
        for figure in ["curve-loss", "map", "classes", "distances"] {
            #expect(html.contains("data-figure=\"\(figure)\""), "figure \(figure) missing")
        }
        #expect(html.components(separatedBy: "<svg").count == html.components(separatedBy: "</svg>").count)
        #expect(html.contains("has not been evaluated"))
        #expect(html.contains("covering radius 0.9000"))
    }

    /// Readability: long parameter lists shortened with their count, JSON spaced so cells wrap between
    /// values, per-class counts beside the shares, the labelled set after a later round, the y axis
    /// title above the plot (not beside its tick labels).
    @Test func parametersClassCountsAndRoundsReadWell() {
        var record = Self.run(2, n: 12, labelledCount: 4)
        record.paramsJSON = #"{"init_rows":[\#((0..<500).map(String.init).joined(separator: ","))],"normalize":true,"name":"kmeans"}"#
        let html = Reports.html(pool: Self.pool(12, classes: 3), runs: [Self.entry(record, rows: [0, 3, 6], poolSize: 12)],
                                generatedAt: Date(timeIntervalSince1970: 0), toolVersion: "0.1.0")
        #expect(html.contains("[0, 1, 2, 3, 4, 5, 6, 7, … (500 values)]"))
        #expect(!html.contains("499"))
        #expect(html.contains(">true<"))
        // Class 0 holds rows 0, 3, 6, 9: 4 of 12 in the pool, all 3 picks.
        #expect(html.contains("<tr><td>0</td><td>4 (33.3 %)</td><td>3</td></tr>"), "per-class counts")
        #expect(html.contains("<td>7 (4 + 3 selected)</td>"), "the labelled set after this round")
        #expect(html.contains("class=\"y-title\""))
    }

    /// Without labels: no class figure, no label colours, and a note that says so.
    @Test func poolWithoutLabelsGetsANoteInsteadOfLabelFigures() {
        let html = Reports.html(pool: Self.pool(12, classes: nil), runs: [Self.entry(Self.run(1), rows: [1, 2, 3], poolSize: 12)],
                                generatedAt: Date(), toolVersion: "0.1.0")
        #expect(html.contains("id=\"no-labels\""))
        #expect(!html.contains("data-figure=\"classes\""))
        #expect(html.contains("data-figure=\"map\""))
        #expect(html.contains("evaluation needs the pool's labels"))
    }

    /// The page's size follows the map's cells and the selection, not the pool: a million-sample pool
    /// with K = 10,000 and 1,000 classes stays under 2 MB.
    @Test func millionSamplePoolStaysUnderTwoMegabytes() {
        let n = 1_000_000
        var generator = SeededGenerator(seed: 3)
        let x = (0..<n).map { _ in Float.random(in: -1...1, using: &generator) }
        let y = (0..<n).map { _ in Float.random(in: -1...1, using: &generator) }
        let pool = ReportPool(featuresPath: "/f.h5", rows: n, columns: 384, x: x, y: y, labels: (0..<n).map { Int64($0 % 1000) },
                              explainedShare: [0.1, 0.05])
        let rows = Array(stride(from: 0, to: n, by: 100))
        let record = Self.run(7, budget: rows.count, n: n)
        let entry = ReportRun(run: record, metrics: (0..<300).map { RunMetric(runID: 7, step: $0, name: "loss", value: 1 / Double($0 + 1)) },
                              selectedRows: rows, nearestDistances: x.map { Double(abs($0)) }, labelledRows: nil,
                              earlierRuns: [], evaluation: nil, evaluationTest: nil)
        let html = Reports.html(pool: pool, runs: [entry], generatedAt: Date(), toolVersion: "0.1.0")
        #expect(html.utf8.count < 2_000_000, "report of 1M samples is \(html.utf8.count) bytes")
    }

    /// Several runs: one map each over the same bounds, one overlaid class and distance figure, and an
    /// evaluation table that marks the best of the runs.
    @Test func comparisonPutsRunsSideBySide() {
        let quality = { (accuracy: Double) in
            SubsetQuality(accuracy: accuracy, macroF1: accuracy, classesSelected: 3, classesInPool: 3, smallestClassShare: 0.2,
                          smallestClassSharePool: 0.33, coveringRadius: 0.5, meanDistance: 0.2, mmd: 0.1)
        }
        var a = Self.entry(Self.run(1), rows: [0, 1, 2], poolSize: 12)
        var b = Self.entry(Self.run(2, method: "kmeans"), rows: [3, 4, 5], poolSize: 12)
        a.evaluation = EvaluationResult(selection: quality(0.7), baseline: [quality(0.5), quality(0.6)], heldOutSelected: 0,
                                        trainSize: 3, testSize: 4, bandwidth: 1)
        b.evaluation = EvaluationResult(selection: quality(0.8), baseline: [quality(0.5)], heldOutSelected: 0,
                                        trainSize: 3, testSize: 4, bandwidth: 1)
        a.evaluationTest = "20 % of the pool held out (seed 0)"
        b.evaluationTest = a.evaluationTest
        let html = Reports.html(pool: Self.pool(12, classes: 3), runs: [a, b], generatedAt: Date(), toolVersion: "0.1.0")
        #expect(html.components(separatedBy: "data-figure=\"map\"").count == 3)
        #expect(html.components(separatedBy: "data-figure=\"classes\"").count == 2)
        #expect(html.contains("<td class=\"num best\">0.8000</td>"))
        #expect(!html.contains("<td class=\"num best\">0.7000</td>"))
        #expect(html.contains("0.5500 ± 0.0707"))
        #expect(html.contains("run 2 · kmeans"))
    }

    /// Round ticks: steps of 1, 2 or 5 × 10^k inside the range.
    @Test func ticksAreRound() {
        #expect(SVGChart.ticks(0, 1).map { ($0 * 10).rounded() } == [0, 2, 4, 6, 8, 10])
        #expect(SVGChart.ticks(0, 250).map(Int.init) == [0, 50, 100, 150, 200, 250])
        let ticks = SVGChart.ticks(-0.53, 0.71)
        #expect(ticks.allSatisfy { $0 >= -0.53 && $0 <= 0.71 })
        #expect(ticks.contains(0))
        #expect(SVGChart.ticks(3, 3) == [3])
    }
}
