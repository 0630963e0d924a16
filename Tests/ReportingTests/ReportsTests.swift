import Foundation
import HDF5
import Reporting
import Store
import Testing
import TestSupport

@Suite struct ReportsTests {
    @Test func sparklineSpansLowestToHighestAndResamples() {
        #expect(Reports.sparkline([1, 2, 3, 4, 5, 6, 7, 8], width: 8) == "▁▂▃▄▅▆▇█")
        #expect(Reports.sparkline([5, 5, 5], width: 10) == "▁▁▁")
        #expect(Reports.sparkline((0..<1000).map { Double(1000 - $0) }, width: 20).count == 20)
        #expect(Reports.sparkline([], width: 5) == "")
    }

    /// A curve with infinities or values near Double's limits draws (it trapped in `show`).
    @Test func sparklineSurvivesNonFiniteAndHugeValues() {
        #expect(Reports.sparkline([1, .infinity, 3, .nan], width: 4) == "▁█")
        #expect(Reports.sparkline([-1.7e308, 1.7e308], width: 2) == "▁█")
    }

    /// JSON output keeps its fields when a number is not finite: null instead of `{}` for the whole object.
    @Test func jsonWritesNonFiniteNumbersAsNull() {
        #expect(JSONText.encode(["a": Double.infinity, "b": [1.5, Double.nan], "c": "x/y"])
            == #"{"a":null,"b":[1.5,null],"c":"x/y"}"#)
    }

    @Test func csvQuotesIdsThatNeedIt() {
        let selection = [
            SelectedSample(runID: 1, rank: 0, rowIndex: 4, sampleID: .text("cat, black"), score: 0.5, label: nil),
            SelectedSample(runID: 1, rank: 1, rowIndex: 2, sampleID: .text("say \"hi\""), score: 0.25, label: nil),
            SelectedSample(runID: 1, rank: 2, rowIndex: 9, sampleID: .text("plain"), score: 0.125, label: nil),
        ]
        let expected = [
            "rank,row_index,sample_id,score", #"0,4,"cat, black",0.5"#, #"1,2,"say ""hi""",0.25"#, "2,9,plain,0.125",
        ]
        #expect(SelectionExport.text(selection, format: .csv) == expected.joined(separator: "\n") + "\n")
        #expect(SelectionExport.text(selection, format: .json) == "[2, 4, 9]\n")
        #expect(SelectionExport.text(selection, format: .txt) == "cat, black\nsay \"hi\"\nplain\n")
    }

    @Test func hdf5ExportKeepsStringIds() throws {
        let folder = try TemporaryFolder(prefix: "export")
        let path = folder.path("export.h5")
        let selection = [
            SelectedSample(runID: 1, rank: 0, rowIndex: 7, sampleID: .text("img-7"), score: 0.123456789012345, label: 1),
            SelectedSample(runID: 1, rank: 1, rowIndex: 3, sampleID: .text("img-3"), score: 0.8, label: 0),
        ]
        try SelectionExport.write(selection, format: .hdf5, to: path)
        let file = try HDF5File.open(readingAt: path)
        #expect(try file.dataset("sample_ids").readStrings() == ["img-7", "img-3"])
        #expect(try file.dataset("row_indices").readInt64s() == [7, 3])
        #expect(try file.dataset("ranks").readInt64s() == [0, 1])
        #expect(try file.dataset("scores").readDoubles() == [0.123456789012345, 0.8])
    }

    @Test func exportToAMissingFolderFails() {
        #expect(throws: ExportError.self) {
            try SelectionExport.write([], format: .txt, to: "/nonexistent-folder-\(UUID().uuidString)/x.txt")
        }
    }

    @Test func runTableAlignsColumns() {
        let run = RunRecord(id: 12, job: "cifar", jobPath: "/j.json", jobSHA256: "ab", featuresPath: "/f.h5",
                            featuresFingerprint: "sha256:00", method: "activeft", paramsJSON: "{}", n: 50000, d: 384,
                            budget: 500, seed: 0, status: .succeeded, startedAt: Date(timeIntervalSince1970: 0),
                            finishedAt: nil, durationS: 12.5, toolVersion: "0.1.0", error: nil)
        #expect(Reports.runTable([run]).split(separator: "\n") == [
            "id  job    method        N    K  round  status     started (UTC)        seconds",
            "12  cifar  activeft  50000  500      1  succeeded  1970-01-01 00:00:00    12.50",
        ])
    }

    /// Issue 10: `runs` shows why a run failed, crashed or was cancelled.
    @Test func runTableShowsErrorsWhenThereAreAny() {
        func run(_ id: Int64, _ status: RunStatus, _ error: String?) -> RunRecord {
            RunRecord(id: id, job: "j", jobPath: "/j.json", jobSHA256: "ab", featuresPath: "/f.h5", featuresFingerprint: "sha256:00",
                      method: "kmeans", paramsJSON: "{}", n: 10, d: 2, budget: 3, seed: 0, status: status,
                      startedAt: Date(timeIntervalSince1970: 0), finishedAt: nil, durationS: nil, toolVersion: "0.1.0", error: error)
        }
        let lines = Reports.runTable([run(2, .failed, "delta 1.5 gives 99 edges, more than max_edges 10; use a smaller delta " + String(repeating: "x", count: 40)),
                                      run(1, .succeeded, nil)]).split(separator: "\n")
        #expect(lines[0].hasSuffix("seconds  error"))
        #expect(lines[1].hasSuffix("delta 1.5 gives 99 edges, more than max_edges 10; use a smaller delta…"))
        #expect(lines[2].hasSuffix("-"))
        #expect(!Reports.runTable([run(1, .succeeded, nil)]).contains("error"))
    }
}

/// Issue 10 item 19: the ETA follows the recent rate and stays silent until it means something.
@Suite struct ProgressEstimateTests {
    @Test func noEstimateBeforeASecondOfProgress() {
        var estimate = ProgressEstimate()
        estimate.record(step: 1, at: 0.0)
        estimate.record(step: 2, at: 0.5)
        #expect(estimate.secondsLeft(total: 100) == nil)
    }

    @Test func aSlowStartDoesNotInflateTheEstimate() {
        var estimate = ProgressEstimate(window: 10)
        // Step 1 took 20 s (set-up); then 10 steps a second.
        estimate.record(step: 1, at: 20)
        for tenth in 1...300 { estimate.record(step: 1 + tenth, at: 20 + Double(tenth) / 10) }
        let left = try! #require(estimate.secondsLeft(total: 501))
        // 200 steps left at 10 per second; a whole-run average would say 200 × 50 / 301 ≈ 33 s... here 20 s.
        #expect(abs(left - 20) < 0.5)
    }
}

/// A generator rewrites only its own section of a hand-kept file.
@Suite struct MarkedSectionsTests {
    @Test func replacingASectionKeepsEveryOtherByte() {
        let document = "# Title\n\nby hand, before\n" + MarkedSections.begin("core") + "\nold rows\n" + MarkedSections.end("core")
            + "\n\n## Conclusions\nby hand, after\n" + MarkedSections.begin("mpi") + "\nold mpi\n" + MarkedSections.end("mpi") + "\n"
        let replaced = MarkedSections.replacing("core", with: "new rows\nmore\n\n", in: document)
        #expect(replaced == document.replacingOccurrences(of: "\nold rows\n", with: "\nnew rows\nmore\n"))
        #expect(MarkedSections.replacing("mpi", with: "old mpi", in: document) == document)
    }

    @Test func aMissingSectionIsAppended() {
        #expect(MarkedSections.replacing("scale", with: "rows", in: "# T\n")
            == "# T\n\n" + MarkedSections.begin("scale") + "\nrows\n" + MarkedSections.end("scale") + "\n")
        #expect(MarkedSections.replacing("scale", with: "rows", in: "")
            == MarkedSections.begin("scale") + "\nrows\n" + MarkedSections.end("scale") + "\n")
    }

    /// The committed BENCHMARKS.md: rewriting each generated section leaves the hand-written
    /// conclusions exactly as they are.
    @Test func benchmarksKeepsItsHandWrittenSection() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("BENCHMARKS.md")
        let document = try String(contentsOf: url, encoding: .utf8)
        func handWritten(_ text: String) -> String? {
            guard let start = text.range(of: "<!-- conclusions: written by hand"),
                  let end = text.range(of: "<!-- end of conclusions -->") else { return nil }
            return String(text[start.lowerBound..<end.upperBound])
        }
        let kept = try #require(handWritten(document), "BENCHMARKS.md has no hand-written conclusions section")
        var rewritten = document
        for part in ["core", "reference", "large", "imagenet", "mpi", "scale"] {
            rewritten = MarkedSections.replacing(part, with: "regenerated \(part)", in: rewritten)
        }
        #expect(handWritten(rewritten) == kept)
    }
}
