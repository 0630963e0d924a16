import Foundation
import HDF5
import Testing
import TestSupport

/// A dataset a job names that the file lacks is reported with what the file holds and the closest
/// name; a file with exactly one 2-D float dataset needs no `dataset` key.
@Suite struct DatasetDiscoveryTests {
    let workspace: Workspace

    init() throws {
        workspace = try Workspace()
        try workspace.writeFeatures("data/pool.h5", rows: 300, dimensions: 8)
        let file = try HDF5File.create(at: workspace.path("data/emb.h5"))
        try file.write(floats: (0..<(300 * 8)).map { Float(($0 * 7919) % 101) / 50 + 0.5 }, shape: [300, 8], to: "emb")
        try file.write(int64s: (0..<300).map { Int64($0) * 3 }, to: "ids")
    }

    func job(_ name: String, features: String) throws -> String {
        try Data("""
            {"name": "\(name)", "features": \(features), "method": {"name": "kmeans"}, "budget": {"count": 10},
             "database": "../data/sel.sqlite"}
            """.utf8).write(to: workspace.url.appendingPathComponent("jobs/\(name).json"))
        return "jobs/\(name).json"
    }

    @Test func aMissingDatasetListsWhatTheFileHoldsAndTheClosestName() throws {
        let typo = try selectjob(["validate", try job("typo", features: #"{"path": "../data/pool.h5", "dataset": "feature"}"#)],
                                 in: workspace.url, timeout: 60)
        #expect(typo.status == 65)
        #expect(typo.stderr.contains("pool.h5: no dataset 'feature'; it holds 'features' (300 × 8 float32), 'ids' (300 int64), 'labels' (300 int64) — did you mean 'features'?"),
                "\(typo.stderr)")
        let labels = try selectjob(["validate", try job("labels", features: #"{"path": "../data/pool.h5", "labels": "label"}"#)],
                                   in: workspace.url, timeout: 60)
        #expect(labels.status == 65)
        #expect(labels.stderr.contains("no dataset 'label'") && labels.stderr.contains("did you mean 'labels'?"), "\(labels.stderr)")
    }

    @Test func theOnlyMatrixIsReadWithoutADatasetKey() throws {
        let file = try job("only", features: #"{"path": "../data/emb.h5", "ids": "ids"}"#)
        let validated = try selectjob(["validate", file], in: workspace.url, timeout: 60)
        #expect(validated.status == 0, "\(validated.stderr)")
        #expect(validated.stdout.contains("dataset 'emb' (the file's only 2-D float dataset)"), "\(validated.stdout)")
        #expect(try selectjob(["run", "--quiet", file], in: workspace.url, timeout: 120).status == 0)
        // Given explicitly, the name must exist: no guessing then.
        let named = try selectjob(["validate", try job("named", features: #"{"path": "../data/emb.h5", "dataset": "features"}"#)],
                                  in: workspace.url, timeout: 60)
        #expect(named.status == 65)
        #expect(named.stderr.contains("no dataset 'features'; it holds 'emb' (300 × 8 float32), 'ids' (300 int64)"), "\(named.stderr)")
    }
}
