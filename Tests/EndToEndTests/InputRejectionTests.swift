import Foundation
import GRDB
import HDF5
import Testing
import TestSupport

/// Input that used to trap, hang or give silently wrong results: each refused with a message naming
/// the file, field or dataset and the value, exit 64 (job) or 65 (data), and nothing recorded.
@Suite struct InputRejectionTests {
    let workspace: Workspace

    init() throws {
        workspace = try Workspace()
        try workspace.writeFeatures()
    }

    func run(_ name: String, method: String = #"{"name": "kmeans"}"#, features: String = "../data/features.h5",
             extra: String = #", "database": "../data/sel.sqlite""#) throws -> Outcome {
        try workspace.writeJob(name, method: method, budget: #"{"count": 10}"#, features: features, extra: extra)
        return try selectjob(["run", "--quiet", "jobs/\(name).json"], in: workspace.url, timeout: 120)
    }

    func recordedRuns() throws -> Int {
        guard FileManager.default.fileExists(atPath: workspace.path("data/sel.sqlite")) else { return 0 }
        return try workspace.database().read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM runs")! }
    }

    /// A row of float32 subnormals (it normalised to inf/NaN: k-means, TypiClust and ActiveFT trapped) and
    /// features scaled by 1e30 (k-center picked rows 0–3 with score 0; VTL stored inf) are exit 65.
    @Test(arguments: ["kmeans", "typiclust", "activeft", "kcenter", "vtl", "herding"])
    func rowsOutsideFloat32sRangeAreRefused(method: String) throws {
        try workspace.writeFeatures("data/tiny.h5") { values in for c in 0..<16 { values[5 * 16 + c] = Float.leastNormalMagnitude / 4 } }
        let tiny = try run("tiny-\(method)", method: "{\"name\": \"\(method)\"}", features: "../data/tiny.h5")
        #expect(tiny.status == 65, "\(tiny.stderr)")
        #expect(tiny.stderr.contains("dataset 'features' row 5 has squared norm"), "\(tiny.stderr)")
        try workspace.writeFeatures("data/huge.h5") { values in for i in values.indices { values[i] *= 1e30 } }
        let huge = try run("huge-\(method)", method: "{\"name\": \"\(method)\"}", features: "../data/huge.h5")
        #expect(huge.status == 65, "\(huge.stderr)")
        #expect(huge.stderr.contains("rescale the features"), "\(huge.stderr)")
        #expect(try recordedRuns() == 0)
    }

    /// String ids with a line break (they split a txt export) or bytes that are not UTF-8 (they read as
    /// U+FFFD and collided) are refused, naming the row.
    @Test func unusableStringIDsAreRefused() throws {
        var labels: [Int64] = []
        do {
            let pool = try HDF5File.open(readingAt: workspace.path("data/features.h5"))
            labels = try pool.dataset("labels").readInt64s()
            let features = try pool.dataset("features").readFloats()
            let file = try HDF5File.create(at: workspace.path("data/ids.h5"))
            try file.write(floats: features, shape: [600, 16], to: "features")
            try file.write(int64s: labels, to: "labels")
            var names = (0..<600).map { "s\($0)" }
            names[7] = "line\nbreak"
            try file.write(strings: names, to: "newline")
            var bytes = (0..<600).map { Array("s\($0)".utf8) }
            bytes[3] = [0x73, 0xFF, 0x31]
            bytes[4] = [0x73, 0xFE, 0x31]
            try file.write(fixedLengthBytes: bytes, width: 8, to: "latin")
        }
        for (dataset, expected) in [("newline", "row 7: the id \"line\\nbreak\" holds a line break"),
                                    ("latin", "row 3: the id is not valid UTF-8")] {
            try workspace.writeJob("ids-\(dataset)", method: #"{"name": "random"}"#, budget: #"{"count": 10}"#,
                                   features: "../data/ids.h5")
            var text = try String(contentsOfFile: workspace.path("jobs/ids-\(dataset).json"), encoding: .utf8)
            text = text.replacingOccurrences(of: #""ids": "ids""#, with: "\"ids\": \"\(dataset)\"")
            try text.write(toFile: workspace.path("jobs/ids-\(dataset).json"), atomically: true, encoding: .utf8)
            let outcome = try selectjob(["run", "--quiet", "jobs/ids-\(dataset).json"], in: workspace.url)
            #expect(outcome.status == 65, "\(outcome.stderr)")
            #expect(outcome.stderr.contains(expected), "\(outcome.stderr)")
        }
    }

    /// A .npy given as predictions is a plain array: its integer-valued last column is a class, not a
    /// label column to drop (the pool's `.npy` dump layout was applied to it).
    @Test func npyPredictionsAreAPlainArray() throws {
        // Three classes; the last column holds 0 or 1 exactly, so it looked like a label column (and the
        // two columns left summed to 0 on the confident rows: exit 65).
        var values: [Float] = []
        for row in 0..<600 { values += row < 10 ? [0.5, 0.5, 0] : [0, 0, 1] }
        try writeNpy(values, rows: 600, columns: 3, to: workspace.path("data/p.npy"))
        let outcome = try run("npy", method: #"{"name": "margin", "predictions": {"path": "../data/p.npy"}}"#)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        // Rows 0..<10 have margin 0, every other row margin 1.
        let rows = try workspace.database().read { db in
            try Int.fetchAll(db, sql: "SELECT row_index FROM latest_selections WHERE job = 'npy' ORDER BY row_index")
        }
        #expect(rows == Array(0..<10))
    }

    /// A .npy header whose shape overflows (2^62 × 4) is exit 65 naming the file (it trapped).
    @Test func anNpyHeaderThatOverflowsIsRefused() throws {
        try writeNpy([Float](repeating: 1, count: 16), rows: 4, columns: 4,
                     header: "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }",
                     to: workspace.path("data/huge.npy"))
        let job = #"{"name": "npy-huge", "features": {"path": "../data/huge.npy"}, "method": {"name": "kmeans"}, "budget": {"count": 2}}"#
        try Data(job.utf8).write(to: URL(fileURLWithPath: workspace.path("jobs/npy-huge.json")))
        for command in ["run", "validate"] {
            let outcome = try selectjob([command, "--db", "data/sel.sqlite", "jobs/npy-huge.json"], in: workspace.url)
            #expect(outcome.status == 65, "\(outcome.stderr)")
            #expect(outcome.stderr.contains("huge.npy: reading dataset '(npy array)' failed (file holds fewer values than its shape"),
                    "\(outcome.stderr)")
        }
    }

    /// ActiveFT's temperature at 1e-20 (it trapped in the sample pull) is a job error naming the field.
    @Test func aTemperatureTooSmallIsAJobError() throws {
        let outcome = try run("cold", method: #"{"name": "activeft", "temperature": 1e-20, "iterations": 5}"#)
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("method.temperature: expected a number > 0.0001"), "\(outcome.stderr)")
    }

    /// A NUL in a dataset name or path is refused (the C library would read a shorter name).
    @Test func aNULInAJobStringIsRefused() throws {
        try workspace.writeJob("nul", method: #"{"name": "kmeans"}"#, budget: #"{"count": 10}"#)
        var text = try String(contentsOfFile: workspace.path("jobs/nul.json"), encoding: .utf8)
        text = text.replacingOccurrences(of: #""dataset": "features""#, with: #""dataset": "features\u0000x""#)
        try text.write(toFile: workspace.path("jobs/nul.json"), atomically: true, encoding: .utf8)
        let outcome = try selectjob(["run", "--quiet", "jobs/nul.json"], in: workspace.url)
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("features.dataset: the string holds a NUL character"), "\(outcome.stderr)")
    }

    /// Validation predictions with NaN are refused as pool predictions with NaN are.
    @Test func validationPredictionsWithNaNAreRefused() throws {
        do {
            let pool = try HDF5File.open(readingAt: workspace.path("data/features.h5"))
            let features = try pool.dataset("features").readFloats()
            let labels = try pool.dataset("labels").readInt64s()
            let file = try HDF5File.create(at: workspace.path("data/validation.h5"))
            try file.write(floats: Array(features[0..<(100 * 16)]), shape: [100, 16], to: "features")
            try file.write(int64s: Array(labels[0..<100]), to: "labels")
            var scores = [Float](repeating: 0.1, count: 100 * 5)
            scores[37 * 5 + 2] = .nan
            try file.write(floats: scores, shape: [100, 5], to: "predicted")
        }
        let outcome = try run("atl", method: #"{"name": "atl_uncertainty", "validation": {"path": "../data/validation.h5"}}"#)
        #expect(outcome.status == 65, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("dataset 'predicted' has nan at row 37, column 2"), "\(outcome.stderr)")
    }
}
