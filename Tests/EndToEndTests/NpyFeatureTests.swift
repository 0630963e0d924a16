import Foundation
import GRDB
import SyntheticData
import Testing
import TestSupport

/// The files ML engineers have: a plain N × d `.npy` (what `np.save` writes) with ids and labels in
/// files beside it, and the warnings `validate` prints for jobs that are probably mistakes.
@Suite struct NpyFeatureTests {
    let workspace: Workspace

    init() throws {
        workspace = try Workspace()
        let (features, labels) = GaussianMixture(rows: 300, dimensions: 8, classes: 3, subclustersPerClass: 2).generate(seed: 4)
        try writeNpy(features, rows: 300, columns: 8, to: workspace.path("data/feats.npy"))
        try writeNpy(integers: (0..<300).map { 5_000 + Int64($0) }, to: workspace.path("data/feats.ids.npy"))
        try writeNpy(integers: labels, to: workspace.path("data/feats.labels.npy"))
        try Data((0..<300).map { "img_\($0).jpg\n" }.joined().utf8).write(to: URL(fileURLWithPath: workspace.path("data/names.txt")))
    }

    func job(_ name: String, features: String, budget: String = #"{"count": 12}"#) throws -> String {
        try Data("""
            {"name": "\(name)", "features": \(features), "method": {"name": "kmeans"}, "budget": \(budget),
             "database": "../data/sel.sqlite"}
            """.utf8).write(to: workspace.url.appendingPathComponent("jobs/\(name).json"))
        return "jobs/\(name).json"
    }

    @Test func plainNpyWithIdsAndLabelsBesideIt() throws {
        let file = try job("plain", features: #"{"path": "../data/feats.npy", "ids": "../data/feats.ids.npy", "labels": "../data/feats.labels.npy"}"#)
        let outcome = try selectjob(["run", "--quiet", file], in: workspace.url, timeout: 120)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("pool      N=300, d=8"))
        try workspace.database().read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT row_index, sample_id, label FROM latest_selections WHERE job = 'plain'")
            #expect(rows.count == 12)
            #expect(rows.allSatisfy { ($0["sample_id"] as Int) == 5_000 + ($0["row_index"] as Int) && ($0["label"] as Int?) != nil })
        }
        // String ids, one a line.
        let named = try job("named", features: #"{"path": "../data/feats.npy", "ids": "../data/names.txt"}"#)
        #expect(try selectjob(["run", "--quiet", named], in: workspace.url, timeout: 120).status == 0)
        try workspace.database().read { db in
            let ids = try String.fetchAll(db, sql: "SELECT sample_id FROM latest_selections WHERE job = 'named'")
            #expect(ids.count == 12 && ids.allSatisfy { $0.hasPrefix("img_") && $0.hasSuffix(".jpg") })
        }
    }

    @Test func idsOfTheWrongLengthOrADatasetKeyAreRefused() throws {
        try writeNpy(integers: [1, 2, 3], to: workspace.path("data/short.npy"))
        let short = try job("short", features: #"{"path": "../data/feats.npy", "ids": "../data/short.npy"}"#)
        let outcome = try selectjob(["validate", short], in: workspace.url, timeout: 60)
        #expect(outcome.status == 65)
        #expect(outcome.stderr.contains("short.npy"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("3") && outcome.stderr.contains("300"), "\(outcome.stderr)")
        let keyed = try job("keyed", features: #"{"path": "../data/feats.npy", "dataset": "features"}"#)
        let refused = try selectjob(["validate", keyed], in: workspace.url, timeout: 60)
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("features.dataset: not used with .npy features: the file holds one array"), "\(refused.stderr)")
    }

    /// An ActiveFT dump given as a plain array runs (its label column read as a feature) but says so;
    /// `validate --strict` refuses it; `"layout": "activeft"` reads it as a dump.
    @Test func anActiveFTDumpReadAsPlainIsWarnedAbout() throws {
        let (features, labels) = GaussianMixture(rows: 200, dimensions: 6, classes: 3, subclustersPerClass: 1).generate(seed: 2)
        var dump: [Float] = []
        for r in 0..<200 { dump += features[(r * 6)..<((r + 1) * 6)] + [Float(labels[r])] }
        try writeNpy(dump, rows: 200, columns: 7, to: workspace.path("data/dump.npy"))
        let plain = try job("dump", features: #"{"path": "../data/dump.npy"}"#)
        let validated = try selectjob(["validate", plain], in: workspace.url, timeout: 60)
        #expect(validated.status == 0)
        #expect(validated.stderr.contains(#"if this is ActiveFT's dump (features, then the label), give "layout": "activeft""#), "\(validated.stderr)")
        #expect(try selectjob(["validate", "--strict", plain], in: workspace.url, timeout: 60).status == 64)
        let dumped = try job("dumped", features: #"{"path": "../data/dump.npy", "layout": "activeft"}"#)
        let strict = try selectjob(["validate", "--strict", dumped], in: workspace.url, timeout: 60)
        #expect(strict.status == 0, "\(strict.stderr)")
        #expect(strict.stdout.contains("N=200, d=6"))
    }

    /// A percentage given as a fraction: K = 0 is refused naming the key; a small K is a warning.
    @Test func aPercentMeantAsAFractionIsCaught() throws {
        let zero = try job("fraction", features: #"{"path": "../data/feats.npy"}"#, budget: #"{"percent": 0.01}"#)
        let refused = try selectjob(["validate", zero], in: workspace.url, timeout: 60)
        #expect(refused.status == 64)
        #expect(refused.stderr.contains(#"budget.percent: 0.01 % of 300 samples is K = 0 (percent is a percentage, not a fraction: {"percent": 1} is 1 %)"#), "\(refused.stderr)")
        let small = try job("small", features: #"{"path": "../data/feats.npy"}"#, budget: #"{"percent": 1}"#)
        let warned = try selectjob(["validate", small], in: workspace.url, timeout: 60)
        #expect(warned.status == 0)
        #expect(warned.stderr.contains("warning: \(small): budget: K = 3 samples is very few to fine-tune on"), "\(warned.stderr)")
        #expect(try selectjob(["validate", "--strict", small], in: workspace.url, timeout: 60).status == 64)
    }

    /// A `.npz` (`np.savez`) names its arrays: features, integer or unicode string ids, labels.
    @Test func npzArchivesNameTheirArrays() throws {
        let (features, labels) = GaussianMixture(rows: 300, dimensions: 8, classes: 3, subclustersPerClass: 2).generate(seed: 4)
        let floats = features.withUnsafeBytes { Data($0) }
        let ids = (0..<300).map { Int64(7_000 + $0) }.withUnsafeBytes { Data($0) }
        // '<U6': six UTF-32 code units a name, NUL-padded.
        let names = (0..<300).flatMap { row -> [UInt32] in
            let text = Array("n\(row)".unicodeScalars.map(\.value))
            return text + [UInt32](repeating: 0, count: 6 - text.count)
        }.withUnsafeBytes { Data($0) }
        try writeNpz([
            ("emb", npyBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (300, 8), }", payload: floats)),
            ("ids", npyBytes(header: "{'descr': '<i8', 'fortran_order': False, 'shape': (300,), }", payload: ids)),
            ("names", npyBytes(header: "{'descr': '<U6', 'fortran_order': False, 'shape': (300,), }", payload: names)),
            ("labels", npyBytes(header: "{'descr': '<i8', 'fortran_order': False, 'shape': (300,), }",
                                payload: labels.withUnsafeBytes { Data($0) })),
        ], to: workspace.path("data/feats.npz"))
        let file = try job("npz", features: #"{"path": "../data/feats.npz", "ids": "ids", "labels": "labels"}"#)
        let outcome = try selectjob(["run", "--quiet", file], in: workspace.url, timeout: 120)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        try workspace.database().read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT row_index, sample_id, label FROM latest_selections WHERE job = 'npz'")
            #expect(rows.count == 12 && rows.allSatisfy { ($0["sample_id"] as Int) == 7_000 + ($0["row_index"] as Int) })
        }
        let named = try job("npz-names", features: #"{"path": "../data/feats.npz", "dataset": "emb", "ids": "names"}"#)
        #expect(try selectjob(["run", "--quiet", named], in: workspace.url, timeout: 120).status == 0)
        try workspace.database().read { db in
            let ids = try String.fetchAll(db, sql: "SELECT sample_id FROM latest_selections WHERE job = 'npz-names'")
            #expect(ids.count == 12 && ids.allSatisfy { $0.hasPrefix("n") && Int($0.dropFirst()) != nil })
        }
        let missing = try selectjob(["validate", try job("npz-missing", features: #"{"path": "../data/feats.npz", "dataset": "embs"}"#)],
                                    in: workspace.url, timeout: 60)
        #expect(missing.status == 65)
        #expect(missing.stderr.contains("feats.npz: no dataset 'embs'; it holds 'emb', 'ids', 'labels', 'names' — did you mean 'emb'?"),
                "\(missing.stderr)")
    }
}
