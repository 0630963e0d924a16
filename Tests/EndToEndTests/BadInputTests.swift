import Foundation
import HDF5
import Selection
import Testing
import TestSupport

/// One bad input: what to write into the workspace, the job's method and budget, and what the user sees.
struct BadInput: Sendable, CustomTestStringConvertible {
    let name: String
    let status: Int32
    let message: String
    let prepare: @Sendable (Workspace) throws -> String

    var testDescription: String { name }
}

/// Writes `data/bad.h5` with `body` and a job reading it.
func badFile(_ name: String, dataset: String = "features", ids: String = "ids", labels: String = "labels",
             _ body: @escaping @Sendable (HDF5File) throws -> Void) -> @Sendable (Workspace) throws -> String {
    { workspace in
        let file = try HDF5File.create(at: workspace.path("data/bad.h5"))
        try body(file)
        let json = #"{"name": "\#(name)", "features": {"path": "../data/bad.h5", "dataset": "\#(dataset)", "ids": "\#(ids)", "labels": "\#(labels)"}, "method": {"name": "activeft", "iterations": 5}, "budget": {"count": 2}}"#
        try Data(json.utf8).write(to: workspace.url.appendingPathComponent("jobs/\(name).json"))
        return "jobs/\(name).json"
    }
}

/// Writes a job whose text is `text`.
func rawJob(_ name: String, _ text: String) -> @Sendable (Workspace) throws -> String {
    { workspace in
        try Data(text.utf8).write(to: workspace.url.appendingPathComponent("jobs/\(name).json"))
        return "jobs/\(name).json"
    }
}

/// A valid job on the workspace's features with one member replaced.
func jobWith(_ name: String, method: String = #"{"name": "activeft", "iterations": 5}"#,
             budget: String = #"{"count": 3}"#, extra: String = "") -> @Sendable (Workspace) throws -> String {
    { workspace in try workspace.writeJob(name, method: method, budget: budget, extra: extra) }
}

let fine: [Float] = (0..<(6 * 4)).map { Float($0 % 7) + 1 }
func goodIDs(_ file: HDF5File) throws { try file.write(int64s: [1, 2, 3, 4, 5, 6], to: "ids") }
func goodLabels(_ file: HDF5File) throws { try file.write(int64s: [0, 1, 0, 1, 0, 1], to: "labels") }

let badInputs: [BadInput] = [
    BadInput(name: "malformed JSON", status: 64, message: "not valid JSON", prepare: rawJob("malformed", #"{"name": "x",,}"#)),
    BadInput(name: "top level is an array", status: 64, message: "$: expected an object, got array", prepare: rawJob("array", "[1]")),
    BadInput(name: "unknown key", status: 64, message: "colour: unknown key", prepare: jobWith("unknown", extra: #", "colour": "blue""#)),
    BadInput(name: "missing name", status: 64, message: "name: required key is missing",
             prepare: rawJob("noname", #"{"features": {"path": "f.h5"}, "method": {"name": "activeft"}, "budget": {"count": 1}}"#)),
    BadInput(name: "unknown method", status: 64, message: "method.name: expected one of " + MethodRegistry.names.map { "\"\($0)\"" }.joined(separator: ", ") + #", got "kmedians""#,
             prepare: jobWith("kmedians", method: #"{"name": "kmedians"}"#)),
    BadInput(name: "negative temperature", status: 64, message: "method.temperature: expected a number > 0.0001, got -1",
             prepare: jobWith("temp", method: #"{"name": "activeft", "temperature": -1}"#)),
    BadInput(name: "fractional iterations", status: 64, message: "method.iterations: expected an integer, got number 2.5",
             prepare: jobWith("iters", method: #"{"name": "activeft", "iterations": 2.5}"#)),
    BadInput(name: "budget zero", status: 64, message: "budget.count: expected an integer ≥ 1, got 0", prepare: jobWith("zero", budget: #"{"count": 0}"#)),
    BadInput(name: "budget larger than the pool", status: 64, message: "budget 601 is outside 1...600 (the pool has 600 samples)",
             prepare: jobWith("large", budget: #"{"count": 601}"#)),
    BadInput(name: "percent rounding to zero", status: 64,
             message: #"budget.percent: 0.1 % of 600 samples is K = 0 (percent is a percentage, not a fraction: {"percent": 1} is 1 %)"#,
             prepare: jobWith("tiny", budget: #"{"percent": 0.1}"#)),
    BadInput(name: "both budgets", status: 64, message: #"budget: expected exactly one of "percent" or "count", got both"#,
             prepare: jobWith("both", budget: #"{"count": 3, "percent": 1}"#)),
    BadInput(name: "init rows of the wrong count", status: 64, message: "2 initial rows were given but the budget is 3 (one per centroid)",
             prepare: jobWith("initcount", method: #"{"name": "activeft", "init": {"rows": [1, 2]}}"#)),
    BadInput(name: "init row outside the pool", status: 64, message: "initial row 600 is outside the pool's rows 0..<600",
             prepare: jobWith("initrange", method: #"{"name": "activeft", "init": {"rows": [1, 2, 600]}}"#)),
    BadInput(name: "negative seed", status: 64, message: "seed: expected an integer in 0...9007199254740991, got -3",
             prepare: rawJob("seed", #"{"name": "s", "features": {"path": "../data/features.h5"}, "method": {"name": "activeft"}, "budget": {"count": 3}, "seed": -3}"#)),
    BadInput(name: "bad schedule", status: 64, message: "schedule: the minute field '99'",
             prepare: jobWith("cron", extra: #", "schedule": "99 * * * *""#)),
    BadInput(name: "prefilter without targets", status: 64, message: "prefilter needs targets (it keeps the samples closest to the mean target)",
             prepare: jobWith("prefilter", method: #"{"name": "vtl", "prefilter": {"k": 10}}"#)),
    BadInput(name: "targets of another width", status: 64, message: "the targets have 8 features per row but the pool has 16",
             prepare: { workspace in
                 try workspace.writeFeatures("data/narrow.h5", rows: 10, dimensions: 8)
                 return try workspace.writeJob("width", method: #"{"name": "vtl", "targets": {"path": "../data/narrow.h5"}}"#)
             }),
    BadInput(name: "job file missing", status: 64, message: "jobs/absent.json: cannot read job file (no such file)",
             prepare: { _ in "jobs/absent.json" }),
    BadInput(name: "job path is a directory", status: 64, message: "jobs: cannot read job file (is a directory)",
             prepare: { _ in "jobs" }),
    BadInput(name: "features file missing", status: 65, message: "data/gone.h5: no such file",
             prepare: { workspace in try workspace.writeJob("gone", features: "../data/gone.h5") }),
    BadInput(name: "features path is a directory", status: 65, message: "is a directory, not a feature file",
             prepare: { workspace in try workspace.writeJob("dir", features: "../data") }),
    BadInput(name: "not HDF5", status: 65, message: "not a readable HDF5 file (not an HDF5 file)",
             prepare: { workspace in
                 try Data("plain text\n".utf8).write(to: URL(fileURLWithPath: workspace.path("data/text.h5")))
                 return try workspace.writeJob("text", features: "../data/text.h5")
             }),
    BadInput(name: "truncated HDF5", status: 65, message: "truncated file",
             prepare: { workspace in
                 let whole = try Data(contentsOf: URL(fileURLWithPath: workspace.path("data/features.h5")))
                 try whole.prefix(whole.count / 3).write(to: URL(fileURLWithPath: workspace.path("data/cut.h5")))
                 return try workspace.writeJob("cut", features: "../data/cut.h5")
             }),
    BadInput(name: "wrong dataset name", status: 65, message: "no dataset 'embeddings'",
             prepare: badFile("dsname", dataset: "embeddings") { try $0.write(floats: fine, shape: [6, 4], to: "features"); try goodIDs($0); try goodLabels($0) }),
    BadInput(name: "dataset is a group", status: 65, message: "'train' is a group, not a dataset",
             prepare: badFile("group", dataset: "train") { try $0.write(floats: fine, shape: [6, 4], to: "train/features"); try goodIDs($0); try goodLabels($0) }),
    BadInput(name: "wrong rank", status: 65, message: "dataset 'features' has shape [24] (rank 1), expected rank 2",
             prepare: badFile("rank") { try $0.write(floats: fine, shape: [24], to: "features"); try goodIDs($0); try goodLabels($0) }),
    BadInput(name: "wrong dtype", status: 65, message: "dataset 'features' holds int64, expected float16, float32 or float64",
             prepare: badFile("dtype") { try $0.write(int64s: (0..<24).map(Int64.init), shape: [6, 4], to: "features"); try goodIDs($0); try goodLabels($0) }),
    BadInput(name: "NaN", status: 65, message: "dataset 'features' has nan at row 2, column 1",
             prepare: badFile("nan") { var v = fine; v[9] = .nan; try $0.write(floats: v, shape: [6, 4], to: "features"); try goodIDs($0); try goodLabels($0) }),
    BadInput(name: "infinity", status: 65, message: "dataset 'features' has inf at row 5, column 3",
             prepare: badFile("inf") { var v = fine; v[23] = .infinity; try $0.write(floats: v, shape: [6, 4], to: "features"); try goodIDs($0); try goodLabels($0) }),
    BadInput(name: "zero rows", status: 65, message: "dataset 'features' has zero rows",
             prepare: badFile("empty") { try $0.write(floats: [], shape: [0, 4], to: "features"); try $0.write(int64s: [], to: "ids"); try $0.write(int64s: [], to: "labels") }),
    BadInput(name: "all-zero row", status: 65, message: "dataset 'features' row 3 is all zeros",
             prepare: badFile("zerorow") { var v = fine; v.replaceSubrange(12..<16, with: [0, 0, 0, 0]); try $0.write(floats: v, shape: [6, 4], to: "features"); try goodIDs($0); try goodLabels($0) }),
    BadInput(name: "duplicate ids", status: 65, message: "dataset 'ids' repeats id 2 (rows 1 and 4)",
             prepare: badFile("dupids") { try $0.write(floats: fine, shape: [6, 4], to: "features"); try $0.write(int64s: [1, 2, 3, 4, 2, 6], to: "ids"); try goodLabels($0) }),
    // Issue 10 item 21: say what a dangling link is.
    BadInput(name: "dangling symbolic link", status: 65, message: "data/link.h5: a symbolic link to nowhere.h5, which does not exist",
             prepare: { workspace in
                 try FileManager.default.createSymbolicLink(atPath: workspace.path("data/link.h5"), withDestinationPath: "nowhere.h5")
                 return try workspace.writeJob("dangling", features: "../data/link.h5")
             }),
    // Issue 10 item 21: a newer on-disk format says so (was "bad version number …; is the file truncated?").
    BadInput(name: "newer HDF5 format", status: 65, message: "written in a newer HDF5 format than this libhdf5",
             prepare: { workspace in
                 try workspace.writeFeatures("data/newer.h5")
                 var bytes = try Data(contentsOf: URL(fileURLWithPath: workspace.path("data/newer.h5")))
                 bytes[8] = 4  // the superblock version byte: a version this library does not know
                 try bytes.write(to: URL(fileURLWithPath: workspace.path("data/newer.h5")))
                 return try workspace.writeJob("newer", features: "../data/newer.h5")
             }),
    // Issue 10 item 7: a 10^12-row extent in a tiny file aborted the process in the allocator.
    BadInput(name: "enormous extent", status: 65,
             message: "dataset 'features' has shape [1000000000000, 4] (14901.2 GiB as float32), more than this machine's memory",
             prepare: badFile("huge") { try $0.createUnwrittenFloats(shape: [1_000_000_000_000, 4], chunkRows: 1024, to: "features") }),
    // Issue 10 item 4: uint64 values above 2^63 − 1 were clamped (stored wrong, or a false duplicate).
    BadInput(name: "uint64 id above 2^63 - 1", status: 65,
             message: "dataset 'ids' row 2 holds 9223372036854775808, above the largest integer selectjob stores",
             prepare: badFile("bigid") { try $0.write(floats: fine, shape: [6, 4], to: "features"); try $0.write(uint64s: [1, 2, 1 << 63, 4, 5, 6], to: "ids"); try goodLabels($0) }),
    BadInput(name: "uint64 label above 2^63 - 1", status: 65,
             message: "dataset 'labels' row 5 holds 18446744073709551615, above the largest integer selectjob stores",
             prepare: badFile("biglabel") { try $0.write(floats: fine, shape: [6, 4], to: "features"); try goodIDs($0); try $0.write(uint64s: [0, 1, 0, 1, 0, .max], to: "labels") }),
    BadInput(name: "ids of the wrong length", status: 65, message: "dataset 'ids' has 5 entries but the features have 6 rows",
             prepare: badFile("shortids") { try $0.write(floats: fine, shape: [6, 4], to: "features"); try $0.write(int64s: [1, 2, 3, 4, 5], to: "ids"); try goodLabels($0) }),
    BadInput(name: "labels of the wrong length", status: 65, message: "dataset 'labels' has 7 entries but the features have 6 rows",
             prepare: badFile("longlabels") { try $0.write(floats: fine, shape: [6, 4], to: "features"); try goodIDs($0); try $0.write(int64s: [0, 1, 0, 1, 0, 1, 0], to: "labels") }),
    BadInput(name: "targets file missing", status: 65, message: "data/nothere.h5: no such file",
             prepare: jobWith("targets", method: #"{"name": "vtl", "targets": {"path": "../data/nothere.h5"}}"#)),
]

/// Every kind of bad input through the binary: its exit code, its message, and an untouched database.
@Suite struct BadInputTests {
    @Test(arguments: badInputs)
    func isRejectedWithItsCodeAndMessage(input: BadInput) throws {
        let workspace = try Workspace()
        try workspace.writeFeatures()
        let job = try input.prepare(workspace)
        let outcome = try selectjob(["run", "--quiet", job], in: workspace.url)
        #expect(outcome.status == input.status, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("selectjob: error: "))
        #expect(outcome.stderr.contains(input.message), "\(outcome.stderr)")
        #expect(!FileManager.default.fileExists(atPath: workspace.path("data/sel.sqlite")), "nothing written")
    }

    @Test func theTableCoversAtLeastThirtyCases() {
        #expect(badInputs.count >= 30)
        #expect(Set(badInputs.map(\.name)).count == badInputs.count)
    }
}

/// Mutated jobs through the binary: a valid run (0), or 64 / 65 / 73 with a message (a mutated path can
/// name missing data or an unusable database) — never a crash.
@Suite struct JobFuzzThroughBinaryTests {
    @Test func mutatedJobsNeverCrashTheBinary() throws {
        let workspace = try Workspace()
        try workspace.writeFeatures(rows: 200, dimensions: 8)
        let valid = #"{"name": "fz", "features": {"path": "../data/features.h5", "ids": "ids"}, "method": {"name": "activeft", "iterations": 3}, "budget": {"count": 4}, "seed": 1, "database": "../data/sel.sqlite"}"#
        var generator = SeededGenerator(seed: 77)
        for index in 0..<24 {
            var text = Array(valid)
            for _ in 0..<Int.random(in: 1...2, using: &generator) {
                let at = Int.random(in: 0..<text.count, using: &generator)
                if Bool.random(using: &generator) { text.remove(at: at) } else {
                    text.insert(contentsOf: ["{", "\"", ",", "1", "-", "]"].randomElement(using: &generator)!, at: at)
                }
            }
            try Data(String(text).utf8).write(to: workspace.url.appendingPathComponent("jobs/fuzz\(index).json"))
            let outcome = try selectjob(["run", "--quiet", "--force", "jobs/fuzz\(index).json"], in: workspace.url)
            #expect([0, 64, 65, 73].contains(outcome.status), "fuzz\(index): \(outcome.status) \(outcome.stderr)")
            if outcome.status != 0 { #expect(outcome.stderr.contains("selectjob: error: ")) }
        }
    }
}
